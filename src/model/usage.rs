//! Who uses a guardrail, as plain data: its users, how each applies it, and whether each can
//! decrypt with the guardrail's key. A guardrail carries it (`Guardrail::usage`); building it
//! (reading agents, flows and IAM, evaluating access as KMS does) is `crate::usage`'s.

use serde::{Deserialize, Serialize};

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

/// How a user comes to apply the guardrail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Via {
    /// A Bedrock agent (its DRAFT or a published version) configured with the guardrail;
    /// the principal is the agent's service role.
    Agent {
        id: String,
        name: String,
        version: String,
    },
    /// A prompt flow whose prompt or knowledge-base node names the guardrail; the principal
    /// is the flow's execution role.
    Flow { id: String, name: String, node: String },
    /// An identity policy allows `bedrock:ApplyGuardrail` on the guardrail. `conditional`:
    /// the statement has conditions (it *may* use it); `broad`: it is allowed every action or
    /// every Bedrock action on every resource (an administrator).
    Policy { conditional: bool, broad: bool },
}

/// One user of a guardrail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardrailUser {
    /// The IAM role or user that applies the guardrail (and so needs kms:Decrypt).
    pub principal: String,
    pub via: Via,
    /// The guardrail version it applies (`DRAFT` or a number); None: any (an IAM grant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrail_version: Option<String>,
    /// Whether it can decrypt with the guardrail's current key (AWS-owned: always).
    pub current_key: Access,
    /// The account's IAM was read and does not list this principal (an agent or flow whose
    /// role was deleted): no key policy can name it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub missing: bool,
    /// What its permissions boundary does to kms:Decrypt whatever key it is (denied, or not
    /// known): a new key's policy naming it would not let it decrypt. None: nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capped: Option<Access>,
    /// What guardkey's own evaluation said of the current key where IAM's policy simulator
    /// answered otherwise (`current_key` holds AWS's answer). None: they agree, or AWS was not
    /// asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disagreement: Option<String>,
}

impl GuardrailUser {
    /// What it is, for a person: `agent support-bot (v2)`, `flow claims-flow`, `role ChatApp`.
    pub fn label(&self) -> String {
        let name = principal_name(&self.principal);
        match &self.via {
            Via::Agent {
                name: agent, version, ..
            } if version == "DRAFT" => format!("agent {agent}"),
            Via::Agent {
                name: agent, version, ..
            } => format!("agent {agent} (version {version})"),
            Via::Flow { name: flow, .. } => format!("flow {flow}"),
            Via::Policy {
                conditional: true, ..
            } => format!("{name} (may use: conditions)"),
            Via::Policy { .. } => name,
        }
    }

    /// Whether a key policy of `account` can name it: one of the account's own principals,
    /// listed by IAM (KMS refuses a principal that does not exist).
    pub fn nameable_in(&self, account: &str) -> bool {
        self.principal.split(':').nth(4) == Some(account) && !self.missing
    }

    /// An administrator's broad grant: shown as a count, never named one by one.
    pub fn is_broad(&self) -> bool {
        matches!(self.via, Via::Policy { broad: true, .. })
    }
}

/// `role/ChatApp`, `user/alice` from an IAM ARN (the path left out).
pub fn principal_name(arn: &str) -> String {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or(arn);
    match resource.split_once('/') {
        Some((kind, rest)) => format!("{kind} {}", rest.rsplit('/').next().unwrap_or(rest)),
        None => resource.to_string(),
    }
}

/// A source of usage that could not be read: who uses the guardrail through it is UNKNOWN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnknownSource {
    /// `agents`, `flows` or `IAM policies`.
    pub source: String,
    /// Why, with the permission to add.
    pub reason: String,
}

/// Who uses one guardrail, as far as could be read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub users: Vec<GuardrailUser>,
    /// Sources that could not be read: never "nobody", always named.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<UnknownSource>,
}

impl Usage {
    /// The users a key must let decrypt: everyone but administrators (who decrypt through
    /// their IAM policies wherever the key policy has the account-root statement).
    pub fn named_users(&self) -> impl Iterator<Item = &GuardrailUser> {
        self.users.iter().filter(|u| !u.is_broad())
    }

    /// Each named user with its mark for the current key, administrators counted, the
    /// sources not read named: one line for reports.
    pub fn describe(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .named_users()
            .map(|u| {
                let resource = u.principal.splitn(6, ':').nth(5).unwrap_or(&u.principal);
                let role = match u.via {
                    Via::Policy { .. } => String::new(),
                    _ => format!(" as {resource}"),
                };
                // A boundary that keeps kms:Decrypt out: no customer managed key can serve it.
                let capped = match &u.capped {
                    Some(Access::Denied { .. }) => " (its permissions boundary lets no kms:Decrypt through)",
                    Some(_) => " (its permissions boundary may keep kms:Decrypt out)",
                    None => "",
                };
                format!("{} {}{role}{capped}", u.current_key.mark(), u.label())
            })
            .collect();
        match self.broad_count() {
            0 => {}
            1 => out.push("+ 1 administrator".into()),
            n => out.push(format!("+ {n} administrators")),
        }
        out.extend(self.unknown.iter().map(|s| format!("? {} not read", s.source)));
        if out.is_empty() {
            out.push("nobody found".into());
        }
        out
    }

    /// Whether a report has something to say of it: someone but administrators uses it, or a
    /// source could not be read.
    pub fn worth_listing(&self) -> bool {
        self.named_users().next().is_some() || !self.unknown.is_empty()
    }

    /// Named users that cannot decrypt with the current key.
    pub fn locked_out(&self) -> usize {
        self.named_users()
            .filter(|u| matches!(u.current_key, Access::Denied { .. }))
            .count()
    }

    pub fn broad_count(&self) -> usize {
        self.users.iter().filter(|u| u.is_broad()).count()
    }

    /// What a table cell shows: the number of named users, `?` when a source is unknown
    /// and none was found, `!` appended when one cannot decrypt with the current key.
    pub fn marker(&self) -> String {
        let named = self.named_users().count();
        let locked = self.locked_out() > 0;
        match (named, self.unknown.is_empty(), locked) {
            (0, false, _) => "?".into(),
            (n, true, false) => n.to_string(),
            (n, false, false) => format!("{n}+?"),
            (n, _, true) => format!("{n}!"),
        }
    }
}
