#!/usr/bin/env bash
# The Bedrock-003 procedure, done by hand with the real AWS CLI against `guardkey sim`:
# the audit (list-guardrails, get-guardrail --query kmsKeyArn) and the remediation
# (kms create-key with a policy file, create-alias, update-guardrail --kms-key-id).
# Usage: .ci/cli-cross-check.sh PATH/TO/guardkey   (the AWS CLI on PATH)
set -euo pipefail
guardkey=${1:?usage: cli-cross-check.sh PATH/TO/guardkey}
[ -x "$guardkey" ] || { echo "cli-cross-check: FAIL: no guardkey binary at $guardkey" >&2; exit 1; }
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$guardkey" sim --port "$port" --seed demo --settle-ms 200 >"$work/sim.log" 2>&1 &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q "Press Ctrl-C" "$work/sim.log" && break; sleep 0.1; done
grep -q "Press Ctrl-C" "$work/sim.log" || { echo "cli-cross-check: FAIL: guardkey sim did not start: $(cat "$work/sim.log")" >&2; exit 1; }

export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=$(sed -n 's/.*AWS_ACCESS_KEY_ID=//p' "$work/sim.log")
export AWS_SECRET_ACCESS_KEY=$(sed -n 's/.*AWS_SECRET_ACCESS_KEY=//p' "$work/sim.log")
export AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
R=us-east-1
fail() { echo "cli-cross-check: FAIL: $*" >&2; exit 1; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

account=$(aws sts get-caller-identity --query Account --output text)
[ "$account" = 123456789012 ] || fail "get-caller-identity answered $account"

# The audit, as documented: every ARN, then each one's kmsKeyArn (null = AWS-owned key).
arns=$(aws bedrock list-guardrails --region $R --query 'guardrails[*].arn' --output text)
count=0; owned=0; cmk=0
for arn in $arns; do
  [[ "$arn" =~ ^arn:aws:bedrock:$R:123456789012:guardrail/[a-z0-9]+$ ]] || fail "bad guardrail ARN $arn"
  key=$(aws bedrock get-guardrail --region $R --guardrail-identifier "$arn" --query kmsKeyArn)
  count=$((count + 1))
  if [ "$key" = null ]; then owned=$((owned + 1));
  elif [[ "$key" =~ ^\"arn:aws:kms:[a-z0-9-]+:[0-9]{12}:key/[a-f0-9-]{36}\"$ ]]; then cmk=$((cmk + 1));
  else fail "kmsKeyArn of $arn is $key"; fi
done
[ "$count" -gt 20 ] && [ "$owned" -gt 0 ] && [ "$cmk" -gt 0 ] || fail "audit saw $count guardrails, $owned AWS-owned, $cmk CMK"
echo "cli-cross-check: audit of $R: $count guardrails, $owned on the AWS-owned key, $cmk on a KMS key"

# guardkey scan must agree with the documented audit, region by region, guardrail by
# guardrail: the same ARNs, the same kmsKeyArn (null for the AWS-owned key).
# The demo denies ap-south-1: the scan is incomplete, and says so with exit 3.
rc=0; "$guardkey" scan --endpoint-url "$AWS_ENDPOINT_URL" --format json --output "$work/scan.json" || rc=$?
[ "$rc" -eq 3 ] || fail "guardkey scan exited $rc, not 3 (incomplete: ap-south-1 is denied)"
regions=$(python3 -c "import json; print(' '.join(r['region'] for r in json.load(open('$work/scan.json'))['regions'] if r['error'] is None))")
: >"$work/cli.txt"
for region in $regions; do
  for arn in $(aws bedrock list-guardrails --region "$region" --query 'guardrails[*].arn' --output text); do
    echo "$arn $(aws bedrock get-guardrail --region "$region" --guardrail-identifier "$arn" --query kmsKeyArn --output text)" >>"$work/cli.txt"
  done
done
python3 - "$work/scan.json" "$work/cli.txt" <<'PY' || fail "guardkey scan and the AWS CLI disagree"
import json, sys
scan = json.load(open(sys.argv[1]))
ours = {g["arn"]: g["kms_key_arn"] or "None" for g in scan["guardrails"]}
theirs = dict(line.split() for line in open(sys.argv[2]) if line.strip())
if ours != theirs:
    for arn in sorted(set(ours) | set(theirs)):
        if ours.get(arn) != theirs.get(arn):
            print(f"  {arn}: guardkey {ours.get(arn)}, AWS CLI {theirs.get(arn)}")
    sys.exit(1)
print(f"cli-cross-check: guardkey scan agrees with the AWS CLI on {len(ours)} guardrails in {len({g['region'] for g in scan['guardrails']})} regions")
PY

# Who uses the guardrails of us-east-1, read by the AWS CLI itself (bedrock-agent list-agents,
# get-agent, list-agent-versions, list-flows, get-flow; iam get-account-authorization-details,
# whose URL-encoded documents the CLI decodes) and matched here with fnmatch, must be what
# guardkey scan --usage says: the same agents, flows and principals for every guardrail.
# (Exit 1: the region has failing guardrails.)
rc=0; "$guardkey" scan --endpoint-url "$AWS_ENDPOINT_URL" --regions $R --usage --format json --output "$work/usage.json" || rc=$?
[ "$rc" -eq 1 ] || fail "guardkey scan --usage exited $rc, not 1"
: >"$work/named.txt"
for id in $(aws bedrock-agent list-agents --region $R --query 'agentSummaries[*].agentId' --output text); do
  role=$(aws bedrock-agent get-agent --region $R --agent-id "$id" --query agent.agentResourceRoleArn --output text)
  aws bedrock-agent list-agent-versions --region $R --agent-id "$id" \
    --query 'agentVersionSummaries[?guardrailConfiguration].[guardrailConfiguration.guardrailIdentifier, agentVersion]' \
    --output text | while read -r g v; do echo "$g agent $v $role" >>"$work/named.txt"; done
done
for id in $(aws bedrock-agent list-flows --region $R --query 'flowSummaries[*].id' --output text); do
  aws bedrock-agent get-flow --region $R --flow-identifier "$id" --output json >"$work/flow-$id.json"
done
aws iam get-account-authorization-details --output json >"$work/iam.json"
python3 - "$work" <<'PY' || fail "guardkey scan --usage and the AWS CLI disagree on who uses the guardrails"
import fnmatch, glob, json, sys, urllib.parse
work = sys.argv[1]
scan = json.load(open(f"{work}/usage.json"))
by_id = {g["id"]: g["arn"] for g in scan["guardrails"]}
arn_of = lambda ident: ident if ident.startswith("arn:") else by_id.get(ident, ident)
theirs = {}
for line in open(f"{work}/named.txt"):
    g, kind, version, role = line.split()
    theirs.setdefault(arn_of(g), set()).add(("agent", version, role))
for path in glob.glob(f"{work}/flow-*.json"):
    flow = json.load(open(path))
    for node in flow["definition"]["nodes"]:
        conf = node.get("configuration", {})
        for kind in ("prompt", "knowledgeBase"):
            gc = conf.get(kind, {}).get("guardrailConfiguration")
            if gc:
                theirs.setdefault(arn_of(gc["guardrailIdentifier"]), set()).add(("flow", None, flow["executionRoleArn"]))
doc = lambda d: json.loads(urllib.parse.unquote(d)) if isinstance(d, str) else d
iam = json.load(open(f"{work}/iam.json"))
managed = {p["Arn"]: doc(v["Document"]) for p in iam.get("Policies", []) for v in p["PolicyVersionList"] if v["IsDefaultVersion"]}
def documents(entity, inline):
    return [doc(p["PolicyDocument"]) for p in entity.get(inline, [])] + [managed[a["PolicyArn"]] for a in entity.get("AttachedManagedPolicies", [])]
principals = [(u["Arn"], documents(u, "UserPolicyList")) for u in iam["UserDetailList"]] + \
             [(r["Arn"], documents(r, "RolePolicyList")) for r in iam["RoleDetailList"]]
as_list = lambda v: [v] if isinstance(v, str) else v
def may_apply(docs, arn):
    allowed = False
    for d in docs:
        sts = d["Statement"] if isinstance(d["Statement"], list) else [d["Statement"]]
        for st in sts:
            if not any(fnmatch.fnmatchcase("bedrock:applyguardrail", a.lower()) for a in as_list(st.get("Action", []))):
                continue
            if not any(fnmatch.fnmatchcase(arn, r) for r in as_list(st.get("Resource", []))):
                continue
            if st["Effect"] == "Deny":
                return False
            allowed = True
    return allowed
checked = mismatches = 0
for g in scan["guardrails"]:
    users = g.get("usage", {}).get("users", [])
    ours_named = {(u["via"]["kind"], u["via"].get("version"), u["principal"]) for u in users if u["via"]["kind"] != "policy"}
    if ours_named != theirs.get(g["arn"], set()):
        mismatches += 1
        print(f"  {g['name']}: guardkey {sorted(ours_named)}, AWS CLI {sorted(theirs.get(g['arn'], set()))}")
    ours_policy = {u["principal"] for u in users if u["via"]["kind"] == "policy"}
    named_roles = {p for _, _, p in ours_named}
    cli_policy = {p for p, docs in principals if may_apply(docs, g["arn"])} - named_roles
    if ours_policy != cli_policy:
        mismatches += 1
        print(f"  {g['name']}: guardkey principals {sorted(ours_policy)}, AWS CLI {sorted(cli_policy)}")
    checked += 1
if mismatches or not theirs:
    sys.exit(1)
print(f"cli-cross-check: guardkey scan --usage agrees with the AWS CLI on who uses {checked} guardrails "
      f"({sum(len(v) for v in theirs.values())} agent and flow uses, {len(principals)} IAM principals)")
PY

# Permissions boundaries, as the AWS CLI reads them (RoleDetailList[].PermissionsBoundary, the
# policy's default version in Policies): a user of a us-east-2 guardrail whose boundary allows
# no kms:Decrypt must be marked capped by guardkey scan --usage, and no other.
rc=0; "$guardkey" scan --endpoint-url "$AWS_ENDPOINT_URL" --regions us-east-2 --usage --format json --output "$work/usage-2.json" || rc=$?
[ "$rc" -le 1 ] || fail "guardkey scan --regions us-east-2 --usage exited $rc"
python3 - "$work" <<'PY' || fail "guardkey and the AWS CLI disagree on permissions boundaries"
import fnmatch, json, sys, urllib.parse
work = sys.argv[1]
doc = lambda d: json.loads(urllib.parse.unquote(d)) if isinstance(d, str) else d
iam = json.load(open(f"{work}/iam.json"))
managed = {p["Arn"]: doc(v["Document"]) for p in iam.get("Policies", []) for v in p["PolicyVersionList"] if v["IsDefaultVersion"]}
as_list = lambda v: [v] if isinstance(v, str) else v
def lets_decrypt(d):
    sts = d["Statement"] if isinstance(d["Statement"], list) else [d["Statement"]]
    return any(st["Effect"] == "Allow" and any(fnmatch.fnmatchcase("kms:decrypt", a.lower()) for a in as_list(st.get("Action", [])))
               for st in sts)
capped_by_cli = {r["Arn"] for r in iam["RoleDetailList"]
                 if "PermissionsBoundary" in r and not lets_decrypt(managed[r["PermissionsBoundary"]["PermissionsBoundaryArn"]])}
scan = json.load(open(f"{work}/usage-2.json"))
users = [u for g in scan["guardrails"] for u in g.get("usage", {}).get("users", [])]
ours = {u["principal"] for u in users if u.get("capped", {}).get("decrypt") == "denied"}
theirs = {u["principal"] for u in users} & capped_by_cli
if not theirs or ours != theirs:
    print(f"  guardkey capped {sorted(ours)}, AWS CLI boundaries without kms:Decrypt {sorted(theirs)}")
    sys.exit(1)
print(f"cli-cross-check: guardkey marks the users whose permissions boundary (read by the AWS CLI) lets no kms:Decrypt through: {sorted(ours)}")
PY

# The gate: moving claims-assistant onto the key of alias/bedrock-guardrails would lock the
# claims agent out (its role has no kms:Decrypt and the key policy does not name it). guardkey
# fix --yes refuses (exit 2) and changes nothing: the AWS CLI reads the same kmsKeyArn back.
claims=$(aws bedrock list-guardrails --region $R --query "guardrails[?name=='claims-assistant'].arn" --output text)
[ -n "$claims" ] || fail "no claims-assistant in $R"
before=$(aws bedrock get-guardrail --region $R --guardrail-identifier "$claims" --query kmsKeyArn --output text)
rc=0; "$guardkey" fix --endpoint-url "$AWS_ENDPOINT_URL" --guardrail "$claims" --key alias/bedrock-guardrails --yes \
  --journal-dir "$work/gate" >"$work/gate.log" 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "guardkey fix onto a key that locks the claims agent out exited $rc: $(cat "$work/gate.log")"
grep -q "Held back" "$work/gate.log" || fail "the refusal does not say why: $(cat "$work/gate.log")"
after=$(aws bedrock get-guardrail --region $R --guardrail-identifier "$claims" --query kmsKeyArn --output text)
[ "$after" = "$before" ] || fail "the refused fix changed claims-assistant's key from $before to $after"
echo "cli-cross-check: the gate: guardkey fix refused to lock the claims agent out (exit 2), kmsKeyArn still $after"

# The remediation, as documented.
cat >"$work/policy.json" <<POLICY
{"Version": "2012-10-17", "Statement": [
  {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::$account:root"}, "Action": "kms:*", "Resource": "*"},
  {"Sid": "Guardrail managers", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::$account:user/guardkey-admin"},
   "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant"], "Resource": "*"}]}
POLICY
key_arn=$(aws kms create-key --region $R --description 'Bedrock guardrails' --policy "file://$work/policy.json" --query KeyMetadata.Arn --output text)
[[ "$key_arn" =~ ^arn:aws:kms:$R:$account:key/ ]] || fail "create-key answered $key_arn"
out=$(aws kms create-alias --region $R --alias-name alias/cli-cross-check --target-key-id "$key_arn")
[ -z "$out" ] || fail "create-alias printed $out"
aws kms create-alias --region $R --alias-name alias/cli-cross-check --target-key-id "$key_arn" 2>"$work/err" && fail "a duplicate alias was accepted"
grep -q AlreadyExistsException "$work/err" || fail "duplicate alias: $(cat "$work/err")"

id=$(aws bedrock create-guardrail --region $R --name cli-cross-check --blocked-input-messaging 'no in' \
  --blocked-outputs-messaging 'no out' \
  --content-policy-config 'filtersConfig=[{type=HATE,inputStrength=HIGH,outputStrength=HIGH}]' \
  --word-policy-config 'wordsConfig=[{text=nightingale}]' --query guardrailId --output text)
wait_ready() {
  for _ in $(seq 50); do
    [ "$(aws bedrock get-guardrail --region $R --guardrail-identifier "$1" --query status --output text)" = READY ] && return 0
    sleep 0.1
  done
  fail "$1 never became READY"
}
wait_ready "$id"
updated=$(aws bedrock update-guardrail --region $R --guardrail-identifier "$id" --name cli-cross-check \
  --blocked-input-messaging 'no in' --blocked-outputs-messaging 'no out' \
  --content-policy-config 'filtersConfig=[{type=HATE,inputStrength=HIGH,outputStrength=HIGH}]' \
  --word-policy-config 'wordsConfig=[{text=nightingale}]' --kms-key-id "$key_arn")
[ "$(echo "$updated" | json 'sorted(d)')" = "['guardrailArn', 'guardrailId', 'updatedAt', 'version']" ] || fail "update-guardrail answered $updated"
[ "$(echo "$updated" | json 'd["version"]')" = DRAFT ] || fail "update-guardrail version"
got=$(aws bedrock get-guardrail --region $R --guardrail-identifier "$id" --query kmsKeyArn --output text)
[ "$got" = "$key_arn" ] || fail "kmsKeyArn after the fix is $got, not $key_arn"
full=$(aws bedrock get-guardrail --region $R --guardrail-identifier "$id")
[ "$(echo "$full" | json 'd["wordPolicy"]["words"][0]["text"]')" = nightingale ] || fail "the word policy was lost"
[ "$(echo "$full" | json 'd["contentPolicy"]["filters"][0]["type"]')" = HATE ] || fail "the content policy was lost"

# A left-out policy is gone: the trap of the documented procedure, reproduced faithfully.
wait_ready "$id"
aws bedrock update-guardrail --region $R --guardrail-identifier "$id" --name cli-cross-check \
  --blocked-input-messaging 'no in' --blocked-outputs-messaging 'no out' --kms-key-id "$key_arn" >/dev/null
[ "$(aws bedrock get-guardrail --region $R --guardrail-identifier "$id" --query wordPolicy)" = null ] || fail "a left-out word policy survived"
echo "cli-cross-check: remediation of $R: key $key_arn, alias, update-guardrail: all documented answers"

# A key its writer may not use: Bedrock needs kms:Decrypt, GenerateDataKey, DescribeKey and
# CreateGrant on it from whoever writes the guardrail. The AWS CLI's update-guardrail gets
# AccessDeniedException; guardkey fix --key refuses before any write, naming the statement.
cat >"$work/other-only.json" <<POLICY
{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::$account:role/GuardrailAdmin"}, "Action": "kms:*", "Resource": "*"}]}
POLICY
locked_key=$(aws kms create-key --region $R --policy "file://$work/other-only.json" --bypass-policy-lockout-safety-check \
  --query KeyMetadata.Arn --output text)
wait_ready "$id"
aws bedrock update-guardrail --region $R --guardrail-identifier "$id" --name cli-cross-check \
  --blocked-input-messaging 'no in' --blocked-outputs-messaging 'no out' --kms-key-id "$locked_key" \
  >/dev/null 2>"$work/locked.err" && fail "update-guardrail with a key the caller may not use was accepted"
grep -q "AccessDeniedException" "$work/locked.err" || fail "update-guardrail with a locked key: $(cat "$work/locked.err")"
[ "$(aws bedrock get-guardrail --region $R --guardrail-identifier "$id" --query kmsKeyArn --output text)" = "$key_arn" ] \
  || fail "the refused update-guardrail changed the key"
rc=0; "$guardkey" fix --endpoint-url "$AWS_ENDPOINT_URL" --guardrail "$claims" --key "$locked_key" --allow-lockout --yes \
  --journal-dir "$work/locked" >"$work/locked.log" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "guardkey fix with a key the caller may not use exited 0: $(cat "$work/locked.log")"
grep -q "AllowGuardrailWriter" "$work/locked.log" || fail "the refusal names no statement: $(cat "$work/locked.log")"
[ "$(aws bedrock get-guardrail --region $R --guardrail-identifier "$claims" --query kmsKeyArn --output text)" = "$before" ] \
  || fail "the refused fix changed claims-assistant's key"
echo "cli-cross-check: a key the writer may not use: update-guardrail AccessDeniedException, guardkey fix refused before any write"

# IAM's policy simulator as the AWS CLI reads it (query protocol, XML): for every user whose
# access guardkey took from SimulatePrincipalPolicy, the CLI's own call gives the same
# decision; a role under a permissions boundary gets PermissionsBoundaryDecisionDetail.
"$guardkey" scan --endpoint-url "$AWS_ENDPOINT_URL" --regions $R,us-east-2 --usage --format json >"$work/simulated.json" || true
python3 - "$work/simulated.json" >"$work/simulated.txt" <<'PY'
import json, sys
for g in json.load(open(sys.argv[1]))["guardrails"]:
    for u in (g.get("usage") or {}).get("users", []):
        said = u["current_key"].get("how") or u["current_key"].get("why") or ""
        if g.get("kms_key_arn") and said.startswith("IAM's policy simulator"):
            print(u["principal"], g["kms_key_arn"], g["region"], u["current_key"]["decrypt"])
PY
[ -s "$work/simulated.txt" ] || fail "no user's access came from IAM's policy simulator"
while read -r principal key region decided; do
  got=$(aws iam simulate-principal-policy --policy-source-arn "$principal" --action-names kms:Decrypt \
    --resource-arns "$key" --context-entries \
    "ContextKeyName=kms:ViaService,ContextKeyValues=bedrock.$region.amazonaws.com,ContextKeyType=string" \
    --query 'EvaluationResults[0].EvalDecision' --output text)
  case "$decided:$got" in allowed:allowed|denied:implicitDeny|denied:explicitDeny) ;;
    *) fail "guardkey says $decided for $principal on $key, aws iam simulate-principal-policy says $got" ;; esac
done <"$work/simulated.txt"
bounded=$(aws iam simulate-principal-policy --policy-source-arn "arn:aws:iam::$account:role/IncidentSummaries" \
  --action-names kms:Decrypt --resource-arns "arn:aws:kms:us-east-2:$account:key/any" --context-entries \
  "ContextKeyName=kms:ViaService,ContextKeyValues=bedrock.us-east-2.amazonaws.com,ContextKeyType=string" --output json)
echo "$bounded" | json 'd["EvaluationResults"][0]["EvalDecision"], d["EvaluationResults"][0]["PermissionsBoundaryDecisionDetail"]["AllowedByPermissionsBoundary"]' \
  | grep -qx "implicitDeny False" || fail "the boundary's decision: $bounded"
echo "cli-cross-check: IAM's policy simulator: $(wc -l <"$work/simulated.txt") users, the AWS CLI's simulate-principal-policy gives guardkey's decisions"

# The AWS CLI script that `guardkey fix --dry-run --emit-cli` writes, run by the real AWS CLI
# against one simulator, must reach the same end state as `guardkey fix --yes` against a
# second simulator with the same estate.
port_b=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$guardkey" sim --port "$port_b" --seed demo --settle-ms 200 >"$work/sim-b.log" 2>&1 &
sim_b=$!
trap 'kill $sim_pid $sim_b 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 50); do grep -q "Press Ctrl-C" "$work/sim-b.log" && break; sleep 0.1; done
endpoint_a="http://127.0.0.1:$port" endpoint_b="http://127.0.0.1:$port_b"
select=(--regions us-west-2,eu-west-2 --filter 'key:none' --create-key --alias alias/ci-fix)
"$guardkey" fix --endpoint-url "$endpoint_a" "${select[@]}" --dry-run --emit-cli "$work/fix.sh" >/dev/null
"$guardkey" fix --endpoint-url "$endpoint_b" "${select[@]}" --yes --journal-dir "$work" >"$work/fix-b.log" \
  || fail "guardkey fix --yes: $(cat "$work/fix-b.log")"
AWS_ENDPOINT_URL="$endpoint_a" bash "$work/fix.sh" || fail "the emitted AWS CLI script failed"
state() {  # endpoint region -> the guardrails' configs, the new key shown by its alias
  local key arn
  key=$(AWS_ENDPOINT_URL="$1" aws kms describe-key --region "$2" --key-id alias/ci-fix --query KeyMetadata.Arn --output text)
  for arn in $(AWS_ENDPOINT_URL="$1" aws bedrock list-guardrails --region "$2" --query 'guardrails[*].arn' --output text); do
    AWS_ENDPOINT_URL="$1" aws bedrock get-guardrail --region "$2" --guardrail-identifier "$arn" \
      | python3 -c "import json,sys; d=json.load(sys.stdin); [d.pop(k, None) for k in ('createdAt','updatedAt','status','version')]; d['kmsKeyArn'] = 'alias/ci-fix' if d.get('kmsKeyArn') == '$key' else d.get('kmsKeyArn'); print(json.dumps(d, sort_keys=True))"
  done
}
for region in us-west-2 eu-west-2; do
  state "$endpoint_a" "$region" >"$work/a-$region.txt"
  state "$endpoint_b" "$region" >"$work/b-$region.txt"
  diff "$work/a-$region.txt" "$work/b-$region.txt" >/dev/null || fail "$region: the AWS CLI script and guardkey fix disagree: $(diff "$work/a-$region.txt" "$work/b-$region.txt" | head -5)"
  grep -q '"kmsKeyArn": "alias/ci-fix"' "$work/a-$region.txt" || fail "$region: the script moved nothing to the new key"
  grep -q '"kmsKeyArn": null' "$work/a-$region.txt" && fail "$region: a guardrail is still on the AWS-owned key"
done
echo "cli-cross-check: the emitted AWS CLI script and guardkey fix --yes reach the same end state"

# The same with one multi-Region key: the script's create-key --multi-region and
# replicate-key by the AWS CLI, and guardkey fix --multi-region --yes, each leave every
# guardrail on its own region's replica of one mrk- key; python-hcl2 reads the Terraform.
mselect=(--regions eu-north-1,ap-northeast-1,sa-east-1 --filter 'key:none' --create-key --multi-region --alias alias/ci-mrk)
"$guardkey" fix --endpoint-url "$endpoint_a" "${mselect[@]}" --dry-run --emit-cli "$work/mrk.sh" \
  --emit-terraform "$work/mrk.tf" >/dev/null
"$guardkey" fix --endpoint-url "$endpoint_b" "${mselect[@]}" --yes --journal-dir "$work" >"$work/mrk-b.log" \
  || fail "guardkey fix --multi-region --yes: $(cat "$work/mrk-b.log")"
AWS_ENDPOINT_URL="$endpoint_a" bash "$work/mrk.sh" || fail "the emitted multi-Region AWS CLI script failed"
for endpoint in "$endpoint_a" "$endpoint_b"; do
  ids=""
  for region in eu-north-1 ap-northeast-1 sa-east-1; do
    key=$(AWS_ENDPOINT_URL="$endpoint" aws kms describe-key --region "$region" --key-id alias/ci-mrk --query KeyMetadata.Arn --output text)
    [[ "$key" == arn:aws:kms:$region:*:key/mrk-* ]] || fail "$endpoint $region: alias/ci-mrk is $key"
    ids="$ids ${key##*/}"
    for arn in $(AWS_ENDPOINT_URL="$endpoint" aws bedrock list-guardrails --region "$region" --query 'guardrails[*].arn' --output text); do
      got=$(AWS_ENDPOINT_URL="$endpoint" aws bedrock get-guardrail --region "$region" --guardrail-identifier "$arn" --query kmsKeyArn --output text)
      [ "$got" = "$key" ] || [ "$got" != None ] || fail "$endpoint $region: $arn still on the AWS-owned key"
    done
  done
  [ "$(echo $ids | tr ' ' '\n' | sort -u | wc -l)" -eq 1 ] || fail "$endpoint: more than one key id: $ids"
  replicas=$(AWS_ENDPOINT_URL="$endpoint" aws kms describe-key --region eu-north-1 --key-id alias/ci-mrk \
    --query 'KeyMetadata.MultiRegionConfiguration.[MultiRegionKeyType, length(ReplicaKeys)]' --output text)
  [ "$replicas" = "PRIMARY	2" ] || fail "$endpoint: the primary in eu-north-1 and two replicas, not: $replicas"
done
python - "$work/mrk.tf" <<'PY' || fail "python-hcl2 does not read the multi-Region Terraform"
import sys, hcl2
doc = hcl2.load(open(sys.argv[1]))
kinds = [k.strip("\"") for r in doc["resource"] for k in r]
assert kinds.count("aws_kms_replica_key") == 2 and "aws_kms_key" in kinds, kinds
PY
echo "cli-cross-check: one multi-Region key: the AWS CLI script and guardkey fix --multi-region --yes leave each guardrail on its region's replica; the Terraform parses"

# Security Hub: the ASFF findings of the same scan, validated with botocore's own validator.
rc=0; "$guardkey" scan --endpoint-url "$AWS_ENDPOINT_URL" --format asff --output "$work/findings.asff.json" 2>/dev/null || rc=$?
[ "$rc" -eq 3 ] || fail "guardkey scan --format asff exited $rc"
python .ci/asff-check.py "$work/findings.asff.json" || fail "the ASFF findings do not follow botocore's securityhub model"

# Security Hub, both ways: the AWS CLI imports guardkey's us-east-1 findings file as it is;
# guardkey imports eu-west-1's itself, and the AWS CLI reads exactly those findings back.
python3 - "$work/findings.asff.json" "$work/us-east-1.asff.json" <<'PY'
import json, sys
findings = json.load(open(sys.argv[1]))
json.dump([f for f in findings if f["ProductArn"].split(":")[3] == "us-east-1"], open(sys.argv[2], "w"))
PY
sent=$(python3 -c "import json; print(len(json.load(open('$work/us-east-1.asff.json'))))")
got=$(aws securityhub batch-import-findings --region us-east-1 --findings "file://$work/us-east-1.asff.json" --query '[SuccessCount,FailedCount]' --output text)
[ "$got" = "$sent	0" ] || fail "aws securityhub batch-import-findings of guardkey's $sent us-east-1 findings answered $got"
echo "cli-cross-check: Security Hub: aws securityhub batch-import-findings took guardkey's $sent us-east-1 findings as they are"
rc=0; "$guardkey" scan --endpoint-url "$AWS_ENDPOINT_URL" --regions eu-west-1 --format asff --output "$work/eu.asff.json" \
  --security-hub 2>"$work/hub.log" || rc=$?
[ "$rc" -eq 1 ] || fail "guardkey scan --security-hub exited $rc: $(cat "$work/hub.log")"
aws securityhub get-findings --region eu-west-1 --output json >"$work/eu.read-back.json"
python3 - "$work/eu.asff.json" "$work/eu.read-back.json" <<'PY' || fail "the findings read back from Security Hub are not those guardkey wrote"
import json, sys
sent = {f["Id"]: f for f in json.load(open(sys.argv[1]))}
back = {f["Id"]: f for f in json.load(open(sys.argv[2]))["Findings"]}
assert sent.keys() == back.keys(), (sorted(sent), sorted(back))
for id, f in sent.items():
    for member, value in f.items():
        assert back[id][member] == value, (id, member, value, back[id][member])
print(f"cli-cross-check: Security Hub: guardkey imported {len(back)} eu-west-1 findings, and the AWS CLI read them back member by member")
PY

# The organization, account by account: guardkey scan --org against the AWS CLI's own
# list-accounts, and in each account the same audit through a profile that assumes the
# account's OrganizationAccountAccessRole (role_arn + source_profile, as users set it up).
R3=us-east-1,us-west-2,eu-west-1
# The AWS CLI caches assumed-role credentials under ~/.aws/cli/cache: a fresh home, so that
# none from another simulator's run is reused.
export HOME="$work/home"; mkdir -p "$HOME"
rc=0; "$guardkey" scan --endpoint-url "$AWS_ENDPOINT_URL" --org --regions "$R3" --format json --output "$work/org.json" 2>"$work/org.log" || rc=$?
[ "$rc" -eq 3 ] || fail "guardkey scan --org exited $rc, not 3 (the invited account has no role): $(cat "$work/org.log")"
{
  printf '[profile org]\naws_access_key_id = %s\naws_secret_access_key = %s\nregion = us-east-1\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY"
  for id in $(aws organizations list-accounts --query 'Accounts[].Id' --output text); do
    printf '[profile a%s]\nrole_arn = arn:aws:iam::%s:role/OrganizationAccountAccessRole\nsource_profile = org\nregion = us-east-1\n' "$id" "$id"
  done
} >"$work/org-config"
: >"$work/org-cli.txt"
for line in $(aws organizations list-accounts --query 'Accounts[].[Id,Status]' --output text | tr '\t' ':'); do
  id=${line%%:*}; status=${line##*:}
  [ "$status" = ACTIVE ] || { echo "$id suspended" >>"$work/org-cli.txt"; continue; }
  if [ "$id" = "$account" ]; then prof=(); else prof=(--profile "a$id"); fi
  if ! AWS_CONFIG_FILE="$work/org-config" aws "${prof[@]}" sts get-caller-identity >/dev/null 2>"$work/assume.err"; then
    grep -q AccessDenied "$work/assume.err" || fail "assuming the role in $id: $(cat "$work/assume.err")"
    echo "$id unreachable" >>"$work/org-cli.txt"; continue
  fi
  for region in ${R3//,/ }; do
    for arn in $(AWS_CONFIG_FILE="$work/org-config" aws "${prof[@]}" bedrock list-guardrails --region "$region" --query 'guardrails[*].arn' --output text 2>/dev/null); do
      echo "$arn $(AWS_CONFIG_FILE="$work/org-config" aws "${prof[@]}" bedrock get-guardrail --region "$region" --guardrail-identifier "$arn" --query kmsKeyArn --output text)" >>"$work/org-cli.txt"
    done
  done
done
python3 - "$work/org.json" "$work/org-cli.txt" <<'PY' || fail "guardkey scan --org and the AWS CLI disagree"
import json, sys
scan = json.load(open(sys.argv[1]))
ours = {g["arn"]: g["kms_key_arn"] or "None" for g in scan["guardrails"]}
theirs, states = {}, {}
for line in open(sys.argv[2]):
    a, b = line.split()
    if b in ("suspended", "unreachable"):
        states[a] = b
    else:
        theirs[a] = b
assert ours == theirs, sorted(set(ours.items()) ^ set(theirs.items()))[:10]
for acct in scan["accounts"]:
    want = states.get(acct["id"])
    got = "suspended" if acct["suspended"] else ("unreachable" if acct["error"] else None)
    assert want == got, (acct["id"], want, got)
accounts = {a["id"] for a in scan["accounts"]}
print(f"cli-cross-check: guardkey scan --org agrees with the AWS CLI, account by account: {len(ours)} guardrails in {len(accounts)} accounts ({', '.join(f'{k} {v}' for k, v in sorted(states.items()))})")
PY

# A fix across two accounts: the AWS CLI script guardkey writes (each account's part in a
# subshell that assumes its role) run against simulator A, guardkey fix --yes against B;
# both accounts must end the same in both.
org=(--org --accounts 444455556666,777788889999 --regions us-west-2 --filter 'key:none' --create-key --alias alias/ci-org)
"$guardkey" fix --endpoint-url "$endpoint_a" "${org[@]}" --dry-run --emit-cli "$work/org-fix.sh" >/dev/null
"$guardkey" fix --endpoint-url "$endpoint_b" "${org[@]}" --yes --journal-dir "$work" >"$work/org-fix-b.log" \
  || fail "guardkey fix --org --yes: $(cat "$work/org-fix-b.log")"
AWS_ENDPOINT_URL="$endpoint_a" bash "$work/org-fix.sh" >/dev/null || fail "the emitted script for two accounts failed"
for id in 444455556666 777788889999; do
  for side in a b; do
    endpoint=$([ $side = a ] && echo "$endpoint_a" || echo "$endpoint_b")
    AWS_ENDPOINT_URL="$endpoint" "$guardkey" scan --endpoint-url "$endpoint" --org --accounts "$id" --regions us-west-2 \
      --format json 2>/dev/null | python3 -c "
import json, sys
r = json.load(sys.stdin)
for g in sorted(r['guardrails'], key=lambda g: g['arn']):
    print(g['arn'], g['posture']['id'], (g.get('key') or {}).get('aliases', []) if g.get('key') else None)" >"$work/org-$side-$id.txt" || true
  done
  diff "$work/org-a-$id.txt" "$work/org-b-$id.txt" >/dev/null || fail "account $id: the script and guardkey fix disagree: $(diff "$work/org-a-$id.txt" "$work/org-b-$id.txt" | head -5)"
  grep -q "alias/ci-org" "$work/org-a-$id.txt" || fail "account $id: the script moved nothing to the new key"
done
echo "cli-cross-check: the AWS CLI script for two accounts (roles assumed per account) and guardkey fix --org --yes reach the same end state"
