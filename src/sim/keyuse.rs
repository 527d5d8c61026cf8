//! May a principal use a KMS key for an operation, when Bedrock calls KMS on its behalf?
//! Evaluated as AWS does, for every use the simulator knows of: ApplyGuardrail (kms:Decrypt)
//! and a guardrail written with a customer managed key (CreateGuardrail, UpdateGuardrail:
//! kms:Decrypt, GenerateDataKey, DescribeKey and CreateGrant — AWS's guide, "Create a customer
//! managed key for your guardrail", gives the creators of guardrails these four; a missing one
//! fails the write with AccessDeniedException, as aws/modern-data-architecture-accelerator#46
//! reports for CreateGrant, and botocore's bedrock model lists AccessDeniedException for both).
//!
//! The order (KMS Developer Guide, "Determining access to a KMS key"; IAM User Guide, "Policy
//! evaluation logic"): the key exists and is enabled; an explicit deny in the key policy wins;
//! a statement naming the principal (or its role) allows; the account-root statement lets the
//! caller's identity policies decide; a grant naming the principal (or its role) for the
//! operation allows. A role's permissions boundary caps its sessions whatever allows them (but
//! a key policy naming the session itself); the service control policies of its account's
//! organization path cap every principal of a member account, the management account aside.

use serde_json::Value;

use super::Principal;
use super::authz::{self, KeyPolicyVerdict};
use super::state::{KeyState, World};
use super::wire::AwsError;

/// `action` (`kms:Decrypt`, …) on `key_arn` by `principal`, via `bedrock.REGION.amazonaws.com`.
pub fn check(
    world: &World,
    principal: &Principal,
    key_arn: &str,
    action: &str,
    region: &str,
) -> Result<(), AwsError> {
    let denied = |why: &str| {
        AwsError::new(
            "AccessDeniedException",
            403,
            format!(
                "User: {} is not authorized to perform: {action} on resource: {key_arn} {why}",
                principal.arn
            ),
        )
    };
    let key_region = key_arn.split(':').nth(3).unwrap_or(region);
    let key_account = key_arn.split(':').nth(4).unwrap_or(&principal.account);
    let key_id = key_arn.rsplit('/').next().unwrap_or(key_arn);
    let Some(key) = world
        .region(key_account, key_region)
        .and_then(|r| r.keys.get(key_id))
    else {
        return Err(denied("because the key does not exist"));
    };
    if key.state != KeyState::Enabled && action != "kms:DescribeKey" {
        return Err(AwsError::new(
            "AccessDeniedException",
            403,
            format!(
                "The KMS key {key_arn} is {}: the guardrail cannot be decrypted.",
                key.state.as_str()
            ),
        ));
    }
    let policy: Value = serde_json::from_str(&key.policy).unwrap_or(Value::Null);
    // A role session is named by its session ARN and by its role's ARN (with its path).
    let role_arn = world.iam.resolve(&principal.arn).map(|e| e.arn.clone());
    let mut arns = vec![principal.arn.as_str()];
    if let Some(r) = &role_arn {
        arns.push(r);
    }
    let via = format!("bedrock.{region}.amazonaws.com");
    let request = authz::Request {
        action,
        resource: key_arn,
        via_service: Some(&via),
        principal_arn: Some(role_arn.as_deref().unwrap_or(&principal.arn)),
    };
    let boundary = world.iam.boundary_of(&principal.arn);
    let within_boundary = boundary.is_none_or(|b| authz::allows(b, &request));
    // (`*` names no one in particular: the boundary applies.)
    let names_session = role_arn.is_some()
        && key.policy.contains(principal.arn.as_str())
        && authz::key_policy_allows(&policy, &[principal.arn.as_str()], &key.account, &request)
            == KeyPolicyVerdict::Allowed;
    let operation = action.strip_prefix("kms:").unwrap_or(action);
    let granted = key
        .grants
        .iter()
        .any(|g| arns.contains(&g.grantee.as_str()) && g.operations.iter().any(|o| o == operation));
    let by_policy = match authz::key_policy_allows(&policy, &arns, &key.account, &request) {
        KeyPolicyVerdict::Allowed => Some(names_session || within_boundary),
        // The account-root statement: the caller's own IAM policies decide, in that account.
        KeyPolicyVerdict::ViaIam => Some(
            principal.account == key.account
                && principal
                    .identity_policy
                    .as_ref()
                    .is_none_or(|p| authz::allows(p, &request))
                && within_boundary,
        ),
        // An explicit deny in the key policy: no grant lifts it.
        KeyPolicyVerdict::Denied if authz::key_policy_denies(&policy, &arns, &key.account, &request) => {
            return Err(denied("with an explicit deny in a resource-based policy"));
        }
        KeyPolicyVerdict::Denied => None,
    };
    let allowed = by_policy.unwrap_or(false) || (granted && within_boundary);
    if !allowed {
        return Err(denied("because no resource-based policy allows the action"));
    }
    if let Some(policy) = world
        .organization
        .as_ref()
        .and_then(|o| o.scp_denial(&principal.account, &request))
    {
        return Err(denied(&format!(
            "with an explicit deny in a service control policy ({policy})"
        )));
    }
    Ok(())
}

/// The four uses of a key Bedrock makes for whoever creates or updates a guardrail with it.
pub const GUARDRAIL_WRITE: [&str; 4] = [
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "kms:DescribeKey",
    "kms:CreateGrant",
];
