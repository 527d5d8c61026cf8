//! Identity-policy evaluation, for principals that have one: a call is allowed when an
//! Allow statement matches its action and resource (IAM's wildcards: `*` any run, `?` one
//! character; actions case-insensitive) and no Deny statement does. Anything else is
//! AccessDeniedException with AWS's message. Principals without a policy (the simulator's
//! administrator) are allowed everything, as an admin role would be.
//!
//! Facts this follows (IAM User Guide, "Policy evaluation logic"; service authorization
//! references):
//! - `sts:GetCallerIdentity` needs no permission: it always answers.
//! - `kms:CreateKey` with `Tags` also needs `kms:TagResource`.
//! - Bedrock reads and writes a guardrail encrypted with a customer managed key with the
//!   caller's own KMS permissions: `kms:Decrypt` on the key, requested via
//!   `bedrock.REGION.amazonaws.com` (the `kms:ViaService` condition key).
//! - Conditions: the String and Arn operators (and their Not forms) on `kms:ViaService` and
//!   `aws:PrincipalArn` are evaluated; a statement with any other condition does not apply
//!   (the simulator cannot say it holds).

use serde_json::Value;

/// What a call asks for: the action, the resource, and the request's condition context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    pub action: &'a str,
    pub resource: &'a str,
    /// `kms:ViaService`, when a service calls KMS on the caller's behalf.
    pub via_service: Option<&'a str>,
    /// `aws:PrincipalArn`: the caller's role ARN for a role session, else its own ARN (set
    /// where SCPs and key policies are evaluated; None elsewhere).
    pub principal_arn: Option<&'a str>,
}

pub use crate::model::policy::wildcard;
use crate::model::policy::{statements, strings};

fn condition_holds(condition: &Value, request: &Request) -> bool {
    let Some(operators) = condition.as_object() else {
        return false;
    };
    operators.iter().all(|(operator, keys)| {
        let Some(keys) = keys.as_object() else {
            return false;
        };
        keys.iter().all(|(key, values)| {
            let actual = match key.to_ascii_lowercase().as_str() {
                "kms:viaservice" => request.via_service,
                "aws:principalarn" => request.principal_arn,
                _ => return false,
            };
            let negated = operator.contains("Not");
            // IAM: a key absent from the request makes a negated operator true, any other false.
            let Some(actual) = actual else {
                return negated;
            };
            let values = strings(values);
            match operator.as_str() {
                "StringEquals" | "ArnEquals" => values.contains(&actual),
                "StringLike" | "ArnLike" => values.iter().any(|v| wildcard(v, actual)),
                "StringNotEquals" | "ArnNotEquals" => !values.contains(&actual),
                "StringNotLike" | "ArnNotLike" => !values.iter().any(|v| wildcard(v, actual)),
                _ => false,
            }
        })
    })
}

fn statement_matches(statement: &Value, request: &Request) -> bool {
    let action = request.action.to_ascii_lowercase();
    let hit = |v: &Value| {
        strings(v)
            .iter()
            .any(|a| wildcard(&a.to_ascii_lowercase(), &action))
    };
    let actions_match = match statement.get("NotAction") {
        Some(not) => !hit(not),
        None => hit(&statement["Action"]),
    };
    let resources_match = match statement.get("NotResource") {
        // Every resource but those listed (as SCPs that allow-list keys use it).
        Some(not) => !strings(not).iter().any(|r| wildcard(r, request.resource)),
        None => strings(&statement["Resource"])
            .iter()
            .any(|r| wildcard(r, request.resource)),
    };
    let condition_ok = match statement.get("Condition") {
        None => true,
        Some(c) => condition_holds(c, request),
    };
    actions_match && resources_match && condition_ok
}

/// What a key policy says of a request by a principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPolicyVerdict {
    /// A statement names the principal (or its role) and allows the action.
    Allowed,
    /// Only the account-root statement applies: the principal's IAM policies decide.
    ViaIam,
    /// Nothing allows it, or a statement denies it.
    Denied,
}

