"""Test harness: a real redis-server, a real HTTP receiver and the real nudged,
each started on a free loopback port and stopped by pid. Every wait is bounded."""
import base64, hashlib, hmac, json, os, shutil, signal, socket, subprocess, sys, tempfile, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import redis

# A SIGTERM (a timeout, a cancelled CI job) unwinds like an exception, so
# every `finally` still stops the processes it started, by pid.
signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

NUDGED = os.environ.get("NUDGED_BIN", os.path.join(os.path.dirname(__file__), "../../build/nudged"))
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond, timeout=20.0, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


class Redis:
    def __init__(self, workdir, port=None):
        self.port = port or free_port()
        self.dir = workdir
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--dbfilename", "dump.rdb", "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.client = redis.Redis(host="127.0.0.1", port=self.port, decode_responses=True)
        wait_for(self._ping, 10, "redis-server")

    def _ping(self):
        try:
            return self.client.ping()
        except redis.exceptions.ConnectionError:
            return False

    def save_and_stop(self):
        try:
            self.client.shutdown(save=True)
        except redis.exceptions.ConnectionError:
            pass
        self.proc.wait(timeout=10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


class RedisCluster:
    """A real Redis Cluster on loopback: MASTERS masters with a replica each
    (redis-cli --cluster create), every node a redis-server started and
    stopped by pid. A node's bus port is given (cluster-port), not port +
    10000, which may not be free."""

    def __init__(self, workdir, masters=3, replicas=1, place=None):
        self.dir = os.path.join(workdir, "cluster")
        os.makedirs(self.dir, exist_ok=True)
        self.procs, self.bus = {}, {}
        self.nmasters = masters
        try:
            for _ in range(masters * (1 + replicas)):
                self._start(free_port())
            addrs = ["127.0.0.1:%d" % p for p in self.procs]
            if place is not None:
                self._create(place)
            else:
                subprocess.run(["redis-cli", "--cluster", "create"] + addrs +
                               ["--cluster-replicas", str(replicas), "--cluster-yes"],
                               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
            wait_for(self._settled, 30, "the cluster to settle")
        except BaseException:
            self.stop()
            raise

    def _create(self, place):
        """Masters without replicas, by hand, as redis-cli does it, with the
        slots PLACE maps (slot: the index of its master) placed so and the
        others in even ranges."""
        ports = list(self.procs)
        owners = [s * len(ports) // 16384 for s in range(16384)]
        for slot, i in place.items():
            owners[slot] = i
        for i, p in enumerate(ports):
            self.node(p).execute_command("CLUSTER", "ADDSLOTS", *[s for s in range(16384) if owners[s] == i])
            self.node(p).execute_command("CLUSTER", "SET-CONFIG-EPOCH", i + 1)
        for p in ports[1:]:
            self.node(ports[0]).execute_command("CLUSTER", "MEET", "127.0.0.1", p, self.bus[p])

    def _start(self, port):
        d = os.path.join(self.dir, str(port))
        os.makedirs(d, exist_ok=True)
        self.bus[port] = free_port()
        self.procs[port] = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
             "--cluster-port", str(self.bus[port]), "--cluster-config-file", "nodes.conf",
             "--cluster-node-timeout", "2000", "--save", "", "--appendonly", "no", "--dir", d,
             "--daemonize", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self._ping(port), 10, "redis-server on %d" % port)

    def _ping(self, port):
        try:
            return self.node(port).ping()
        except redis.exceptions.ConnectionError:
            return False

    def node(self, port):
        return redis.Redis(host="127.0.0.1", port=port, decode_responses=True)

    def alive(self):
        return [p for p, proc in self.procs.items() if proc.poll() is None]

    def _settled(self):
        try:
            return all(self.node(p).cluster("info")["cluster_state"] == "ok" for p in self.alive()) and \
                len(self.masters()) == self.nmasters
        except redis.exceptions.RedisError:
            return False

    def masters(self):
        """The ports of the masters that serve slots, as a live node sees them."""
        nodes = self.node(self.alive()[0]).cluster("nodes")
        return sorted(int(addr.split("@")[0].split(":")[1]) for addr, n in nodes.items()
                      if "master" in n["flags"] and "fail" not in n["flags"] and n["slots"])

    def master_of(self, key):
        """The port of the master that serves KEY's slot."""
        return self.master_of_slot(self.node(self.alive()[0]).cluster("keyslot", key))

    def master_of_slot(self, slot, asked=None):
        """The port of the master of SLOT, as the node on port ASKED (by
        default the first alive) sees it."""
        for lo, hi, m, *rest in self.node(asked or self.alive()[0]).execute_command("CLUSTER", "SLOTS"):
            if lo <= slot <= hi:
                return int(m[1])
        raise AssertionError("no master for slot %d" % slot)

    def seeds(self, n=1):
        return " ".join("127.0.0.1:%d" % p for p in self.alive()[:n])

    def kill(self, port):
        self.procs[port].kill()
        self.procs[port].wait(timeout=10)

    def stop(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


class Receiver:
    """An HTTP server that records every request. script(path, n) returns the
    status for the n-th request (1-based) to a path; default 200."""

    def __init__(self, script=None):
        self.requests = []
        self.lock = threading.Lock()
        self.script = script or (lambda path, n: 200)
        self.counts = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with outer.lock:
                    n = outer.counts.get(self.path, 0) + 1
                    outer.counts[self.path] = n
                    outer.requests.append({"path": self.path, "method": self.command,
                                           "headers": {k.lower(): v for k, v in self.headers.items()},
                                           "body": body, "t": time.time()})
                status = outer.script(self.path, n)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            do_PUT = do_POST
            do_PATCH = do_POST

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 1024  # the default 5 makes a burst of deliveries time out

            def handle_error(self, request, client_address):
                pass  # a client that was killed resets its connections: expected here

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def count(self):
        with self.lock:
            return len(self.requests)

    def all(self):
        with self.lock:
            return list(self.requests)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class SMTPServer:
    """A real SMTP server (aiosmtpd) on a free loopback port. script(n)
    returns the reply to the n-th DATA (1-based): None accepts."""

    def __init__(self, script=None):
        from aiosmtpd.controller import Controller
        self.script = script or (lambda n: None)
        self.messages = []  # (mail_from, rcpt_tos, content bytes, time)
        self.attempts = 0
        self.lock = threading.Lock()
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                with outer.lock:
                    outer.attempts += 1
                    reply = outer.script(outer.attempts)
                    if reply is None:
                        outer.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content,
                                               time.time()))
                return reply or "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def count(self):
        with self.lock:
            return len(self.messages)

    def stop(self):
        self.controller.stop()


def measures(r):
    """Every measured trigger's counts, as {"ID:COUNT": n}: its hashes
    nudged:measures:{k}:ID of every shard plus the tallies ("ID COUNT N
    ...") the commits pushed to the shards' nudged:tally:{k} that are not
    folded into the hashes yet. Read in one MULTI, as nudged's report reads
    them in one script: a fold between two reads would move counts from a
    list not read yet into a hash read already. The triggers are those of
    the hashes and tallies seen; read again until no new one shows."""
    ids = {k.split("}:", 1)[1] for k in r.scan_iter("nudged:measures:{*}:*", _type="hash")}
    while True:
        pipe = r.pipeline(transaction=True)
        order = sorted(ids)
        for k in range(SHARDS):
            for tid in order:
                pipe.hgetall("nudged:measures:{%d}:%s" % (k, tid))
            pipe.lrange("nudged:tally:{%d}" % k, 0, -1)
        got = pipe.execute(raise_on_error=False)
        out, seen = {}, set(ids)
        for k in range(SHARDS):
            part = got[k * (len(order) + 1):(k + 1) * (len(order) + 1)]
            for tid, h in zip(order, part):
                for c, v in (h.items() if isinstance(h, dict) else ()):  # not a test's broken key
                    out["%s:%s" % (tid, c)] = out.get("%s:%s" % (tid, c), 0) + int(v)
            for tally in (part[-1] if isinstance(part[-1], list) else ()):
                words = tally.split(" ")
                for i in range(0, len(words) - 2, 3):
                    seen.add(words[i])
                    c = "%s:%s" % (words[i], words[i + 1])
                    out[c] = out.get(c, 0) + int(words[i + 2])
        if seen == ids:
            return out
        ids = seen


def scheduled(r):
    """How many items wait in the shards' schedules, not counting the one
    regroup item per ordering customer (its active period running out)."""
    return sum(1 for m in schedule_items(r) if '"k":"g"' not in m)


def verify_signature(req, secret=SECRET):
    h = req["headers"]
    key = base64.b64decode(secret[len("whsec_"):])
    signed = h["webhook-id"].encode() + b"." + h["webhook-timestamp"].encode() + b"." + req["body"]
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return expected in h.get("webhook-signature", "").split(" ")


class Nudged:
    def __init__(self, workdir, redis_port, triggers, extra_env=None, conf=""):
        self.workdir = workdir
        self.tdir = os.path.join(workdir, "triggers.d")
        os.makedirs(self.tdir, exist_ok=True)
        self.write_triggers(triggers)
        self.conf = os.path.join(workdir, "nudged.conf")
        self.admin_port = free_port()
        with open(self.conf, "w") as f:
            f.write("[redis]\nurl = redis://127.0.0.1:%d/0\nclaim_idle = 2s\n[triggers]\ndir = %s\n"
                    "[http]\nadmin_listen = 127.0.0.1:%d\n"
                    "[delivery]\nretry_schedule = 1s,1s,1s\ntimeout = 1500ms\nshutdown_timeout = 5s\n%s"
                    % (redis_port, self.tdir, self.admin_port, conf))
        self.env = dict(os.environ)
        self.env.update(extra_env or {})
        self.proc = None
        self.log = os.path.join(workdir, "nudged.log")

    def write_triggers(self, triggers):
        for name in os.listdir(self.tdir):
            os.unlink(os.path.join(self.tdir, name))
        for name, content in triggers.items():
            with open(os.path.join(self.tdir, name), "w") as f:
                f.write(content if isinstance(content, str) else json.dumps(content))

    def start(self):
        self.logf = open(self.log, "a")
        self.proc = subprocess.Popen([NUDGED, "-c", self.conf], env=self.env, stdout=self.logf, stderr=self.logf)
        return self

    def wait_ready(self, r):
        try:
            wait_for(lambda: r.client.exists("nudged:events") and self.log_has("nudged ready"), 15, "nudged ready")
        except AssertionError:
            with open(self.log) as f:
                raise AssertionError("nudged not ready; its log:\n" + f.read()[-2000:])

    def admin(self, method, path, token=None):
        """One request to the admin listener: (status, body as text)."""
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=10)
        try:
            c.request(method, path, headers={"Authorization": "Bearer " + token} if token else {})
            r = c.getresponse()
            return r.status, r.read().decode()
        finally:
            c.close()

    def log_has(self, text):
        with open(self.log) as f:
            return text in f.read()

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait(timeout=10)
        self.logf.close()
        return rc


