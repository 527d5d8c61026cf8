//! IAM's policy simulator, SimulatePrincipalPolicy (query protocol, XML): the simulator's own
//! evaluation of a principal's identity policies, its permissions boundary and the SCPs of its
//! account, for each action and resource asked, with the request context given.
//!
//! Facts this follows (IAM API reference, "SimulatePrincipalPolicy", "EvaluationResult",
//! "OrganizationsDecisionDetail", "PermissionsBoundaryDecisionDetail"; botocore's iam model):
//! - `PolicySourceArn` (a user, group or role of the caller's account) and `ActionNames` are
//!   required; `ResourceArns` defaults to `*`; `ContextEntries` carry condition keys
//!   (`ContextKeyName`, `ContextKeyValues`, `ContextKeyType`); `MaxItems` (1–1000) and `Marker`
//!   page the results.
//! - One EvaluationResult per action and resource: `EvalDecision` is `allowed`,
//!   `explicitDeny` or `implicitDeny`. `OrganizationsDecisionDetail.AllowedByOrganizations` is
//!   there when the account is a member of an organization; an SCP's deny ends the
//!   evaluation. `PermissionsBoundaryDecisionDetail.AllowedByPermissionsBoundary` is there when
//!   the principal has a boundary.
//! - Without a `ResourcePolicy`, resource-based policies (a KMS key policy, grants) are not
//!   part of the answer: the caller combines them.
//! - A PolicySourceArn that names no principal of the account: 404 NoSuchEntity.
//!
//! Condition keys the simulator's evaluator knows are `kms:ViaService` and `aws:PrincipalArn`
//! (`authz`); a statement conditioned on any other key does not apply, so an answer is never
//! a false allow.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::authz::{self, Request};
use super::iam::members;
use super::state::World;
use super::wire::AwsError;

/// The context entry named `key` (case-insensitive, as IAM's condition keys are), first value.
fn context<'a>(params: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    (1..=params.len()).find_map(|i| {
        let name = params.get(&format!("ContextEntries.member.{i}.ContextKeyName"))?;
        name.eq_ignore_ascii_case(key)
            .then(|| params.get(&format!("ContextEntries.member.{i}.ContextKeyValues.member.1")))
            .flatten()
            .map(String::as_str)
    })
}

fn required<'a>(params: &'a BTreeMap<String, String>, name: &str, member: &str) -> Result<&'a str, AwsError> {
    params.get(name).map(String::as_str).ok_or_else(|| {
        AwsError::validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

/// SimulatePrincipalPolicy for a caller of `account`: the XML answer and its JSON form.
pub fn simulate_principal_policy(
    world: &World,
    account: &str,
    params: &BTreeMap<String, String>,
    request_id: &str,
) -> Result<(String, Value), AwsError> {
    let source = required(params, "PolicySourceArn", "policySourceArn")?;
    let actions = members(params, "ActionNames");
    if actions.is_empty() {
        return Err(AwsError::validation(
            "1 validation error detected: Value null at 'actionNames' failed to satisfy constraint: Member must not be null",
        ));
    }
    let ours = super::state::parse_arn(source).is_some_and(|a| a.account == account);
    let documents = world
        .iam
        .identity_documents(source)
        .filter(|_| ours)
        .ok_or_else(|| {
            AwsError::new(
                "NoSuchEntity",
                404,
                format!("The principal {source} does not exist in account {account}."),
            )
        })?;
    let mut resources = members(params, "ResourceArns");
    if resources.is_empty() {
        resources.push("*");
    }
    let via = context(params, "kms:ViaService");
    let boundary = world.iam.boundary_of(source);
    let organization = world
        .organization
        .as_ref()
        .filter(|o| o.member(account).is_some() && o.management != account);
    let mut results = Vec::new();
    for action in &actions {
        for resource in &resources {
            let request = Request {
                action,
                resource,
                via_service: via,
                principal_arn: Some(source),
            };
            let refs: Vec<&Value> = documents.iter().collect();
            let identity = authz::verdict(&refs, &request);
            let boundary_allows = boundary.map(|b| authz::allows(b, &request));
            let scp = organization.map(|o| o.scp_denial(account, &request));
            // An SCP's explicit deny names its policy; a level that allows nothing says so.
            let scp_explicit = scp
                .as_ref()
                .and_then(|d| d.as_ref())
                .is_some_and(|d| !d.starts_with("no SCP attached"));
            let decision = match (identity, &scp, boundary_allows) {
                (Some(false), _, _) => "explicitDeny",
                (_, Some(Some(_)), _) if scp_explicit => "explicitDeny",
                (_, Some(Some(_)), _) => "implicitDeny",
                (_, _, Some(false)) => "implicitDeny",
                (Some(true), _, _) => "allowed",
                (None, _, _) => "implicitDeny",
            };
            let mut result = json!({
                "EvalActionName": action,
                "EvalResourceName": resource,
                "EvalDecision": decision,
                "MatchedStatements": [],
                "MissingContextValues": [],
            });
            if let Some(denial) = &scp {
                result["OrganizationsDecisionDetail"] = json!({"AllowedByOrganizations": denial.is_none()});
            }
            if let Some(allows) = boundary_allows {
                result["PermissionsBoundaryDecisionDetail"] = json!({"AllowedByPermissionsBoundary": allows});
            }
            results.push(result);
        }
    }
    let (start, max) = super::iam::page(params)?;
    let start = start.min(results.len());
    let end = (start + max).min(results.len());
    let mut answer = json!({
        "EvaluationResults": results[start..end],
        "IsTruncated": end < results.len(),
    });
    if end < results.len() {
        answer["Marker"] = json!(super::bedrock::encode_token(&end.to_string()));
    }
    let mut xml =
        String::from("<SimulatePrincipalPolicyResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">");
    super::iam::to_xml("SimulatePrincipalPolicyResult", &answer, &mut xml);
    xml.push_str(&format!(
        "<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></SimulatePrincipalPolicyResponse>\n"
    ));
    Ok((xml, answer))
}
