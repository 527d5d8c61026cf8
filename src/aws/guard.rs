//! The read-only guard: an SDK interceptor on every client that refuses, before anything is
//! signed or sent, each operation that is not a read.

use aws_sdk_bedrock::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

use super::error::ReadOnlyRefusal;

#[derive(Debug, Clone, Copy)]
pub struct ReadOnlyGuard {
    pub enabled: bool,
    /// The writes this client may still make on a read-only session: only the Security Hub
    /// client's `BatchImportFindings`, which `scan --security-hub` asks for and which touches
    /// no guardrail and no key.
    pub allowed_writes: &'static [&'static str],
}

/// Reads are recognised by name, and anything else is a write: a new operation is refused
/// until it is known to be harmless, never the other way round.
pub fn is_read(operation: &str) -> bool {
    ["Get", "List", "Describe"]
        .iter()
        .any(|p| operation.starts_with(p))
        // IAM's policy simulator evaluates policies and changes nothing (IAM API reference).
        || operation == "SimulatePrincipalPolicy"
}

impl Intercept for ReadOnlyGuard {
    fn name(&self) -> &'static str {
        "guardkey-read-only-guard"
    }

    // The operation's metadata is in the bag once its runtime plugins ran, which is before
    // serialization: nothing has been signed or sent yet.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if !self.enabled {
            return Ok(());
        }
        let Some(meta) = cfg.load::<Metadata>() else {
            return Err(Box::new(ReadOnlyRefusal {
                action: "an unnamed operation".into(),
            }));
        };
        if is_read(meta.name()) || self.allowed_writes.contains(&meta.name()) {
            Ok(())
        } else {
            let service = meta.service().to_ascii_lowercase();
            Err(Box::new(ReadOnlyRefusal {
                action: format!("{service}:{}", meta.name()),
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_reads_pass() {
        for op in [
            "GetGuardrail",
            "ListGuardrails",
            "DescribeKey",
            "GetKeyRotationStatus",
            "ListAliases",
            "GetCallerIdentity",
        ] {
            assert!(is_read(op), "{op}");
        }
        for op in [
            "UpdateGuardrail",
            "CreateKey",
            "CreateAlias",
            "EnableKeyRotation",
            "PutKeyPolicy",
            "TagResource",
            "Decrypt",
        ] {
            assert!(!is_read(op), "{op}");
        }
    }
}
