//! The simulated world: per account and region, the guardrails, KMS keys and aliases.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use time::OffsetDateTime;

pub const DEFAULT_ACCOUNT: &str = "123456789012";

/// What one call runs with: who calls, where, and when.
pub struct Ctx<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub caller_arn: &'a str,
    pub now: OffsetDateTime,
    pub instant: Instant,
    /// How long CREATING, UPDATING and VERSIONING last.
    pub settle: Duration,
    pub rng: &'a mut fastrand::Rng,
}

/// Policies of a guardrail in GetGuardrail's response shapes (`topicPolicy`,
/// `contentPolicy`, …, `crossRegionDetails`). Shared between guardrails that have the same
/// policies, so that a generated estate of 100,000 guardrails stays small.
pub type Policies = Arc<Map<String, Value>>;

/// The configuration that UpdateGuardrail replaces as a whole, and that a version freezes.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardrailConfig {
    pub name: String,
    pub description: Option<String>,
    pub blocked_input_messaging: String,
    pub blocked_outputs_messaging: String,
    pub policies: Policies,
    /// Always a key ARN: the service resolves aliases and key ids when it stores it.
    pub kms_key_arn: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardrailStatus {
    Creating,
    Updating,
    Versioning,
    Ready,
    Failed,
    Deleting,
}

