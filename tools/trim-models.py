"""Writes assets/models/*.json: the parts of botocore's service models that the simulator
serves (operations, their shapes and errors), without documentation.

The simulator validates requests against these shapes, as the real services do, so that a
client built against it is built against the real contract. Re-run after upgrading botocore:
    python3 tools/trim-models.py
botocore's models are Apache-2.0 licensed (Amazon.com, Inc.).
"""
import gzip, json, os, botocore

OPS = {
    ("bedrock", "2023-04-20"): ["CreateGuardrail", "GetGuardrail", "ListGuardrails", "UpdateGuardrail",
        "DeleteGuardrail", "CreateGuardrailVersion", "TagResource", "UntagResource", "ListTagsForResource"],
    ("kms", "2014-11-01"): ["CreateKey", "DescribeKey", "ListKeys", "ListAliases", "CreateAlias",
        "DeleteAlias", "UpdateAlias", "EnableKeyRotation", "DisableKeyRotation", "GetKeyRotationStatus",
        "GetKeyPolicy", "PutKeyPolicy", "EnableKey", "DisableKey", "ScheduleKeyDeletion",
        "CancelKeyDeletion", "TagResource", "ListResourceTags", "CreateGrant", "ListGrants", "RevokeGrant",
        "ReplicateKey"],
    ("sts", "2011-06-15"): ["GetCallerIdentity", "AssumeRole"],
    ("organizations", "2016-11-28"): ["DescribeOrganization", "ListRoots", "ListAccounts",
        "ListAccountsForParent", "ListChildren", "ListOrganizationalUnitsForParent", "ListParents",
        "ListPoliciesForTarget", "DescribePolicy"],
    ("securityhub", "2018-10-26"): ["BatchImportFindings", "GetFindings"],
    ("bedrock-runtime", "2023-09-30"): ["ApplyGuardrail"],
    ("bedrock-agent", "2023-06-05"): ["ListAgents", "GetAgent", "ListAgentVersions", "ListFlows", "GetFlow"],
}
# AwsSecurityFinding reaches some 850 shapes: that model is written without indentation.
COMPACT = {"securityhub", "bedrock-agent"}
DROP = {"documentation", "documentationUrl", "examples"}


def strip(node, members=False):
    """Drops documentation, never a member: inside `members` every key is a real member
    (GuardrailTopic has one named `examples`, which must be validated like the others)."""
    if isinstance(node, dict):
        return {
            k: strip(v, members=(k == "members" and not members))
            for k, v in node.items()
            if members or k not in DROP
        }
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def main():
    data = os.path.join(os.path.dirname(botocore.__file__), "data")
    out_dir = os.path.join(os.path.dirname(__file__), "..", "assets", "models")
    for (service, version), ops in OPS.items():
        with gzip.open(os.path.join(data, service, version, "service-2.json.gz")) as f:
            model = json.load(f)
        keep, todo = set(), []
        for op in ops:
            o = model["operations"][op]
            for part in ("input", "output"):
                if part in o:
                    todo.append(o[part]["shape"])
            todo += [e["shape"] for e in o.get("errors", [])]
        while todo:
            name = todo.pop()
            if name in keep:
                continue
            keep.add(name)
            shape = model["shapes"][name]
            for member in shape.get("members", {}).values():
                todo.append(member["shape"])
            for key in ("member", "key", "value"):
                if key in shape:
                    todo.append(shape[key]["shape"])
        trimmed = {
            "metadata": strip(model["metadata"]),
            "operations": {op: strip(model["operations"][op]) for op in ops},
            "shapes": {n: strip(model["shapes"][n]) for n in sorted(keep)},
        }
        with open(os.path.join(out_dir, f"{service}.json"), "w") as f:
            if service in COMPACT:
                json.dump(trimmed, f, separators=(",", ":"), sort_keys=True)
            else:
                json.dump(trimmed, f, indent=1, sort_keys=True)
            f.write("\n")
        print(service, len(ops), "operations", len(keep), "shapes")


main()
