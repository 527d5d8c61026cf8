//! AWS KMS: each call in guardkey's own types.

use aws_config::Region;
use aws_config::retry::RetryConfig;

use super::{Session, classify};
use crate::model::{CallError, Rotation};

/// A KMS client for one region. Opaque outside `aws`: the SDK stays here.
#[derive(Clone, Debug)]
pub struct Kms(aws_sdk_kms::Client);

/// DescribeKey's answer, in guardkey's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDescription {
    pub arn: String,
    pub key_id: String,
    pub account: String,
    pub manager: String,
    pub state: String,
    pub spec: String,
    pub usage: String,
    pub multi_region: bool,
    pub multi_region_key: Option<crate::model::MultiRegionKey>,
    pub created_at: Option<String>,
    pub deletion_date: Option<String>,
    pub description: Option<String>,
}

/// Tags as KMS takes them (CreateKey, ReplicateKey).
fn kms_tags(tags: &[(String, String)]) -> Result<Vec<aws_sdk_kms::types::Tag>, CallError> {
    tags.iter()
        .map(|(k, v)| {
            aws_sdk_kms::types::Tag::builder()
                .tag_key(k)
                .tag_value(v)
                .build()
                .map_err(|e| CallError::Other {
                    code: "InvalidTag".into(),
                    message: e.to_string(),
                })
        })
        .collect()
}

impl Session {
    pub fn kms(&self, region: &str) -> Kms {
        self.kms_client(region, true)
    }

    /// A KMS client whose calls are tried once (see `bedrock_without_retries`).
    pub fn kms_without_retries(&self, region: &str) -> Kms {
        self.kms_client(region, false)
    }

    fn kms_client(&self, region: &str, retries: bool) -> Kms {
        let mut conf = aws_sdk_kms::config::Builder::from(&self.sdk)
            .region(Region::new(region.to_string()))
            .retry_partition(self.partition("kms", region))
            .interceptor(self.guard());
        if !retries {
            conf = conf.retry_config(RetryConfig::disabled());
        }
        Kms(aws_sdk_kms::Client::from_conf(conf.build()))
    }

    pub async fn describe_key(&self, client: &Kms, key: &str) -> Result<KeyDescription, CallError> {
        let out = client
            .0
            .describe_key()
            .key_id(key)
            .send()
            .await
            .map_err(|e| classify(e, "kms:DescribeKey"))?;
        let m = out.key_metadata().ok_or_else(|| CallError::Other {
            code: "EmptyResponse".into(),
            message: "DescribeKey answered without KeyMetadata".into(),
        })?;
        let kms_time = |t: Option<&aws_sdk_kms::primitives::DateTime>| {
            t.and_then(|t| t.fmt(aws_sdk_kms::primitives::DateTimeFormat::DateTime).ok())
        };
        Ok(KeyDescription {
            arn: m.arn().unwrap_or_default().to_string(),
            key_id: m.key_id().to_string(),
            account: m.aws_account_id().unwrap_or_default().to_string(),
            manager: m.key_manager().map_or("CUSTOMER", |k| k.as_str()).to_string(),
            state: m.key_state().map_or("Unknown", |k| k.as_str()).to_string(),
            spec: m
                .key_spec()
                .map_or("SYMMETRIC_DEFAULT", |k| k.as_str())
                .to_string(),
            usage: m
                .key_usage()
                .map_or("ENCRYPT_DECRYPT", |k| k.as_str())
                .to_string(),
            multi_region: m.multi_region().unwrap_or(false),
            multi_region_key: m
                .multi_region_configuration()
                .map(|c| crate::model::MultiRegionKey {
                    kind: c
                        .multi_region_key_type()
                        .map_or("PRIMARY", |t| t.as_str())
                        .to_string(),
                    primary: c
                        .primary_key()
                        .and_then(|p| p.arn())
                        .unwrap_or_default()
                        .to_string(),
                    replicas: c
                        .replica_keys()
                        .iter()
                        .filter_map(|r| r.arn().map(str::to_string))
                        .collect(),
                }),
            created_at: kms_time(m.creation_date()),
            deletion_date: kms_time(m.deletion_date()),
            description: m.description().filter(|d| !d.is_empty()).map(str::to_string),
        })
    }

    /// Whether the key rotates automatically, and how often.
    pub async fn key_rotation(&self, client: &Kms, key: &str) -> Result<Rotation, CallError> {
        let out = client
            .0
            .get_key_rotation_status()
            .key_id(key)
            .send()
            .await
            .map_err(|e| classify(e, "kms:GetKeyRotationStatus"))?;
        Ok(if out.key_rotation_enabled() {
            Rotation::Enabled {
                period_days: out.rotation_period_in_days(),
            }
        } else {
            Rotation::Disabled
        })
    }