/// A key policy evaluated as KMS does for `request` by a principal known by `arns` (its own
/// ARN, and for a role session its role's ARN) in `account`: an explicit deny wins; a
/// statement naming one of `arns` (or `*`) allows; the account-root statement delegates to IAM.
/// Statements with conditions other than `kms:ViaService` grant nothing (never a false allow).
pub fn key_policy_allows(
    policy: &Value,
    arns: &[&str],
    account: &str,
    request: &Request,
) -> KeyPolicyVerdict {
    let statements = statements(policy);
    let root_suffix = format!(":iam::{account}:root");
    let whom = |s: &Value| -> Option<bool> {
        // Some(true): names the principal; Some(false): the account root; None: neither.
        let principal = &s["Principal"];
        let listed: Vec<&str> = match principal {
            Value::String(p) if p == "*" => return Some(true),
            Value::Object(_) => strings(&principal["AWS"]),
            _ => Vec::new(),
        };
        if listed.iter().any(|p| *p == "*" || arns.contains(p)) {
            Some(true)
        } else if listed.iter().any(|p| p.ends_with(&root_suffix) || *p == account) {
            Some(false)
        } else {
            None
        }
    };
    let mut verdict = KeyPolicyVerdict::Denied;
    for s in &statements {
        if !statement_matches(s, request) {
            continue;
        }
        match (s["Effect"].as_str(), whom(s)) {
            (Some("Deny"), Some(_)) => return KeyPolicyVerdict::Denied,
            (Some("Allow"), Some(true)) => verdict = KeyPolicyVerdict::Allowed,
            (Some("Allow"), Some(false)) if verdict == KeyPolicyVerdict::Denied => {
                verdict = KeyPolicyVerdict::ViaIam
            }
            _ => {}
        }
    }
    verdict
}

/// Whether a Deny statement of a key policy that names one of `arns` (or `*`, or the
/// account) matches `request`.
pub fn key_policy_denies(policy: &Value, arns: &[&str], account: &str, request: &Request) -> bool {
    let root_suffix = format!(":iam::{account}:root");
    statements(policy).iter().any(|s| {
        let listed: Vec<&str> = match &s["Principal"] {
            Value::String(p) => vec![p.as_str()],
            p => strings(&p["AWS"]),
        };
        s["Effect"].as_str() == Some("Deny")
            && statement_matches(s, request)
            && listed
                .iter()
                .any(|p| *p == "*" || arns.contains(p) || p.ends_with(&root_suffix) || *p == account)
    })
}

/// What a set of policies attached at one level says of a request: denied (explicitly),
/// allowed, or neither.
pub fn verdict(policies: &[&Value], request: &Request) -> Option<bool> {
    let matching = |effect: &str| {
        policies.iter().any(|p| {
            statements(p)
                .iter()
                .any(|s| s["Effect"].as_str() == Some(effect) && statement_matches(s, request))
        })
    };
    if matching("Deny") {
        Some(false)
    } else if matching("Allow") {
        Some(true)
    } else {
        None
    }
}

/// Whether `policy` allows `request`.
pub fn allows(policy: &Value, request: &Request) -> bool {
    let statements = statements(policy);
    let effect = |e: &str| {
        statements
            .iter()
            .any(|s| s["Effect"].as_str() == Some(e) && statement_matches(s, request))
    };
    !effect("Deny") && effect("Allow")
}

