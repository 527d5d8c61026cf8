//! What the simulator tests share: a running simulator and real SDK clients for it.
#![allow(dead_code)]

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_bedrock::config::Credentials;
use guardkey::sim::{RunningSim, SIM_ACCESS_KEY_ID, SIM_SECRET_ACCESS_KEY, SimConfig, Simulator};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A simulator with `config` (no recording unless GUARDKEY_SIM_RECORD says so) on a free port.
pub async fn start(config: SimConfig) -> RunningSim {
    Simulator::new(config)
        .expect("simulator")
        .serve_loopback()
        .await
        .expect("listen")
}

/// The demo estate, its updates settling after `settle_ms` (quick, for flows that wait on them).
pub async fn start_demo(settle_ms: u64) -> RunningSim {
    start(SimConfig {
        seed: guardkey::sim::Seed::Demo,
        settle: Duration::from_millis(settle_ms),
        ..SimConfig::default()
    })
    .await
}

pub async fn start_empty() -> RunningSim {
    start(SimConfig {
        settle: Duration::from_millis(50),
        ..SimConfig::default()
    })
    .await
}

pub async fn sdk_config(sim: &RunningSim) -> SdkConfig {
    sdk_config_with(
        sim,
        SIM_ACCESS_KEY_ID,
        SIM_SECRET_ACCESS_KEY,
        RetryConfig::standard(),
    )
    .await
}

pub async fn sdk_config_with(sim: &RunningSim, key: &str, secret: &str, retry: RetryConfig) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(sim.endpoint())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(key, secret, None, None, "guardkey-tests"))
        .retry_config(retry)
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_secs(5))
                .operation_timeout(Duration::from_secs(30))
                .build(),
        )
        .load()
        .await
}

pub fn bedrock(cfg: &SdkConfig, region: &str) -> aws_sdk_bedrock::Client {
    aws_sdk_bedrock::Client::from_conf(
        aws_sdk_bedrock::config::Builder::from(cfg)
            .region(Region::new(region.to_string()))
            .build(),
    )
}

pub fn kms(cfg: &SdkConfig, region: &str) -> aws_sdk_kms::Client {
    aws_sdk_kms::Client::from_conf(
        aws_sdk_kms::config::Builder::from(cfg)
            .region(Region::new(region.to_string()))
            .build(),
    )
}

pub fn sts(cfg: &SdkConfig) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::new(cfg)
}

/// The error code of an SDK error, as the service sent it.
pub fn code<E, R>(err: &aws_sdk_bedrock::error::SdkError<E, R>) -> String
where
    E: aws_sdk_bedrock::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match err {
        aws_sdk_bedrock::error::SdkError::ServiceError(e) => e.err().code().unwrap_or("<none>").to_string(),
        other => format!("<not a service error: {other:?}>"),
    }
}

pub fn message<E, R>(err: &aws_sdk_bedrock::error::SdkError<E, R>) -> String
where
    E: aws_sdk_bedrock::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match err {
        aws_sdk_bedrock::error::SdkError::ServiceError(e) => e.err().message().unwrap_or("").to_string(),
        other => format!("{other:?}"),
    }
}

/// A raw HTTP/1.1 exchange, for requests no SDK would send. Returns (status, headers, body).
pub async fn raw(sim: &RunningSim, request: &str) -> (u16, String, String) {
    let mut stream = tokio::net::TcpStream::connect(sim.addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf).await.expect("read");
    let text = String::from_utf8_lossy(&buf).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_lowercase(), body.to_string())
}

/// A raw request signed properly with the simulator's credentials (SigV4), so that the
/// simulator looks past the signature at what the request says.
pub async fn signed_raw(
    sim: &RunningSim,
    method: &str,
    path: &str,
    region: &str,
    service: &str,
    extra_headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let host = sim.addr.to_string();
    let amz_date = "20261130T120000Z";
    let mut headers = axum::http::HeaderMap::new();
    headers.insert("host", host.parse().unwrap());
    headers.insert("x-amz-date", amz_date.parse().unwrap());
    for (k, v) in extra_headers {
        headers.insert(
            axum::http::HeaderName::from_bytes(k.to_ascii_lowercase().as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    let mut names: Vec<String> = headers.keys().map(|k| k.as_str().to_string()).collect();
    names.sort();
    let scope = guardkey::sim::wire::CredentialScope {
        access_key: SIM_ACCESS_KEY_ID.into(),
        date: amz_date[..8].into(),
        region: region.into(),
        service: service.into(),
        signed_headers: names.clone(),
        signature: String::new(),
    };
    let method_: axum::http::Method = method.parse().unwrap();
    let uri: axum::http::Uri = path.parse().unwrap();
    let signature = guardkey::sim::sigv4::expected_signature(
        &scope,
        SIM_SECRET_ACCESS_KEY,
        &method_,
        &uri,
        &headers,
        body.as_bytes(),
    )
    .unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in &headers {
        request.push_str(&format!("{k}: {}\r\n", v.to_str().unwrap()));
    }
    request.push_str(&format!(
        "Authorization: AWS4-HMAC-SHA256 Credential={SIM_ACCESS_KEY_ID}/{}/{region}/{service}/aws4_request, SignedHeaders={}, Signature={signature}\r\n\r\n{body}",
        &amz_date[..8],
        names.join(";")
    ));
    raw(sim, &request).await
}

pub fn auth_header(region: &str, service: &str) -> String {
    format!(
        "Authorization: AWS4-HMAC-SHA256 Credential={SIM_ACCESS_KEY_ID}/20261130/{region}/{service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=00\r\n"
    )
}

/// The guardkey binary with a clean AWS environment: the given keys (or none), `region`,
/// no profile, no shared config or credentials files, no instance metadata, no colour.
pub fn guardkey_command(keys: Option<(&str, &str)>, region: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_guardkey"));
    cmd.env("AWS_REGION", region)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
        .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    if let Some((key, secret)) = keys {
        cmd.env("AWS_ACCESS_KEY_ID", key)
            .env("AWS_SECRET_ACCESS_KEY", secret);
    }
    cmd
}

/// All a run of the binary said, stdout then stderr, for assertions and their messages.
pub fn said(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The demo estate's account.
pub const DEMO_ACCOUNT: &str = "123456789012";

/// A session of the agent's service role, with the identity policy IAM gives it.
pub async fn as_role(sim: &RunningSim, role: &str) -> guardkey::aws::Session {
    let policy = sim
        .sim
        .with_world(|w| w.iam.session_policy(DEMO_ACCOUNT, role))
        .expect("a role with a policy");
    let key_id = "AKIAAGENTROLESESSION";
    sim.sim.add_principal(guardkey::sim::Principal {
        access_key_id: key_id.into(),
        secret_access_key: "secret".into(),
        account: DEMO_ACCOUNT.into(),
        arn: format!("arn:aws:sts::{DEMO_ACCOUNT}:assumed-role/{role}/agent-session"),
        user_id: format!("AROA{key_id}:agent-session"),
        identity_policy: Some(policy),
    });
    let cfg = sdk_config_with(sim, key_id, "secret", aws_config::retry::RetryConfig::disabled()).await;
    guardkey::aws::Session::from_sdk_config(cfg, true)
}
