//! AWS Security Hub: importing guardkey's ASFF findings with BatchImportFindings.
//!
//! The findings are built once, as ASFF JSON, by `report::asff` (the same document
//! `scan --format asff` writes); here they become the SDK's `AwsSecurityFinding`, member by
//! member. A member this conversion does not know is an error, never dropped: what is
//! imported is exactly what the file says.
//!
//! Facts (botocore's `securityhub` model and AWS's guide): at most 100 findings a call;
//! the caller's account must be each finding's `AwsAccountId` when the product ARN is the
//! account's default product (`product/ACCOUNT/default`), and that ARN names the region
//! of the endpoint: a finding of another account or region makes the whole call
//! AccessDeniedException. Security Hub not enabled in the region is InvalidAccessException
//! ("Account … is not subscribed to AWS Security Hub"). Findings that fail one by one come
//! back in `FailedFindings` with an error code and message, and the others are imported.

use std::collections::HashMap;

use aws_config::Region;
use aws_sdk_securityhub::types::{
    AwsSecurityFinding, Compliance, ComplianceStatus, Partition, Recommendation, RecordState, Remediation,
    Resource, ResourceDetails, Severity, SeverityLabel,
};
use serde_json::{Map, Value};

use super::{ReadOnlyGuard, Session, classify};
use crate::model::CallError;

/// BatchImportFindings takes at most this many findings a call.
pub const BATCH: usize = 100;

/// A Security Hub client for one region. Opaque outside `aws`.
#[derive(Clone, Debug)]
pub struct SecurityHub(aws_sdk_securityhub::Client);

/// What one BatchImportFindings call did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    pub imported: usize,
    pub failed: Vec<FailedFinding>,
}

/// A finding Security Hub refused, with its words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedFinding {
    pub id: String,
    pub code: String,
    pub message: String,
}

impl Session {
    /// The Security Hub client of `region`. On a read-only session it may still import
    /// findings (the one write `scan --security-hub` asks for), and nothing else.
    pub fn security_hub(&self, region: &str) -> SecurityHub {
        let conf = aws_sdk_securityhub::config::Builder::from(&self.sdk)
            .region(Region::new(region.to_string()))
            .retry_partition(self.partition("securityhub", region))
            .interceptor(ReadOnlyGuard {
                enabled: self.read_only,
                allowed_writes: &["BatchImportFindings"],
            });
        SecurityHub(aws_sdk_securityhub::Client::from_conf(conf.build()))
    }

    /// Imports up to 100 ASFF findings (`report::to_asff`'s members) in one call.
    pub async fn import_findings(
        &self,
        client: &SecurityHub,
        findings: &[Value],
    ) -> Result<ImportOutcome, CallError> {
        assert!(
            findings.len() <= BATCH,
            "BatchImportFindings takes at most {BATCH} findings"
        );
        let converted = findings
            .iter()
            .map(finding_from_asff)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|message| CallError::Other {
                code: "InvalidFinding".into(),
                message,
            })?;
        let out = client
            .0
            .batch_import_findings()
            .set_findings(Some(converted))
            .send()
            .await
            .map_err(|e| classify(e, "securityhub:BatchImportFindings"))?;
        Ok(ImportOutcome {
            imported: out.success_count().unwrap_or_default().max(0) as usize,
            failed: out
                .failed_findings()
                .iter()
                .map(|f| FailedFinding {
                    id: f.id().unwrap_or_default().to_string(),
                    code: f.error_code().unwrap_or_default().to_string(),
                    message: f.error_message().unwrap_or_default().to_string(),
                })
                .collect(),
        })
    }
}

fn text(v: &Value, member: &str) -> Result<String, String> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("ASFF member {member} is not a string"))
}

fn object<'a>(v: &'a Value, member: &str) -> Result<&'a Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("ASFF member {member} is not an object"))
}

fn only(obj: &Map<String, Value>, known: &[&str], at: &str) -> Result<(), String> {
    match obj.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(format!("ASFF member {at}{k} is not one guardkey imports")),
        None => Ok(()),
    }
}

fn string_map(v: &Value, member: &str) -> Result<HashMap<String, String>, String> {
    object(v, member)?
        .iter()
        .map(|(k, v)| Ok((k.clone(), text(v, &format!("{member}.{k}"))?)))
        .collect()
}

