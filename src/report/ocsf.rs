//! OCSF Detection Finding (class 2004) records, one per guardrail, as Prowler emits them and
//! Security Lake ingests them: a JSON array.

use serde_json::{Value, json};

use super::ScanReport;
use super::sarif::rule_id;
use crate::model::Level;

const OCSF_VERSION: &str = "1.1.0";

fn epoch_seconds(rfc3339: &str) -> i64 {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .unwrap_or(0)
}

/// A Detection Finding: the class's constant members, the report's time and product, the
/// severity and status given, and `specific` (what the finding is about).
fn detection_finding(
    report: &ScanReport,
    (severity_id, severity, status_code): (u8, &str, &str),
    event_code: &str,
    specific: Value,
) -> Value {
    let mut finding = json!({
        "class_uid": 2004,
        "class_name": "Detection Finding",
        "category_uid": 2,
        "category_name": "Findings",
        "activity_id": 1,
        "activity_name": "Create",
        "type_uid": 200401,
        "type_name": "Detection Finding: Create",
        "severity_id": severity_id,
        "severity": severity,
        "status_id": 1,
        "status": "New",
        "status_code": status_code,
        "time": epoch_seconds(&report.generated_at),
        "time_dt": report.generated_at,
        "metadata": {
            "event_code": event_code,
            "version": OCSF_VERSION,
            "product": {"name": "guardkey", "vendor_name": "guardkey", "version": report.guardkey_version},
            "profiles": ["cloud"],
        },
    });
    if let (Some(f), Value::Object(more)) = (finding.as_object_mut(), specific) {
        f.extend(more);
    }
    finding
}

pub fn to_ocsf(report: &ScanReport) -> String {
    let findings: Vec<Value> = report
        .guardrails
        .iter()
        .map(|g| {
            let (severity_id, severity) = match g.posture.level {
                Level::Fail => (4, "High"),
                Level::Warn => (3, "Medium"),
                Level::Unknown => (1, "Informational"),
                Level::Pass => (1, "Informational"),
            };
            let status_code = match g.posture.level {
                Level::Pass => "PASS",
                Level::Fail => "FAIL",
                Level::Warn => "FAIL",
                Level::Unknown => "MANUAL",
            };
            let mut data = json!({"kms_key_arn": g.kms_key_arn, "status": g.status, "findings": g.posture.finding_ids()});
            // Who uses it (`--usage`), and who would lose access, as the other formats say.
            if let Some(u) = &g.usage {
                data["used_by"] = json!(u.describe());
                data["users_locked_out"] = json!(u.locked_out());
            }
            let mut finding = detection_finding(
                report,
                (severity_id, severity, status_code),
                rule_id(g.posture.id),
                json!({
                "status_detail": g.posture.reason,
                "message": format!("{}: {}", g.name, g.posture.reason),
                "finding_info": {
                    "uid": format!("guardkey-{}-{}", g.posture.id.as_str(), g.arn),
                    "title": g.posture.id.title(),
                    "desc": g.posture.reason,
                    "types": ["Bedrock-003", g.posture.id.as_str()],
                },
                "resources": [{
                    "uid": g.arn,
                    "name": g.name,
                    "type": "AwsBedrockGuardrail",
                    "region": g.region,
                    "cloud_partition": crate::regions::partition_of_arn(&g.arn),
                    "data": data,
                }],
                "cloud": {
                    "provider": "aws",
                    "region": g.region,
                    "account": {"uid": g.account, "name": report.account_name(&g.account).unwrap_or(&g.account), "type": "AWS Account", "type_id": 10},
                },
                "remediation": {"desc": g.posture.hint},
                "risk_details": "Bedrock-003 (risk High): guardrails must be encrypted with a customer managed KMS key the owner controls, audits, rotates and can revoke.",
                }),
            );
            // An accepted risk: OCSF's finding status Suppressed (status_id 3), and why.
            if let Some(e) = &g.exception {
                finding["status_id"] = json!(3);
                finding["status"] = json!("Suppressed");
                finding["status_detail"] = json!(format!("{} — {}", e.describe(), g.posture.reason));
                finding["comment"] = json!(e.describe());
            }
            finding
        })
        .collect();
    let partition = report.partition();
    let unreadable = report.unseen().into_iter().map(|u| {
        let detail = format!("{} could not be read ({}): {}", u.what(), u.error.label(), u.error.detail());
        let (name, title, where_) = match u.region {
            Some(region) => (region, "Region could not be scanned: its guardrails are unknown", region),
            None => (
                u.account_name.unwrap_or(u.account),
                "Account could not be scanned: its guardrails are unknown",
                "all-regions",
            ),
        };
        let mut cloud = json!({
            "provider": "aws",
            "account": {"uid": u.account, "name": u.account_name.unwrap_or(u.account), "type": "AWS Account", "type_id": 10},
        });
        if let Some(region) = u.region {
            cloud["region"] = json!(region);
        }
        // The unseen guardrails are a finding of their own, so that a pipeline that only
        // reads findings cannot take the region or the account for a clean one.
        detection_finding(
            report,
            (3, "Medium", "MANUAL"),
            u.rule(),
            json!({
            "status_detail": detail,
            "message": detail,
            "finding_info": {
                "uid": format!("guardkey-{}-{}-{where_}", u.rule(), u.account),
                "title": title,
                "desc": detail,
                "types": ["Bedrock-003", u.rule()],
            },
            "resources": [{
                "uid": format!("arn:{partition}:bedrock:{}:{}:guardrail/*", u.region.unwrap_or("*"), u.account),
                "name": name,
                "type": "AwsBedrockGuardrail",
                "region": u.region,
                "cloud_partition": partition,
                "data": {"error": u.error.label()},
            }],
            "cloud": cloud,
            "remediation": {"desc": "Grant the scanning role what the error names and scan again."},
            }),
        )
    });
    let findings: Vec<Value> = findings.into_iter().chain(unreadable).collect();
    let mut s = serde_json::to_string_pretty(&findings).expect("OCSF serializes");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn ocsf_golden() {
        insta::assert_snapshot!(super::to_ocsf(&super::super::fixtures::report()));
    }
}
