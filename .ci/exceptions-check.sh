#!/usr/bin/env bash
# Accepted risks read by independent consumers: the demo scanned with the example exceptions
# file; sarif-tools sees the muted results as suppressed (kind external), py-ocsf-models
# parses every OCSF finding and reads the muted ones as Suppressed, and botocore's validator
# takes the ASFF findings with Workflow SUPPRESSED and their Note.
# Usage: .ci/exceptions-check.sh PATH/TO/guardkey   (the CI venv's python and sarif on PATH)
set -euo pipefail
guardkey=${1:?usage: exceptions-check.sh PATH/TO/guardkey}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "exceptions-check: FAIL: $*" >&2; exit 1; }
risks=assets/accepted-risks.example.toml
for format in sarif ocsf asff; do
  "$guardkey" scan --demo --regions eu-west-2,us-east-2 --exceptions "$risks" --format "$format" \
    >"$work/scan.$format" 2>/dev/null || [ $? -eq 1 ] || fail "scan --format $format"
done

cat >"$work/suppressed.yaml" <<'YAML'
description: accepted risks
configuration:
  check-line-number: false
include:
  - suppression: external
YAML
summary=$(sarif summary --filter "$work/suppressed.yaml" "$work/scan.sarif")
echo "$summary" | grep -q "2 passed the filter" || fail "sarif-tools does not see two suppressed results: $summary"

python - "$work/scan.ocsf" <<'PY' || fail "py-ocsf-models does not read the muted findings as Suppressed"
import json, sys
from py_ocsf_models.events.findings.detection_finding import DetectionFinding
from py_ocsf_models.events.findings.status_id import StatusID
findings = [DetectionFinding(**f) for f in json.load(open(sys.argv[1]))]
suppressed = [f for f in findings if f.status_id == StatusID.Suppressed]
assert len(suppressed) == 2, [f.status_id for f in findings]
assert all(f.status == "Suppressed" for f in suppressed)
print(f"exceptions-check: py-ocsf-models read {len(findings)} findings, {len(suppressed)} Suppressed")
PY

python .ci/asff-check.py "$work/scan.asff" || fail "the ASFF findings do not follow botocore's securityhub model"
python - "$work/scan.asff" <<'PY' || fail "ASFF: the muted findings are not SUPPRESSED"
import json, sys
muted = [f for f in json.load(open(sys.argv[1])) if f.get("Workflow", {}).get("Status") == "SUPPRESSED"]
assert len(muted) == 2 and all(f["Note"]["Text"].startswith("accepted risk:") for f in muted), muted
PY
echo "exceptions-check: sarif-tools, py-ocsf-models and botocore read the accepted risks as suppressed"
