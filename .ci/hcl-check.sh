#!/usr/bin/env bash
# The Terraform that `guardkey fix --emit-terraform` writes, with hostile strings in it
# (a description holding ${...} and %{...} templates, quotes, backslashes), parsed by an
# independent HCL parser (python-hcl2): it must parse, and no template may be left live.
# Usage: .ci/hcl-check.sh PATH/TO/guardkey   (python with hcl2 on PATH)
set -euo pipefail
guardkey=${1:?usage: hcl-check.sh PATH/TO/guardkey}
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$guardkey" sim --port "$port" --seed demo >"$work/sim.log" 2>&1 &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q "Press Ctrl-C" "$work/sim.log" && break; sleep 0.1; done
export AWS_ACCESS_KEY_ID=$(sed -n 's/.*AWS_ACCESS_KEY_ID=//p' "$work/sim.log")
export AWS_SECRET_ACCESS_KEY=$(sed -n 's/.*AWS_SECRET_ACCESS_KEY=//p' "$work/sim.log")
export AWS_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
hostile='say "${var.secret}" and %{ if true }x%{ endif } \ back\slash'
"$guardkey" fix --endpoint-url "http://127.0.0.1:$port" --regions eu-west-2 --filter 'key:none' \
  --create-key --alias alias/hcl-check --description "$hostile" --tag 'team=a+b@c' \
  --dry-run --emit-terraform "$work/keys.tf" >/dev/null
python - "$work/keys.tf" "$hostile" <<'PY'
import re, sys, hcl2
path, hostile = sys.argv[1], sys.argv[2]
with open(path) as f:
    doc = hcl2.load(f)  # raises on anything that is not HCL
keys = [r for r in doc["resource"] if any("aws_kms_key" in k for k in r)]
assert keys, f"no aws_kms_key in {path}"
text = open(path).read()
live = [m.group(0) for m in re.finditer(r"(?<![$%])[$%]\{", text)]
assert not live, f"live template sequences in the Terraform: {live}"
assert "$${var.secret}" in text and "%%{ if true }" in text, text
print(f"hcl-check: {path} parses with python-hcl2 and holds the hostile description literally")
PY
