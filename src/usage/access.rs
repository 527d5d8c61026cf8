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
//!
//! Beyond the key policy and IAM: a KMS grant naming the principal for the operation allows
//! it (KMS Developer Guide, "Grants in AWS KMS"; its encryption-context constraints are said,
//! since Bedrock's requests carry a context guardkey cannot see); the service control
//! policies on the account's path cap everything (an explicit deny at any level wins, and
//! every level must allow: Organizations User Guide, "SCP evaluation"); IAM's own simulator
//! (`iam:SimulatePrincipalPolicy`), where it was asked, has the last word on the identity side.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::index::{Boundary, PrincipalPolicies, covers_action};
use crate::model::policy::{statements, strings, wildcard};

/// The action a guardrail's users need on its key.
pub const DECRYPT: &str = "kms:Decrypt";

pub use crate::model::usage::Access;

/// A key as the evaluation needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyFacts<'a> {
    pub arn: &'a str,
    /// Enabled, Disabled, PendingDeletion, …
    pub state: &'a str,
    /// The key policy; Err: why it could not be read.
    pub policy: Result<&'a Value, &'a str>,
    /// Its grants, as ListGrants listed them (empty: none, or not read).
    pub grants: &'a [KeyGrant],
}

/// A KMS grant on a key (ListGrants' GrantListEntry, the members that decide access).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyGrant {
    pub id: String,
    pub grantee: String,
    /// KMS operation names: `Decrypt`, `GenerateDataKey`, …
    pub operations: Vec<String>,
    /// Limited to an encryption context (EncryptionContextSubset or EncryptionContextEquals).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub constrained: bool,
}

