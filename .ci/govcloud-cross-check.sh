#!/usr/bin/env bash
# The Bedrock-003 audit with the real AWS CLI in AWS GovCloud (US), against
# `guardkey sim --partition aws-us-gov`: every ARN in the aws-us-gov partition, and
# `guardkey scan` agreeing with the CLI guardrail by guardrail.
# Usage: .ci/govcloud-cross-check.sh PATH/TO/guardkey   (the AWS CLI on PATH)
set -euo pipefail
guardkey=${1:?usage: govcloud-cross-check.sh PATH/TO/guardkey}
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$guardkey" sim --port "$port" --partition aws-us-gov --seed generated:2:6 >"$work/sim.log" 2>&1 &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q "Press Ctrl-C" "$work/sim.log" && break; sleep 0.1; done
grep -q "Press Ctrl-C" "$work/sim.log" || { echo "govcloud-cross-check: FAIL: guardkey sim did not start: $(cat "$work/sim.log")" >&2; exit 1; }
fail() { echo "govcloud-cross-check: FAIL: $*" >&2; exit 1; }
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=$(sed -n 's/.*AWS_ACCESS_KEY_ID=//p' "$work/sim.log")
export AWS_SECRET_ACCESS_KEY=$(sed -n 's/.*AWS_SECRET_ACCESS_KEY=//p' "$work/sim.log")
export AWS_DEFAULT_REGION=us-gov-west-1 AWS_REGION=us-gov-west-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
R=us-gov-west-1
who=$(aws sts get-caller-identity --query Arn --output text)
[[ "$who" == arn:aws-us-gov:iam::123456789012:* ]] || fail "get-caller-identity answered $who"
: >"$work/cli.txt"
for arn in $(aws bedrock list-guardrails --region $R --query 'guardrails[*].arn' --output text); do
  [[ "$arn" =~ ^arn:aws-us-gov:bedrock:$R:123456789012:guardrail/[a-z0-9]+$ ]] || fail "bad guardrail ARN $arn"
  key=$(aws bedrock get-guardrail --region $R --guardrail-identifier "$arn" --query kmsKeyArn --output text)
  [ "$key" = None ] || [[ "$key" == arn:aws-us-gov:kms:$R:* ]] || fail "kmsKeyArn of $arn is $key"
  echo "$arn $key" >>"$work/cli.txt"
done
rc=0; "$guardkey" scan --endpoint-url "$AWS_ENDPOINT_URL" --regions $R --format json --output "$work/scan.json" 2>/dev/null || rc=$?
[ "$rc" -le 1 ] || fail "guardkey scan exited $rc"
python3 - "$work/scan.json" "$work/cli.txt" <<'PY' || fail "guardkey scan and the AWS CLI disagree"
import json, sys
scan = json.load(open(sys.argv[1]))
ours = {g["arn"]: g["kms_key_arn"] or "None" for g in scan["guardrails"]}
theirs = dict(line.split() for line in open(sys.argv[2]) if line.strip())
if ours != theirs:
    print("differ:", set(ours.items()) ^ set(theirs.items()))
    sys.exit(1)
print(f"govcloud-cross-check: guardkey scan agrees with the AWS CLI on {len(ours)} guardrails in us-gov-west-1, every ARN in aws-us-gov")
PY
