"""Checks every response body the simulator recorded against botocore's service models.

    GUARDKEY_SIM_RECORD=DIR cargo test ...
    python3 .ci/conformance.py DIR

Each success body must fit the operation's output shape (known members, types, required
members, enum values, the modelled HTTP status), each error must be one the protocol can
carry with the body shape of its error. A mismatch is printed and the exit code is 1.
"""
import glob
import json
import sys

import botocore.session

AGENT_OPS = {"ListAgents", "GetAgent", "ListAgentVersions", "ListFlows", "GetFlow"}
SERVICES = {"bedrock": "bedrock", "kms": "kms", "sts": "sts", "iam": "iam", "securityhub": "securityhub", "organizations": "organizations"}
# Errors any AWS front end may answer, whether or not an operation models them.
COMMON_ERRORS = {
    "ThrottlingException", "AccessDeniedException", "UnrecognizedClientException",
    "ValidationException", "SerializationException", "InternalServerException",
    "MissingAuthenticationTokenException", "IncompleteSignatureException",
    "InvalidSignatureException", "SignatureDoesNotMatch", "UnknownOperationException",
    "RequestEntityTooLargeException", "InvalidAction", "MissingAction",
    # The query services' (STS, IAM) "Common Errors" for an unknown access key and an
    # expired one; the JSON services say UnrecognizedClientException / ExpiredTokenException.
    "InvalidClientTokenId", "ExpiredToken",
    # The query protocol's common ValidationError, and STS's AccessDenied on AssumeRole
    # ("An error occurred (AccessDenied) when calling the AssumeRole operation: User: … is not
    # authorized to perform: sts:AssumeRole on resource: …"), which its model does not list.
    "ValidationError", "AccessDenied",
}


def check(shape, value, path, problems, protocol):
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            problems.append(f"{path}: expected an object, got {type(value).__name__}")
            return
        for name in shape.required_members:
            if name not in value:
                problems.append(f"{path}.{name}: required member missing")
        for name, v in value.items():
            member = shape.members.get(name)
            if member is None:
                problems.append(f"{path}.{name}: not a member of {shape.name}")
            elif v is not None:
                check(member, v, f"{path}.{name}", problems, protocol)
    elif kind == "list":
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list")
            return
        for i, item in enumerate(value):
            check(shape.member, item, f"{path}[{i}]", problems, protocol)
    elif kind == "map":
        if not isinstance(value, dict):
            problems.append(f"{path}: expected a map")
    elif kind == "string":
        if not isinstance(value, str):
            problems.append(f"{path}: expected a string, got {value!r}")
        elif shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} is not one of {shape.enum}")
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(f"{path}: expected an integer, got {value!r}")
    elif kind in ("double", "float"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            problems.append(f"{path}: expected a number, got {value!r}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{path}: expected a boolean, got {value!r}")
    elif kind == "timestamp":
        fmt = shape.serialization.get("timestampFormat") or ("unixTimestamp" if protocol == "json" else "iso8601")
        if fmt == "iso8601" and not isinstance(value, str):
            problems.append(f"{path}: expected an ISO 8601 timestamp, got {value!r}")
        if fmt == "unixTimestamp" and not isinstance(value, (int, float)):
            problems.append(f"{path}: expected epoch seconds, got {value!r}")


def main(directory):
    session = botocore.session.get_session()
    models = {k: session.get_service_model(v) for k, v in SERVICES.items()}
    # Bedrock Runtime signs as `bedrock` too: the simulator records its calls under it.
    runtime = session.get_service_model("bedrock-runtime")
    # Agents for Amazon Bedrock signs as `bedrock` too; its operations name its model.
    agent = session.get_service_model("bedrock-agent")
    checked, problems = 0, []
    for path in sorted(glob.glob(f"{directory}/*.jsonl")):
        with open(path) as f:
            for line_no, line in enumerate(f, 1):
                rec = json.loads(line)
                op_name = rec["operation"]
                model = runtime if op_name == "ApplyGuardrail" else models[rec["service"]]
                if rec["service"] == "bedrock" and op_name in AGENT_OPS:
                    model = agent
                where = f"{path}:{line_no} {rec['service']}:{op_name or '?'}"
                found = []
                if rec["errorType"]:
                    code = rec["errorType"]
                    # Query services name errors by their code (IAM's NoSuchEntityException is "NoSuchEntity").
                    known = {s.name for s in model.error_shapes} | {
                        s.metadata.get("error", {}).get("code") for s in model.error_shapes
                    }
                    if code not in known and code not in COMMON_ERRORS:
                        found.append(f"error {code} is not a modelled or common error")
                    body = rec["body"]
                    if not isinstance(body.get("message"), str):
                        found.append("error body has no message")
                    by_code = {s.metadata.get("error", {}).get("code", s.name): s for s in model.error_shapes}
                    if code in by_code:
                        shape = by_code[code]
                        code_status = shape.metadata.get("error", {}).get("httpStatusCode")
                        if code_status and code_status != rec["status"] and rec["status"] not in (429,):
                            found.append(f"error {code} answered {rec['status']}, model says {code_status}")
                else:
                    op = model.operation_model(op_name)
                    want = op.http.get("responseCode", 200)
                    if rec["status"] != want:
                        found.append(f"status {rec['status']}, model says {want}")
                    if op.output_shape is not None:
                        check(op.output_shape, rec["body"], "", found, model.protocol)
                    elif rec["body"] not in ({}, None):
                        found.append("operation has no output, body is not empty")
                checked += 1
                problems += [f"{where}: {p}" for p in found]
    for p in problems[:50]:
        print(p)
    print(f"conformance: {checked} responses checked against botocore {botocore.__version__}, {len(problems)} problems")
    if checked == 0:
        print("conformance: nothing was recorded; was GUARDKEY_SIM_RECORD set for the tests?")
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