/// The service control policies on an account's path, as Organizations listed them.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Scps {
    /// Not in an organization, its management account, or another account's principal.
    #[default]
    NotApplicable,
    /// Each level from the root to the account: its target and the policies attached there.
    Read(Vec<ScpLevel>),
    /// Why they could not be read: a verdict is not changed, but said.
    NotRead(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScpLevel {
    /// The root, OU or account id.
    pub target: String,
    /// (policy name, document).
    pub policies: Vec<(String, Value)>,
}

/// How a principal's access to a key comes about, for combining it with AWS's own answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Not the identity side's to decide: the key is unusable, or its policy denies it.
    Settled,
    /// The key policy (or a grant) names it: identity policies are not needed, but a
    /// permissions boundary and the SCPs still cap it.
    Named,
    /// The key policy's account-root statement: its identity policies decide.
    ViaIam,
    /// Not known from the key side (its policy unread, conditions not evaluated).
    Unknown,
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

/// Whether the statement applies to `action` (lowercase, `kms:decrypt`) on `key`.
fn applies_to(statement: &Value, action: &str, key: &str) -> bool {
    if !covers_action(statement, action) {
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

fn applies(statement: &Value, action: &str, key: &str) -> bool {
    applies_to(statement, &action.to_ascii_lowercase(), key)
}

fn evaluate(documents: &[Value], principal: &str, action: &str, key: &str) -> Verdict {
    evaluate_action(documents, principal, &action.to_ascii_lowercase(), key)
}

fn evaluate_action(documents: &[Value], principal: &str, action: &str, key: &str) -> Verdict {
    let region = region_of(key);
    let (mut allowed, mut maybe) = (false, false);
    for doc in documents {
        for s in statements(doc) {
            if !applies_to(s, action, key) {
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
    iam_access_for(policies, DECRYPT, key)
}

/// The same for any KMS action (`kms:CreateGrant`, …).
pub fn iam_access_for(policies: &PrincipalPolicies, action: &str, key: &str) -> Access {
    let access = match evaluate(&policies.documents, &policies.arn, action, key) {
        Verdict::Denied => Access::Denied {
            why: format!("an IAM policy denies it {action} on the key"),
        },
        Verdict::Allowed => Access::Allowed {
            how: format!("its IAM policy allows {action} (the key policy defers to IAM)"),
        },
        Verdict::Maybe => Access::Unknown {
            why: format!("an IAM policy allows {action} under conditions guardkey does not evaluate"),
        },
        Verdict::Silent if !policies.missing.is_empty() => Access::Unknown {
            why: format!(
                "the documents of {} were not listed, so its IAM permissions are not all known",
                policies.missing.join(", ")
            ),
        },
        Verdict::Silent => Access::Denied {
            why: format!("neither the key policy names it nor do its IAM policies allow {action} on the key"),
        },
    };
    match access {
        Access::Allowed { .. } => boundary_limit_for(policies, action, key).unwrap_or(access),
        other => other,
    }
}

/// What the principal's permissions boundary takes away from kms:Decrypt on the key: None
/// when it has none, or it allows it. (IAM User Guide, "Permissions boundaries" and "Policy
/// evaluation logic": the effective permissions are what both the identity policies and the
/// boundary allow; a resource policy naming a role does not lift its sessions' boundary.)
pub fn boundary_limit(policies: &PrincipalPolicies, key: &str) -> Option<Access> {
    boundary_limit_for(policies, DECRYPT, key)
}

/// The same for any KMS action.
pub fn boundary_limit_for(policies: &PrincipalPolicies, action: &str, key: &str) -> Option<Access> {
    let (arn, document) = match policies.boundary.as_ref()? {
        Boundary::Missing { arn } => {
            return Some(Access::Unknown {
                why: format!(
                    "its permissions boundary {arn} was not listed, so whether it lets {action} through is not known"
                ),
            });
        }
        Boundary::Policy { arn, document } => (arn, document),
    };
    match evaluate(std::slice::from_ref(document), &policies.arn, action, key) {
        Verdict::Allowed => None,
        Verdict::Maybe => Some(Access::Unknown {
            why: format!(
                "its permissions boundary {arn} lets {action} through only under conditions guardkey does not evaluate"
            ),
        }),
        Verdict::Denied | Verdict::Silent => Some(Access::Denied {
            why: format!("its permissions boundary {arn} does not let {action} on the key through"),
        }),
    }
}

/// Whether `principal` (a role's or user's ARN) can decrypt with the key when Bedrock applies
/// a guardrail for it; `iam`: its IAM policies, when its account's were read.
pub fn decrypt_access(key: &KeyFacts, principal: &str, iam: Option<&PrincipalPolicies>) -> Access {
    decide(key, principal, iam).0
}

/// The same, and how the access comes about (for combining it with IAM's simulator).
pub fn decide(key: &KeyFacts, principal: &str, iam: Option<&PrincipalPolicies>) -> (Access, Route) {
    decide_for(key, principal, iam, DECRYPT)
}

/// The same for any KMS action Bedrock needs (`kms:CreateGrant`, `kms:GenerateDataKey`, …).
pub fn decide_for(
    key: &KeyFacts,
    principal: &str,
    iam: Option<&PrincipalPolicies>,
    action: &str,
) -> (Access, Route) {
    let (mut access, mut route) = key_side(key, principal, iam, action);
    // A grant naming it for Decrypt lets it decrypt, whatever the key policy leaves out (not
    // what it denies, nor a key that is not enabled); a role's boundary still caps it.
    let open = {
        let allowed = matches!(access, Access::Allowed { .. });
        let unusable = route == Route::Settled && key.state != "Enabled";
        !allowed && !unusable
    };
    if open
        && !key_policy_denies(key, action)
        && let Some(how) = granted(key, principal, action)
    {
        let capped = iam
            .filter(|_| principal.contains(":role/"))
            .and_then(|p| boundary_limit_for(p, action, key.arn));
        access = capped.unwrap_or(Access::Allowed { how });
        route = Route::Named;
    }
    (with_scps(access, iam, principal, action, key.arn), route)
}

/// Whether the key policy's answer was an explicit deny (kept: no grant lifts it).
fn key_policy_denies(key: &KeyFacts, action: &str) -> bool {
    key.policy.is_ok_and(|p| {
        statements(p).iter().any(|s| {
            s["Effect"].as_str() == Some("Deny")
                && applies(s, action, key.arn)
                && s.get("Condition").is_none()
        })
    })
}

/// A grant on the key naming the principal for Decrypt: how it allows it.
fn granted(key: &KeyFacts, principal: &str, action: &str) -> Option<String> {
    let operation = action.strip_prefix("kms:").unwrap_or(action);
    let g = key
        .grants
        .iter()
        .find(|g| g.grantee == principal && g.operations.iter().any(|o| o == operation))?;
    Some(if g.constrained {
        format!(
            "KMS grant {} allows it {action}, under an encryption-context constraint (the requests Bedrock makes must match it)",
            short(&g.id)
        )
    } else {
        format!("KMS grant {} allows it {action}", short(&g.id))
    })
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

/// The service control policies of the principal's account applied to an access: an
/// explicit deny at any level, or a level none of whose policies allows kms:Decrypt, takes
/// it away; not read, the access stays but says so.
fn with_scps(
    access: Access,
    iam: Option<&PrincipalPolicies>,
    principal: &str,
    action: &str,
    key: &str,
) -> Access {
    let Access::Allowed { how } = access else {
        return access;
    };
    let Some(scps) = iam.map(|p| p.scps.as_ref()) else {
        return Access::Allowed { how };
    };
    match scps {
        Scps::NotApplicable => Access::Allowed { how },
        Scps::NotRead(why) => Access::Allowed {
            how: format!("{how} (SCPs not read: {why})"),
        },
        Scps::Read(levels) => {
            for level in levels {
                let mut verdicts = level
                    .policies
                    .iter()
                    .map(|(name, doc)| (name, evaluate(std::slice::from_ref(doc), principal, action, key)));
                let all: Vec<(&String, Verdict)> = verdicts.by_ref().collect();
                if let Some((name, _)) = all.iter().find(|(_, v)| *v == Verdict::Denied) {
                    return Access::Denied {
                        why: format!(
                            "the SCP {name} (on {}) denies it {action} on the key",
                            level.target
                        ),
                    };
                }
                if all.iter().any(|(_, v)| *v == Verdict::Allowed) {
                    continue;
                }
                if all.iter().any(|(_, v)| *v == Verdict::Maybe) {
                    return Access::Unknown {
                        why: format!(
                            "the SCPs on {} allow {action} only under conditions guardkey does not evaluate",
                            level.target
                        ),
                    };
                }
                return Access::Denied {
                    why: format!("no SCP attached to {} allows {action} on the key", level.target),
                };
            }
            Access::Allowed { how }
        }
    }
}

/// IAM's policy simulator's answer (SimulatePrincipalPolicy's EvaluationResult) for one
/// principal, action and key: AWS's evaluation of its identity policies, its permissions
/// boundary and the SCPs of its account, with `kms:ViaService` and `kms:CallerAccount` set as
/// Bedrock's request carries them. No resource policy is sent, so neither the key policy nor
/// the grants are in it: `with_iam_answer` combines them as KMS does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IamAnswer {
    /// EvalDecision: `allowed`, `explicitDeny` or `implicitDeny`.
    pub decision: String,
    /// PermissionsBoundaryDecisionDetail.AllowedByPermissionsBoundary (None: no boundary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boundary_allows: Option<bool>,
    /// OrganizationsDecisionDetail.AllowedByOrganizations (None: not in an organization).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organizations_allow: Option<bool>,
}

/// An access with AWS's word on it, and where guardkey's own evaluation said otherwise.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub access: Access,
    /// guardkey's own answer, when it is not AWS's: the best signal of where its model of
    /// IAM is wrong (or of a policy changed between the reads).
    pub disagreement: Option<String>,
}

fn kind(a: &Access) -> &'static str {
    match a {
        Access::Allowed { .. } => "allowed",
        Access::Denied { .. } => "denied",
        Access::Unknown { .. } => "not known",
    }
}

/// guardkey's own decision combined with IAM's simulator's answer, as KMS combines the key
/// policy with IAM (KMS Developer Guide, "Determining access to a KMS key"): where the key
/// policy defers to IAM, AWS's decision is the identity side's; where the key policy or a
/// grant names the principal, identity policies are not needed, but the SCPs (every
/// principal of a member account) and a role's permissions boundary still cap it; where the
/// key side settles it (a deny, a disabled key), AWS's answer does not change it.
pub fn with_iam_answer(
    own: (Access, Route),
    principal: &str,
    action: &str,
    answer: Option<&IamAnswer>,
) -> Checked {
    let (own, route) = own;
    let Some(a) = answer else {
        return Checked {
            access: own,
            disagreement: None,
        };
    };
    let scps_deny = a.organizations_allow == Some(false);
    let boundary_denies = a.boundary_allows == Some(false);
    let aws = match route {
        Route::Settled | Route::Unknown => {
            return Checked {
                access: own,
                disagreement: None,
            };
        }
        Route::ViaIam if a.decision == "allowed" => Access::Allowed {
            how: format!("IAM's policy simulator allows it {action} (the key policy defers to IAM)"),
        },
        Route::ViaIam => Access::Denied {
            why: format!(
                "IAM's policy simulator: {} of {action} on the key{}",
                a.decision,
                match (scps_deny, boundary_denies) {
                    (true, _) => " (the SCPs of its account do not allow it)",
                    (_, true) => " (its permissions boundary does not allow it)",
                    _ => "",
                }
            ),
        },
        Route::Named if scps_deny => Access::Denied {
            why: format!("IAM's policy simulator: the SCPs of its account do not allow {action} on the key"),
        },
        Route::Named if boundary_denies && principal.contains(":role/") => Access::Denied {
            why: format!(
                "IAM's policy simulator: its permissions boundary does not allow {action} on the key"
            ),
        },
        Route::Named => {
            let base = match &own {
                // The note of SCPs not read is answered now.
                Access::Allowed { how } => how.split(" (SCPs not read").next().unwrap_or(how).to_string(),
                _ => format!("the key policy or a grant allows it {action}"),
            };
            Access::Allowed {
                how: format!("{base}; IAM's policy simulator: no boundary or SCP keeps it out"),
            }
        }
    };
    let disagreement = (kind(&own) != kind(&aws)).then(|| {
        format!(
            "guardkey's own evaluation said {} ({}); IAM's policy simulator's answer is used",
            kind(&own),
            own.reason()
        )
    });
    Checked {
        access: aws,
        disagreement,
    }
}

/// What the key side (state, key policy, then IAM) says.
fn key_side(
    key: &KeyFacts,
    principal: &str,
    iam: Option<&PrincipalPolicies>,
    action: &str,
) -> (Access, Route) {
    if key.state != "Enabled" {
        return (
            Access::Denied {
                why: format!("the key is {}", key.state),
            },
            Route::Settled,
        );
    }
    let policy = match key.policy {
        Ok(p) => p,
        Err(why) => {
            return (
                Access::Unknown {
                    why: format!("the key policy could not be read ({why})"),
                },
                Route::Unknown,
            );
        }
    };
    let (key_account, whose) = (account_of(key.arn), account_of(principal));
    let region = region_of(key.arn);
    let roots = [format!(":iam::{whose}:root"), whose.to_string()];
    let (mut named, mut via_root, mut maybe) = (false, false, false);
    for s in statements(policy) {
        if !applies(s, action, key.arn) {
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
                return (
                    Access::Denied {
                        why: format!("the key policy denies it {action}"),
                    },
                    Route::Settled,
                );
            }
            (Some("Allow"), Some(true)) if names_it || by_arn => named = true,
            (Some("Allow"), Some(true)) => via_root = true,
            (Some("Allow"), None) => maybe = true,
            _ => {}
        }
    }
    if named {
        let allowed = Access::Allowed {
            how: format!("the key policy allows it {action}"),
        };
        // A role runs as sessions: a key policy naming the role does not lift its permissions
        // boundary (naming a user does, within its account).
        let access = match iam.filter(|_| principal.contains(":role/")) {
            Some(p) => boundary_limit_for(p, action, key.arn).unwrap_or(allowed),
            None => allowed,
        };
        return (access, Route::Named);
    }
    if via_root {
        let access = match iam {
            Some(p) => iam_access_for(p, action, key.arn),
            None if whose != key_account => Access::Unknown {
                why: format!(
                    "the key policy lets account {whose} decide: its IAM policies (not read) must allow {action} on {}",
                    key.arn
                ),
            },
            None => Access::Unknown {
                why: "the key policy defers to IAM, and its IAM policies were not read".into(),
            },
        };
        return (access, Route::ViaIam);
    }
    if maybe {
        return (
            Access::Unknown {
                why: "a key-policy statement with conditions guardkey does not evaluate may allow it".into(),
            },
            Route::Unknown,
        );
    }
    (
        Access::Denied {
            why: if whose != key_account {
                format!("the key policy names neither it nor its account {whose}")
            } else {
                format!(
                    "the key policy does not allow it {action} (and has no account-root statement for IAM)"
                )
            },
        },
        Route::Settled,
    )
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
            grants: &[],
        }
    }

    fn iam(doc: Value) -> PrincipalPolicies {
        PrincipalPolicies {
            arn: ROLE.into(),
            documents: vec![doc],
            missing: Vec::new(),
            boundary: None,
            scps: Default::default(),
        }
    }

    #[test]
    fn iam_simulators_answer_is_combined_with_the_key_side_as_kms_does() {
        let answer = |decision: &str, boundary: Option<bool>, org: Option<bool>| IamAnswer {
            decision: decision.into(),
            boundary_allows: boundary,
            organizations_allow: org,
        };
        let allowed = || Access::Allowed {
            how: "its IAM policy allows kms:Decrypt (SCPs not read: denied)".into(),
        };
        let denied = || Access::Denied { why: "no".into() };
        // The key policy defers to IAM: AWS's decision is the identity side's.
        let c = with_iam_answer(
            (allowed(), Route::ViaIam),
            ROLE,
            DECRYPT,
            Some(&answer("implicitDeny", None, Some(false))),
        );
        assert!(
            matches!(&c.access, Access::Denied { why } if why.contains("SCPs of its account")),
            "{c:?}"
        );
        assert!(
            c.disagreement.as_deref().unwrap().contains("said allowed"),
            "{c:?}"
        );
        let c = with_iam_answer(
            (allowed(), Route::ViaIam),
            ROLE,
            DECRYPT,
            Some(&answer("allowed", None, Some(true))),
        );
        assert!(
            matches!(c.access, Access::Allowed { .. }) && c.disagreement.is_none(),
            "{c:?}"
        );
        // Named by the key policy: identity policies are not needed; SCPs and a role's
        // boundary still cap it; the SCP note is answered.
        let c = with_iam_answer(
            (allowed(), Route::Named),
            ROLE,
            DECRYPT,
            Some(&answer("implicitDeny", None, Some(true))),
        );
        match &c.access {
            Access::Allowed { how } => assert!(
                !how.contains("SCPs not read") && how.contains("no boundary or SCP"),
                "{how}"
            ),
            other => panic!("{other:?}"),
        }
        assert!(c.disagreement.is_none());
        let c = with_iam_answer(
            (allowed(), Route::Named),
            ROLE,
            DECRYPT,
            Some(&answer("implicitDeny", Some(false), None)),
        );
        assert!(
            matches!(&c.access, Access::Denied { why } if why.contains("permissions boundary")),
            "{c:?}"
        );
        // The key side settles it: AWS's identity answer changes nothing.
        let c = with_iam_answer(
            (denied(), Route::Settled),
            ROLE,
            DECRYPT,
            Some(&answer("allowed", None, None)),
        );
        assert_eq!(c.access, denied());
        assert!(c.disagreement.is_none());
        // Not asked: guardkey's own.
        assert_eq!(
            with_iam_answer((denied(), Route::ViaIam), ROLE, DECRYPT, None).access,
            denied()
        );
    }

    #[test]
    fn a_grant_lets_it_decrypt_and_an_scp_takes_it_away() {
        let root = json!({"Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]});
        let nothing = iam(json!({"Statement": []}));
        assert!(matches!(
            decrypt_access(&key(&root), ROLE, Some(&nothing)),
            Access::Denied { .. }
        ));
        let grants = [KeyGrant {
            id: "0123456789abcdef0123".into(),
            grantee: ROLE.into(),
            operations: vec!["Decrypt".into()],
            constrained: false,
        }];
        let with_grant = KeyFacts {
            grants: &grants,
            ..key(&root)
        };
        match decide(&with_grant, ROLE, Some(&nothing)) {
            (Access::Allowed { how }, Route::Named) => {
                assert!(how.contains("KMS grant 0123456789ab"), "{how}")
            }
            other => panic!("{other:?}"),
        }
        // A grant for other operations, or another principal, gives nothing.
        let other = [KeyGrant {
            operations: vec!["Encrypt".into()],
            ..grants[0].clone()
        }];
        assert!(matches!(
            decrypt_access(
                &KeyFacts {
                    grants: &other,
                    ..key(&root)
                },
                ROLE,
                Some(&nothing)
            ),
            Access::Denied { .. }
        ));
        // SCPs: an allow-list at an OU that leaves the key out, and an explicit deny.
        let allowed =
            iam(json!({"Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}));
        let full = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
        let approved_only = json!({"Statement": [{"Effect": "Deny", "Action": "kms:Decrypt",
            "NotResource": ["arn:aws:kms:us-east-1:111122223333:key/approved"]}]});
        let only_s3 = json!({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]});
        let with = |levels: Vec<ScpLevel>| PrincipalPolicies {
            scps: std::sync::Arc::new(Scps::Read(levels)),
            ..allowed.clone()
        };
        let level = |target: &str, docs: Vec<(&str, Value)>| ScpLevel {
            target: target.into(),
            policies: docs.into_iter().map(|(n, d)| (n.to_string(), d)).collect(),
        };
        let denied = with(vec![
            level("r-root", vec![("FullAWSAccess", full.clone())]),
            level(
                "ou-prod",
                vec![
                    ("FullAWSAccess", full.clone()),
                    ("ApprovedKeysOnly", approved_only),
                ],
            ),
        ]);
        match decrypt_access(&key(&root), ROLE, Some(&denied)) {
            Access::Denied { why } => assert!(
                why.contains("ApprovedKeysOnly") && why.contains("ou-prod"),
                "{why}"
            ),
            other => panic!("{other:?}"),
        }
        let narrow = with(vec![
            level("r-root", vec![("FullAWSAccess", full.clone())]),
            level("ou-data", vec![("S3Only", only_s3)]),
        ]);
        match decrypt_access(&key(&root), ROLE, Some(&narrow)) {
            Access::Denied { why } => assert!(why.contains("no SCP attached to ou-data"), "{why}"),
            other => panic!("{other:?}"),
        }
        let open = with(vec![level("r-root", vec![("FullAWSAccess", full)])]);
        assert!(matches!(
            decrypt_access(&key(&root), ROLE, Some(&open)),
            Access::Allowed { .. }
        ));
        let unread = PrincipalPolicies {
            scps: std::sync::Arc::new(Scps::NotRead(
                "denied: organizations:ListPoliciesForTarget".into(),
            )),
            ..allowed
        };
        match decrypt_access(&key(&root), ROLE, Some(&unread)) {
            Access::Allowed { how } => assert!(how.contains("SCPs not read"), "{how}"),
            other => panic!("{other:?}"),
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
