# nudged — one plain Makefile. `make` builds build/nudged; `make check` runs
# every test (also under ASan+UBSan); `make demo` shows it working.
SHELL   := /bin/bash
PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
VERSION := 0.1.0

CC      ?= cc
PKGS    := libevent hiredis libcurl jansson libcrypto inih zlib
WARN    := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wpointer-arith -Wundef -Wwrite-strings \
           -Wno-format-truncation
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Iinclude \
           -DNUDGED_VERSION=\"$(VERSION)\" -MMD -MP \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm

ifeq ($(findstring clang,$(CC)),clang)
WARN += -Wno-unknown-warning-option
endif

# The allocator: jemalloc, as Redis links it. nudged's hot path makes and
# frees many small objects per batch (jansson values, hiredis replies, curl
# handles' buffers), which glibc's malloc serves at a clearly higher cost
# (make bench-instructions shows it). Sanitizer builds keep the libc
# malloc that ASan replaces. `make MALLOC=libc` opts out.
MALLOC ?= jemalloc
ifndef SANITIZER
ifeq ($(MALLOC),jemalloc)
PKGS += jemalloc
endif
endif

ifdef SANITIZER
ALL_CFLAGS += -fsanitize=$(SANITIZER) -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS    += -fsanitize=$(SANITIZER)
endif

