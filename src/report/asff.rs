//! AWS Security Finding Format (ASFF), for Security Hub's BatchImportFindings: one finding
//! per guardrail, and one per region that could not be read, as a JSON array.
//!
//! The members follow botocore's `securityhub` model (`AwsSecurityFinding`): SchemaVersion
//! `2018-10-08`, Id, ProductArn (`arn:PARTITION:securityhub:REGION:ACCOUNT:product/ACCOUNT/default`
//! for one's own findings), GeneratorId, AwsAccountId, CreatedAt, UpdatedAt, Title (≤ 256),
//! Description (≤ 1024), Resources; Severity.Label and Compliance.Status in practice.
//! CI validates every finding against that model with botocore's own validator.

use serde_json::{Value, json};

use super::ScanReport;
use super::sarif::rule_id;
use crate::model::Level;

const TYPE: &str = "Software and Configuration Checks/Industry and Regulatory Standards/Bedrock-003";

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

fn product_arn(partition: &str, region: &str, account: &str) -> String {
    format!("arn:{partition}:securityhub:{region}:{account}:product/{account}/default")
}

pub fn to_asff(report: &ScanReport) -> String {
    let mut s = serde_json::to_string_pretty(&findings(report)).expect("ASFF serializes");
    s.push('\n');
    s
}

/// The region a finding belongs to, and whose Security Hub imports it: its product ARN's.
pub fn finding_region(finding: &Value) -> &str {
    finding["ProductArn"]
        .as_str()
        .and_then(|arn| arn.split(':').nth(3))
        .unwrap_or_default()
}

