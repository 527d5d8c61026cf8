//! Can a principal decrypt with a key, when Bedrock applies a guardrail on its behalf?
//!
//! KMS's order (KMS Developer Guide, "Determining access to a KMS key"): the key must be
//! enabled; an explicit Deny in the key policy wins; a key-policy statement naming the
//! principal (or `*`) allows; the account-root statement (`arn:aws:iam::ACCOUNT:root`)
//! lets the account's IAM policies decide, and then an IAM Allow that no Deny overrides
//! allows. A principal of another account needs both the key policy naming it or its
//! account and its own account's IAM grant. The request carries `kms:ViaService =
//! bedrock.REGION.amazonaws.com` and `kms:CallerAccount`; conditions on other keys are not
//! evaluated: such a statement makes the answer UNKNOWN, never a false yes.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::index::{Boundary, PrincipalPolicies, covers_action};
use crate::model::policy::{statements, strings, wildcard};

/// Whether a principal can decrypt with a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decrypt", rename_all = "kebab-case")]
pub enum Access {
    Allowed { how: String },
    Denied { why: String },
    Unknown { why: String },
}

impl Access {
    pub fn mark(&self) -> &'static str {
        match self {
            Access::Allowed { .. } => "✓",
            Access::Denied { .. } => "✗",
            Access::Unknown { .. } => "?",
        }
    }

    pub fn reason(&self) -> &str {
        match self {
            Access::Allowed { how } => how,
            Access::Denied { why } | Access::Unknown { why } => why,
        }
    }
}

/// A key as the evaluation needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyFacts<'a> {
    pub arn: &'a str,
    /// Enabled, Disabled, PendingDeletion, …
    pub state: &'a str,
    /// The key policy; Err: why it could not be read.
    pub policy: Result<&'a Value, &'a str>,
}

fn account_of(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or_default()
}

fn region_of(arn: &str) -> &str {
    arn.split(':').nth(3).unwrap_or_default()
}

/// What one statement's conditions say of the request: Some(true) hold, Some(false) do
/// not, None: a condition guardkey does not evaluate.
fn conditions(statement: &Value, principal: &str, region: &str) -> Option<bool> {
    let Some(condition) = statement.get("Condition") else {
        return Some(true);
    };
    let operators = condition.as_object()?;
    let via = format!("bedrock.{region}.amazonaws.com");
    let mut all = true;
    for (operator, keys) in operators {
        for (key, values) in keys.as_object()? {
            let actual = match key.to_ascii_lowercase().as_str() {
                "kms:viaservice" => via.as_str(),
                "kms:calleraccount" => account_of(principal),
                "aws:principalarn" => principal,
                _ => return None,
            };
            let values = strings(values);
            let holds = match operator.as_str() {
                "StringEquals" | "ArnEquals" => values.contains(&actual),
                "StringLike" | "ArnLike" => values.iter().any(|v| wildcard(v, actual)),
                "StringNotEquals" | "ArnNotEquals" => !values.contains(&actual),
                "StringNotLike" | "ArnNotLike" => !values.iter().any(|v| wildcard(v, actual)),
                _ => return None,
            };
            all &= holds;
        }
    }
    Some(all)
}

/// Whether the statement applies to `kms:Decrypt` on `key`.
fn applies(statement: &Value, key: &str) -> bool {
    if !covers_action(statement, "kms:decrypt") {
        return false;
    }
    match statement.get("NotResource") {
        Some(not) => !strings(not).iter().any(|r| wildcard(r, key)),
        None => strings(&statement["Resource"]).iter().any(|r| wildcard(r, key)),
    }
}

/// What a set of policy documents says of kms:Decrypt on the key for `principal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Denied,
    Allowed,
    /// Allowed only under conditions guardkey does not evaluate.
    Maybe,
    /// Nothing allows it.
    Silent,
}

