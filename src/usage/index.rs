//! An account's IAM identity policies, indexed by the guardrails they let a principal apply.
//!
//! Built once per account from GetAccountAuthorizationDetails, in one pass over the
//! statements: a statement allowing `bedrock:ApplyGuardrail` on an exact ARN goes into a
//! map by ARN; one on a pattern (`…:guardrail/*`, `*`) into a list by distinct pattern. A
//! guardrail's users are then its map entry plus the patterns it matches, so the cost is
//! linear in statements plus guardrails × distinct patterns (a handful), never principals ×
//! guardrails. IAM's rules (IAM User Guide, "Policy evaluation logic", "IAM JSON policy
//! elements"): actions match case-insensitively with `*` and `?`; `NotAction` allows every
//! action it does not list; `NotResource` every resource it does not list; an explicit Deny
//! wins. Permissions boundaries (read, and applied to kms:Decrypt in `access`), SCPs and
//! session policies are not applied here: a principal found is one that *may* apply the
//! guardrail, which is what a fix must not lock out.

use std::collections::HashMap;

use serde_json::Value;

use crate::model::policy::{statements, strings, wildcard};

/// A principal's identity policies, decoded: its inline policies, its attached managed
/// policies' default versions and, for a user, its groups'.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PrincipalPolicies {
    /// The role's or user's ARN, path included.
    pub arn: String,
    pub documents: Vec<Value>,
    /// Attached managed policies whose documents were not in the answer: what they allow
    /// is not known.
    pub missing: Vec<String>,
    /// Its permissions boundary, if it has one: the most its identity policies can give it
    /// (and, for a role, the most a resource policy naming the role can).
    pub boundary: Option<Boundary>,
    /// The service control policies of its account (shared by the account's principals).
    pub scps: std::sync::Arc<super::access::Scps>,
}

/// A permissions boundary (a managed policy set on a role or user).
#[derive(Debug, Clone, PartialEq)]
pub enum Boundary {
    Policy {
        arn: String,
        document: Value,
    },
    /// Its document was not in GetAccountAuthorizationDetails's answer: what it allows is
    /// not known.
    Missing {
        arn: String,
    },
}

/// One account's IAM principals, as GetAccountAuthorizationDetails listed them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountIam {
    pub account: String,
    pub principals: Vec<PrincipalPolicies>,
}

