//! Where the credentials come from, and what to tell the user when they do not work.
//!
//! The SDK's own errors name its internals ("dispatch failure … failed to load IMDS session
//! token"); a user needs to hear which credentials failed, why, and what to run next.

use std::error::Error as StdError;

use aws_credential_types::provider::error::CredentialsError;

use crate::model::CallError;

/// The source of the credentials a session uses, as far as guardkey can tell before asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// `--profile NAME` or `AWS_PROFILE`: that profile alone, never the environment's keys.
    Profile(String),
    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`.
    Environment,
    /// The default chain, with no profile named and no keys in the environment.
    DefaultChain,
    /// Credentials given in code (the embedded simulator, tests).
    Static,
    /// A role assumed with another session's credentials (`--org`, `--role-arns`).
    AssumedRole(String),
}

impl CredentialSource {
    /// The source the standard chain will use for this profile choice.
    pub fn detect(profile: Option<&str>) -> Self {
        match profile {
            Some(p) => CredentialSource::Profile(p.to_string()),
            None if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() => CredentialSource::Environment,
            None => CredentialSource::DefaultChain,
        }
    }

    fn describe(&self) -> String {
        match self {
            CredentialSource::Profile(p) => format!("profile {p}"),
            CredentialSource::Environment => {
                "the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)".into()
            }
            CredentialSource::DefaultChain => "the default credential chain".into(),
            CredentialSource::Static => "the given credentials".into(),
            CredentialSource::AssumedRole(role) => format!("the role {role}, assumed"),
        }
    }

    /// What to run to get working credentials from this source.
    fn next_step(&self) -> String {
        match self {
            CredentialSource::Profile(p) => format!(
                "For an SSO profile run `aws sso login --profile {p}`; otherwise check it with \
                 `aws sts get-caller-identity --profile {p}` or set it up with `aws configure --profile {p}`"
            ),
            CredentialSource::Environment => "Export fresh keys (an expired session also needs a new \
                 AWS_SESSION_TOKEN), or unset them and use --profile"
                .into(),
            CredentialSource::DefaultChain | CredentialSource::Static => {
                "Run `aws configure` or `aws sso login`, or pass --profile".into()
            }
            CredentialSource::AssumedRole(role) => format!(
                "Check that {role} exists and trusts the caller (its trust policy), and that the \
                 caller may sts:AssumeRole it"
            ),
        }
    }
}

/// Every message in an error's chain, deduplicated, joined.
pub fn chain_text(err: &(dyn StdError + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = e.source();
    }
    parts.join(": ")
}

/// Why no credentials could be loaded, in the user's terms.
pub fn explain_not_loaded(source: &CredentialSource, err: &CredentialsError) -> String {
    let chain = chain_text(err);
    let lower = chain.to_ascii_lowercase();
    match source {
        CredentialSource::Profile(p)
            if lower.contains("was not defined") || lower.contains("no profiles were defined") =>
        {
            // The AWS CLI's own words, so that both tools read the same.
            format!(
                "The config profile ({p}) could not be found in ~/.aws/config or ~/.aws/credentials \
                 (or AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE). List the profiles with \
                 `aws configure list-profiles`."
            )
        }
        CredentialSource::Profile(p) if lower.contains("sso") || lower.contains("token") => format!(
            "The SSO session of profile {p} has expired or was never started ({chain}). \
             Run `aws sso login --profile {p}` and try again."
        ),
        CredentialSource::Profile(p) if lower.contains("process") => format!(
            "The credential_process of profile {p} failed: {chain}. Run that command by hand to \
             see why, or choose another profile."
        ),
        CredentialSource::Profile(p) => format!(
            "The credentials of profile {p} could not be loaded: {chain}. {}.",
            source.next_step()
        ),
        _ if matches!(err, CredentialsError::CredentialsNotLoaded(_)) => "No AWS credentials found. \
             guardkey looked in the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), the \
             default profile of ~/.aws/credentials and ~/.aws/config (SSO, credential_process, \
             assume role), web identity (AWS_WEB_IDENTITY_TOKEN_FILE), the container credentials \
             endpoint and the EC2 instance metadata service. Run `aws configure` or \
             `aws sso login --profile NAME` and pass --profile NAME, or try `guardkey --demo`."
            .to_string(),
        _ => format!(
            "The AWS credentials from {} could not be loaded: {chain}. {}.",
            source.describe(),
            source.next_step()
        ),
    }
}

/// What to say when STS refused or could not be reached, having loaded the credentials.
pub fn explain_identity_error(
    source: &CredentialSource,
    endpoint: Option<&str>,
    error: &CallError,
) -> String {
    let next = source.next_step();
    match error {
        CallError::Credentials { code, message } => {
            let what = match code.as_str() {
                "ExpiredToken" | "ExpiredTokenException" | "TokenRefreshRequired" => "have expired",
                "SignatureDoesNotMatch" | "InvalidSignatureException" => {
                    "do not match: the secret access key is wrong"
                }
                _ => "are invalid",
            };
            format!(
                "The AWS credentials from {} {what} (STS answered {code}: {message}). {next}, or try \
                 `guardkey --demo`.",
                source.describe()
            )
        }
        CallError::Network { message } => {
            let target = endpoint.unwrap_or("AWS STS");
            let lower = message.to_ascii_lowercase();
            if lower.contains("connection refused") {
                format!(
                    "Cannot connect to {target}: connection refused. Is the endpoint running (e.g. `guardkey sim`)?"
                )
            } else if lower.contains("dns") || lower.contains("resolve") {
                format!("Cannot resolve the host of {target}: {message}. Check the endpoint and the network.")
            } else {
                format!("Cannot reach {target}: {message}. Check the endpoint and the network.")
            }
        }
        CallError::Timeout => format!(
            "{} did not answer in time. Check network access, a proxy (HTTPS_PROXY) or the endpoint.",
            endpoint.unwrap_or("AWS STS")
        ),
        other => format!(
            "Cannot tell who the credentials from {} belong to (sts:GetCallerIdentity: {}). {next}, \
             or try `guardkey --demo`.",
            source.describe(),
            other.detail()
        ),
    }
}

/// Checks `--endpoint-url` before any call: an absolute http(s) URL with a host.
pub fn check_endpoint_url(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| {
        format!("--endpoint-url '{url}' is not a URL ({e}); give one like http://127.0.0.1:4566 or https://bedrock.us-east-1.amazonaws.com")
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "--endpoint-url '{url}' must be http:// or https://, not {}://",
            parsed.scheme()
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("--endpoint-url '{url}' has no host"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls_are_checked() {
        assert!(check_endpoint_url("http://127.0.0.1:4566").is_ok());
        assert!(check_endpoint_url("https://bedrock.us-east-1.amazonaws.com").is_ok());
        for bad in ["notaurl", "ftp://x", "127.0.0.1:4566", "http://", ""] {
            assert!(check_endpoint_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn credential_failures_are_explained_with_the_next_step() {
        let invalid = CallError::Credentials {
            code: "InvalidClientTokenId".into(),
            message: "The security token included in the request is invalid.".into(),
        };
        let m = explain_identity_error(&CredentialSource::Environment, None, &invalid);
        assert!(
            m.contains("are invalid") && m.contains("environment") && m.contains("--demo"),
            "{m}"
        );
        let p = CredentialSource::Profile("dev".into());
        let expired = CallError::Credentials {
            code: "ExpiredToken".into(),
            message: "The security token included in the request is expired".into(),
        };
        let m = explain_identity_error(&p, None, &expired);
        assert!(
            m.contains("have expired") && m.contains("aws sso login --profile dev"),
            "{m}"
        );
        let refused = CallError::Network {
            message: "dispatch failure: io error: tcp connect error: Connection refused (os error 111)"
                .into(),
        };
        let m = explain_identity_error(&p, Some("http://127.0.0.1:1"), &refused);
        assert_eq!(
            m,
            "Cannot connect to http://127.0.0.1:1: connection refused. Is the endpoint running (e.g. `guardkey sim`)?"
        );
        let none = CredentialsError::not_loaded_no_source();
        let m = explain_not_loaded(&CredentialSource::DefaultChain, &none);
        assert!(m.starts_with("No AWS credentials found"), "{m}");
    }
}
