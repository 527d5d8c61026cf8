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

# Each guardrail's import block and resource, against what the AWS CLI reads of its DRAFT:
# the same name, messages and policy entries, kms_key_arn on the new key's resource.
for id in $(python - "$work/keys.tf" <<'PY'
import sys, hcl2
doc = hcl2.load(open(sys.argv[1]))
unq = lambda s: s[1:-1] if s.startswith('"') and s.endswith('"') else s  # newer python-hcl2 keeps the quotes
print(" ".join(unq(i["id"]).split(",")[0] for i in doc.get("import", [])))
PY
); do
  aws bedrock get-guardrail --endpoint-url "http://127.0.0.1:$port" --region eu-west-2 --guardrail-identifier "$id" >"$work/$id.json"
done
python - "$work/keys.tf" "$work" <<'PY'
import json, sys, hcl2
def unq(v):  # newer python-hcl2 keeps the quotes of strings and labels
    if isinstance(v, str):
        return v[1:-1] if len(v) >= 2 and v[0] == v[-1] == '"' else v
    if isinstance(v, list):
        return [unq(x) for x in v]
    if isinstance(v, dict):
        return {unq(k): unq(x) for k, x in v.items()}
    return v
doc = unq(hcl2.load(open(sys.argv[1])))
imports = doc.get("import", [])
resources = {name: body for r in doc["resource"] for kind, named in r.items() if kind == "aws_bedrock_guardrail" for name, body in named.items()}
assert imports and len(imports) == len(resources), (len(imports), len(resources))
def one(v):  # python-hcl2 gives blocks as lists
    return v[0] if isinstance(v, list) else v
for imp in imports:
    gid, version = imp["id"].split(",")
    assert version == "DRAFT", imp
    name = imp["to"].strip("${}").split(".")[1]
    r = resources[name]
    draft = json.load(open(f"{sys.argv[2]}/{gid}.json"))
    assert r["name"] == draft["name"] and r["blocked_input_messaging"] == draft["blockedInputMessaging"], (r, draft)
    assert r["kms_key_arn"] == "${aws_kms_key.bedrock_guardrails_eu_west_2.arn}", r["kms_key_arn"]
    pairs = [("contentPolicy", "filters", "content_policy_config", "filters_config"),
             ("wordPolicy", "words", "word_policy_config", "words_config"),
             ("wordPolicy", "managedWordLists", "word_policy_config", "managed_word_lists_config"),
             ("topicPolicy", "topics", "topic_policy_config", "topics_config"),
             ("sensitiveInformationPolicy", "piiEntities", "sensitive_information_policy_config", "pii_entities_config"),
             ("sensitiveInformationPolicy", "regexes", "sensitive_information_policy_config", "regexes_config"),
             ("contextualGroundingPolicy", "filters", "contextual_grounding_policy_config", "filters_config")]
    for api, member, block, entry in pairs:
        want = len(draft.get(api, {}).get(member, []))
        got = len(one(r[block]).get(entry, [])) if block in r else 0
        assert want == got, f"{draft['name']}: {api}.{member} has {want}, the resource {got}"
print(f"hcl-check: {len(imports)} import blocks and aws_bedrock_guardrail resources agree with the AWS CLI's get-guardrail")
PY