/// One ASFF finding as the SDK's type. Every member `report::to_asff` writes is carried;
/// any other member is an error (the two must not drift apart silently).
pub fn finding_from_asff(v: &Value) -> Result<AwsSecurityFinding, String> {
    let f = object(v, "finding")?;
    only(
        f,
        &[
            "SchemaVersion",
            "Id",
            "ProductArn",
            "GeneratorId",
            "AwsAccountId",
            "AwsAccountName",
            "Types",
            "CreatedAt",
            "UpdatedAt",
            "Severity",
            "Title",
            "Description",
            "Remediation",
            "ProductFields",
            "Resources",
            "Compliance",
            "RecordState",
        ],
        "",
    )?;
    let mut b = AwsSecurityFinding::builder();
    for (member, value) in f {
        b = match member.as_str() {
            "SchemaVersion" => b.schema_version(text(value, member)?),
            "Id" => b.id(text(value, member)?),
            "ProductArn" => b.product_arn(text(value, member)?),
            "GeneratorId" => b.generator_id(text(value, member)?),
            "AwsAccountId" => b.aws_account_id(text(value, member)?),
            "AwsAccountName" => b.aws_account_name(text(value, member)?),
            "CreatedAt" => b.created_at(text(value, member)?),
            "UpdatedAt" => b.updated_at(text(value, member)?),
            "Title" => b.title(text(value, member)?),
            "Description" => b.description(text(value, member)?),
            "Types" => {
                let list = value.as_array().ok_or("ASFF member Types is not a list")?;
                let types = list
                    .iter()
                    .map(|t| text(t, "Types"))
                    .collect::<Result<Vec<_>, _>>()?;
                b.set_types(Some(types))
            }
            "Severity" => {
                let s = object(value, member)?;
                only(s, &["Label"], "Severity.")?;
                let label = text(&s["Label"], "Severity.Label")?;
                b.severity(
                    Severity::builder()
                        .label(SeverityLabel::from(label.as_str()))
                        .build(),
                )
            }
            "Remediation" => {
                let r = object(value, member)?;
                only(r, &["Recommendation"], "Remediation.")?;
                let rec = object(&r["Recommendation"], "Remediation.Recommendation")?;
                only(rec, &["Text"], "Remediation.Recommendation.")?;
                b.remediation(
                    Remediation::builder()
                        .recommendation(
                            Recommendation::builder()
                                .text(text(&rec["Text"], "Remediation.Recommendation.Text")?)
                                .build(),
                        )
                        .build(),
                )
            }
            "ProductFields" => b.set_product_fields(Some(string_map(value, member)?)),
            "Resources" => {
                let list = value.as_array().ok_or("ASFF member Resources is not a list")?;
                let resources = list.iter().map(resource).collect::<Result<Vec<_>, _>>()?;
                b.set_resources(Some(resources))
            }
            "Compliance" => {
                let c = object(value, member)?;
                only(c, &["Status"], "Compliance.")?;
                let status = text(&c["Status"], "Compliance.Status")?;
                b.compliance(
                    Compliance::builder()
                        .status(ComplianceStatus::from(status.as_str()))
                        .build(),
                )
            }
            "RecordState" => b.record_state(RecordState::from(text(value, member)?.as_str())),
            _ => unreachable!("checked by only()"),
        };
    }
    Ok(b.build())
}

fn resource(v: &Value) -> Result<Resource, String> {
    let r = object(v, "Resources[]")?;
    only(
        r,
        &["Type", "Id", "Partition", "Region", "Details"],
        "Resources[].",
    )?;
    let mut b = Resource::builder();
    for (member, value) in r {
        let at = format!("Resources[].{member}");
        b = match member.as_str() {
            "Type" => b.r#type(text(value, &at)?),
            "Id" => b.id(text(value, &at)?),
            "Partition" => b.partition(Partition::from(text(value, &at)?.as_str())),
            "Region" => b.region(text(value, &at)?),
            "Details" => {
                let d = object(value, &at)?;
                only(d, &["Other"], "Resources[].Details.")?;
                b.details(
                    ResourceDetails::builder()
                        .set_other(Some(string_map(&d["Other"], "Resources[].Details.Other")?))
                        .build(),
                )
            }
            _ => unreachable!("checked by only()"),
        };
    }
    Ok(b.build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_member_of_a_finding_is_carried_and_an_unknown_one_refused() {
        let finding = json!({
            "SchemaVersion": "2018-10-08", "Id": "guardkey/x", "ProductArn": "arn:aws:securityhub:us-east-1:1:product/1/default",
            "GeneratorId": "guardkey/Bedrock-003", "AwsAccountId": "1", "Types": ["t"],
            "CreatedAt": "2026-11-30T00:00:00Z", "UpdatedAt": "2026-11-30T00:00:00Z",
            "Severity": {"Label": "HIGH"}, "Title": "t", "Description": "d",
            "Remediation": {"Recommendation": {"Text": "fix"}},
            "ProductFields": {"guardkey/posture": "p"},
            "Resources": [{"Type": "Other", "Id": "arn", "Partition": "aws-us-gov", "Region": "us-gov-west-1",
                "Details": {"Other": {"name": "n"}}}],
            "Compliance": {"Status": "FAILED"}, "RecordState": "ACTIVE",
        });
        let f = finding_from_asff(&finding).unwrap();
        assert_eq!(f.severity().unwrap().label(), Some(&SeverityLabel::High));
        assert_eq!(f.compliance().unwrap().status(), Some(&ComplianceStatus::Failed));
        assert_eq!(f.resources()[0].partition(), Some(&Partition::AwsUsGov));
        assert_eq!(f.resources()[0].details().unwrap().other().unwrap()["name"], "n");
        assert_eq!(
            f.remediation().unwrap().recommendation().unwrap().text(),
            Some("fix")
        );
        let mut extra = finding.clone();
        extra["Note"] = json!({"Text": "x"});
        let err = finding_from_asff(&extra).unwrap_err();
        assert!(err.contains("Note"), "{err}");
        let mut nested = finding;
        nested["Resources"][0]["Tags"] = json!({});
        assert!(
            finding_from_asff(&nested)
                .unwrap_err()
                .contains("Resources[].Tags")
        );
    }
}
