//! A guardrail's encryption posture: what Bedrock-003 says about it and why.
//!
//! Never a guessed pass or fail: when a call that the verdict depends on failed, the
//! posture is UNKNOWN and says which call and which permission.
//!
//! (Over 500 lines for its tests: the table-driven proof that no failed input passes.)

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::{CallError, KeyInfo, KeyLookup};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Pass,
    Warn,
    Unknown,
    Fail,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Pass => "PASS",
            Level::Warn => "WARN",
            Level::Unknown => "UNKNOWN",
            Level::Fail => "FAIL",
        }
    }

    /// The status mark; status is never colour alone.
    pub fn symbol(self) -> &'static str {
        match self {
            Level::Pass => "✓",
            Level::Warn => "!",
            Level::Unknown => "?",
            Level::Fail => "✗",
        }
    }
}

/// Every posture guardkey can give, each with a stable id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PostureId {
    AwsOwnedKey,
    KeyDisabled,
    KeyPendingDeletion,
    KeyNotFound,
    KeyUnavailable,
    KeyNotCustomerManaged,
    KeyRotationDisabled,
    KeyInOtherAccount,
    KeyInOtherRegion,
    /// On a customer managed key that a known user of the guardrail cannot decrypt with:
    /// the guardrail no longer works for it (read with who uses it: `--usage`, the explorer).
    KeyLocksOutUsers,
    /// On a customer managed key, and whether a known user can decrypt with it is not known.
    KeyUserAccessUnknown,
    AccessDenied,
    Throttled,
    Timeout,
    LookupFailed,
    CustomerManagedKey,
}

impl PostureId {
    pub const ALL: [PostureId; 16] = [
        PostureId::AwsOwnedKey,
        PostureId::KeyDisabled,
        PostureId::KeyPendingDeletion,
        PostureId::KeyNotFound,
        PostureId::KeyUnavailable,
        PostureId::KeyNotCustomerManaged,
        PostureId::KeyRotationDisabled,
        PostureId::KeyInOtherAccount,
        PostureId::KeyInOtherRegion,
        PostureId::KeyLocksOutUsers,
        PostureId::KeyUserAccessUnknown,
        PostureId::AccessDenied,
        PostureId::Throttled,
        PostureId::Timeout,
        PostureId::LookupFailed,
        PostureId::CustomerManagedKey,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PostureId::AwsOwnedKey => "aws-owned-key",
            PostureId::KeyDisabled => "key-disabled",
            PostureId::KeyPendingDeletion => "key-pending-deletion",
            PostureId::KeyNotFound => "key-not-found",
            PostureId::KeyUnavailable => "key-unavailable",
            PostureId::KeyNotCustomerManaged => "key-not-customer-managed",
            PostureId::KeyRotationDisabled => "key-rotation-disabled",
            PostureId::KeyInOtherAccount => "key-in-other-account",
            PostureId::KeyInOtherRegion => "key-in-other-region",
            PostureId::KeyLocksOutUsers => "key-locks-out-users",
            PostureId::KeyUserAccessUnknown => "key-user-access-unknown",
            PostureId::AccessDenied => "access-denied",
            PostureId::Throttled => "throttled",
            PostureId::Timeout => "timeout",
            PostureId::LookupFailed => "lookup-failed",
            PostureId::CustomerManagedKey => "customer-managed-key",
        }
    }

    pub fn level(self) -> Level {
        match self {
            PostureId::AwsOwnedKey
            | PostureId::KeyDisabled
            | PostureId::KeyPendingDeletion
            | PostureId::KeyNotFound
            | PostureId::KeyUnavailable
            | PostureId::KeyNotCustomerManaged
            | PostureId::KeyLocksOutUsers => Level::Fail,
            PostureId::KeyRotationDisabled
            | PostureId::KeyInOtherAccount
            | PostureId::KeyInOtherRegion
            | PostureId::KeyUserAccessUnknown => Level::Warn,
            PostureId::AccessDenied | PostureId::Throttled | PostureId::Timeout | PostureId::LookupFailed => {
                Level::Unknown
            }
            PostureId::CustomerManagedKey => Level::Pass,
        }
    }

    /// What the rule is, in one line, for SARIF rules and help.
    pub fn title(self) -> &'static str {
        match self {
            PostureId::AwsOwnedKey => "Guardrail encrypted with the AWS-owned key (Bedrock-003)",
            PostureId::KeyDisabled => "Guardrail's KMS key is disabled",
            PostureId::KeyPendingDeletion => "Guardrail's KMS key is pending deletion",
            PostureId::KeyNotFound => "Guardrail's KMS key does not exist",
            PostureId::KeyUnavailable => "Guardrail's KMS key is unavailable",
            PostureId::KeyNotCustomerManaged => "Guardrail's KMS key is AWS managed, not customer managed",
            PostureId::KeyRotationDisabled => "Guardrail's KMS key has automatic rotation off",
            PostureId::KeyInOtherAccount => "Guardrail's KMS key is in another account",
            PostureId::KeyInOtherRegion => "Guardrail's KMS key is in another region",
            PostureId::KeyLocksOutUsers => "Guardrail's KMS key locks out users of the guardrail",
            PostureId::KeyUserAccessUnknown => {
                "Whether the users of the guardrail can decrypt with its KMS key is not known"
            }
            PostureId::AccessDenied => "Posture unknown: access denied",
            PostureId::Throttled => "Posture unknown: throttled",
            PostureId::Timeout => "Posture unknown: timed out",
            PostureId::LookupFailed => "Posture unknown: a lookup failed",
            PostureId::CustomerManagedKey => "Guardrail encrypted with a healthy customer managed key",
        }
    }
}

