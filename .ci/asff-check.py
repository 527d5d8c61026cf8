"""Validates `guardkey scan --format asff` output with botocore's own parameter validator
against Security Hub's BatchImportFindings input (a list of AwsSecurityFinding): every
required member, type, enum and length as the service model says.
Usage: python .ci/asff-check.py FINDINGS.json"""
import json
import sys

import botocore.session
from botocore.validate import ParamValidator

findings = json.load(open(sys.argv[1]))
assert findings, "no finding to check"
model = botocore.session.get_session().get_service_model("securityhub")
shape = model.operation_model("BatchImportFindings").input_shape
problems = []
# BatchImportFindings takes at most 100 findings a call: check them as guardkey would send them.
for start in range(0, len(findings), 100):
    report = ParamValidator().validate({"Findings": findings[start:start + 100]}, shape)
    if report.has_errors():
        problems.append(report.generate_report())
if problems:
    print("\n".join(problems))
    sys.exit(1)
print(f"asff-check: {len(findings)} findings valid against botocore's securityhub BatchImportFindings input")
