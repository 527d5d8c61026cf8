//! The only code that talks to AWS: one `Session` (credentials, endpoint, retries,
//! timeouts, the read-only guard) and typed calls that return guardkey's own types.

mod bedrock;
pub mod credentials;
pub mod error;
mod guard;
pub mod guardrails;
mod identity;
mod kms;
mod organizations;
mod policy_simulator;
mod runtime;
mod securityhub;
pub mod usage;

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_bedrock::config::retry::RetryPartition;

use crate::regions::regions_of;
pub use bedrock::{Bedrock, GuardrailDraft, GuardrailHead, GuardrailSummary};
use credentials::CredentialSource;
pub use error::classify;
pub use guard::ReadOnlyGuard;
pub use identity::CallerIdentity;
pub use kms::{KeyDescription, Kms};
pub use organizations::OrgMember;
pub use securityhub::{
    BATCH as SECURITY_HUB_BATCH, FailedFinding, ImportOutcome, SecurityHub, finding_from_asff,
};

/// How to reach AWS.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    pub read_only: bool,
    /// Per-call attempt timeout; the default suits AWS's control planes.
    pub attempt_timeout: Option<Duration>,
}

/// Region names from `--regions`: a list, `all`, or nothing (the partition's Bedrock
/// regions). A name that is not a Bedrock region of the caller's partition is an error
/// before any call is made.
pub fn resolve_regions(requested: &[String], partition: &str) -> Result<Vec<String>, String> {
    let known: &[&str] =
        regions_of(partition).ok_or_else(|| format!("Amazon Bedrock is not in partition {partition}"))?;
    check_region_names(requested)?;
    let requested: Vec<&str> = requested
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    if requested.is_empty() || requested == ["all"] {
        return Ok(known.iter().map(|s| s.to_string()).collect());
    }
    let mut out: Vec<String> = Vec::new();
    for r in requested {
        if r == "all" {
            return Err("`all` cannot be combined with region names".into());
        }
        if !known.contains(&r) {
            // A Bedrock region (checked above), so of another partition.
            let other = crate::regions::partition_of(r);
            return Err(format!(
                "'{r}' is in partition {other}, and the credentials are in {partition}: a partition's \
                 credentials reach its own regions only. Its regions: {}",
                known.join(", ")
            ));
        }
        if !out.iter().any(|o| o == r) {
            out.push(r.to_string());
        }
    }
    Ok(out)
}

/// Whether a region name is a Bedrock region of any partition.
pub fn is_bedrock_region(region: &str) -> bool {
    crate::regions::PARTITIONS
        .iter()
        .any(|(_, r)| r.contains(&region))
}

/// What can be said of `--regions` before the caller's partition is known: not an empty
/// list (`--regions ''`, an unset variable in a script, must not widen to every region),
/// and only names that are Bedrock regions in some partition.
pub fn check_region_names(requested: &[String]) -> Result<(), String> {
    if !requested.is_empty() && requested.iter().all(|r| r.trim().is_empty()) {
        return Err("--regions is empty: name regions (eu-west-1,us-east-1) or `all`".into());
    }
    match requested
        .iter()
        .map(|r| r.trim())
        .find(|r| !r.is_empty() && *r != "all" && !is_bedrock_region(r))
    {
        Some(bad) => Err(format!(
            "'{bad}' is not a region where Amazon Bedrock exists (in any partition). Known regions: {}",
            crate::regions::PARTITIONS
                .iter()
                .flat_map(|(_, r)| r.iter())
                .copied()
                .collect::<Vec<_>>()
                .join(", ")
        )),
        None => Ok(()),
    }
}