impl AccountIam {
    /// The account's service control policies, for every one of its principals.
    pub fn set_scps(&mut self, scps: super::access::Scps) {
        let shared = std::sync::Arc::new(scps);
        for p in &mut self.principals {
            p.scps = shared.clone();
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub principal: usize,
    pub conditional: bool,
    pub broad: bool,
}

/// Who may apply which guardrail, by the account's identity policies.
#[derive(Debug, Default)]
pub struct IamIndex<'a> {
    iam: Option<&'a AccountIam>,
    exact: HashMap<&'a str, Vec<Grant>>,
    patterns: Vec<(&'a str, Vec<Grant>)>,
    /// Unconditional denies of ApplyGuardrail, by principal.
    denies: HashMap<usize, Vec<&'a str>>,
    by_arn: HashMap<&'a str, usize>,
}

/// Whether a statement's `Action` (or `NotAction`) covers `action` (lowercase).
pub(crate) fn covers_action(statement: &Value, action: &str) -> bool {
    let hit = |v: &Value| {
        strings(v)
            .iter()
            .any(|p| wildcard(&p.to_ascii_lowercase(), action))
    };
    match statement.get("NotAction") {
        Some(not) => !hit(not),
        None => hit(&statement["Action"]),
    }
}

const APPLY: &str = "bedrock:applyguardrail";

impl<'a> IamIndex<'a> {
    pub fn build(iam: &'a AccountIam) -> Self {
        let mut index = IamIndex {
            iam: Some(iam),
            ..Default::default()
        };
        let mut pattern_at: HashMap<&'a str, usize> = HashMap::new();
        for (i, p) in iam.principals.iter().enumerate() {
            index.by_arn.insert(p.arn.as_str(), i);
            for doc in &p.documents {
                for s in statements(doc) {
                    if !covers_action(s, APPLY) {
                        continue;
                    }
                    let conditional = s.get("Condition").is_some();
                    let (resources, negated) = match s.get("NotResource") {
                        // Every resource but those listed: as good as `*`, and said "may".
                        Some(_) => (vec!["*"], true),
                        None => (strings(&s["Resource"]), false),
                    };
                    if s["Effect"].as_str() == Some("Deny") {
                        if !conditional && !negated {
                            index.denies.entry(i).or_default().extend(resources);
                        }
                        continue;
                    }
                    if s["Effect"].as_str() != Some("Allow") {
                        continue;
                    }
                    let actions = strings(&s["Action"]);
                    for r in resources {
                        let broad = r == "*"
                            && actions
                                .iter()
                                .any(|a| *a == "*" || a.eq_ignore_ascii_case("bedrock:*"));
                        let grant = Grant {
                            principal: i,
                            conditional: conditional || negated,
                            broad,
                        };
                        if r.contains(['*', '?']) {
                            let at = *pattern_at.entry(r).or_insert_with(|| {
                                index.patterns.push((r, Vec::new()));
                                index.patterns.len() - 1
                            });
                            index.patterns[at].1.push(grant);
                        } else {
                            index.exact.entry(r).or_default().push(grant);
                        }
                    }
                }
            }
        }
        index
    }

    /// The principals that may apply the guardrail `arn`: one grant each (an unconditional
    /// one preferred), those denied it left out.
    pub fn users_of(&self, arn: &str) -> Vec<(&'a PrincipalPolicies, Grant)> {
        let Some(iam) = self.iam else {
            return Vec::new();
        };
        let mut best: HashMap<usize, Grant> = HashMap::new();
        let matching = self.exact.get(arn).into_iter().flatten().chain(
            self.patterns
                .iter()
                .filter(|(p, _)| wildcard(p, arn))
                .flat_map(|(_, g)| g),
        );
        for g in matching {
            best.entry(g.principal)
                .and_modify(|b| {
                    b.conditional &= g.conditional;
                    b.broad &= g.broad;
                })
                .or_insert(*g);
        }
        let mut out: Vec<(&PrincipalPolicies, Grant)> = best
            .into_values()
            .filter(|g| {
                !self
                    .denies
                    .get(&g.principal)
                    .is_some_and(|d| d.iter().any(|p| wildcard(p, arn)))
            })
            .map(|g| (&iam.principals[g.principal], g))
            .collect();
        out.sort_by(|a, b| a.0.arn.cmp(&b.0.arn));
        out
    }

    /// A principal of this account by its ARN (a role's, path included).
    pub fn principal(&self, arn: &str) -> Option<&'a PrincipalPolicies> {
        let iam = self.iam?;
        self.by_arn.get(arn).map(|i| &iam.principals[*i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn principal(arn: &str, doc: Value) -> PrincipalPolicies {
        PrincipalPolicies {
            arn: arn.into(),
            documents: vec![doc],
            missing: Vec::new(),
            boundary: None,
            scps: Default::default(),
        }
    }

    #[test]
    fn exact_arns_patterns_conditions_and_denies() {
        let g1 = "arn:aws:bedrock:us-east-1:111122223333:guardrail/aaa111";
        let g2 = "arn:aws:bedrock:eu-west-1:111122223333:guardrail/bbb222";
        let iam = AccountIam {
            account: "111122223333".into(),
            principals: vec![
                principal(
                    "arn:aws:iam::111122223333:role/App",
                    json!({"Statement": {"Effect": "Allow", "Action": "bedrock:ApplyGuardrail", "Resource": g1}}),
                ),
                principal(
                    "arn:aws:iam::111122223333:role/Wild",
                    json!({"Statement": [{"Effect": "Allow", "Action": "Bedrock:Apply*",
                        "Resource": "arn:aws:bedrock:*:111122223333:guardrail/*",
                        "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}}]}),
                ),
                principal(
                    "arn:aws:iam::111122223333:role/Admin",
                    json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"},
                        {"Effect": "Deny", "Action": "bedrock:ApplyGuardrail", "Resource": g2}]}),
                ),
                principal(
                    "arn:aws:iam::111122223333:role/Reader",
                    json!({"Statement": {"Effect": "Allow", "NotAction": "bedrock:ApplyGuardrail", "Resource": "*"}}),
                ),
            ],
        };
        let index = IamIndex::build(&iam);
        let names = |arn: &str| {
            index
                .users_of(arn)
                .iter()
                .map(|(p, g)| {
                    format!(
                        "{} {} {}",
                        p.arn.rsplit('/').next().unwrap(),
                        g.conditional,
                        g.broad
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(g1),
            ["Admin false true", "App false false", "Wild true false"]
        );
        assert_eq!(
            names(g2),
            ["Wild true false"],
            "Admin is denied g2; Reader never allowed"
        );
        assert!(index.principal("arn:aws:iam::111122223333:role/App").is_some());
    }
}