/// One thing found about a guardrail's encryption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub id: PostureId,
    pub level: Level,
    pub reason: Text,
    pub hint: Text,
}

/// Most reasons and hints are the same for thousands of guardrails: they are not copied.
pub type Text = Cow<'static, str>;

impl Finding {
    fn new(id: PostureId, reason: impl Into<Text>, hint: impl Into<Text>) -> Self {
        Finding {
            id,
            level: id.level(),
            reason: reason.into(),
            hint: hint.into(),
        }
    }
}

/// The verdict on a guardrail: its worst finding, and any others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posture {
    pub level: Level,
    pub id: PostureId,
    pub reason: Text,
    pub hint: Text,
    /// The other findings, worst first (most guardrails have none, and store nothing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more: Vec<Finding>,
}

impl Posture {
    /// The ids of every finding, the posture's own first.
    pub fn finding_ids(&self) -> Vec<PostureId> {
        std::iter::once(self.id)
            .chain(self.more.iter().map(|f| f.id))
            .collect()
    }
}

impl Posture {
    /// The posture with `finding` among its findings (one of the same id replaced), worst
    /// first again.
    pub fn with_finding(&self, finding: Option<Finding>, replaces: &[PostureId]) -> Posture {
        let mut findings: Vec<Finding> = std::iter::once(Finding {
            id: self.id,
            level: self.level,
            reason: self.reason.clone(),
            hint: self.hint.clone(),
        })
        .chain(self.more.iter().cloned())
        .filter(|f| !replaces.contains(&f.id))
        .collect();
        findings.extend(finding);
        if findings.len() > 1 {
            // A healthy key is no finding beside another one.
            findings.retain(|f| f.id != PostureId::CustomerManagedKey);
        }
        if findings.is_empty() {
            findings.push(healthy());
        }
        ranked(findings)
    }
}

