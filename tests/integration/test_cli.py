"""Integration tests of the command line: check, exit codes, usage."""
import os, subprocess, tempfile

from harness import NUDGED


def run_cli(args, env=None):
    p = subprocess.run([NUDGED] + args, capture_output=True, text=True, timeout=30, env=env)
    return p.returncode, p.stdout + p.stderr


def test_cli_check_and_exit_codes():
    d = tempfile.mkdtemp(prefix="nudged-cli-")
    tdir = os.path.join(d, "t")
    os.makedirs(tdir)
    conf = os.path.join(d, "nudged.conf")
    with open(conf, "w") as f:
        f.write("[triggers]\ndir = %s\n" % tdir)
    with open(os.path.join(tdir, "a.json"), "w") as f:
        f.write('{"id": "a", "on": "X", "actions": [{"webhook": {"url": "http://127.0.0.1:1/x"}}]}')
    rc, out = run_cli(["check", "-c", conf])
    assert rc == 0 and "ok, 1 triggers" in out, out
    with open(os.path.join(tdir, "b.json"), "w") as f:
        f.write('{\n  "id": "b",\n  "on": "X",\n  "actions": [\n}')
    rc, out = run_cli(["check", "-c", conf])
    assert rc == 1 and "b.json:5:1:" in out, out
    with open(conf, "w") as f:
        f.write("[redis]\nbatch = many\ncolour = blue\n")
    rc, out = run_cli(["check", "-c", conf])
    assert rc == 1 and ":2: redis.batch must be a whole number" in out and ':3: unknown key "colour"' in out, out
    rc, out = run_cli(["check", "-c", conf], env=dict(os.environ, NUDGED_REDIS_BATCH="0"))
    assert rc == 1 and "NUDGED_REDIS_BATCH" in out, out
    assert run_cli(["--help"])[0] == 0
    assert run_cli(["version"])[1].startswith("nudged ")
    assert run_cli(["frobnicate"])[0] == 2
    assert run_cli(["-x"])[0] == 2


TESTS = [test_cli_check_and_exit_codes]
