#!/usr/bin/python3
"""Replay tests: each CASE.jsonl in a suite runs through `nudged replay`
with the suite's triggers (SUITE/triggers.d, or config/triggers.d for
"examples"), and the firings must equal CASE.expect exactly.

CASE.expect holds one firing a line, "AT TRIGGER CUSTOMER MESSAGE_ID", in
output order (a held-out firing ends in " held_out", a conversion in
" converted:treated" or " converted:held_out", a firing with an email
over the frequency cap in " capped"); a suite's file "env" holds settings
(KEY=VALUE lines) for its cases; "contains: TEXT" lines must appear somewhere in the output;
"stderr: TEXT" in the diagnostics; "#" starts a comment. Ends with
"N passed, M failed"."""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
NUDGED = os.environ.get("NUDGED_BIN", os.path.join(ROOT, "build", "nudged"))


def run_case(suite, case):
    tdir = os.path.join(HERE, suite, "triggers.d")
    if not os.path.isdir(tdir):
        tdir = os.path.join(ROOT, "config", "triggers.d")
    env = dict(os.environ, NUDGED_TRIGGERS_DIR=tdir, NUDGED_TRIGGERS_ACTIVE_PERIOD="90d")
    if os.path.exists(os.path.join(HERE, suite, "env")):  # the suite's own settings, KEY=VALUE lines
        with open(os.path.join(HERE, suite, "env")) as fh:
            env.update(line.strip().split("=", 1) for line in fh if "=" in line)
    p = subprocess.run([NUDGED, "replay", "-c", "/dev/null", os.path.join(HERE, suite, case + ".jsonl")],
                       capture_output=True, text=True, timeout=30, env=env)
    problems = []
    if p.returncode != 0:
        problems.append("exit code %d: %s" % (p.returncode, p.stderr.strip()))
    got = []
    for line in p.stdout.splitlines():
        f = json.loads(line)
        line = "%s %s %s %s" % (f["at"], f["trigger"], f["customer"], f["messageId"])
        if f.get("held_out"):
            line += " held_out"
        if "converted" in f:
            line += " converted:" + f["converted"]
        if any(a.get("capped") for a in f.get("actions", [])):
            line += " capped"
        got.append(line)
    want, contains, stderr = [], [], []
    with open(os.path.join(HERE, suite, case + ".expect")) as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            if line.startswith("contains: "):
                contains.append(line[len("contains: "):])
            elif line.startswith("stderr: "):
                stderr.append(line[len("stderr: "):])
            else:
                want.append(line)
    if got != want:
        problems.append("firings differ:\n    want: %s\n    got:  %s" % ("\n          ".join(want) or "(none)",
                                                                       "\n          ".join(got) or "(none)"))
    for text in contains:
        if text not in p.stdout:
            problems.append("output lacks %r" % text)
    for text in stderr:
        if text not in p.stderr:
            problems.append("stderr lacks %r (stderr: %s)" % (text, p.stderr.strip()))
    return problems


def main():
    passed = failed = 0
    for suite in sorted(os.listdir(HERE)):
        sdir = os.path.join(HERE, suite)
        if not os.path.isdir(sdir):
            continue
        for name in sorted(os.listdir(sdir)):
            if not name.endswith(".jsonl"):
                continue
            case = name[:-len(".jsonl")]
            problems = run_case(suite, case)
            if problems:
                failed += 1
                print("FAIL %s/%s\n  %s" % (suite, case, "\n  ".join(problems)))
            else:
                passed += 1
                print("PASS %s/%s" % (suite, case))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