/// What who uses a guardrail says of its key: a known user that cannot decrypt with the
/// customer managed key (FAIL: the guardrail no longer works for it), or one whose access is
/// not known (WARN: never a pass on a guess). The AWS-owned key lets everyone decrypt; a user
/// IAM does not list cannot apply the guardrail with any key, and is said by the usage, not here.
pub fn usage_finding(kms_key_arn: Option<&str>, usage: &super::usage::Usage) -> Option<Finding> {
    use super::usage::Access;
    kms_key_arn?;
    let users: Vec<&super::usage::GuardrailUser> = usage.named_users().filter(|u| !u.missing).collect();
    let names = |f: fn(&Access) -> bool| -> Vec<String> {
        users
            .iter()
            .filter(|u| f(&u.current_key))
            .map(|u| format!("{} ({})", u.label(), u.current_key.reason()))
            .collect()
    };
    let denied = names(|a| matches!(a, Access::Denied { .. }));
    if !denied.is_empty() {
        return Some(Finding::new(
            PostureId::KeyLocksOutUsers,
            format!(
                "{} cannot decrypt with the guardrail's key: {}",
                if denied.len() == 1 { "A user" } else { "Users" },
                denied.join("; ")
            ),
            "Add them to the key policy with `guardkey fix --key KEY --grant-users` (or the wizard), or let kms:Decrypt through their permissions boundary.",
        ));
    }
    let unknown = names(|a| matches!(a, Access::Unknown { .. }));
    (!unknown.is_empty()).then(|| {
        Finding::new(
            PostureId::KeyUserAccessUnknown,
            format!(
                "Not known whether {} can decrypt with the guardrail's key: {}",
                if unknown.len() == 1 { "a user" } else { "users" },
                unknown.join("; ")
            ),
            "Grant guardkey what it lacks to read the key policy and IAM (`guardkey policy scan`), or check the key policy by hand.",
        )
    })
}

/// The findings that come from who uses a guardrail (replaced whenever usage is read again).
pub const USAGE_FINDINGS: [PostureId; 2] = [PostureId::KeyLocksOutUsers, PostureId::KeyUserAccessUnknown];

fn healthy() -> Finding {
    Finding::new(
        PostureId::CustomerManagedKey,
        "Encrypted with an enabled, customer managed, rotating key",
        "Nothing to do.",
    )
}

/// Worst first; among equals, the order the checks were made in.
fn ranked(mut findings: Vec<Finding>) -> Posture {
    findings.sort_by_key(|f| std::cmp::Reverse(f.level));
    let more = findings.split_off(1);
    let top = findings.pop().expect("at least one finding");
    Posture {
        level: top.level,
        id: top.id,
        reason: top.reason,
        hint: top.hint,
        more,
    }
}

const FIX_HINT: &str = "Run `guardkey fix` (or the wizard, `f`) to create a customer managed key and apply it without losing any setting.";

fn unknown_from(error: &CallError, what: &str) -> Finding {
    match error {
        CallError::AccessDenied { action, .. } => {
            let permission = action.clone().unwrap_or_else(|| "the needed permission".into());
            let hint = match action.as_deref().and_then(crate::permissions::granting) {
                Some(policy) => format!(
                    "Add {permission} to the scanning role (it is in `guardkey policy {policy}`) and scan again."
                ),
                None => format!("Grant {permission} to the scanning role and scan again."),
            };
            Finding::new(
                PostureId::AccessDenied,
                format!("{what}: access denied ({permission})"),
                hint,
            )
        }
        CallError::Throttled => Finding::new(
            PostureId::Throttled,
            format!("{what}: throttled after all retries"),
            "Scan again later or with fewer regions at once.",
        ),
        CallError::Timeout => Finding::new(
            PostureId::Timeout,
            format!("{what}: no answer in time"),
            "Scan again; check network access to the region's endpoints.",
        ),
        other => Finding::new(
            PostureId::LookupFailed,
            format!("{what}: {}", other.label()),
            format!("Scan again; the error was: {}", other.detail()),
        ),
    }
}