def webhook_trigger(port, tid="t1", on="Order Completed", path="/hook", secret=SECRET, body=None, **kw):
    t = {"id": tid, "on": on, "actions": [{"webhook": {"url": "http://127.0.0.1:%d%s" % (port, path)}}]}
    if secret:
        t["actions"][0]["webhook"]["secret"] = secret
    if body is not None:
        t["actions"][0]["webhook"]["body"] = body
    t.update(kw)
    return t


def event(uid, name="Order Completed", mid=None, **props):
    m = {"type": "track", "userId": uid, "event": name, "properties": props}
    if mid:
        m["messageId"] = mid
    return json.dumps(m)


class Env:
    """One test's world: a temp dir, redis, receiver; everything stopped at the end."""

    def __init__(self, script=None):
        self.dir = tempfile.mkdtemp(prefix="nudged-test-")
        self.redis = Redis(self.dir)
        self.recv = Receiver(script)
        self.daemons = []

    def nudged(self, triggers, **kw):
        n = Nudged(os.path.join(self.dir, "n%d" % len(self.daemons)), self.redis.port, triggers, **kw)
        self.daemons.append(n)
        return n

    def close(self, keep=False):
        for n in self.daemons:
            n.stop(signal.SIGKILL, timeout=5)
        self.recv.stop()
        self.redis.stop()
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)