impl GuardrailStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            GuardrailStatus::Creating => "CREATING",
            GuardrailStatus::Updating => "UPDATING",
            GuardrailStatus::Versioning => "VERSIONING",
            GuardrailStatus::Ready => "READY",
            GuardrailStatus::Failed => "FAILED",
            GuardrailStatus::Deleting => "DELETING",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "CREATING" => GuardrailStatus::Creating,
            "UPDATING" => GuardrailStatus::Updating,
            "VERSIONING" => GuardrailStatus::Versioning,
            "READY" => GuardrailStatus::Ready,
            "FAILED" => GuardrailStatus::Failed,
            "DELETING" => GuardrailStatus::Deleting,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct GuardrailVersion {
    pub number: u32,
    pub config: GuardrailConfig,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct Guardrail {
    pub id: String,
    pub arn: String,
    pub draft: GuardrailConfig,
    status: GuardrailStatus,
    /// A transitional status (CREATING, UPDATING, VERSIONING) turns into `settles_to`
    /// (READY, or FAILED for an update armed to fail) at this instant.
    settles_at: Option<Instant>,
    settles_to: GuardrailStatus,
    /// Armed by the control API: the next update ends FAILED with these status reasons
    /// and failure recommendations, as Bedrock reports a failed update.
    pub fail_next_update: Option<(Vec<String>, Vec<String>)>,
    pub status_reasons: Vec<String>,
    pub failure_recommendations: Vec<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub versions: Vec<GuardrailVersion>,
    pub next_version: u32,
    pub tags: BTreeMap<String, String>,
}

impl Guardrail {
    pub fn new(id: String, arn: String, draft: GuardrailConfig, now: OffsetDateTime) -> Self {
        Guardrail {
            id,
            arn,
            draft,
            status: GuardrailStatus::Ready,
            settles_at: None,
            settles_to: GuardrailStatus::Ready,
            fail_next_update: None,
            status_reasons: Vec::new(),
            failure_recommendations: Vec::new(),
            created_at: now,
            updated_at: now,
            versions: Vec::new(),
            next_version: 1,
            tags: BTreeMap::new(),
        }
    }

    pub fn status(&self, now: Instant) -> GuardrailStatus {
        match self.settles_at {
            Some(at) if now >= at => self.settles_to,
            _ => self.status,
        }
    }

    /// Puts the guardrail in a transitional status that turns READY after `settle`.
    pub fn begin(&mut self, status: GuardrailStatus, settle: Duration, now: Instant) {
        self.begin_then(status, GuardrailStatus::Ready, settle, now);
    }

    /// Puts the guardrail in a transitional status that turns `to` after `settle`.
    pub fn begin_then(
        &mut self,
        status: GuardrailStatus,
        to: GuardrailStatus,
        settle: Duration,
        now: Instant,
    ) {
        if settle.is_zero() {
            self.set_status(to);
        } else {
            self.status = status;
            self.settles_at = Some(now + settle);
            self.settles_to = to;
        }
    }

    pub fn set_status(&mut self, status: GuardrailStatus) {
        self.status = status;
        self.settles_at = None;
    }

    pub fn version(&self, number: u32) -> Option<&GuardrailVersion> {
        self.versions.iter().find(|v| v.number == number)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Enabled,
    Disabled,
    PendingDeletion,
    Unavailable,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Enabled => "Enabled",
            KeyState::Disabled => "Disabled",
            KeyState::PendingDeletion => "PendingDeletion",
            KeyState::Unavailable => "Unavailable",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Key {
    pub key_id: String,
    pub arn: String,
    pub account: String,
    pub region: String,
    pub description: String,
    pub state: KeyState,
    /// "CUSTOMER" or "AWS".
    pub manager: String,
    pub spec: String,
    pub usage: String,
    pub origin: String,
    pub multi_region: bool,
    /// A multi-Region replica: the region of its primary (None: a primary, or a single-Region key).
    pub primary_region: Option<String>,
    pub created_at: OffsetDateTime,
    pub deletion_date: Option<OffsetDateTime>,
    pub pending_window_days: Option<i64>,
    /// The rotation period in days when automatic rotation is on.
    pub rotation_days: Option<i64>,
    pub policy: String,
    pub tags: Vec<(String, String)>,
    /// Its KMS grants (CreateGrant), each letting a grantee use the key for some operations.
    pub grants: Vec<KeyGrant>,
}

/// A KMS grant: the grantee may do `operations` with the key, whatever the key policy says
/// (KMS Developer Guide, "Grants in AWS KMS").
#[derive(Debug, Clone)]
pub struct KeyGrant {
    pub id: String,
    pub name: Option<String>,
    pub grantee: String,
    pub retiring: Option<String>,
    /// KMS operation names: `Decrypt`, `Encrypt`, `GenerateDataKey`, …
    pub operations: Vec<String>,
    /// `{"EncryptionContextSubset": {…}}` or `{"EncryptionContextEquals": {…}}`.
    pub constraints: Option<serde_json::Value>,
    pub issuing_account: String,
    pub created: OffsetDateTime,
}

impl Key {
    pub fn is_symmetric_encryption(&self) -> bool {
        self.spec == "SYMMETRIC_DEFAULT" && self.usage == "ENCRYPT_DECRYPT"
    }
}

#[derive(Debug, Clone)]
pub struct Alias {
    pub name: String,
    pub target_key_id: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Default, Clone)]
pub struct RegionState {
    pub guardrails: BTreeMap<String, Guardrail>,
    pub keys: BTreeMap<String, Key>,
    pub aliases: BTreeMap<String, Alias>,
    /// Security Hub, once the account enabled it here (off by default, as at AWS).
    pub security_hub: Option<super::securityhub::Hub>,
    /// Agents and prompt flows (bedrock-agent), by id.
    pub agents: BTreeMap<String, super::agents::Agent>,
    pub flows: BTreeMap<String, super::agents::Flow>,
}

impl RegionState {
    /// Finds a guardrail by id or ARN; an ARN must name this account and region.
    pub fn guardrail_id(&self, identifier: &str, account: &str, region: &str) -> Option<String> {
        let id = match identifier.strip_prefix("arn:") {
            Some(_) => {
                let arn = parse_arn(identifier)?;
                if arn.service != "bedrock" || arn.account != account || arn.region != region {
                    return None;
                }
                arn.resource.strip_prefix("guardrail/")?.to_string()
            }
            None => identifier.to_string(),
        };
        self.guardrails.contains_key(&id).then_some(id)
    }
}

/// Every account's and region's state, plus the shared pool of policy sets.
#[derive(Default)]
pub struct World {
    regions: HashMap<(String, String), RegionState>,
    policy_pool: HashMap<String, Policies>,
    /// Every account's IAM users and roles (IAM is global: not per region).
    pub iam: super::iam::Iam,
    /// The organization the accounts are in, if any (Organizations is global).
    pub organization: Option<super::organizations::Organization>,
}

impl World {
    pub fn region(&self, account: &str, region: &str) -> Option<&RegionState> {
        self.regions.get(&(account.to_string(), region.to_string()))
    }

    pub fn region_mut(&mut self, account: &str, region: &str) -> &mut RegionState {
        self.regions
            .entry((account.to_string(), region.to_string()))
            .or_default()
    }

    pub fn regions(&self) -> impl Iterator<Item = (&(String, String), &RegionState)> {
        self.regions.iter()
    }

    /// Returns a shared copy of `policies`, so that equal policy sets are stored once.
    pub fn intern(&mut self, policies: Map<String, Value>) -> Policies {
        let key = Value::Object(policies.clone()).to_string();
        self.policy_pool
            .entry(key)
            .or_insert_with(|| Arc::new(policies))
            .clone()
    }

    /// A guardrail of any account and region, by id.
    pub fn guardrail_mut(&mut self, id: &str) -> Option<&mut Guardrail> {
        self.regions.values_mut().find_map(|r| r.guardrails.get_mut(id))
    }

    pub fn guardrail_count(&self) -> usize {
        self.regions.values().map(|r| r.guardrails.len()).sum()
    }
}

/// The parts of an ARN: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

pub fn parse_arn(s: &str) -> Option<Arn<'_>> {
    let mut parts = s.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    Some(Arn {
        partition: parts.next()?,
        service: parts.next()?,
        region: parts.next()?,
        account: parts.next()?,
        resource: parts.next()?,
    })
}

use crate::regions::partition_of;

pub fn guardrail_arn(region: &str, account: &str, id: &str) -> String {
    format!(
        "arn:{}:bedrock:{region}:{account}:guardrail/{id}",
        partition_of(region)
    )
}

pub fn key_arn(region: &str, account: &str, key_id: &str) -> String {
    format!("arn:{}:kms:{region}:{account}:key/{key_id}", partition_of(region))
}

pub fn alias_arn(region: &str, account: &str, alias: &str) -> String {
    format!("arn:{}:kms:{region}:{account}:{alias}", partition_of(region))
}

/// A guardrail id as Bedrock makes them: 12 lowercase letters and digits.
pub fn new_guardrail_id(rng: &mut fastrand::Rng) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..12).map(|_| CHARS[rng.usize(..CHARS.len())] as char).collect()
}

