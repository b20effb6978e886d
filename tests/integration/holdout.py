"""measure_bucket (include/measure.h) written again in Python, as the test
oracle of the holdout split that docs/triggers.md promises: murmur3's fmix64
of the 64-bit FNV-1a of "TRIGGER\\0CUSTOMER\\0", modulo 10,000. A change in
the C code that moved customers between arms fails the tests that use it."""

MASK = (1 << 64) - 1


def bucket(trigger, customer):
    h = 14695981039346656037
    for b in trigger.encode() + b"\0" + customer.encode() + b"\0":
        h = ((h ^ b) * 1099511628211) & MASK
    h ^= h >> 33
    h = (h * 0xff51afd7ed558ccd) & MASK
    h ^= h >> 33
    h = (h * 0xc4ceb9fe1a85ec53) & MASK
    h ^= h >> 33
    return h % 10000


def held_out(trigger, customer, share_percent):
    return bucket(trigger, customer) < round(share_percent * 100)