SHARDS = 16  # [redis] shards, by default


def fnv1a32(s):
    """FNV-1a, 32 bits, of the UTF-8 of S: the shard rule of SPEC 8, as a
    producer in Python computes it."""
    h = 0x811c9dc5
    for c in s.encode():
        h = ((h ^ c) * 16777619) & 0xffffffff
    return h


def ckey(customer, kind, shards=SHARDS):
    """CUSTOMER's key of KIND (p profile, d dedup, s schedule index, m
    merged ids, a link): "<prefix>{k}:ID:KIND", k its shard (daemon/keys.c),
    so a shard's customers share its slot."""
    return "nudged:{%d}:%s:%s" % (fnv1a32(customer) % shards, customer, kind)


def shard_keys(base, shards=SHARDS):
    """A shard's key BASE for every shard, "BASE:{k}" (daemon/keys.c): the
    outboxes nudged:actions, the schedules nudged:schedule, the timers
    streams nudged:timers."""
    return ["%s:{%d}" % (base, k) for k in range(shards)]


def skey(base, customer, shards=SHARDS):
    """The key BASE of CUSTOMER's shard, e.g. its outbox nudged:actions:{k}."""
    return "%s:{%d}" % (base, fnv1a32(customer) % shards)


def schedule_items(r, shards=SHARDS):
    """Every item of every shard's schedule."""
    return [m for k in shard_keys("nudged:schedule", shards) for m in r.zrange(k, 0, -1)]