/// One HTTPS client for every SDK client of the process. Left to itself, each SDK client
/// (each service, region and account) builds its own, with its own TLS configuration and
/// connection pool: some 2 MiB an account in a scan of many. The same client as the SDK's
/// default (rustls with aws-lc, proxies from the environment), shared.
fn shared_http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::{Builder, ConnectorBuilder, tls};
    static CLIENT: std::sync::LazyLock<aws_smithy_runtime_api::client::http::SharedHttpClient> =
        std::sync::LazyLock::new(|| {
            Builder::new().build_with_connector_fn(|settings, components| {
                let mut conn = ConnectorBuilder::default()
                    .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc));
                conn.set_connector_settings(settings.cloned());
                if let Some(components) = components {
                    conn.set_sleep_impl(components.sleep_impl());
                }
                conn.set_proxy_config(Some(ProxyConfig::from_env()));
                conn.build()
            })
        });
    CLIENT.clone()
}

/// Adaptive retries: client-side rate limiting on throttles, up to 8 attempts.
fn retries() -> RetryConfig {
    RetryConfig::adaptive()
        .with_max_attempts(8)
        .with_initial_backoff(Duration::from_millis(100))
        .with_max_backoff(Duration::from_secs(5))
}

/// The SDK's default is a connect timeout only: every attempt and call gets one too.
fn timeouts(attempt: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(3100))
        .operation_attempt_timeout(attempt)
        .operation_timeout(Duration::from_secs(90))
        .build()
}

fn next_partition_prefix() -> String {
    static SESSIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    format!(
        "guardkey{}",
        SESSIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
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
    /// Service control policies' documents by id, read once: every account of an
    /// organization shares its root's and OUs' policies.
    scp_documents: ScpDocuments,
}

type ScpDocuments = std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, serde_json::Value>>>;

impl Session {
    pub async fn connect(options: SessionOptions) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(shared_http_client())
            .retry_config(retries())
            .timeout_config(timeouts(
                options.attempt_timeout.unwrap_or(Duration::from_secs(10)),
            ));
        if let Some(p) = &options.profile {
            // A named profile is that profile alone, as with the AWS CLI: the default chain
            // would take keys from the environment first, and so maybe another account than
            // the one asked for. A profile that does not exist is then an error, not a fallback.
            // A profile that assumes a role (role_arn + source_profile) calls STS itself:
            // its client needs the profile's region, else it cannot sign.
            use aws_config::meta::region::ProvideRegion;
            let region = match aws_config::profile::ProfileFileRegionProvider::builder()
                .profile_name(p)
                .build()
                .region()
                .await
            {
                Some(r) => Some(r),
                None => {
                    aws_config::default_provider::region::default_provider()
                        .region()
                        .await
                }
            };
            let provider_config =
                aws_config::provider_config::ProviderConfig::without_region().with_region(region);
            loader = loader.profile_name(p).credentials_provider(
                aws_config::profile::ProfileFileCredentialsProvider::builder()
                    .profile_name(p)
                    .configure(&provider_config)
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
            scp_documents: ScpDocuments::default(),
        }
    }

    /// A session on `endpoint` with these static keys, region us-east-1 (the embedded
    /// simulator, `guardkey sim`).
    pub async fn with_static_keys(
        endpoint: &str,
        access_key_id: &str,
        secret: &str,
        read_only: bool,
    ) -> Self {
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .http_client(shared_http_client())
            .endpoint_url(endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_credential_types::Credentials::new(
                access_key_id,
                secret,
                None,
                None,
                "guardkey-static",
            ))
            .retry_config(retries())
            .timeout_config(timeouts(Duration::from_secs(10)))
            .load()
            .await;
        Session::from_sdk_config(sdk, read_only)
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
            scp_documents: ScpDocuments::default(),
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
            allowed_writes: &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::regions::{BEDROCK_REGIONS, GOVCLOUD_REGIONS};

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
        let err = resolve_regions(&["us-gov-west-1".into()], "aws").unwrap_err();
        assert!(err.contains("is in partition aws-us-gov"), "{err}");
        assert_eq!(resolve_regions(&[], "aws-eusc").unwrap(), ["eusc-de-east-1"]);
        assert!(resolve_regions(&[], "aws-cn").is_err());
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