fn evaluate(documents: &[Value], principal: &str, key: &str) -> Verdict {
    let region = region_of(key);
    let (mut allowed, mut maybe) = (false, false);
    for doc in documents {
        for s in statements(doc) {
            if !applies(s, key) {
                continue;
            }
            match (s["Effect"].as_str(), conditions(s, principal, region)) {
                (Some("Deny"), Some(true)) => return Verdict::Denied,
                (Some("Allow"), Some(true)) => allowed = true,
                (Some("Allow"), None) => maybe = true,
                _ => {}
            }
        }
    }
    match (allowed, maybe) {
        (true, _) => Verdict::Allowed,
        (_, true) => Verdict::Maybe,
        _ => Verdict::Silent,
    }
}

/// What the principal's IAM policies say of kms:Decrypt on the key, its permissions
/// boundary applied.
pub fn iam_access(policies: &PrincipalPolicies, key: &str) -> Access {
    let access = match evaluate(&policies.documents, &policies.arn, key) {
        Verdict::Denied => Access::Denied {
            why: "an IAM policy denies it kms:Decrypt on the key".into(),
        },
        Verdict::Allowed => Access::Allowed {
            how: "its IAM policy allows kms:Decrypt (the key policy defers to IAM)".into(),
        },
        Verdict::Maybe => Access::Unknown {
            why: "an IAM policy allows kms:Decrypt under conditions guardkey does not evaluate".into(),
        },
        Verdict::Silent if !policies.missing.is_empty() => Access::Unknown {
            why: format!(
                "the documents of {} were not listed, so its IAM permissions are not all known",
                policies.missing.join(", ")
            ),
        },
        Verdict::Silent => Access::Denied {
            why: "neither the key policy names it nor do its IAM policies allow kms:Decrypt on the key"
                .into(),
        },
    };
    match access {
        Access::Allowed { .. } => boundary_limit(policies, key).unwrap_or(access),
        other => other,
    }
}

/// What the principal's permissions boundary takes away from kms:Decrypt on the key: None
/// when it has none, or it allows it. (IAM User Guide, "Permissions boundaries" and "Policy
/// evaluation logic": the effective permissions are what both the identity policies and the
/// boundary allow; a resource policy naming a role does not lift its sessions' boundary.)
pub fn boundary_limit(policies: &PrincipalPolicies, key: &str) -> Option<Access> {
    let (arn, document) = match policies.boundary.as_ref()? {
        Boundary::Missing { arn } => {
            return Some(Access::Unknown {
                why: format!(
                    "its permissions boundary {arn} was not listed, so whether it lets kms:Decrypt through is not known"
                ),
            });
        }
        Boundary::Policy { arn, document } => (arn, document),
    };
    match evaluate(std::slice::from_ref(document), &policies.arn, key) {
        Verdict::Allowed => None,
        Verdict::Maybe => Some(Access::Unknown {
            why: format!(
                "its permissions boundary {arn} lets kms:Decrypt through only under conditions guardkey does not evaluate"
            ),
        }),
        Verdict::Denied | Verdict::Silent => Some(Access::Denied {
            why: format!("its permissions boundary {arn} does not let kms:Decrypt on the key through"),
        }),
    }
}

