//! Who uses a guardrail, and whether they can decrypt with its key.
//!
//! AWS's guide ("Create a customer managed key for your guardrail") says every role that
//! uses a guardrail during inference, or invokes an agent that uses it, needs `kms:Decrypt`
//! on its key: moving a guardrail to a key those roles cannot use breaks them. This module
//! is pure: it takes what was read (agents, flows, the account's IAM policies, key policies)
//! and says who uses each guardrail and whether each can decrypt with a given key.
//!
//! - `index`: IAM identity policies → who is allowed `bedrock:ApplyGuardrail` on a guardrail,
//!   built once per account, queried per guardrail (linear, not principals × guardrails).
//! - `access`: a key policy and a principal's IAM policies → can it decrypt (KMS's order).

pub mod access;
pub mod index;

pub use crate::model::usage::{GuardrailUser, UnknownSource, Usage, Via, principal_name};
pub use access::{Access, Checked, IamAnswer, KeyFacts, KeyGrant, boundary_limit, decrypt_access};
pub use index::{AccountIam, Boundary, IamIndex, PrincipalPolicies};

/// The DRAFT of agent `claims-agent` running as `principal`, for tests.
#[cfg(test)]
pub(crate) fn claims_agent(principal: &str, current_key: Access) -> GuardrailUser {
    GuardrailUser {
        principal: principal.into(),
        via: Via::Agent {
            id: "AGENT12345".into(),
            name: "claims-agent".into(),
            version: "DRAFT".into(),
        },
        guardrail_version: Some("DRAFT".into()),
        current_key,
        missing: false,
        capped: None,
        disagreement: None,
    }
}

/// The id of a guardrail an agent or flow names by id or ARN.
pub fn guardrail_id_of(identifier: &str) -> &str {
    identifier
        .rsplit_once("guardrail/")
        .map_or(identifier, |(_, id)| id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_named_for_people() {
        let user = |via| GuardrailUser {
            principal: "arn:aws:iam::123456789012:role/service-role/AgentRole".into(),
            via,
            guardrail_version: None,
            current_key: Access::Allowed {
                how: "AWS-owned key".into(),
            },
            missing: false,
            capped: None,
            disagreement: None,
        };
        assert_eq!(
            user(Via::Agent {
                id: "A".into(),
                name: "support".into(),
                version: "3".into()
            })
            .label(),
            "agent support (version 3)"
        );
        assert_eq!(
            user(Via::Policy {
                conditional: true,
                broad: false
            })
            .label(),
            "role AgentRole (may use: conditions)"
        );
        assert_eq!(
            guardrail_id_of("arn:aws:bedrock:us-east-1:1:guardrail/abc123"),
            "abc123"
        );
        assert_eq!(guardrail_id_of("abc123"), "abc123");
    }

    #[test]
    fn the_marker_never_says_none_when_a_source_was_not_read() {
        let mut usage = Usage::default();
        assert_eq!(usage.marker(), "0");
        usage.unknown.push(UnknownSource {
            source: "agents".into(),
            reason: "denied".into(),
        });
        assert_eq!(usage.marker(), "?");
        usage.users.push(GuardrailUser {
            principal: "arn:aws:iam::1:role/R".into(),
            via: Via::Flow {
                id: "F".into(),
                name: "f".into(),
                node: "n".into(),
            },
            guardrail_version: Some("DRAFT".into()),
            current_key: Access::Denied {
                why: "no grant".into(),
            },
            missing: false,
            capped: None,
            disagreement: None,
        });
        assert_eq!(usage.marker(), "1!");
    }
}
