//! The only code that talks to AWS: one `Session` (credentials, endpoint, retries,
//! timeouts, the read-only guard) and typed calls that return guardkey's own types.

pub mod credentials;
pub mod error;
mod guard;
pub mod guardrails;

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_bedrock::config::retry::RetryPartition;
use aws_sdk_bedrock::primitives::DateTime;

use crate::model::config::GuardrailConfig;
use crate::model::{CallError, Rotation};
use crate::regions::{BEDROCK_REGIONS, GOVCLOUD_REGIONS};
use credentials::CredentialSource;
pub use error::classify;
pub use guard::ReadOnlyGuard;

/// How to reach AWS.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    pub read_only: bool,
    /// Per-call attempt timeout; the default suits AWS's control planes.
    pub attempt_timeout: Option<Duration>,
}

/// Who the credentials belong to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
}

impl CallerIdentity {
    /// `aws`, `aws-us-gov`, `aws-cn`, … from the caller's ARN.
    pub fn partition(&self) -> &str {
        self.arn.split(':').nth(1).unwrap_or("aws")
    }
}

/// A guardrail summary from ListGuardrails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardrailSummary {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub status: String,
    pub version: String,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

/// The parts of GetGuardrail a scan uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardrailHead {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub description: Option<String>,
    pub version: String,
    pub status: String,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub kms_key_arn: Option<String>,
}

/// Sets a guardrail's whole configuration on an UpdateGuardrail or CreateGuardrail
/// request: the two builders have the same members but no common type.
macro_rules! with_config {
    ($request:expr, $config:expr, $policies:expr) => {
        $request
            .name(&$config.name)
            .set_description($config.description.clone())
            .blocked_input_messaging(&$config.blocked_input_messaging)
            .blocked_outputs_messaging(&$config.blocked_outputs_messaging)
            .set_topic_policy_config($policies.topic)
            .set_content_policy_config($policies.content)
            .set_word_policy_config($policies.word)
            .set_sensitive_information_policy_config($policies.sensitive)
            .set_contextual_grounding_policy_config($policies.grounding)
            .set_automated_reasoning_policy_config($policies.reasoning)
            .set_cross_region_config($policies.cross_region)
    };
}

/// A guardrail as a fix reads it: its whole DRAFT and its status.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardrailDraft {
    pub id: String,
    pub arn: String,
    pub status: String,
    pub updated_at: Option<String>,
    pub config: GuardrailConfig,
    /// Why the guardrail is FAILED, and what Bedrock recommends (empty otherwise).
    pub status_reasons: Vec<String>,
    pub failure_recommendations: Vec<String>,
}

impl GuardrailDraft {
    /// A FAILED guardrail's story: Bedrock's reasons and recommendations.
    pub fn failure(&self) -> String {
        let mut out = "the guardrail is FAILED".to_string();
        if !self.status_reasons.is_empty() {
            out.push_str(&format!(": {}", self.status_reasons.join("; ")));
        }
        if !self.failure_recommendations.is_empty() {
            out.push_str(&format!(
                " (Bedrock recommends: {})",
                self.failure_recommendations.join("; ")
            ));
        }
        out
    }
}

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
    pub created_at: Option<String>,
    pub deletion_date: Option<String>,
    pub description: Option<String>,
}

/// Region names from `--regions`: a list, `all`, or nothing (the partition's Bedrock regions).
/// A name that is not a Bedrock region is an error before any call is made.
pub fn resolve_regions(requested: &[String], partition: &str) -> Result<Vec<String>, String> {
    let known: Vec<&str> = match partition {
        "aws-us-gov" => GOVCLOUD_REGIONS.to_vec(),
        _ => BEDROCK_REGIONS.to_vec(),
    };
    let given = !requested.is_empty();
    let requested: Vec<&str> = requested
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    // `--regions ''` (an unset variable in a script) must not widen to every region.
    if given && requested.is_empty() {
        return Err("--regions is empty: name regions (eu-west-1,us-east-1) or `all`".into());
    }
    if requested.is_empty() || requested == ["all"] {
        return Ok(known.iter().map(|s| s.to_string()).collect());
    }
    let mut out: Vec<String> = Vec::new();
    for r in requested {
        if r == "all" {
            return Err("`all` cannot be combined with region names".into());
        }
        let everywhere = BEDROCK_REGIONS.iter().chain(GOVCLOUD_REGIONS);
        if !everywhere.clone().any(|k| *k == r) {
            return Err(format!(
                "'{r}' is not a region where Amazon Bedrock exists. Known regions: {}",
                BEDROCK_REGIONS.join(", ")
            ));
        }
        if !out.iter().any(|o| o == r) {
            out.push(r.to_string());
        }
    }
    Ok(out)
}

