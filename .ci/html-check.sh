#!/usr/bin/env bash
# The HTML report as a browser sees it: `guardkey scan --format html` of the demo estate,
# rendered by headless Chromium (Debian's chromium-headless-shell); the rendered DOM must
# hold every guardrail's row and every region's bar, its script must have run (the body is
# marked ready) and the console must show no error.
# Usage: .ci/html-check.sh PATH/TO/guardkey
set -euo pipefail
guardkey=${1:?usage: html-check.sh PATH/TO/guardkey}
chromium=$(command -v chromium-headless-shell || command -v chromium || true)
[ -n "$chromium" ] || { echo "html-check: FAIL: no headless Chromium (apt-get install chromium-headless-shell)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "html-check: FAIL: $*" >&2; exit 1; }
rc=0; "$guardkey" scan --demo --format html --output "$work/report.html" 2>/dev/null || rc=$?
[ "$rc" -eq 3 ] || fail "guardkey scan --demo --format html exited $rc (the demo denies a region: 3)"
rc=0; "$guardkey" scan --demo --format json --output "$work/report.json" 2>/dev/null || rc=$?
"$chromium" --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 \
  --virtual-time-budget=2000 --dump-dom "file://$work/report.html" >"$work/dom.html" 2>"$work/console.txt" \
  || fail "Chromium could not render the report: $(tail -5 "$work/console.txt")"
python3 - "$work/dom.html" "$work/report.json" "$work/console.txt" <<'PY'
import json, re, sys
dom = open(sys.argv[1]).read()
report = json.load(open(sys.argv[2]))
console = open(sys.argv[3]).read()
assert 'data-ready="1"' in dom, "the report's script did not run"
rows = len(re.findall(r'<tr data-level=', dom))
assert rows == len(report["guardrails"]), f"{rows} rows for {len(report['guardrails'])} guardrails"
regions = {g["region"] for g in report["guardrails"]}
bars = len(re.findall(r'<g class="bar"', dom))
assert bars == len(regions), f"{bars} bars for {len(regions)} regions with guardrails"
errors = [l for l in console.splitlines() if "Uncaught" in l or "CONSOLE(" in l and "error" in l.lower()]
assert not errors, "script errors: " + "\n".join(errors)
print(f"html-check: Chromium rendered {rows} guardrail rows and {bars} region bars, script ran, no console error")
PY

# The progress page of `guardkey diff --format html`: the demo scan against a copy where one
# failing guardrail passes and one passing guardrail fails.
python3 - "$work/report.json" "$work/later.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
fail = next(g for g in report["guardrails"] if g["posture"]["level"] == "FAIL")
passing = next(g for g in report["guardrails"] if g["posture"]["level"] == "PASS")
fail["posture"].update(level="PASS", id="customer-managed-key")
passing["posture"].update(level="FAIL", id="key-disabled")
json.dump(report, open(sys.argv[2], "w"))
PY
rc=0; "$guardkey" diff "$work/report.json" "$work/later.json" --format html >"$work/diff.html" || rc=$?
[ "$rc" -eq 1 ] || fail "guardkey diff exited $rc with a regression (1 expected)"
"$chromium" --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 \
  --virtual-time-budget=2000 --dump-dom "file://$work/diff.html" >"$work/diff-dom.html" 2>"$work/diff-console.txt" \
  || fail "Chromium could not render the diff: $(tail -5 "$work/diff-console.txt")"
python3 - "$work/diff-dom.html" <<'PY'
import re, sys
dom = open(sys.argv[1]).read()
assert 'data-ready="1"' in dom, "the diff page's script did not run"
fixed = len(re.findall(r'<tr data-change="fixed"', dom))
regressed = len(re.findall(r'<tr data-change="regressed"', dom))
assert (fixed, regressed) == (1, 1), (fixed, regressed)
print("html-check: Chromium rendered the diff page: 1 fixed, 1 regressed row")
PY
