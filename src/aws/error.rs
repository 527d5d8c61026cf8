//! Every SDK error becomes a `CallError`, here and nowhere else.

use std::error::Error as StdError;

use aws_sdk_bedrock::error::{ProvideErrorMetadata, SdkError};

use crate::model::CallError;

/// The refusal the read-only guard raises before a mutating call is sent.
#[derive(Debug)]
pub struct ReadOnlyRefusal {
    pub action: String,
}

impl std::fmt::Display for ReadOnlyRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} refused: the session is read-only", self.action)
    }
}

impl StdError for ReadOnlyRefusal {}

/// The IAM action an AccessDenied message names ("… not authorized to perform: kms:Decrypt on …").
pub fn denied_action(message: &str) -> Option<String> {
    let rest = message.split("perform: ").nth(1)?;
    let action: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == ':' || *c == '*')
        .collect();
    action.contains(':').then_some(action)
}

fn find_in_chain<'a, T: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(t) = e.downcast_ref::<T>() {
            return Some(t);
        }
        cur = e.source();
    }
    None
}

/// Classifies an SDK error from calling `action` (e.g. `bedrock:GetGuardrail`).
pub fn classify<E, R>(err: SdkError<E, R>, action: &str) -> CallError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if let Some(refusal) = find_in_chain::<ReadOnlyRefusal>(&err) {
        return CallError::ReadOnly {
            action: refusal.action.clone(),
        };
    }
    match &err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let code = e.code().unwrap_or("Unknown").to_string();
            let message = e.message().unwrap_or_default().to_string();
            classify_code(&code, message, action)
        }
        SdkError::TimeoutError(_) => CallError::Timeout,
        SdkError::DispatchFailure(d) => {
            if d.is_timeout() {
                CallError::Timeout
            } else {
                CallError::Network {
                    message: chain_message(&err),
                }
            }
        }
        _ => CallError::Other {
            code: "ClientError".into(),
            message: chain_message(&err),
        },
    }
}

/// The classification of an error code AWS answered.
pub fn classify_code(code: &str, message: String, action: &str) -> CallError {
    match code {
        "AccessDeniedException" | "AccessDenied" | "NotAuthorizedException" | "AuthorizationError" => {
            CallError::AccessDenied {
                action: denied_action(&message).or_else(|| Some(action.to_string())),
                message,
            }
        }
        // STS is global to the partition: its refusal is about the credentials. Bedrock and
        // KMS answer UnrecognizedClientException for the same credentials in a region that
        // is not enabled, and the caller's identity was proven before any of their calls.
        "InvalidClientTokenId"
        | "SignatureDoesNotMatch"
        | "InvalidSignatureException"
        | "ExpiredToken"
        | "ExpiredTokenException" => CallError::Credentials {
            code: code.to_string(),
            message,
        },
        "UnrecognizedClientException" if action.starts_with("sts:") => CallError::Credentials {
            code: code.to_string(),
            message,
        },
        "UnrecognizedClientException" => CallError::NotEnabled,
        "ThrottlingException"
        | "Throttling"
        | "TooManyRequestsException"
        | "RequestLimitExceeded"
        | "ThrottledException" => CallError::Throttled,
        "ResourceNotFoundException" | "NotFoundException" | "NoSuchEntity" => CallError::NotFound { message },
        "RequestTimeout" | "RequestTimeoutException" => CallError::Timeout,
        _ => CallError::Other {
            code: code.to_string(),
            message,
        },
    }
}

fn chain_message(err: &(dyn StdError + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !parts.contains(&s) {
            parts.push(s);
        }
        cur = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_denied_action() {
        let m = "User: arn:aws:iam::1:user/x is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:…";
        assert_eq!(denied_action(m).as_deref(), Some("kms:Decrypt"));
        assert_eq!(denied_action("Access denied"), None);
    }

    #[test]
    fn classifies_codes() {
        assert_eq!(
            classify_code("UnrecognizedClientException", String::new(), "a"),
            CallError::NotEnabled
        );
        assert_eq!(
            classify_code("InvalidClientTokenId", "bad".into(), "sts:GetCallerIdentity"),
            CallError::Credentials {
                code: "InvalidClientTokenId".into(),
                message: "bad".into()
            }
        );
        assert!(matches!(
            classify_code(
                "UnrecognizedClientException",
                String::new(),
                "sts:GetCallerIdentity"
            ),
            CallError::Credentials { .. }
        ));
        assert!(matches!(
            classify_code("ExpiredTokenException", String::new(), "kms:DescribeKey"),
            CallError::Credentials { .. }
        ));
        assert_eq!(
            classify_code("ThrottlingException", String::new(), "a"),
            CallError::Throttled
        );
        assert_eq!(
            classify_code("AccessDeniedException", "no".into(), "bedrock:ListGuardrails"),
            CallError::AccessDenied {
                action: Some("bedrock:ListGuardrails".into()),
                message: "no".into()
            }
        );
        assert!(matches!(
            classify_code("ResourceNotFoundException", String::new(), "a"),
            CallError::NotFound { .. }
        ));
        assert!(matches!(
            classify_code("ValidationException", String::new(), "a"),
            CallError::Other { .. }
        ));
    }
}
