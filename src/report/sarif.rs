//! SARIF 2.1.0: Bedrock-003 and the other posture ids as rules, one result per guardrail
//! that does not pass, located by the guardrail's ARN.

use serde_json::{Value, json};

use super::ScanReport;
use crate::model::{Level, PostureId};

/// The rule id of a posture: the compliance rule's own id for the AWS-owned key.
pub fn rule_id(id: PostureId) -> &'static str {
    match id {
        PostureId::AwsOwnedKey => "Bedrock-003",
        other => other.as_str(),
    }
}

fn sarif_level(level: Level) -> &'static str {
    match level {
        Level::Fail => "error",
        Level::Warn => "warning",
        Level::Unknown => "note",
        Level::Pass => "none",
    }
}

/// One error notification per account and region the scan could not read: their
/// guardrails are missing from the results, and a reader of the results alone would not know.
fn unreadable_regions(report: &ScanReport) -> Vec<Value> {
    report
        .unseen()
        .iter()
        .map(|u| {
            json!({
                "level": "error",
                "message": {"text": format!("{} could not be read ({}): {}. Its guardrails are not in the results.", u.what(), u.error.label(), u.error.detail())},
                "descriptor": {"id": u.rule()},
                "properties": {"account": u.account, "region": u.region, "error": u.error.label()},
            })
        })
        .collect()
}

pub fn to_sarif(report: &ScanReport) -> String {
    let rules: Vec<Value> = PostureId::ALL
        .iter()
        .filter(|id| id.level() != Level::Pass)
        .map(|id| {
            json!({
                "id": rule_id(*id),
                "name": id.as_str(),
                "shortDescription": {"text": id.title()},
                "defaultConfiguration": {"level": sarif_level(id.level())},
                "properties": {
                    "posture": id.as_str(),
                    "security-severity": match id.level() { Level::Fail => "8.0", Level::Warn => "4.0", _ => "0.0" },
                    "tags": ["security", "aws", "bedrock", "kms"],
                },
            })
        })
        .collect();
    let results: Vec<Value> = report
        .guardrails
        .iter()
        .filter(|g| g.posture.level != Level::Pass)
        .map(|g| {
            let mut result = json!({
                "ruleId": rule_id(g.posture.id),
                "level": sarif_level(g.posture.level),
                "message": {"text": format!("{} ({}): {}. {}", g.name, g.region, g.posture.reason, g.posture.hint)},
                "locations": [{
                    "logicalLocations": [{
                        "fullyQualifiedName": g.arn,
                        "name": g.name,
                        "kind": "resource",
                    }]
                }],
                "partialFingerprints": {"guardrailArn/v1": g.arn},
                "properties": {
                    "region": g.region,
                    "account": g.account,
                    "kmsKeyArn": g.kms_key_arn,
                    "findings": g.posture.finding_ids(),
                },
            });
            if let Some(name) = report.account_name(&g.account) {
                result["properties"]["accountName"] = json!(name);
            }
            if let Some(u) = &g.usage {
                result["properties"]["usedBy"] = json!(u.describe());
                result["properties"]["usersLockedOut"] = json!(u.locked_out());
            }
            // An accepted risk (SARIF 2.1.0 §3.35 suppression): reported, suppressed by a
            // decision made outside the scanned artifact, with its justification.
            if let Some(e) = &g.exception {
                result["suppressions"] = json!([{
                    "kind": "external",
                    "status": "accepted",
                    "justification": format!("{} (owner {}, until {}{})", e.reason, e.owner, e.expires,
                        e.ticket.as_ref().map(|t| format!(", {t}")).unwrap_or_default()),
                    "properties": {"owner": e.owner, "expires": e.expires, "ticket": e.ticket},
                }]);
            }
            result
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "guardkey",
                "version": report.guardkey_version,
                "informationUri": "https://github.com/guardkey/guardkey",
                "rules": rules,
            }},
            "invocations": [{
                // A scan that could not see part of the estate did not do its job.
                "executionSuccessful": report.totals.complete,
                "endTimeUtc": report.generated_at,
                "toolExecutionNotifications": unreadable_regions(report),
            }],
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("SARIF serializes");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn sarif_golden() {
        insta::assert_snapshot!(super::to_sarif(&super::super::fixtures::report()));
    }
}
