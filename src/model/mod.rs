//! Plain data: what guardkey knows about a guardrail, its key, and its posture.

pub mod config;
pub mod exceptions;
pub mod filter;
pub mod policy;
pub mod posture;
pub mod usage;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use posture::{Finding, Level, Posture, PostureId, assess};

/// Why an AWS call did not give an answer, classified once (in `aws::error`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum CallError {
    /// The caller lacks a permission; `action` is the IAM action when AWS named it.
    AccessDenied { action: Option<String>, message: String },
    /// The region is not enabled for the account (403 UnrecognizedClientException).
    NotEnabled,
    /// Throttled, even after the retries.
    Throttled,
    /// No answer in time.
    Timeout,
    /// The resource does not exist.
    NotFound { message: String },
    /// The endpoint could not be reached.
    Network { message: String },
    /// Anything else AWS answered, with its error code.
    Other { code: String, message: String },
    /// The call was refused before it was sent, because the session is read-only.
    ReadOnly { action: String },
    /// The credentials themselves were refused: unknown or invalid (STS
    /// InvalidClientTokenId), a wrong secret (SignatureDoesNotMatch), expired (ExpiredToken).
    Credentials { code: String, message: String },
}

impl CallError {
    /// Whether a region (or guardrail) that ended with this error is a part of the estate
    /// the scan could not see. A region that is not enabled holds nothing and is the
    /// account's own choice; every other failure hides what may be there.
    pub fn hides_part_of_the_estate(&self) -> bool {
        !matches!(self, CallError::NotEnabled)
    }

    /// A short label for tables and the region strip.
    pub fn label(&self) -> String {
        match self {
            CallError::AccessDenied { action: Some(a), .. } => format!("denied: {a}"),
            CallError::AccessDenied { action: None, .. } => "access denied".into(),
            CallError::NotEnabled => "not enabled".into(),
            CallError::Throttled => "throttled".into(),
            CallError::Timeout => "timed out".into(),
            CallError::NotFound { .. } => "not found".into(),
            CallError::Network { .. } => "unreachable".into(),
            CallError::Other { code, .. } => code.clone(),
            CallError::ReadOnly { action } => format!("read-only: {action} refused"),
            CallError::Credentials { .. } => "invalid credentials".into(),
        }
    }

    /// The whole story, for error panels and reports.
    pub fn detail(&self) -> String {
        match self {
            CallError::AccessDenied { action, message } => {
                match action.as_deref().and_then(crate::permissions::granting) {
                    Some(policy) => format!(
                        "{message} — add {}: it is in `guardkey policy {policy}`",
                        action.as_deref().unwrap_or_default()
                    ),
                    None => message.clone(),
                }
            }
            CallError::NotEnabled => {
                "The region is not enabled for this account (UnrecognizedClientException). \
                 Enable it under Account settings → AWS Regions, or leave it out with --regions."
                    .into()
            }
            CallError::Throttled => "AWS kept throttling the calls after all retries.".into(),
            CallError::Timeout => "AWS did not answer in time.".into(),
            CallError::NotFound { message } | CallError::Network { message } => message.clone(),
            CallError::Other { code, message } => format!("{code}: {message}"),
            CallError::ReadOnly { action } => {
                format!("{action} was refused before it was sent: the session is --read-only.")
            }
            CallError::Credentials { code, message } => format!(
                "{code}: {message} The credentials are invalid or expired: renew them (aws sso login, aws configure)."
            ),
        }
    }
}

/// How a KMS key is rotated, as GetKeyRotationStatus said (or could not say).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Rotation {
    Enabled { period_days: Option<i32> },
    Disabled,
    Unknown { error: CallError },
}

/// A multi-Region key's family: one primary and its replicas, the same key id and key
/// material in each region; each replica is a key of its own region (its own policy, its
/// own ARN), usable by that region's guardrails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultiRegionKey {
    /// PRIMARY or REPLICA: which one this key is.
    pub kind: String,
    /// The primary's ARN.
    pub primary: String,
    /// The replicas' ARNs.
    #[serde(default)]
    pub replicas: Vec<String>,
}