/// The findings, one JSON object each, as BatchImportFindings takes them.
pub fn findings(report: &ScanReport) -> Vec<Value> {
    let at = report.generated_at.clone();
    let mut findings: Vec<Value> = report
        .guardrails
        .iter()
        .map(|g| {
            let partition = crate::regions::partition_of_arn(&g.arn);
            let (label, compliance) = match g.posture.level {
                Level::Fail => ("HIGH", "FAILED"),
                Level::Warn => ("MEDIUM", "WARNING"),
                Level::Unknown => ("INFORMATIONAL", "NOT_AVAILABLE"),
                Level::Pass => ("INFORMATIONAL", "PASSED"),
            };
            let mut resources = vec![json!({
                "Type": "Other",
                "Id": g.arn,
                "Partition": partition,
                "Region": &*g.region,
                "Details": {"Other": {
                    "name": g.name,
                    "status": g.status,
                    "kmsKeyArn": g.kms_key_arn.clone().unwrap_or_else(|| "AWS-owned key".into()),
                }},
            })];
            if let Some(key) = &g.kms_key_arn {
                resources.push(json!({
                    "Type": "AwsKmsKey",
                    "Id": key,
                    "Partition": partition,
                    "Region": key.split(':').nth(3).unwrap_or(&g.region),
                }));
            }
            let mut finding = json!({
                "SchemaVersion": "2018-10-08",
                // Stable per guardrail and rule: a later import updates the same finding.
                "Id": format!("guardkey/{}/{}", rule_id(g.posture.id), g.arn),
                "ProductArn": product_arn(partition, &g.region, &g.account),
                "GeneratorId": format!("guardkey/{}", rule_id(g.posture.id)),
                "AwsAccountId": &*g.account,
                "Types": [TYPE],
                "CreatedAt": at,
                "UpdatedAt": at,
                "Severity": {"Label": label},
                "Title": cut(&format!("{}: {}", g.name, g.posture.id.title()), 256),
                "Description": cut(&g.posture.reason, 1024),
                "Remediation": {"Recommendation": {"Text": cut(&g.posture.hint, 512)}},
                "ProductFields": {"guardkey/posture": g.posture.id.as_str(), "guardkey/level": g.posture.level.as_str()},
                "Resources": resources,
                "Compliance": {"Status": compliance},
                "RecordState": "ACTIVE",
            });
            // With --usage: who uses it, for whoever triages the finding (ProductFields values
            // are at most 2,048 characters).
            if let Some(u) = &g.usage {
                finding["ProductFields"]["guardkey/usedBy"] = json!(cut(&u.describe().join("; "), 2048));
                finding["ProductFields"]["guardkey/usersLockedOut"] = json!(u.locked_out().to_string());
            }
            // A scan of many accounts knows their names.
            if let Some(name) = report.account_name(&g.account) {
                finding["AwsAccountName"] = json!(name);
            }
            // An accepted risk: the workflow status SUPPRESSED, the exception in the note
            // (Note.Text and UpdatedBy: at most 512 characters). Security Hub takes a
            // provider's Workflow and Note as the finding's until someone changes them with
            // BatchUpdateFindings, whose change it then keeps (Security Hub User Guide,
            // "BatchImportFindings for finding providers").
            if let Some(e) = &g.exception {
                finding["Workflow"] = json!({"Status": "SUPPRESSED"});
                finding["Note"] = json!({
                    "Text": cut(&e.describe(), 512),
                    "UpdatedBy": cut(&format!("guardkey exceptions ({})", e.owner), 512),
                    "UpdatedAt": at,
                });
            }
            finding
        })
        .collect();
    // An account or region that could not be read: its guardrails are unknown, and Security
    // Hub says so, in that account. A whole account is reported in the scan's first region.
    let partition = report.partition();
    let home = report.region_names().first().copied().unwrap_or("us-east-1");
    for u in report.unseen() {
        let region = u.region.unwrap_or(home);
        let title = match u.region {
            Some(r) => format!("Region {r} could not be scanned: its guardrails are unknown"),
            None => format!("{} could not be scanned: its guardrails are unknown", u.what()),
        };
        let mut finding = json!({
            "SchemaVersion": "2018-10-08",
            "Id": format!("guardkey/{}/{}/{}", u.rule(), u.account, u.region.unwrap_or("all-regions")),
            "ProductArn": product_arn(partition, region, u.account),
            "GeneratorId": format!("guardkey/{}", u.rule()),
            "AwsAccountId": u.account,
            "Types": [TYPE],
            "CreatedAt": at,
            "UpdatedAt": at,
            "Severity": {"Label": "MEDIUM"},
            "Title": cut(&title, 256),
            "Description": cut(&format!("{}: {}", u.error.label(), u.error.detail()), 1024),
            "Resources": [{
                "Type": "AwsAccount",
                "Id": format!("AWS::::Account:{}", u.account),
                "Partition": partition,
                "Region": region,
            }],
            "Compliance": {"Status": "NOT_AVAILABLE"},
            "RecordState": "ACTIVE",
        });
        if let Some(name) = u.account_name.filter(|n| *n != u.account) {
            finding["AwsAccountName"] = json!(name);
        }
        findings.push(finding);
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_finding_has_what_security_hub_requires() {
        let report = super::super::fixtures::report();
        let findings: Value = serde_json::from_str(&to_asff(&report)).unwrap();
        let list = findings.as_array().unwrap();
        assert_eq!(
            list.len(),
            report.guardrails.len() + 1,
            "and the unreadable region"
        );
        for f in list {
            for member in [
                "SchemaVersion",
                "Id",
                "ProductArn",
                "GeneratorId",
                "AwsAccountId",
                "CreatedAt",
                "UpdatedAt",
                "Title",
                "Description",
                "Resources",
                "Types",
            ] {
                assert!(!f[member].is_null(), "{member} missing in {f}");
            }
            assert!(f["Title"].as_str().unwrap().chars().count() <= 256);
            let status = f["Compliance"]["Status"].as_str().unwrap();
            assert!(["PASSED", "WARNING", "FAILED", "NOT_AVAILABLE"].contains(&status));
        }
        let aws_owned = list
            .iter()
            .find(|f| f["GeneratorId"] == "guardkey/Bedrock-003")
            .unwrap();
        assert_eq!(aws_owned["Compliance"]["Status"], "FAILED");
        assert_eq!(aws_owned["Severity"]["Label"], "HIGH");
        assert!(
            aws_owned["ProductArn"]
                .as_str()
                .unwrap()
                .ends_with(":123456789012:product/123456789012/default")
        );
        let unknown = list
            .iter()
            .find(|f| f["GeneratorId"] == "guardkey/access-denied")
            .unwrap();
        assert_eq!(unknown["Compliance"]["Status"], "NOT_AVAILABLE", "never PASSED");
    }
}