/// What one call needs: each (action, resource, via service) the caller's policy must allow.
/// `guardrail_key` is the key of the guardrail a Bedrock call names, when it has one.
pub fn required(
    service: &str,
    operation: &str,
    region: &str,
    account: &str,
    input: &Value,
    guardrail_key: Option<&str>,
) -> Vec<(String, String, Option<String>)> {
    let action = format!("{service}:{operation}");
    let partition = crate::regions::partition_of(region);
    let s = |k: &str| input.get(k).and_then(Value::as_str);
    let mut out = Vec::new();
    match service {
        // "No permissions are required to perform this operation." (STS API reference)
        // GetCallerIdentity needs none; AssumeRole is allowed on the role.
        "sts" => {
            if operation == "AssumeRole" {
                out.push((action, s("RoleArn").unwrap_or("*").to_string(), None));
            }
        }
        "iam" => {
            let resource = match (operation, s("RoleName"), s("UserName")) {
                // Authorized on the principal simulated (Service Authorization Reference, IAM).
                ("SimulatePrincipalPolicy", _, _) => s("PolicySourceArn").unwrap_or("*").to_string(),
                ("GetRole", Some(n), _) => format!("arn:{partition}:iam::{account}:role/{n}"),
                (_, _, Some(n)) => format!("arn:{partition}:iam::{account}:user/{n}"),
                _ => "*".into(),
            };
            out.push((action, resource, None));
        }
        // BatchImportFindings is authorized on the product the findings are for; the
        // other operations on the account's hub.
        // Organizations' List and Describe calls are not resource-scoped.
        "organizations" => out.push((action, "*".into(), None)),
        "securityhub" => {
            let resource = match input["Findings"][0]["ProductArn"].as_str() {
                Some(product) if operation == "BatchImportFindings" => product.to_string(),
                _ => format!("arn:{partition}:securityhub:{region}:{account}:hub/default"),
            };
            out.push((action, resource, None));
        }
        // Agents and flows: the List calls are not resource-scoped; the others are on the
        // agent or flow (Service Authorization Reference, Amazon Bedrock).
        "bedrock" if super::agents::OPERATIONS.contains(&operation) => {
            let resource = match (s("agentId"), s("flowIdentifier")) {
                (Some(id), _) => format!("arn:{partition}:bedrock:{region}:{account}:agent/{id}"),
                (_, Some(arn)) if arn.starts_with("arn:") => arn.to_string(),
                (_, Some(id)) => format!("arn:{partition}:bedrock:{region}:{account}:flow/{id}"),
                _ => "*".into(),
            };
            out.push((action, resource, None));
        }
        "bedrock" => {
            let resource = match s("guardrailIdentifier") {
                Some(id) if id.starts_with("arn:") => id.to_string(),
                Some(id) => format!("arn:{partition}:bedrock:{region}:{account}:guardrail/{id}"),
                None => format!("arn:{partition}:bedrock:{region}:{account}:guardrail/*"),
            };
            out.push((action, resource, None));
            // ApplyGuardrail's kms:Decrypt is evaluated whole (key policy, then IAM) by the
            // runtime itself: a key policy that names the caller needs no IAM grant.
            if let Some(key) = guardrail_key.filter(|_| operation != "ApplyGuardrail") {
                out.push((
                    "kms:Decrypt".into(),
                    key.to_string(),
                    Some(format!("bedrock.{region}.amazonaws.com")),
                ));
            }
        }
        _ => {
            let resource = match s("KeyId").or(s("TargetKeyId")) {
                Some(k) if k.starts_with("arn:") => k.to_string(),
                Some(k) if k.starts_with("alias/") => format!("arn:{partition}:kms:{region}:{account}:{k}"),
                Some(k) => format!("arn:{partition}:kms:{region}:{account}:key/{k}"),
                None => "*".into(),
            };
            out.push((action, resource, None));
            if operation == "CreateKey"
                && input
                    .get("Tags")
                    .is_some_and(|t| t.as_array().is_some_and(|a| !a.is_empty()))
            {
                out.push(("kms:TagResource".into(), "*".into(), None));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req<'a>(action: &'a str, resource: &'a str) -> Request<'a> {
        Request {
            action,
            resource,
            via_service: None,
            principal_arn: None,
        }
    }

    #[test]
    fn wildcards_follow_iam() {
        assert!(wildcard("kms:Get*", "kms:GetKeyPolicy"));
        assert!(wildcard("*", "anything"));
        assert!(wildcard(
            "arn:aws:kms:*:123456789012:key/*",
            "arn:aws:kms:eu-west-1:123456789012:key/k"
        ));
        assert!(!wildcard(
            "arn:aws:kms:*:123456789012:key/*",
            "arn:aws:kms:eu-west-1:210987654321:key/k"
        ));
        assert!(wildcard("kms:?escribeKey", "kms:DescribeKey"));
        assert!(!wildcard("kms:Describe", "kms:DescribeKey"));
    }

    #[test]
    fn allow_deny_and_conditions() {
        let policy = json!({"Statement": [
            {"Effect": "Allow", "Action": ["bedrock:Get*", "KMS:describekey"], "Resource": "*"},
            {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
             "Condition": {"StringLike": {"kms:ViaService": "bedrock.*.amazonaws.com"}}},
            {"Effect": "Deny", "Action": "bedrock:GetGuardrail", "Resource": "arn:aws:bedrock:*:*:guardrail/secret"}
        ]});
        assert!(allows(
            &policy,
            &req("bedrock:GetGuardrail", "arn:aws:bedrock:us-east-1:1:guardrail/a")
        ));
        assert!(!allows(
            &policy,
            &req(
                "bedrock:GetGuardrail",
                "arn:aws:bedrock:us-east-1:1:guardrail/secret"
            )
        ));
        assert!(
            allows(&policy, &req("kms:DescribeKey", "k")),
            "actions ignore case"
        );
        assert!(!allows(&policy, &req("bedrock:UpdateGuardrail", "g")));
        assert!(!allows(&policy, &req("kms:Decrypt", "k")), "not via Bedrock");
        let via = Request {
            via_service: Some("bedrock.us-east-1.amazonaws.com"),
            ..req("kms:Decrypt", "k")
        };
        assert!(allows(&policy, &via));
    }
}