    /// CreateKey: a symmetric encryption key with this policy; returns its description.
    pub async fn create_key(
        &self,
        client: &Kms,
        policy: &str,
        description: &str,
        tags: &[(String, String)],
        multi_region: bool,
    ) -> Result<KeyDescription, CallError> {
        let mut req = client
            .0
            .create_key()
            .multi_region(multi_region)
            .key_spec(aws_sdk_kms::types::KeySpec::SymmetricDefault)
            .key_usage(aws_sdk_kms::types::KeyUsageType::EncryptDecrypt)
            .origin(aws_sdk_kms::types::OriginType::AwsKms)
            .policy(policy)
            .description(description);
        if !tags.is_empty() {
            req = req.set_tags(Some(kms_tags(tags)?));
        }
        let out = req.send().await.map_err(|e| classify(e, "kms:CreateKey"))?;
        let arn = out
            .key_metadata()
            .and_then(|m| m.arn())
            .unwrap_or_default()
            .to_string();
        self.describe_key(client, &arn).await
    }

    /// ReplicateKey, called in the primary's region (`primary`): a replica of `key` in
    /// `region` with its own policy, description and tags; returns the replica as its
    /// region's DescribeKey shows it.
    pub async fn replicate_key(
        &self,
        primary: &Kms,
        key: &str,
        region: &str,
        policy: &str,
        description: &str,
        tags: &[(String, String)],
    ) -> Result<KeyDescription, CallError> {
        let mut req = primary
            .0
            .replicate_key()
            .key_id(key)
            .replica_region(region)
            .policy(policy)
            .description(description);
        if !tags.is_empty() {
            req = req.set_tags(Some(kms_tags(tags)?));
        }
        let out = req.send().await.map_err(|e| classify(e, "kms:ReplicateKey"))?;
        let arn = out
            .replica_key_metadata()
            .and_then(|m| m.arn())
            .unwrap_or_default()
            .to_string();
        self.describe_key(&self.kms(region), &arn).await
    }

    pub async fn create_alias(&self, client: &Kms, alias: &str, key: &str) -> Result<(), CallError> {
        client
            .0
            .create_alias()
            .alias_name(alias)
            .target_key_id(key)
            .send()
            .await
            .map_err(|e| classify(e, "kms:CreateAlias"))?;
        Ok(())
    }

    pub async fn enable_key_rotation(
        &self,
        client: &Kms,
        key: &str,
        period_days: i32,
    ) -> Result<(), CallError> {
        client
            .0
            .enable_key_rotation()
            .key_id(key)
            .rotation_period_in_days(period_days)
            .send()
            .await
            .map_err(|e| classify(e, "kms:EnableKeyRotation"))?;
        Ok(())
    }

    /// The key's policy document (the one named "default").
    pub async fn key_policy(&self, client: &Kms, key: &str) -> Result<String, CallError> {
        let out = client
            .0
            .get_key_policy()
            .key_id(key)
            .policy_name("default")
            .send()
            .await
            .map_err(|e| classify(e, "kms:GetKeyPolicy"))?;
        Ok(out.policy().unwrap_or_default().to_string())
    }

    /// Replaces the key's policy (the one named "default").
    pub async fn put_key_policy(&self, client: &Kms, key: &str, policy: &str) -> Result<(), CallError> {
        client
            .0
            .put_key_policy()
            .key_id(key)
            .policy_name("default")
            .policy(policy)
            .send()
            .await
            .map_err(|e| classify(e, "kms:PutKeyPolicy"))?;
        Ok(())
    }

    /// Every alias of the region: (alias name, target key id).
    pub async fn list_aliases(&self, client: &Kms) -> Result<Vec<(String, String)>, CallError> {
        let mut out = Vec::new();
        let mut marker = None;
        loop {
            let page = client
                .0
                .list_aliases()
                .limit(100)
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| classify(e, "kms:ListAliases"))?;
            for a in page.aliases() {
                if let (Some(name), Some(target)) = (a.alias_name(), a.target_key_id()) {
                    out.push((name.to_string(), target.to_string()));
                }
            }
            match page.next_marker() {
                Some(m) if page.truncated() => marker = Some(m.to_string()),
                _ => return Ok(out),
            }
        }
    }

    /// Every grant of the key (ListGrants, paged), as the access evaluation takes them.
    pub async fn list_grants(
        &self,
        client: &Kms,
        key: &str,
    ) -> Result<Vec<crate::usage::access::KeyGrant>, CallError> {
        let mut out = Vec::new();
        let mut marker = None;
        loop {
            let page = client
                .0
                .list_grants()
                .key_id(key)
                .limit(100)
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| classify(e, "kms:ListGrants"))?;
            for g in page.grants() {
                out.push(crate::usage::access::KeyGrant {
                    id: g.grant_id().unwrap_or_default().to_string(),
                    grantee: g.grantee_principal().unwrap_or_default().to_string(),
                    operations: g.operations().iter().map(|o| o.as_str().to_string()).collect(),
                    constrained: g.constraints().is_some_and(|c| {
                        c.encryption_context_subset().is_some() || c.encryption_context_equals().is_some()
                    }),
                });
            }
            match page.next_marker() {
                Some(m) if page.truncated() => marker = Some(m.to_string()),
                _ => return Ok(out),
            }
        }
    }
}