def xlen_all(r, base, shards=SHARDS):
    """The entries of every shard's stream BASE:{k}."""
    return sum(r.xlen(k) for k in shard_keys(base, shards))


def no_pending_all(r, base, shards=SHARDS):
    """no_pending on every shard's stream BASE:{k} (nudged:actions,
    nudged:timers)."""
    return all(no_pending(r, k) for k in shard_keys(base, shards))


def shard_stream(customer, shards=SHARDS):
    """The events stream of CUSTOMER's shard (what `nudged shard` prints)."""
    return "nudged:events:{%d}" % (fnv1a32(customer) % shards)


def event_streams(shards=SHARDS):
    """Every events stream nudged reads: the inbox, then each shard's."""
    return ["nudged:events"] + ["nudged:events:{%d}" % k for k in range(shards)]


def event_entries(r, shards=SHARDS):
    """Every entry of the events streams, as (stream, id, fields), in id order."""
    out = [(s, i, f) for s in event_streams(shards) for i, f in r.xrange(s)]
    return sorted(out, key=lambda e: tuple(int(x) for x in e[1].split("-")))


def events_len(r, shards=SHARDS):
    return sum(r.xlen(s) for s in event_streams(shards))


def events_consumed(r, shards=SHARDS):
    """True when the group has read and acked every entry of every events
    stream (False while one does not exist yet)."""
    try:
        return all(g["lag"] == 0 and g["pending"] == 0 for s in event_streams(shards) for g in r.xinfo_groups(s))
    except Exception:
        return False


def metric(n, name):
    """The value of metric NAME (no labels) on nudged N's /metrics, or None."""
    _, text = n.admin("GET", "/metrics")
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def no_pending(r, stream):
    """True when the group has nothing pending on STREAM (False while it
    does not exist yet)."""
    try:
        return all(g["pending"] == 0 for g in r.xinfo_groups(stream))
    except Exception:
        return False


def run_tests(tests):
    passed = failed = 0
    only = sys.argv[1:]
    for t in tests:
        if only and t.__name__ not in only:
            continue
        start = time.time()
        try:
            t()
            passed += 1
            print("PASS %s (%.1fs)" % (t.__name__, time.time() - start), flush=True)
        except Exception as e:  # report and go on: every test runs
            failed += 1
            print("FAIL %s: %s: %s" % (t.__name__, type(e).__name__, e), flush=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0
