//! Amazon Bedrock Runtime's ApplyGuardrail (`POST /guardrail/{id}/version/{version}/apply`,
//! signed as `bedrock`, like the control plane): a guardrail applied to text.
//!
//! What matters here is what AWS's guide says about a guardrail on a customer managed key:
//! whoever applies it needs `kms:Decrypt` on that key. The simulator checks it as KMS does —
//! the key must exist and be enabled, its key policy must allow the caller (or, through the
//! account-root statement, the caller's IAM policies must) — and otherwise answers
//! AccessDeniedException naming kms:Decrypt and the key, so that a fix that locks users out
//! is caught by a probe rather than by production traffic.
//!
//! The answer is shaped as botocore's model says (`usage` with its required units, `action`,
//! `outputs`, `assessments`); the guardrail intervenes when the text holds one of its words.

use serde_json::{Value, json};

use super::Principal;
use super::state::{Ctx, World};
use super::wire::AwsError;

/// The route of ApplyGuardrail: (guardrail identifier, version).
pub fn route(method: &str, path: &str) -> Option<(String, String)> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        ("POST", ["guardrail", id, "version", version, "apply"]) => {
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            Some((decode(id), decode(version)))
        }
        _ => None,
    }
}

pub fn apply_guardrail(
    world: &World,
    ctx: &Ctx,
    principal: &Principal,
    input: &Value,
) -> Result<Value, AwsError> {
    let identifier = input["guardrailIdentifier"].as_str().unwrap_or_default();
    let version = input["guardrailVersion"].as_str().unwrap_or_default();
    let not_found = || {
        AwsError::not_found(format!(
            "The guardrail {identifier} version {version} was not found."
        ))
    };
    let region = world.region(ctx.account, ctx.region).ok_or_else(not_found)?;
    let id = region
        .guardrail_id(identifier, ctx.account, ctx.region)
        .ok_or_else(not_found)?;
    let guardrail = &region.guardrails[&id];
    let config = match version {
        "DRAFT" => &guardrail.draft,
        n => {
            &guardrail
                .version(n.parse().map_err(|_| not_found())?)
                .ok_or_else(not_found)?
                .config
        }
    };
    if let Some(key_arn) = &config.kms_key_arn {
        check_decrypt(world, ctx, principal, key_arn)?;
    }
    let text: String = input["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["text"]["text"].as_str())
        .collect::<Vec<_>>()
        .join(" ");
    // A Map's index panics on a missing key: a guardrail without a word policy has none.
    let words: Vec<String> = config
        .policies
        .get("wordPolicy")
        .and_then(|p| p["words"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|w| w["text"].as_str().map(str::to_lowercase))
        .collect();
    let lowered = text.to_lowercase();
    let hit = words
        .iter()
        .find(|w| lowered.split_whitespace().any(|t| t == w.as_str()));
    let units = i64::from(!text.is_empty()) * (text.chars().count() as i64 / 1000 + 1);
    let has = |policy: &str| i64::from(config.policies.contains_key(policy)) * units;
    let usage = json!({
        "topicPolicyUnits": has("topicPolicy"),
        "contentPolicyUnits": has("contentPolicy"),
        "wordPolicyUnits": has("wordPolicy"),
        "sensitiveInformationPolicyUnits": has("sensitiveInformationPolicy"),
        "sensitiveInformationPolicyFreeUnits": 0,
        "contextualGroundingPolicyUnits": has("contextualGroundingPolicy"),
    });
    let blocked = match input["source"].as_str() {
        Some("OUTPUT") => &config.blocked_outputs_messaging,
        _ => &config.blocked_input_messaging,
    };
    Ok(match hit {
        None => json!({"usage": usage, "action": "NONE", "outputs": [], "assessments": [{}]}),
        Some(word) => json!({
            "usage": usage,
            "action": "GUARDRAIL_INTERVENED",
            "outputs": [{"text": blocked}],
            "assessments": [{"wordPolicy": {"customWords": [{"match": word, "action": "BLOCKED", "detected": true}]}}],
        }),
    })
}

/// kms:Decrypt on the guardrail's key for the caller, as KMS decides it (see `keyuse`).
fn check_decrypt(world: &World, ctx: &Ctx, principal: &Principal, key_arn: &str) -> Result<(), AwsError> {
    super::keyuse::check(world, principal, key_arn, "kms:Decrypt", ctx.region)
}

#[cfg(test)]
mod tests {
    use super::super::authz::{self, KeyPolicyVerdict};
    use super::*;

    #[test]
    fn routes_the_runtime_path_only() {
        assert_eq!(
            route("POST", "/guardrail/abc/version/DRAFT/apply"),
            Some(("abc".into(), "DRAFT".into()))
        );
        assert_eq!(route("POST", "/guardrails/abc"), None);
    }

    #[test]
    fn key_policies_name_principals_or_delegate_to_iam() {
        let policy = serde_json::json!({"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "kms:*", "Resource": "*"},
            {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::1:role/App"]}, "Action": "kms:Decrypt", "Resource": "*"},
        ]});
        let req = authz::Request {
            action: "kms:Decrypt",
            resource: "arn:aws:kms:us-east-1:1:key/k",
            via_service: None,
            principal_arn: None,
        };
        assert_eq!(
            authz::key_policy_allows(&policy, &["arn:aws:iam::1:role/App"], "1", &req),
            KeyPolicyVerdict::Allowed
        );
        assert_eq!(
            authz::key_policy_allows(&policy, &["arn:aws:iam::1:role/Other"], "1", &req),
            KeyPolicyVerdict::ViaIam
        );
        assert_eq!(
            authz::key_policy_allows(&policy, &["arn:aws:iam::2:role/App2"], "2", &req),
            KeyPolicyVerdict::Denied
        );
    }
}