/// A KMS key id: a random (version 4) UUID.
pub fn new_key_id(rng: &mut fastrand::Rng) -> String {
    let bytes: [u8; 16] = std::array::from_fn(|_| rng.u8(..));
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_real_formats() {
        let mut rng = fastrand::Rng::with_seed(7);
        let id = new_guardrail_id(&mut rng);
        assert_eq!(id.len(), 12);
        assert!(id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        let key = new_key_id(&mut rng);
        assert_eq!(uuid::Uuid::parse_str(&key).unwrap().get_version_num(), 4);
    }

    #[test]
    fn arns_split_into_their_parts() {
        let arn = parse_arn("arn:aws:kms:eu-west-1:123456789012:alias/a/b").unwrap();
        assert_eq!(arn.service, "kms");
        assert_eq!(arn.region, "eu-west-1");
        assert_eq!(arn.resource, "alias/a/b");
        assert!(parse_arn("not-an-arn").is_none());
    }

    #[test]
    fn equal_policies_are_stored_once() {
        let mut world = World::default();
        let mut p = Map::new();
        p.insert("wordPolicy".into(), serde_json::json!({"words": [{"text": "x"}]}));
        let a = world.intern(p.clone());
        let b = world.intern(p);
        assert!(Arc::ptr_eq(&a, &b));
    }
}
