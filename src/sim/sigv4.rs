//! Checks AWS Signature Version 4 the way AWS's front ends do, so that a client that signs
//! wrongly fails here as it would at AWS.
//!
//! The canonical request is rebuilt from what arrived (method, path, query, the headers the
//! client says it signed, the body) and signed with the principal's secret; the result must
//! equal the signature sent.

use axum::http::{HeaderMap, Method, Uri};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use super::wire::{AwsError, CredentialScope};

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// RFC 3986 encoding as SigV4 wants it: unreserved characters stay, all else is %XX.
fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let unreserved = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~');
        if unreserved || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Services other than S3 sign the path as sent, encoded once more.
fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        "/".to_string()
    } else {
        uri_encode(path, true)
    }
}

fn canonical_query(query: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .map(|(k, v)| (uri_encode(&k, false), uri_encode(&v, false)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn canonical_header_value(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The signature the request should carry if it was signed with `secret`.
pub fn expected_signature(
    scope: &CredentialScope,
    secret: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<String, AwsError> {
    let amz_date = headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            AwsError::incomplete_signature(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
            )
        })?;
    let mut canonical_headers = String::new();
    for name in &scope.signed_headers {
        let values: Vec<String> = headers
            .get_all(name.as_str())
            .iter()
            .map(|v| canonical_header_value(&String::from_utf8_lossy(v.as_bytes())))
            .collect();
        // HTTP/1.1 clients sign the Host header, which the server sees as such.
        if values.is_empty() {
            return Err(AwsError::signature_mismatch());
        }
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let payload_hash = match headers.get("x-amz-content-sha256").and_then(|v| v.to_str().ok()) {
        Some(h) if h != "UNSIGNED-PAYLOAD" => h.to_string(),
        _ => hex::encode(Sha256::digest(body)),
    };
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        method.as_str(),
        canonical_uri(uri.path()),
        canonical_query(uri.query()),
        canonical_headers,
        scope.signed_headers.join(";"),
        payload_hash
    );
    let credential_scope = format!("{}/{}/{}/aws4_request", scope.date, scope.region, scope.service);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{credential_scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), scope.date.as_bytes());
    let k_region = hmac(&k_date, scope.region.as_bytes());
    let k_service = hmac(&k_region, scope.service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    Ok(hex::encode(hmac(&k_signing, string_to_sign.as_bytes())))
}

/// Checks the request's signature; a mismatch is AWS's SignatureDoesNotMatch (or, for the
/// JSON protocols, InvalidSignatureException, which is what KMS and Bedrock answer).
pub fn verify(
    scope: &CredentialScope,
    secret: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    code: &str,
) -> Result<(), AwsError> {
    let expected = expected_signature(scope, secret, method, uri, headers, body)?;
    if expected == scope.signature {
        Ok(())
    } else {
        let mut e = AwsError::signature_mismatch();
        e.code = code.to_string();
        Err(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's own SigV4 test suite example ("get-vanilla"), with its published signature.
    #[test]
    fn matches_the_aws_test_suite() {
        let scope = CredentialScope::parse(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        )
        .unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("host", "example.amazonaws.com".parse().unwrap());
        headers.insert("x-amz-date", "20150830T123600Z".parse().unwrap());
        let uri: Uri = "/".parse().unwrap();
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let sig = expected_signature(&scope, secret, &Method::GET, &uri, &headers, b"").unwrap();
        assert_eq!(sig, scope.signature);
        assert!(
            verify(
                &scope,
                secret,
                &Method::GET,
                &uri,
                &headers,
                b"",
                "SignatureDoesNotMatch"
            )
            .is_ok()
        );
        let err = verify(
            &scope,
            "wrong",
            &Method::GET,
            &uri,
            &headers,
            b"",
            "SignatureDoesNotMatch",
        )
        .unwrap_err();
        assert_eq!(err.code, "SignatureDoesNotMatch");
    }

    #[test]
    fn query_and_path_are_canonical() {
        assert_eq!(canonical_query(Some("b=2&a=1&a=0")), "a=0&a=1&b=2");
        assert_eq!(canonical_query(Some("next=a%2Bb")), "next=a%2Bb");
        assert_eq!(canonical_uri("/guardrails/arn%3Aaws"), "/guardrails/arn%253Aaws");
    }
}
