//! AWS Security Hub (REST-JSON): BatchImportFindings, and GetFindings to read them back.
//!
//! What AWS does, and the simulator with it (botocore's `securityhub` model, AWS's API
//! reference, and what users of other importers reported AWS answering):
//! - Security Hub is off until the account enables it in the region: every call is then
//!   InvalidAccessException (401), "Account … is not subscribed to AWS Security Hub".
//! - The request is validated against the model (at most 100 findings, the required
//!   members, enums, lengths): InvalidInputException (400).
//! - A finding on the account's default product must name the caller's account as
//!   `AwsAccountId`, and its `ProductArn` the caller's account and the endpoint's region;
//!   otherwise the whole call is AccessDeniedException (403) naming the product ARN.
//! - Findings that fail one by one are listed in `FailedFindings` and the others imported:
//!   a finding over 240 KB ("An error is returned for any finding larger than 240 Kb"), a
//!   timestamp that is not ISO 8601. AWS does not document the codes of these; the
//!   simulator answers `InvalidInput` with a message that says which.
//! - A finding is identified by its `ProductArn` and `Id`: a second import updates it.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use super::state::{Ctx, World};
use super::wire::AwsError;

/// The largest finding Security Hub imports, in bytes of JSON.
pub const MAX_FINDING_BYTES: usize = 240 * 1024;

/// One account's Security Hub in one region, once enabled.
#[derive(Debug, Default, Clone)]
pub struct Hub {
    /// Imported findings by (ProductArn, Id), as GetFindings returns them.
    pub findings: BTreeMap<(String, String), Value>,
}

/// The operation at `method path`.
pub fn route(method: &str, path: &str) -> Option<&'static str> {
    match (method, path.trim_end_matches('/')) {
        ("POST", "/findings/import") => Some("BatchImportFindings"),
        ("POST", "/findings") => Some("GetFindings"),
        _ => None,
    }
}

pub fn invalid_input(message: impl Into<String>) -> AwsError {
    AwsError::new("InvalidInputException", 400, message)
}

fn not_subscribed(account: &str) -> AwsError {
    AwsError::new(
        "InvalidAccessException",
        401,
        format!("Account {account} is not subscribed to AWS Security Hub"),
    )
}

pub fn handle(world: &mut World, ctx: &mut Ctx, op: &str, input: &Value) -> Result<Value, AwsError> {
    let account = ctx.account.to_string();
    let Some(hub) = world.region_mut(&account, ctx.region).security_hub.as_mut() else {
        return Err(not_subscribed(&account));
    };
    match op {
        "BatchImportFindings" => import(hub, ctx, input),
        "GetFindings" => get(hub, input),
        _ => Err(invalid_input(format!("guardkey sim does not serve {op}"))),
    }
}

fn import(hub: &mut Hub, ctx: &Ctx, input: &Value) -> Result<Value, AwsError> {
    let findings = input["Findings"].as_array().cloned().unwrap_or_default();
    let partition = crate::regions::partition_of(ctx.region);
    let own_product = format!(
        "arn:{partition}:securityhub:{}:{}:product/{}/default",
        ctx.region, ctx.account, ctx.account
    );
    // The whole call is refused when one finding is not the caller's to import.
    for f in &findings {
        let product = f["ProductArn"].as_str().unwrap_or_default();
        if product != own_product || f["AwsAccountId"].as_str() != Some(ctx.account) {
            return Err(AwsError::new(
                "AccessDeniedException",
                403,
                format!(
                    "User: {} is not authorized to perform: securityhub:BatchImportFindings on resource: {product}",
                    ctx.caller_arn
                ),
            ));
        }
    }
    let processed_at = ctx
        .now
        .format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into());
    let mut failed = Vec::new();
    let mut imported = 0;
    for f in findings {
        let id = f["Id"].as_str().unwrap_or_default().to_string();
        let product = f["ProductArn"].as_str().unwrap_or_default().to_string();
        if let Some(reason) = refusal(&f) {
            failed.push(json!({"Id": id, "ErrorCode": "InvalidInput", "ErrorMessage": reason}));
            continue;
        }
        let key = (product, id);
        // What Security Hub adds to what the provider sent: the region, the product's
        // names, the workflow (kept across updates: the customer's, not the provider's).
        let workflow = hub
            .findings
            .get(&key)
            .map_or_else(|| json!({"Status": "NEW"}), |old| old["Workflow"].clone());
        let mut stored = f;
        stored["Region"] = json!(ctx.region);
        stored["ProductName"] = json!("Default");
        stored["CompanyName"] = json!("Personal");
        stored["WorkflowState"] = json!("NEW");
        stored["Workflow"] = workflow;
        stored["ProcessedAt"] = json!(processed_at);
        if let Some(severity) = stored.get("Severity").cloned() {
            stored["FindingProviderFields"] = json!({"Severity": severity, "Types": stored["Types"]});
        }
        hub.findings.insert(key, stored);
        imported += 1;
    }
    Ok(json!({"FailedCount": failed.len(), "SuccessCount": imported, "FailedFindings": failed}))
}

