//! What goes over the wire: the SigV4 credential scope that says who is calling which
//! service in which region, and errors rendered in each protocol's own format.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode};
use serde_json::{Value, json};

/// The three protocols of the services simulated here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// Amazon Bedrock control plane, REST-JSON.
    Bedrock,
    /// AWS KMS, JSON 1.1 (`X-Amz-Target: TrentService.*`).
    Kms,
    /// AWS STS, query protocol with XML responses.
    Sts,
    /// AWS IAM, query protocol with XML responses, global.
    Iam,
    /// AWS Security Hub, REST-JSON.
    SecurityHub,
    /// AWS Organizations, JSON 1.1 (`X-Amz-Target: AWSOrganizationsV20161128.*`), global.
    Organizations,
}

impl Service {
    pub fn signing_name(self) -> &'static str {
        match self {
            Service::Bedrock => "bedrock",
            Service::Kms => "kms",
            Service::Sts => "sts",
            Service::Iam => "iam",
            Service::SecurityHub => "securityhub",
            Service::Organizations => "organizations",
        }
    }

    pub fn from_signing_name(name: &str) -> Option<Self> {
        match name {
            "bedrock" => Some(Service::Bedrock),
            "kms" => Some(Service::Kms),
            "sts" => Some(Service::Sts),
            "iam" => Some(Service::Iam),
            "securityhub" => Some(Service::SecurityHub),
            "organizations" => Some(Service::Organizations),
            _ => None,
        }
    }
}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 Credential=…` header the simulator uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialScope {
    pub access_key: String,
    pub date: String,
    pub region: String,
    pub service: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

impl CredentialScope {
    pub fn from_headers(headers: &HeaderMap) -> Result<Self, AwsError> {
        let Some(auth) = headers.get("authorization") else {
            return Err(AwsError::missing_authentication());
        };
        let auth = auth
            .to_str()
            .map_err(|_| AwsError::incomplete_signature("Authorization header is not ASCII"))?;
        Self::parse(auth)
    }

    pub fn parse(auth: &str) -> Result<Self, AwsError> {
        let Some(rest) = auth.strip_prefix("AWS4-HMAC-SHA256 ") else {
            return Err(AwsError::incomplete_signature(
                "Authorization header requires 'AWS4-HMAC-SHA256' as the algorithm",
            ));
        };
        let mut credential = None;
        let mut signed_headers = None;
        let mut signature = None;
        for part in rest.split(',') {
            let part = part.trim();
            if let Some(v) = part.strip_prefix("Credential=") {
                credential = Some(v);
            } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
                signed_headers = Some(v);
            } else if let Some(v) = part.strip_prefix("Signature=") {
                signature = Some(v);
            }
        }
        let (Some(credential), Some(signed_headers), Some(signature)) =
            (credential, signed_headers, signature)
        else {
            return Err(AwsError::incomplete_signature(
                "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters",
            ));
        };
        let scope: Vec<&str> = credential.split('/').collect();
        let [access_key, date, region, service, terminator] = scope[..] else {
            return Err(AwsError::incomplete_signature(format!(
                "Credential should be scoped to a valid region, not '{credential}'"
            )));
        };
        let date_ok = date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit());
        if terminator != "aws4_request" || !date_ok || access_key.is_empty() {
            return Err(AwsError::incomplete_signature(format!(
                "Credential should be scoped to a valid region, not '{credential}'"
            )));
        }
        if region.is_empty()
            || !region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(AwsError::incomplete_signature(format!(
                "Credential should be scoped to a valid region, not '{region}'"
            )));
        }
        Ok(CredentialScope {
            access_key: access_key.to_string(),
            date: date.to_string(),
            region: region.to_string(),
            service: service.to_string(),
            signed_headers: signed_headers.split(';').map(str::to_string).collect(),
            signature: signature.to_string(),
        })
    }
}

/// An error as an AWS service reports it: a type name, an HTTP status and a message.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsError {
    pub code: String,
    pub status: StatusCode,
    pub message: String,
    /// STS distinguishes the caller's fault ("Sender") from its own ("Receiver").
    pub sender_fault: bool,
}

impl AwsError {
    pub fn new(code: &str, status: u16, message: impl Into<String>) -> Self {
        AwsError {
            code: code.to_string(),
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            message: message.into(),
            sender_fault: status < 500,
        }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new("ValidationException", 400, message)
    }

    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new("SerializationException", 400, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new("ResourceNotFoundException", 404, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new("ConflictException", 400, message)
    }

    pub fn throttling() -> Self {
        Self::new("ThrottlingException", 429, "Rate exceeded")
    }

    pub fn internal() -> Self {
        Self::new(
            "InternalServerException",
            500,
            "The server encountered an internal error. Try again later.",
        )
    }

    pub fn missing_authentication() -> Self {
        Self::new(
            "MissingAuthenticationTokenException",
            403,
            "Missing Authentication Token",
        )
    }

    pub fn incomplete_signature(message: impl Into<String>) -> Self {
        Self::new("IncompleteSignatureException", 400, message)
    }

    /// An access key the service does not know, in `service`'s words: the JSON protocols
    /// say UnrecognizedClientException, STS says InvalidClientTokenId (same message).
    pub fn unrecognized_client_for(service: Service) -> Self {
        let code = match service {
            Service::Sts | Service::Iam => "InvalidClientTokenId",
            Service::Bedrock | Service::Kms | Service::SecurityHub | Service::Organizations => {
                "UnrecognizedClientException"
            }
        };
        Self::new(
            code,
            403,
            "The security token included in the request is invalid.",
        )
    }

    pub fn unrecognized_client() -> Self {
        Self::unrecognized_client_for(Service::Bedrock)
    }

    pub fn signature_mismatch() -> Self {
        Self::new(
            "SignatureDoesNotMatch",
            403,
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        )
    }

    pub fn access_denied(principal_arn: &str, action: &str, resource: &str) -> Self {
        Self::new(
            "AccessDeniedException",
            403,
            format!(
                "User: {principal_arn} is not authorized to perform: {action} on resource: {resource} \
                 because no identity-based policy allows the {action} action"
            ),
        )
    }

    /// Renders the error the way `service` puts errors on the wire.
    pub fn into_response(self, service: Service, request_id: &str) -> Response<Body> {
        match service {
            Service::Bedrock | Service::SecurityHub => {
                // Security Hub's error shapes name their members `Message` and `Code`.
                let body = match service {
                    Service::SecurityHub => json!({ "Message": self.message, "Code": self.code }),
                    _ => json!({ "message": self.message }),
                }
                .to_string();
                let mut resp = Response::new(Body::from(body));
                *resp.status_mut() = self.status;
                let h = resp.headers_mut();
                h.insert("content-type", HeaderValue::from_static("application/json"));
                if let Ok(v) = HeaderValue::from_str(&self.code) {
                    h.insert("x-amzn-errortype", v);
                }
                insert_request_id(h, request_id);
                resp
            }
            Service::Kms | Service::Organizations => {
                let body = json!({ "__type": self.code, "message": self.message }).to_string();
                let mut resp = Response::new(Body::from(body));
                *resp.status_mut() = self.status;
                let h = resp.headers_mut();
                h.insert(
                    "content-type",
                    HeaderValue::from_static("application/x-amz-json-1.1"),
                );
                insert_request_id(h, request_id);
                resp
            }
            Service::Sts | Service::Iam => {
                let kind = if self.sender_fault { "Sender" } else { "Receiver" };
                let namespace = match service {
                    Service::Iam => "https://iam.amazonaws.com/doc/2010-05-08/",
                    _ => "https://sts.amazonaws.com/doc/2011-06-15/",
                };
                let body = format!(
                    "<ErrorResponse xmlns=\"{namespace}\">\n  <Error>\n    \
                     <Type>{kind}</Type>\n    <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  \
                     <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n",
                    xml_escape(&self.code),
                    xml_escape(&self.message)
                );
                let mut resp = Response::new(Body::from(body));
                *resp.status_mut() = self.status;
                let h = resp.headers_mut();
                h.insert("content-type", HeaderValue::from_static("text/xml"));
                insert_request_id(h, request_id);
                resp
            }
        }
    }
}

fn insert_request_id(h: &mut HeaderMap, request_id: &str) {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
}

/// Text for XML content: the same escaping as the HTML report's (`&#39;` is XML too).
pub fn xml_escape(s: &str) -> String {
    crate::report::escape_markup(s)
}