/// Whether `principal` (a role's or user's ARN) can decrypt with the key when Bedrock applies
/// a guardrail for it; `iam`: its IAM policies, when its account's were read.
pub fn decrypt_access(key: &KeyFacts, principal: &str, iam: Option<&PrincipalPolicies>) -> Access {
    if key.state != "Enabled" {
        return Access::Denied {
            why: format!("the key is {}", key.state),
        };
    }
    let policy = match key.policy {
        Ok(p) => p,
        Err(why) => {
            return Access::Unknown {
                why: format!("the key policy could not be read ({why})"),
            };
        }
    };
    let (key_account, whose) = (account_of(key.arn), account_of(principal));
    let region = region_of(key.arn);
    let roots = [format!(":iam::{whose}:root"), whose.to_string()];
    let (mut named, mut via_root, mut maybe) = (false, false, false);
    for s in statements(policy) {
        if !applies(s, key.arn) {
            continue;
        }
        let listed: Vec<&str> = match &s["Principal"] {
            Value::String(p) => vec![p.as_str()],
            p => strings(&p["AWS"]),
        };
        let names_it = listed.iter().any(|p| *p == "*" || *p == principal);
        let names_root = listed.iter().any(|p| *p == roots[1] || p.ends_with(&roots[0]));
        if !names_it && !names_root {
            continue;
        }
        // A root statement narrowed by aws:PrincipalArn names the principal itself.
        let by_arn = s["Condition"]
            .as_object()
            .is_some_and(|c| c.values().any(|k| k.get("aws:PrincipalArn").is_some()));
        let holds = conditions(s, principal, region);
        match (s["Effect"].as_str(), holds) {
            (Some("Deny"), Some(true)) => {
                return Access::Denied {
                    why: "the key policy denies it kms:Decrypt".into(),
                };
            }
            (Some("Allow"), Some(true)) if names_it || by_arn => named = true,
            (Some("Allow"), Some(true)) => via_root = true,
            (Some("Allow"), None) => maybe = true,
            _ => {}
        }
    }
    if named {
        let allowed = Access::Allowed {
            how: "the key policy allows it kms:Decrypt".into(),
        };
        // A role runs as sessions: a key policy naming the role does not lift its permissions
        // boundary (naming a user does, within its account).
        return match iam.filter(|_| principal.contains(":role/")) {
            Some(p) => boundary_limit(p, key.arn).unwrap_or(allowed),
            None => allowed,
        };
    }
    if via_root {
        return match iam {
            Some(p) => iam_access(p, key.arn),
            None if whose != key_account => Access::Unknown {
                why: format!(
                    "the key policy lets account {whose} decide: its IAM policies (not read) must allow kms:Decrypt on {}",
                    key.arn
                ),
            },
            None => Access::Unknown {
                why: "the key policy defers to IAM, and its IAM policies were not read".into(),
            },
        };
    }
    if maybe {
        return Access::Unknown {
            why: "a key-policy statement with conditions guardkey does not evaluate may allow it".into(),
        };
    }
    Access::Denied {
        why: if whose != key_account {
            format!("the key policy names neither it nor its account {whose}")
        } else {
            "the key policy does not allow it kms:Decrypt (and has no account-root statement for IAM)".into()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/k-1";
    const ROLE: &str = "arn:aws:iam::111122223333:role/service-role/AgentRole";

    fn key(policy: &Value) -> KeyFacts<'_> {
        KeyFacts {
            arn: KEY,
            state: "Enabled",
            policy: Ok(policy),
        }
    }

    fn iam(doc: Value) -> PrincipalPolicies {
        PrincipalPolicies {
            arn: ROLE.into(),
            documents: vec![doc],
            missing: Vec::new(),
            boundary: None,
        }
    }

    #[test]
    fn a_permissions_boundary_caps_iam_and_a_key_policy_naming_a_role() {
        const BOUNDARY: &str = "arn:aws:iam::111122223333:policy/AgentBoundary";
        let root = json!({"Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]});
        let named = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": [ROLE]},
            "Action": "kms:Decrypt", "Resource": "*"}]});
        let decrypt = json!({"Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]});
        let bedrock_only =
            json!({"Statement": [{"Effect": "Allow", "Action": "bedrock:*", "Resource": "*"}]});
        let with = |boundary: Option<Boundary>| PrincipalPolicies {
            boundary,
            ..iam(decrypt.clone())
        };
        let capped = with(Some(Boundary::Policy {
            arn: BOUNDARY.into(),
            document: bedrock_only,
        }));
        let roomy = with(Some(Boundary::Policy {
            arn: BOUNDARY.into(),
            document: json!({"Statement": [{"Effect": "Allow", "Action": ["bedrock:*", "kms:Decrypt"], "Resource": "*"}]}),
        }));
        let unlisted = with(Some(Boundary::Missing { arn: BOUNDARY.into() }));
        // Through IAM: both the identity policy and the boundary must allow it.
        assert!(matches!(
            decrypt_access(&key(&root), ROLE, Some(&with(None))),
            Access::Allowed { .. }
        ));
        assert!(matches!(
            decrypt_access(&key(&root), ROLE, Some(&roomy)),
            Access::Allowed { .. }
        ));
        match decrypt_access(&key(&root), ROLE, Some(&capped)) {
            Access::Denied { why } => assert!(why.contains("permissions boundary"), "{why}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            decrypt_access(&key(&root), ROLE, Some(&unlisted)),
            Access::Unknown { .. }
        ));
        // A key policy naming the role does not lift the boundary of its sessions.
        assert!(matches!(
            decrypt_access(&key(&named), ROLE, Some(&capped)),
            Access::Denied { .. }
        ));
        assert!(matches!(
            decrypt_access(&key(&named), ROLE, Some(&roomy)),
            Access::Allowed { .. }
        ));
        // Naming a user does (within its account).
        let user = "arn:aws:iam::111122223333:user/alice";
        let named_user = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": [user]},
            "Action": "kms:Decrypt", "Resource": "*"}]});
        let capped_user = PrincipalPolicies {
            arn: user.into(),
            ..capped.clone()
        };
        assert!(matches!(
            decrypt_access(&key(&named_user), user, Some(&capped_user)),
            Access::Allowed { .. }
        ));
    }

    #[test]
    fn kms_order_key_policy_then_iam() {
        let root = json!({"Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]});
        let none = iam(json!({"Statement": []}));
        let via_bedrock = iam(
            json!({"Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY,
            "Condition": {"StringEquals": {"kms:ViaService": "bedrock.us-east-1.amazonaws.com"}}}]}),
        );
        let via_s3 = iam(
            json!({"Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}}]}),
        );
        assert!(matches!(
            decrypt_access(&key(&root), ROLE, Some(&none)),
            Access::Denied { .. }
        ));
        assert!(matches!(
            decrypt_access(&key(&root), ROLE, Some(&via_bedrock)),
            Access::Allowed { .. }
        ));
        assert!(matches!(
            decrypt_access(&key(&root), ROLE, Some(&via_s3)),
            Access::Denied { .. }
        ));
        assert!(matches!(
            decrypt_access(&key(&root), ROLE, None),
            Access::Unknown { .. }
        ));

        let named = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": [ROLE]},
            "Action": "kms:Decrypt", "Resource": "*"}]});
        assert!(matches!(
            decrypt_access(&key(&named), ROLE, Some(&none)),
            Access::Allowed { .. }
        ));
        // Without the root statement, an IAM grant counts for nothing.
        let other = "arn:aws:iam::111122223333:role/Other";
        assert!(matches!(
            decrypt_access(&key(&named), other, Some(&via_bedrock)),
            Access::Denied { .. }
        ));

        let disabled = KeyFacts {
            state: "Disabled",
            ..key(&named)
        };
        assert!(matches!(
            decrypt_access(&disabled, ROLE, None),
            Access::Denied { .. }
        ));

        let by_pattern = json!({"Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:Decrypt", "Resource": "*",
            "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/service-role/*"}}}]});
        assert!(matches!(
            decrypt_access(&key(&by_pattern), ROLE, Some(&none)),
            Access::Allowed { .. }
        ));

        let odd = json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt",
            "Resource": "*", "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}}]});
        assert!(matches!(
            decrypt_access(&key(&odd), ROLE, Some(&none)),
            Access::Unknown { .. }
        ));

        let cross = "arn:aws:iam::444455556666:role/Partner";
        assert!(matches!(
            decrypt_access(&key(&root), cross, None),
            Access::Denied { .. }
        ));
        let shared = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
            "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"}]});
        assert!(matches!(
            decrypt_access(&key(&shared), cross, None),
            Access::Unknown { .. }
        ));
    }
}
