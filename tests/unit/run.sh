#!/usr/bin/env bash
# Runs every unit test binary given and adds up their "N passed, M failed" lines.
set -u
passed=0; failed=0; status=0
for t in "$@"; do
  out=$("$t" 2>&1); rc=$?
  echo "$out" | grep -E '^FAIL|passed' | sed "s|^|  |"
  line=$(echo "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -1)
  p=$(echo "$line" | sed -E 's/.* ([0-9]+) passed.*/\1/'); f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  if [ $rc -ne 0 ] || [ -z "$line" ]; then status=1; [ -z "$line" ] && { echo "  $t crashed (rc=$rc)"; failed=$((failed + 1)); }; fi
done
echo "unit: $passed passed, $failed failed"
exit $status