/// A KMS key as DescribeKey, GetKeyRotationStatus and ListAliases showed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    pub arn: String,
    pub key_id: String,
    pub account: String,
    pub region: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// "CUSTOMER" or "AWS".
    pub manager: String,
    /// Enabled, Disabled, PendingDeletion, Unavailable, …
    pub state: String,
    pub spec: String,
    pub usage: String,
    pub multi_region: bool,
    /// A multi-Region key: its primary and replicas (DescribeKey's MultiRegionConfiguration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_region_key: Option<MultiRegionKey>,
    /// RFC 3339.
    pub created_at: Option<String>,
    /// RFC 3339; set while the key is pending deletion.
    pub deletion_date: Option<String>,
    pub rotation: Rotation,
    pub description: Option<String>,
    /// Why the key's aliases could not be listed (ListAliases): only its names are missing,
    /// never a verdict, but the user is told so, and what permission to add.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aliases_error: Option<CallError>,
}

impl KeyInfo {
    pub fn is_customer_managed(&self) -> bool {
        self.manager == "CUSTOMER"
    }

    /// What a table shows for the key: its first alias, else its id.
    pub fn display_name(&self) -> &str {
        self.aliases.first().map_or(self.key_id.as_str(), String::as_str)
    }
}

/// The CloudFormation stack that manages a resource, from its `aws:cloudformation:*` tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedBy {
    pub stack: String,
    pub logical_id: Option<String>,
}

impl ManagedBy {
    pub fn of(tags: &std::collections::BTreeMap<String, String>) -> Option<Self> {
        Some(ManagedBy {
            stack: tags.get("aws:cloudformation:stack-name")?.clone(),
            logical_id: tags.get("aws:cloudformation:logical-id").cloned(),
        })
    }

    /// `stack S (resource R)`.
    pub fn describe(&self) -> String {
        match &self.logical_id {
            Some(l) => format!("CloudFormation stack {} (resource {l})", self.stack),
            None => format!("CloudFormation stack {}", self.stack),
        }
    }
}

/// What looking a key up gave: the key, or why it could not be seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "lookup", rename_all = "kebab-case")]
pub enum KeyLookup {
    /// Shared by every guardrail on the key.
    Found(Arc<KeyInfo>),
    Failed {
        arn: String,
        error: CallError,
    },
}

/// A numbered version of a guardrail and the key it is encrypted with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    pub version: String,
    pub kms_key_arn: Option<String>,
    pub created_at: Option<String>,
}

/// One guardrail (its DRAFT) as a scan saw it, with its posture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guardrail {
    /// Shared by the region's guardrails.
    pub region: Arc<str>,
    pub account: Arc<str>,
    pub id: String,
    pub arn: String,
    pub name: String,
    pub description: Option<String>,
    /// CREATING, UPDATING, VERSIONING, READY, FAILED, DELETING.
    pub status: String,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    /// None: the AWS-owned key, or unknown when `read_error` is set.
    pub kms_key_arn: Option<String>,
    pub key: Option<KeyLookup>,
    /// Set when GetGuardrail itself failed, so the key is not known.
    pub read_error: Option<Box<CallError>>,
    /// Present when the scan read the numbered versions.
    pub versions: Option<Vec<VersionInfo>>,
    pub posture: Posture,
    /// Who uses it (agents, flows, IAM principals), when the scan read it (`--usage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Box<usage::Usage>>,
    /// The accepted risk that mutes its FAIL or WARN (`--exceptions`): shown, counted apart,
    /// not counted by the exit code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<Box<exceptions::Exception>>,
}

impl Guardrail {
    /// Its FAIL or WARN is an accepted risk.
    pub fn is_muted(&self) -> bool {
        self.exception.is_some()
    }

    pub fn key_info(&self) -> Option<&KeyInfo> {
        match &self.key {
            Some(KeyLookup::Found(k)) => Some(k),
            _ => None,
        }
    }

    /// Who uses it, as just read: its posture takes what that says of its key (a user locked
    /// out is a FAIL, one not known a WARN), replacing what an earlier read said.
    pub fn set_usage(&mut self, usage: usage::Usage) {
        let finding = posture::usage_finding(self.kms_key_arn.as_deref(), &usage);
        if self.read_error.is_none() {
            self.posture = self.posture.with_finding(finding, &posture::USAGE_FINDINGS);
        }
        self.usage = Some(Box::new(usage));
    }

    /// What a table shows in the key column.
    pub fn key_label(&self) -> String {
        match (&self.read_error, &self.kms_key_arn, &self.key) {
            (Some(_), _, _) => "?".into(),
            (None, None, _) => "AWS-owned".into(),
            (None, Some(_), Some(KeyLookup::Found(k))) => k.display_name().to_string(),
            (None, Some(arn), _) => arn.rsplit('/').next().unwrap_or(arn).to_string(),
        }
    }
}

/// "1 region", "3 regions".
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