fn key_findings(key: &KeyInfo, account: &str, region: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let name = key.display_name();
    match key.state.as_str() {
        "Enabled" => {}
        "Disabled" => out.push(Finding::new(
            PostureId::KeyDisabled,
            format!("Key {name} is disabled: the guardrail cannot be used at inference"),
            "Enable the key (aws kms enable-key) or move the guardrail to a healthy key with `guardkey fix --key`.",
        )),
        "PendingDeletion" => out.push(Finding::new(
            PostureId::KeyPendingDeletion,
            format!(
                "Key {name} is pending deletion{}: the guardrail is unusable and will be lost with the key",
                key.deletion_date.as_deref().map(|d| format!(" on {d}")).unwrap_or_default()
            ),
            "Cancel the deletion now (aws kms cancel-key-deletion, then enable-key), or move the guardrail to another key.",
        )),
        other => out.push(Finding::new(
            PostureId::KeyUnavailable,
            format!("Key {name} is {other}: the guardrail cannot be used at inference"),
            "Restore the key (for an external key store, its proxy) or move the guardrail to a healthy key.",
        )),
    }
    if !key.is_customer_managed() {
        out.push(Finding::new(
            PostureId::KeyNotCustomerManaged,
            format!("Key {name} is AWS managed: you cannot control, audit or revoke it (Bedrock-003)"),
            FIX_HINT,
        ));
    }
    if key.is_customer_managed() {
        match &key.rotation {
            super::Rotation::Disabled => out.push(Finding::new(
                PostureId::KeyRotationDisabled,
                format!("Key {name} has automatic rotation off"),
                format!(
                    "aws kms enable-key-rotation --region {} --key-id {}",
                    key.region, key.key_id
                ),
            )),
            // Rotation is part of the verdict (off is a WARN): not knowing it is not a pass.
            super::Rotation::Unknown { error } => out.push(unknown_from(error, "GetKeyRotationStatus")),
            super::Rotation::Enabled { .. } => {}
        }
    }
    if key.account != account {
        out.push(Finding::new(
            PostureId::KeyInOtherAccount,
            format!("Key {name} is in account {}, not the guardrail's {account}", key.account),
            "Make sure its key policy keeps granting this account; prefer a key in the guardrail's own account.",
        ));
    }
    if key.region != region {
        out.push(Finding::new(
            PostureId::KeyInOtherRegion,
            format!("Key {name} is in {}, not the guardrail's {region}", key.region),
            "Use a key in the guardrail's own region so a regional outage cannot take both down.",
        ));
    }
    out
}