TRIG_SRC   := $(wildcard triggers/*.c)
DAEMON_SRC := $(filter-out daemon/main.c,$(wildcard daemon/*.c))
TRIG_OBJ   := $(TRIG_SRC:%.c=$(BUILD)/%.o)
LUA_SRC    := $(wildcard daemon/lua/*.lua)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/lua.o
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps check unit replay integration sanitize demo install clean format format-check bench bench-collector bench-cluster chaos bench-instructions fuzz fuzz-bins

all: $(BUILD)/nudged

$(BUILD)/nudged: $(BUILD)/daemon/main.o $(DAEMON_OBJ) $(TRIG_OBJ)
	@echo "LD $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "CC $<"
	@$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The Lua scripts, embedded as scripts_lua[] (include/scripts.h); the
# folder too, whose time moves when a script is removed.
$(BUILD)/gen/lua.c: $(LUA_SRC) daemon/lua scripts/embed-lua.sh
	@mkdir -p $(dir $@)
	@echo "GEN $@"
	@bash scripts/embed-lua.sh c daemon/lua > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/lua.o: $(BUILD)/gen/lua.c
	@echo "CC $<"
	@$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c tests/unit/harness.h tests/unit/fixtures.h $(DAEMON_OBJ) $(TRIG_OBJ)
	@mkdir -p $(dir $@)
	@echo "LD $@"
	@$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(DAEMON_OBJ) $(TRIG_OBJ) $(LDFLAGS) $(LIBS)

$(BUILD)/bench/%: tests/bench/%.c
	@mkdir -p $(dir $@)
	@$(CC) $(ALL_CFLAGS) -o $@ $< $(LDFLAGS) $(LIBS)

bench: deps all $(BUILD)/bench/receiver $(BUILD)/bench/baseline
	@NUDGED_BIN=$(abspath $(BUILD)/nudged) BENCH_DIR=$(abspath $(BUILD)/bench) /usr/bin/python3 tests/bench/bench.py
	@echo "== Redis bytes for one customer with 20 event names, 5 windowed counters, 10 traits"
	@NUDGED_BIN=$(abspath $(BUILD)/nudged) /usr/bin/python3 tests/bench/profile_memory.py

# The collector against the limit of the same messages XADDed straight into
# Redis (tests/bench/collector.py says what each figure is). BENCH_RUNS=3.
bench-collector: deps all $(BUILD)/bench/xadd_limit $(BUILD)/bench/loadgen
	@NUDGED_BIN=$(abspath $(BUILD)/nudged) BENCH_DIR=$(abspath $(BUILD)/bench) /usr/bin/python3 tests/bench/collector.py

# The collector, then the consumer, on a Redis Cluster of three masters
# against one Redis (tests/bench/cluster.py). BENCH_RUNS=3.
bench-cluster: deps all $(BUILD)/bench/receiver
	@NUDGED_BIN=$(abspath $(BUILD)/nudged) BENCH_DIR=$(abspath $(BUILD)/bench) /usr/bin/python3 tests/bench/cluster.py

# Fault injection (not part of make check): two processes killed with
# SIGKILL five times under 20,000 events, a receiver outage; prints lost,
# doubled and same-id repeats and fails on any loss or double.
# CHAOS_SEEDS="1 2 3" runs it once a seed.
CHAOS_SEEDS ?= 1
chaos: deps all
	@set -e; for s in $(CHAOS_SEEDS); do NUDGED_BIN=$(abspath $(BUILD)/nudged) /usr/bin/python3 tests/chaos/chaos.py $$s; done

# Instructions per event under callgrind (nudged and Redis): figures the
# machine's noise does not move, to judge a change by. BENCH_EVENTS sets N.
bench-instructions: deps all $(BUILD)/bench/receiver $(BUILD)/bench/baseline
	@NUDGED_BIN=$(abspath $(BUILD)/nudged) BENCH_DIR=$(abspath $(BUILD)/bench) /usr/bin/python3 tests/bench/instructions.py

# libFuzzer targets (clang), each run for FUZZ_SECONDS from its seed corpus;
# new inputs collect under build/fuzz/corpus-*, crashes as build/fuzz/crash-*.
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := triggers template jparse segment

$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(TRIG_OBJ)
	@echo "LD $@"
	@$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $< $(TRIG_OBJ) $(LDFLAGS) $(LIBS)

fuzz-bins: $(FUZZ_TARGETS:%=$(BUILD)/fuzz_%)

fuzz: deps
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=clang SANITIZER=fuzzer-no-link,address,undefined \
		CFLAGS="-O1 -g" fuzz-bins
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p build/fuzz/corpus-$$t; \
		echo "fuzz $$t for $(FUZZ_SECONDS)s"; \
		build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=65536 -print_final_stats=1 \
			-artifact_prefix=build/fuzz/ build/fuzz/corpus-$$t tests/fuzz/corpus/$$t 2>&1 | \
			grep -E '^(stat::number_of_executed_runs|Done|==|SUMMARY|INFO: -max_total_time)' || true; \
		test $${PIPESTATUS[0]} -eq 0; \
	done

replay: $(BUILD)/nudged
	@NUDGED_BIN=$(abspath $(BUILD)/nudged) /usr/bin/python3 tests/replay/run.py

deps:
	@bash scripts/deps.sh

unit: $(UNIT_BIN)
	@bash tests/unit/run.sh $(UNIT_BIN)

integration: $(BUILD)/nudged
	@NUDGED_BIN=$(abspath $(BUILD)/nudged) /usr/bin/python3 tests/integration/run.py

# The same tests against a build with AddressSanitizer (with LeakSanitizer)
# and UndefinedBehaviorSanitizer; a leak at exit fails the daemon's exit code.
sanitize:
	@$(MAKE) --no-print-directory BUILD=build/san SANITIZER=address,undefined CFLAGS="-O1 -g" all unit replay integration

check: deps
	@$(MAKE) --no-print-directory format-check
	@$(MAKE) --no-print-directory all
	@bash scripts/check-config-doc.sh
	@bash scripts/check-doc-triggers.sh
	@bash scripts/check-lua.sh
	@bash scripts/check-monitoring.sh
	@mandoc -T lint -W warning docs/man/nudged.8 docs/man/nudged.conf.5 docs/man/nudged.triggers.5 && echo "man pages: mandoc lint clean"
	@bash scripts/verify-unit.sh
	@$(MAKE) --no-print-directory unit replay integration
	@$(MAKE) --no-print-directory sanitize
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=10
	@echo "make check: all passed"

demo: deps all
	@bash scripts/demo.sh

install: $(BUILD)/nudged
	install -D -m 0755 $(BUILD)/nudged $(DESTDIR)$(PREFIX)/bin/nudged
	@mkdir -p $(DESTDIR)$(PREFIX)/lib/systemd/system
	sed 's|/usr/local/bin/nudged|$(PREFIX)/bin/nudged|g' systemd/nudged.service > $(DESTDIR)$(PREFIX)/lib/systemd/system/nudged.service
	install -D -m 0640 config/nudged.conf $(DESTDIR)/etc/nudged/nudged.conf
	install -d $(DESTDIR)/etc/nudged/triggers.d
	install -D -m 0644 docs/man/nudged.8 $(DESTDIR)$(PREFIX)/share/man/man8/nudged.8
	install -D -m 0644 docs/man/nudged.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/nudged.conf.5
	install -D -m 0644 docs/man/nudged.triggers.5 $(DESTDIR)$(PREFIX)/share/man/man5/nudged.triggers.5

format:
	clang-format -i daemon/*.c triggers/*.c include/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c tests/bench/*.c

format-check:
	@clang-format --dry-run --Werror daemon/*.c triggers/*.c include/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c tests/bench/*.c

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