fn next_partition_prefix() -> String {
    static SESSIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    format!(
        "guardkey{}",
        SESSIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

fn rfc3339(t: &DateTime) -> Option<String> {
    t.fmt(aws_sdk_bedrock::primitives::DateTimeFormat::DateTime).ok()
}

/// A connection to AWS (or to anything that speaks its APIs, such as `guardkey sim`).
#[derive(Clone, Debug)]
pub struct Session {
    sdk: SdkConfig,
    read_only: bool,
    /// Names this session's retry partitions. The SDK's adaptive rate limiter is shared by
    /// every client of a partition, by default one per service: a throttled region would
    /// then slow every other region down. Each region gets its own.
    partition_prefix: String,
    credential_source: CredentialSource,
    pub endpoint_url: Option<String>,
    pub profile: Option<String>,
}

impl Session {
    pub async fn connect(options: SessionOptions) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(
                RetryConfig::adaptive()
                    .with_max_attempts(8)
                    .with_initial_backoff(Duration::from_millis(100))
                    .with_max_backoff(Duration::from_secs(5)),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_millis(3100))
                    .operation_attempt_timeout(options.attempt_timeout.unwrap_or(Duration::from_secs(10)))
                    .operation_timeout(Duration::from_secs(90))
                    .build(),
            );
        if let Some(p) = &options.profile {
            // A named profile is that profile alone, as with the AWS CLI: the default chain
            // would take keys from the environment first, and so maybe another account than
            // the one asked for. A profile that does not exist is then an error, not a fallback.
            loader = loader.profile_name(p).credentials_provider(
                aws_config::profile::ProfileFileCredentialsProvider::builder()
                    .profile_name(p)
                    .build(),
            );
        }
        if let Some(e) = &options.endpoint_url {
            loader = loader.endpoint_url(e);
        }
        let sdk = loader.load().await;
        Session {
            sdk,
            read_only: options.read_only,
            partition_prefix: next_partition_prefix(),
            credential_source: CredentialSource::detect(options.profile.as_deref()),
            endpoint_url: options.endpoint_url,
            profile: options.profile,
        }
    }

    /// Who the credentials belong to, or what is wrong with them, in a sentence that says
    /// the next step. The credentials are loaded first, so that "none found", "no such
    /// profile", "SSO session expired" and "credential_process failed" are told apart from
    /// credentials that STS refuses.
    pub async fn identify(&self) -> Result<CallerIdentity, String> {
        use aws_credential_types::provider::ProvideCredentials;
        if let Some(provider) = self.sdk.credentials_provider()
            && let Err(e) = provider.provide_credentials().await
        {
            return Err(credentials::explain_not_loaded(&self.credential_source, &e));
        }
        self.caller_identity().await.map_err(|e| {
            credentials::explain_identity_error(&self.credential_source, self.endpoint_url.as_deref(), &e)
        })
    }

    /// A session from a ready SDK configuration (tests, the embedded simulator).
    pub fn from_sdk_config(sdk: SdkConfig, read_only: bool) -> Self {
        let endpoint_url = sdk.endpoint_url().map(str::to_string);
        Session {
            sdk,
            read_only,
            partition_prefix: next_partition_prefix(),
            credential_source: CredentialSource::Static,
            endpoint_url,
            profile: None,
        }
    }

    fn partition(&self, service: &str, region: &str) -> RetryPartition {
        RetryPartition::new(format!("{}-{service}-{region}", self.partition_prefix))
    }

    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The region STS and defaults use: the credential chain's, else us-east-1.
    pub fn home_region(&self) -> String {
        self.sdk
            .region()
            .map_or("us-east-1".to_string(), |r| r.to_string())
    }

    fn guard(&self) -> ReadOnlyGuard {
        ReadOnlyGuard {
            enabled: self.read_only,
        }
    }

    pub fn bedrock(&self, region: &str) -> aws_sdk_bedrock::Client {
        self.bedrock_client(region, true)
    }

    /// A Bedrock client whose calls are tried once: for callers that pace and retry
    /// themselves, and must see every throttle to do it.
    pub fn bedrock_without_retries(&self, region: &str) -> aws_sdk_bedrock::Client {
        self.bedrock_client(region, false)
    }

    pub fn kms(&self, region: &str) -> aws_sdk_kms::Client {
        self.kms_client(region, true)
    }

    /// A KMS client whose calls are tried once (see `bedrock_without_retries`).
    pub fn kms_without_retries(&self, region: &str) -> aws_sdk_kms::Client {
        self.kms_client(region, false)
    }

    fn bedrock_client(&self, region: &str, retries: bool) -> aws_sdk_bedrock::Client {
        let mut conf = aws_sdk_bedrock::config::Builder::from(&self.sdk)
            .region(Region::new(region.to_string()))
            .retry_partition(self.partition("bedrock", region))
            .interceptor(self.guard());
        if !retries {
            conf = conf.retry_config(RetryConfig::disabled());
        }
        aws_sdk_bedrock::Client::from_conf(conf.build())
    }

    fn kms_client(&self, region: &str, retries: bool) -> aws_sdk_kms::Client {
        let mut conf = aws_sdk_kms::config::Builder::from(&self.sdk)
            .region(Region::new(region.to_string()))
            .retry_partition(self.partition("kms", region))
            .interceptor(self.guard());
        if !retries {
            conf = conf.retry_config(RetryConfig::disabled());
        }
        aws_sdk_kms::Client::from_conf(conf.build())
    }

    /// IAM is global: its calls are signed for the partition's IAM region.
    fn iam(&self, partition: &str) -> aws_sdk_iam::Client {
        let region = match partition {
            "aws" => "us-east-1".to_string(),
            "aws-us-gov" => "us-gov-west-1".to_string(),
            _ => self.home_region(),
        };
        let conf = aws_sdk_iam::config::Builder::from(&self.sdk)
            .region(Region::new(region))
            .interceptor(self.guard())
            .build();
        aws_sdk_iam::Client::from_conf(conf)
    }

    /// The ARN of a role of the caller's account, with its path (iam:GetRole).
    pub async fn role_arn(&self, partition: &str, name: &str) -> Result<String, CallError> {
        let out = self
            .iam(partition)
            .get_role()
            .role_name(name)
            .send()
            .await
            .map_err(|e| classify(e, "iam:GetRole"))?;
        Ok(out.role().map(|r| r.arn().to_string()).unwrap_or_default())
    }

    /// The ARN of a user of the caller's account, with its path (iam:GetUser).
    pub async fn user_arn(&self, partition: &str, name: &str) -> Result<String, CallError> {
        let out = self
            .iam(partition)
            .get_user()
            .user_name(name)
            .send()
            .await
            .map_err(|e| classify(e, "iam:GetUser"))?;
        Ok(out.user().map(|u| u.arn().to_string()).unwrap_or_default())
    }

    fn sts(&self) -> aws_sdk_sts::Client {
        let conf = aws_sdk_sts::config::Builder::from(&self.sdk)
            .region(Region::new(self.home_region()))
            .interceptor(self.guard())
            .build();
        aws_sdk_sts::Client::from_conf(conf)
    }

    pub async fn caller_identity(&self) -> Result<CallerIdentity, CallError> {
        let out = self
            .sts()
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| classify(e, "sts:GetCallerIdentity"))?;
        Ok(CallerIdentity {
            account: out.account().unwrap_or_default().to_string(),
            arn: out.arn().unwrap_or_default().to_string(),
            user_id: out.user_id().unwrap_or_default().to_string(),
        })
    }

    /// One page of ListGuardrails (the DRAFT of every guardrail, or one guardrail's versions).
    pub async fn list_guardrails_page(
        &self,
        client: &aws_sdk_bedrock::Client,
        guardrail: Option<&str>,
        next_token: Option<String>,
        page_size: i32,
    ) -> Result<(Vec<GuardrailSummary>, Option<String>), CallError> {
        let out = client
            .list_guardrails()
            .set_guardrail_identifier(guardrail.map(str::to_string))
            .max_results(page_size)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| classify(e, "bedrock:ListGuardrails"))?;
        let rows = out
            .guardrails()
            .iter()
            .map(|g| GuardrailSummary {
                id: g.id().to_string(),
                arn: g.arn().to_string(),
                name: g.name().to_string(),
                status: g.status().as_str().to_string(),
                version: g.version().to_string(),
                created_at: rfc3339(g.created_at()),
                updated_at: rfc3339(g.updated_at()),
            })
            .collect();
        Ok((rows, out.next_token().map(str::to_string)))
    }

    async fn get_guardrail(
        &self,
        client: &aws_sdk_bedrock::Client,
        identifier: &str,
        version: Option<&str>,
    ) -> Result<aws_sdk_bedrock::operation::get_guardrail::GetGuardrailOutput, CallError> {
        client
            .get_guardrail()
            .guardrail_identifier(identifier)
            .set_guardrail_version(version.map(str::to_string))
            .send()
            .await
            .map_err(|e| classify(e, "bedrock:GetGuardrail"))
    }

    pub async fn get_guardrail_head(
        &self,
        client: &aws_sdk_bedrock::Client,
        identifier: &str,
        version: Option<&str>,
    ) -> Result<GuardrailHead, CallError> {
        let g = self.get_guardrail(client, identifier, version).await?;
        Ok(GuardrailHead {
            id: g.guardrail_id().to_string(),
            arn: g.guardrail_arn().to_string(),
            name: g.name().to_string(),
            description: g.description().map(str::to_string),
            version: g.version().to_string(),
            status: g.status().as_str().to_string(),
            created_at: rfc3339(g.created_at()),
            updated_at: rfc3339(g.updated_at()),
            kms_key_arn: g.kms_key_arn().map(str::to_string),
        })
    }

    pub async fn describe_key(
        &self,
        client: &aws_sdk_kms::Client,
        key: &str,
    ) -> Result<KeyDescription, CallError> {
        let out = client
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
            created_at: kms_time(m.creation_date()),
            deletion_date: kms_time(m.deletion_date()),
            description: m.description().filter(|d| !d.is_empty()).map(str::to_string),
        })
    }

    /// Whether the key rotates automatically, and how often.
    pub async fn key_rotation(&self, client: &aws_sdk_kms::Client, key: &str) -> Result<Rotation, CallError> {
        let out = client
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

    /// A guardrail's DRAFT (or a version) in full, with its status.
    pub async fn read_guardrail(
        &self,
        client: &aws_sdk_bedrock::Client,
        identifier: &str,
        version: Option<&str>,
    ) -> Result<GuardrailDraft, CallError> {
        let g = self.get_guardrail(client, identifier, version).await?;
        Ok(GuardrailDraft {
            id: g.guardrail_id().to_string(),
            arn: g.guardrail_arn().to_string(),
            status: g.status().as_str().to_string(),
            updated_at: rfc3339(g.updated_at()),
            config: guardrails::config_from_output(&g),
            status_reasons: g.status_reasons().to_vec(),
            failure_recommendations: g.failure_recommendations().to_vec(),
        })
    }

    /// UpdateGuardrail with the whole configuration and `kms_key_id` (None: the AWS-owned key).
    pub async fn write_guardrail(
        &self,
        client: &aws_sdk_bedrock::Client,
        identifier: &str,
        config: &GuardrailConfig,
        kms_key_id: Option<&str>,
    ) -> Result<(), CallError> {
        let p = guardrails::request_policies(config).map_err(|message| CallError::Other {
            code: "InvalidConfiguration".into(),
            message,
        })?;
        with_config!(
            client.update_guardrail().guardrail_identifier(identifier),
            config,
            p
        )
        .set_kms_key_id(kms_key_id.map(str::to_string))
        .send()
        .await
        .map_err(|e| classify(e, "bedrock:UpdateGuardrail"))?;
        Ok(())
    }

    /// CreateGuardrail from a configuration (tests, demos); returns (id, ARN).
    pub async fn create_guardrail(
        &self,
        client: &aws_sdk_bedrock::Client,
        config: &GuardrailConfig,
    ) -> Result<(String, String), CallError> {
        let p = guardrails::request_policies(config).map_err(|message| CallError::Other {
            code: "InvalidConfiguration".into(),
            message,
        })?;
        let out = with_config!(client.create_guardrail(), config, p)
            .set_kms_key_id(config.kms_key_arn.clone())
            .send()
            .await
            .map_err(|e| classify(e, "bedrock:CreateGuardrail"))?;
        Ok((out.guardrail_id().to_string(), out.guardrail_arn().to_string()))
    }

    /// CreateGuardrailVersion; returns the new version's number.
    pub async fn publish_version(
        &self,
        client: &aws_sdk_bedrock::Client,
        identifier: &str,
        description: &str,
    ) -> Result<String, CallError> {
        let out = client
            .create_guardrail_version()
            .guardrail_identifier(identifier)
            .description(description)
            .send()
            .await
            .map_err(|e| classify(e, "bedrock:CreateGuardrailVersion"))?;
        Ok(out.version().to_string())
    }

    /// CreateKey: a symmetric encryption key with this policy; returns its description.
    pub async fn create_key(
        &self,
        client: &aws_sdk_kms::Client,
        policy: &str,
        description: &str,
        tags: &[(String, String)],
    ) -> Result<KeyDescription, CallError> {
        let mut req = client
            .create_key()
            .key_spec(aws_sdk_kms::types::KeySpec::SymmetricDefault)
            .key_usage(aws_sdk_kms::types::KeyUsageType::EncryptDecrypt)
            .origin(aws_sdk_kms::types::OriginType::AwsKms)
            .policy(policy)
            .description(description);
        for (k, v) in tags {
            req = req.tags(
                aws_sdk_kms::types::Tag::builder()
                    .tag_key(k)
                    .tag_value(v)
                    .build()
                    .map_err(|e| CallError::Other {
                        code: "InvalidTag".into(),
                        message: e.to_string(),
                    })?,
            );
        }
        let out = req.send().await.map_err(|e| classify(e, "kms:CreateKey"))?;
        let arn = out
            .key_metadata()
            .and_then(|m| m.arn())
            .unwrap_or_default()
            .to_string();
        self.describe_key(client, &arn).await
    }

    pub async fn create_alias(
        &self,
        client: &aws_sdk_kms::Client,
        alias: &str,
        key: &str,
    ) -> Result<(), CallError> {
        client
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
        client: &aws_sdk_kms::Client,
        key: &str,
        period_days: i32,
    ) -> Result<(), CallError> {
        client
            .enable_key_rotation()
            .key_id(key)
            .rotation_period_in_days(period_days)
            .send()
            .await
            .map_err(|e| classify(e, "kms:EnableKeyRotation"))?;
        Ok(())
    }

    /// The key's policy document (the one named "default").
    pub async fn key_policy(&self, client: &aws_sdk_kms::Client, key: &str) -> Result<String, CallError> {
        let out = client
            .get_key_policy()
            .key_id(key)
            .policy_name("default")
            .send()
            .await
            .map_err(|e| classify(e, "kms:GetKeyPolicy"))?;
        Ok(out.policy().unwrap_or_default().to_string())
    }

    /// Every alias of the region: (alias name, target key id).
    pub async fn list_aliases(
        &self,
        client: &aws_sdk_kms::Client,
    ) -> Result<Vec<(String, String)>, CallError> {
        let mut out = Vec::new();
        let mut marker = None;
        loop {
            let page = client
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_resolve_or_fail_before_any_call() {
        assert_eq!(resolve_regions(&[], "aws").unwrap().len(), BEDROCK_REGIONS.len());
        assert_eq!(
            resolve_regions(&["all".into()], "aws").unwrap().len(),
            BEDROCK_REGIONS.len()
        );
        assert_eq!(resolve_regions(&[], "aws-us-gov").unwrap(), GOVCLOUD_REGIONS);
        assert_eq!(
            resolve_regions(
                &["eu-west-1".into(), "us-east-1".into(), "eu-west-1".into()],
                "aws"
            )
            .unwrap(),
            ["eu-west-1", "us-east-1"]
        );
        let err = resolve_regions(&["eu-west-9".into()], "aws").unwrap_err();
        assert!(err.contains("'eu-west-9' is not a region"), "{err}");
        assert!(resolve_regions(&["all".into(), "eu-west-1".into()], "aws").is_err());
        let empty = resolve_regions(&["".into()], "aws").unwrap_err();
        assert!(empty.contains("--regions is empty"), "{empty}");
        assert!(resolve_regions(&[" ".into(), "".into()], "aws").is_err());
    }

    #[test]
    fn partition_comes_from_the_caller_arn() {
        let id = CallerIdentity {
            account: "1".into(),
            arn: "arn:aws-us-gov:iam::1:user/x".into(),
            user_id: "u".into(),
        };
        assert_eq!(id.partition(), "aws-us-gov");
    }
}