/// Why one finding is refused while the others are imported.
fn refusal(f: &Value) -> Option<String> {
    let size = f.to_string().len();
    if size > MAX_FINDING_BYTES {
        return Some(format!(
            "Finding size {size} bytes exceeds the limit of {MAX_FINDING_BYTES} bytes"
        ));
    }
    for member in ["CreatedAt", "UpdatedAt", "FirstObservedAt", "LastObservedAt"] {
        if let Some(t) = f[member].as_str()
            && time::OffsetDateTime::parse(t, &Rfc3339).is_err()
        {
            return Some(format!("{member} '{t}' is not a valid ISO 8601 timestamp"));
        }
    }
    None
}

/// The filters the simulator understands: string filters with EQUALS on these members.
const FILTERABLE: [&str; 4] = ["Id", "ProductArn", "GeneratorId", "AwsAccountId"];

fn get(hub: &Hub, input: &Value) -> Result<Value, AwsError> {
    let mut wanted: Vec<(&str, Vec<String>)> = Vec::new();
    if let Some(filters) = input["Filters"].as_object() {
        for (name, list) in filters {
            if !FILTERABLE.contains(&name.as_str()) {
                return Err(invalid_input(format!(
                    "guardkey sim filters findings on {} only, not on {name}",
                    FILTERABLE.join(", ")
                )));
            }
            let mut values = Vec::new();
            for f in list.as_array().into_iter().flatten() {
                if f["Comparison"].as_str() != Some("EQUALS") {
                    return Err(invalid_input(
                        "guardkey sim filters findings with the EQUALS comparison only",
                    ));
                }
                values.push(f["Value"].as_str().unwrap_or_default().to_string());
            }
            wanted.push((name.as_str(), values));
        }
    }
    let max = input["MaxResults"].as_u64().unwrap_or(100) as usize;
    let start = match input["NextToken"].as_str() {
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| invalid_input("The NextToken is not valid"))?,
        None => 0,
    };
    let matching: Vec<&Value> = hub
        .findings
        .values()
        .filter(|f| {
            wanted
                .iter()
                .all(|(member, values)| values.iter().any(|v| f[*member].as_str() == Some(v)))
        })
        .collect();
    let page: Vec<&Value> = matching.iter().skip(start).take(max).copied().collect();
    let mut out = json!({"Findings": page});
    if start + max < matching.len() {
        out["NextToken"] = json!((start + max).to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route("POST", "/findings/import"), Some("BatchImportFindings"));
        assert_eq!(route("POST", "/findings"), Some("GetFindings"));
        assert_eq!(route("GET", "/findings"), None);
    }

    #[test]
    fn a_finding_too_large_or_badly_dated_fails_alone() {
        assert!(refusal(&json!({"CreatedAt": "2026-11-30T10:00:00Z"})).is_none());
        assert!(
            refusal(&json!({"CreatedAt": "yesterday"}))
                .unwrap()
                .contains("CreatedAt")
        );
        let big = json!({"Description": "x".repeat(MAX_FINDING_BYTES)});
        assert!(refusal(&big).unwrap().contains("exceeds"));
    }
}