/// The posture of a guardrail in `account`/`region` whose GetGuardrail gave `kms_key_arn`
/// (or failed with `read_error`) and whose key lookup gave `key`.
pub fn assess(
    account: &str,
    region: &str,
    read_error: Option<&CallError>,
    kms_key_arn: Option<&str>,
    key: Option<&KeyLookup>,
) -> Posture {
    let mut findings = match (read_error, kms_key_arn, key) {
        (Some(e), _, _) => vec![unknown_from(e, "GetGuardrail")],
        (None, None, _) => vec![Finding::new(
            PostureId::AwsOwnedKey,
            "Encrypted with the AWS-owned key: no customer managed KMS key (Bedrock-003, High)",
            FIX_HINT,
        )],
        (None, Some(arn), None) => vec![Finding::new(
            PostureId::LookupFailed,
            format!("Key {arn} was not looked up"),
            "Scan again.",
        )],
        (
            None,
            Some(_),
            Some(KeyLookup::Failed {
                arn,
                error: CallError::NotFound { .. },
            }),
        ) => {
            vec![Finding::new(
                PostureId::KeyNotFound,
                format!("Key {arn} does not exist: the guardrail cannot be used at inference"),
                "Move the guardrail to an existing customer managed key with `guardkey fix`.",
            )]
        }
        (None, Some(_), Some(KeyLookup::Failed { error, .. })) => {
            vec![unknown_from(error, "DescribeKey")]
        }
        (None, Some(_), Some(KeyLookup::Found(info))) => key_findings(info, account, region),
    };
    if findings.is_empty() {
        findings.push(healthy());
    }
    ranked(findings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Rotation;

    fn key(state: &str, manager: &str, rotation: Rotation) -> KeyInfo {
        KeyInfo {
            arn: "arn:aws:kms:eu-west-1:123456789012:key/k".into(),
            key_id: "k".into(),
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            aliases: vec!["alias/guardrails".into()],
            manager: manager.into(),
            state: state.into(),
            spec: "SYMMETRIC_DEFAULT".into(),
            usage: "ENCRYPT_DECRYPT".into(),
            multi_region: false,
            multi_region_key: None,
            created_at: None,
            deletion_date: Some("2026-12-09T00:00:00Z".into()),
            rotation,
            description: None,
            aliases_error: None,
        }
    }

    fn posture_of(k: KeyInfo, account: &str, region: &str) -> Posture {
        let arn = k.arn.clone();
        assess(
            account,
            region,
            None,
            Some(&arn),
            Some(&KeyLookup::Found(std::sync::Arc::new(k))),
        )
    }

    const ON: Rotation = Rotation::Enabled {
        period_days: Some(365),
    };

    #[test]
    fn aws_owned_key_fails_bedrock_003() {
        let p = assess("123456789012", "eu-west-1", None, None, None);
        assert_eq!((p.level, p.id), (Level::Fail, PostureId::AwsOwnedKey));
        assert!(p.reason.contains("Bedrock-003"));
    }

    #[test]
    fn a_healthy_cmk_passes() {
        let p = posture_of(key("Enabled", "CUSTOMER", ON), "123456789012", "eu-west-1");
        assert_eq!((p.level, p.id), (Level::Pass, PostureId::CustomerManagedKey));
        assert!(p.more.is_empty());
    }

    #[test]
    fn broken_keys_fail() {
        for (state, id) in [
            ("Disabled", PostureId::KeyDisabled),
            ("PendingDeletion", PostureId::KeyPendingDeletion),
            ("Unavailable", PostureId::KeyUnavailable),
            ("PendingImport", PostureId::KeyUnavailable),
        ] {
            let p = posture_of(key(state, "CUSTOMER", ON), "123456789012", "eu-west-1");
            assert_eq!((p.level, p.id), (Level::Fail, id), "{state}");
        }
        let p = posture_of(
            key("PendingDeletion", "CUSTOMER", ON),
            "123456789012",
            "eu-west-1",
        );
        assert!(p.reason.contains("2026-12-09"), "{}", p.reason);
        let p = posture_of(key("Enabled", "AWS", ON), "123456789012", "eu-west-1");
        assert_eq!((p.level, p.id), (Level::Fail, PostureId::KeyNotCustomerManaged));
    }

    #[test]
    fn warnings_keep_every_finding() {
        let p = posture_of(
            key("Enabled", "CUSTOMER", Rotation::Disabled),
            "210987654321",
            "us-east-1",
        );
        assert_eq!(p.level, Level::Warn);
        let ids = p.finding_ids();
        assert_eq!(
            ids,
            [
                PostureId::KeyRotationDisabled,
                PostureId::KeyInOtherAccount,
                PostureId::KeyInOtherRegion
            ]
        );
        // A failure outranks warnings.
        let p = posture_of(
            key("Disabled", "CUSTOMER", Rotation::Disabled),
            "123456789012",
            "eu-west-1",
        );
        assert_eq!(p.id, PostureId::KeyDisabled);
        assert_eq!(p.finding_ids().len(), 2);
    }

    #[test]
    fn failed_lookups_are_unknown_never_a_guess() {
        let denied = CallError::AccessDenied {
            action: Some("kms:DescribeKey".into()),
            message: String::new(),
        };
        let lookup = KeyLookup::Failed {
            arn: "arn:k".into(),
            error: denied.clone(),
        };
        let p = assess("1", "r", None, Some("arn:k"), Some(&lookup));
        assert_eq!((p.level, p.id), (Level::Unknown, PostureId::AccessDenied));
        assert!(p.reason.contains("kms:DescribeKey"));

        let decrypt = CallError::AccessDenied {
            action: Some("kms:Decrypt".into()),
            message: String::new(),
        };
        let p = assess("1", "r", Some(&decrypt), None, None);
        assert_eq!(
            (p.level, p.id),
            (Level::Unknown, PostureId::AccessDenied),
            "not a guessed AWS-owned key"
        );
        assert!(p.hint.contains("kms:Decrypt"));

        for (error, id) in [
            (CallError::Throttled, PostureId::Throttled),
            (CallError::Timeout, PostureId::Timeout),
        ] {
            let p = assess("1", "r", Some(&error), None, None);
            assert_eq!((p.level, p.id), (Level::Unknown, id));
        }
        let gone = KeyLookup::Failed {
            arn: "arn:k".into(),
            error: CallError::NotFound {
                message: String::new(),
            },
        };
        let p = assess("1", "r", None, Some("arn:k"), Some(&gone));
        assert_eq!((p.level, p.id), (Level::Fail, PostureId::KeyNotFound));
    }

    /// Every way a call can fail, as `aws::error` classifies them.
    fn every_error_kind() -> Vec<CallError> {
        vec![
            CallError::AccessDenied {
                action: Some("x:Action".into()),
                message: "not authorized".into(),
            },
            CallError::AccessDenied {
                action: None,
                message: "not authorized".into(),
            },
            CallError::NotEnabled,
            CallError::Throttled,
            CallError::Timeout,
            CallError::NotFound {
                message: "gone".into(),
            },
            CallError::Network {
                message: "connection reset".into(),
            },
            CallError::Other {
                code: "InternalServerException".into(),
                message: "boom".into(),
            },
            CallError::ReadOnly {
                action: "x:Action".into(),
            },
        ]
    }

    #[test]
    fn no_failed_input_of_a_verdict_ever_yields_pass() {
        // Each verdict input of a guardrail on an otherwise healthy customer managed key,
        // failing in every way: never PASS; UNKNOWN names the call, unless the failure is
        // itself a finding (a key that does not exist).
        let healthy = key("Enabled", "CUSTOMER", ON);
        for error in every_error_kind() {
            let get_guardrail = assess("123456789012", "eu-west-1", Some(&error), None, None);
            let describe_key = assess(
                "123456789012",
                "eu-west-1",
                None,
                Some(&healthy.arn),
                Some(&KeyLookup::Failed {
                    arn: healthy.arn.clone(),
                    error: error.clone(),
                }),
            );
            let rotation = posture_of(
                key("Enabled", "CUSTOMER", Rotation::Unknown { error: error.clone() }),
                "123456789012",
                "eu-west-1",
            );
            for (call, p) in [
                ("GetGuardrail", get_guardrail),
                ("DescribeKey", describe_key),
                ("GetKeyRotationStatus", rotation),
            ] {
                assert_ne!(p.level, Level::Pass, "{call} failing with {error:?} passed");
                if p.id == PostureId::KeyNotFound {
                    assert_eq!((call, p.level), ("DescribeKey", Level::Fail));
                    continue;
                }
                assert_eq!(p.level, Level::Unknown, "{call} × {error:?}: {p:?}");
                assert!(p.reason.contains(call), "{call} × {error:?}: {}", p.reason);
                let expected = match &error {
                    CallError::AccessDenied { .. } => PostureId::AccessDenied,
                    CallError::Throttled => PostureId::Throttled,
                    CallError::Timeout => PostureId::Timeout,
                    _ => PostureId::LookupFailed,
                };
                assert_eq!(p.id, expected, "{call} × {error:?}");
            }
        }
    }

    #[test]
    fn unknown_rotation_outranks_a_warning_but_keeps_it() {
        let mut k = key(
            "Enabled",
            "CUSTOMER",
            Rotation::Unknown {
                error: CallError::AccessDenied {
                    action: Some("kms:GetKeyRotationStatus".into()),
                    message: String::new(),
                },
            },
        );
        k.region = "us-east-1".into();
        let p = posture_of(k, "123456789012", "eu-west-1");
        assert_eq!((p.level, p.id), (Level::Unknown, PostureId::AccessDenied));
        assert!(p.reason.contains("kms:GetKeyRotationStatus"), "{}", p.reason);
        assert_eq!(
            p.finding_ids(),
            [PostureId::AccessDenied, PostureId::KeyInOtherRegion]
        );
        // AWS managed keys rotate every year by AWS's rule: their rotation is never asked.
        let aws = posture_of(key("Enabled", "AWS", ON), "123456789012", "eu-west-1");
        assert_eq!(aws.id, PostureId::KeyNotCustomerManaged);
    }

    #[test]
    fn every_id_is_distinct_and_has_a_level() {
        let ids: std::collections::HashSet<_> = PostureId::ALL.iter().map(|p| p.as_str()).collect();
        assert_eq!(ids.len(), PostureId::ALL.len());
        for id in PostureId::ALL {
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(json, format!("\"{}\"", id.as_str()));
        }
    }
}
