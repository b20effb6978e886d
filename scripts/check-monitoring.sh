#!/usr/bin/env bash
# make check: the alert rules parse (promtool check rules) and fire on the
# series they should (promtool test rules); the dashboard is JSON whose
# every query names a metric nudged exports.
set -euo pipefail
cd "$(dirname "$0")/.."
promtool check rules config/monitoring/nudged-alerts.yml >/dev/null
promtool test rules tests/monitoring/alerts-test.yml >/dev/null
/usr/bin/python3 - <<'PY'
import json, re, sys
dash = json.load(open("config/monitoring/nudged-dashboard.json"))
src = open("daemon/metrics.c").read() + open("daemon/collector.c").read()
missing = set()
for p in dash["panels"]:
    for t in p["targets"]:
        for m in re.findall(r"\b(nudged_[a-z_]+?)(?:_bucket)?\{", t["expr"]):
            if m not in src:
                missing.add(m)
if missing:
    sys.exit("dashboard queries metrics nudged does not export: " + ", ".join(sorted(missing)))
PY
echo "monitoring: alert rules checked and tested, dashboard queries known metrics"