/// A successful JSON response with the protocol's content type.
pub fn json_response(service: Service, status: u16, body: &Value, request_id: &str) -> Response<Body> {
    let mut resp = Response::new(Body::from(body.to_string()));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let content_type = match service {
        Service::Kms | Service::Organizations => "application/x-amz-json-1.1",
        _ => "application/json",
    };
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static(content_type));
    insert_request_id(h, request_id);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_sigv4_header() {
        let scope = CredentialScope::parse(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261130/eu-west-1/bedrock/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=abcd",
        )
        .unwrap();
        assert_eq!(scope.access_key, "AKIDEXAMPLE");
        assert_eq!(scope.region, "eu-west-1");
        assert_eq!(scope.service, "bedrock");
        assert_eq!(scope.signed_headers, vec!["host", "x-amz-date"]);
    }

    #[test]
    fn rejects_malformed_scopes() {
        for bad in [
            "Basic abc",
            "AWS4-HMAC-SHA256 Credential=AKID/20261130/eu-west-1/bedrock/aws4_request",
            "AWS4-HMAC-SHA256 Credential=AKID/2026/eu-west-1/bedrock/aws4_request, SignedHeaders=host, Signature=x",
            "AWS4-HMAC-SHA256 Credential=AKID/20261130/EU_WEST/bedrock/aws4_request, SignedHeaders=host, Signature=x",
        ] {
            let err = CredentialScope::parse(bad).unwrap_err();
            assert_eq!(err.code, "IncompleteSignatureException", "{bad}");
        }
    }
}
