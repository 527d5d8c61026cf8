//! AWS STS (query protocol, XML responses): who is calling, and AssumeRole.
//!
//! AssumeRole, as AWS does it (STS API reference, botocore's `sts` model):
//! - `RoleArn` (20–2048 chars), `RoleSessionName` (2–64 chars of `[\w+=,.@-]`),
//!   `DurationSeconds` (900 to the role's maximum, 3600 unless raised): otherwise 400
//!   `ValidationError`.
//! - The role must exist with that ARN (its path included) and its trust policy must name
//!   the caller or the caller's account root, and the caller's identity policy must allow
//!   `sts:AssumeRole` on it; otherwise 403 `AccessDenied`, "User: CALLER is not authorized
//!   to perform: sts:AssumeRole on resource: ROLE". A suspended account's roles cannot be
//!   assumed: the same 403 AccessDenied, as users of suspended accounts report it
//!   (aws-samples/aws-security-reference-architecture-examples#218, an STS AssumeRole 403
//!   "AccessDenied: User: … is not authorized to perform: sts:AssumeRole on resource: …").
//! - The answer: temporary credentials (`ASIA…` access key, secret, session token,
//!   expiration) and the session's ARN `arn:PARTITION:sts::ACCT:assumed-role/NAME/SESSION`.
//!   Requests signed with them must carry the token (`X-Amz-Security-Token`); after the
//!   expiration they are refused with ExpiredTokenException (ExpiredToken on STS).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Principal;
use super::state::World;
use super::wire::{AwsError, xml_escape};

/// The default and, unless a role raises it, the longest session.
pub const DEFAULT_SESSION_SECONDS: u64 = 3600;

/// What AssumeRole created: the session's principal, its token and when it ends.
pub struct Assumed {
    pub principal: Principal,
    pub session_token: String,
    pub expires: SystemTime,
    pub xml: String,
    pub json: Value,
}

fn validation(message: String) -> AwsError {
    AwsError::new("ValidationError", 400, message)
}

fn random(rng: &mut fastrand::Rng, alphabet: &[u8], n: usize) -> String {
    (0..n)
        .map(|_| alphabet[rng.usize(..alphabet.len())] as char)
        .collect()
}

pub fn assume_role(
    world: &World,
    caller: &Principal,
    params: &BTreeMap<String, String>,
    rng: &mut fastrand::Rng,
    now: OffsetDateTime,
    request_id: &str,
) -> Result<Assumed, AwsError> {
    let role_arn = params
        .get("RoleArn")
        .filter(|a| (20..=2048).contains(&a.len()))
        .ok_or_else(|| {
            validation(
                "1 validation error detected: Value at 'roleArn' failed to satisfy constraint: \
                 Member must have length between 20 and 2048"
                    .into(),
            )
        })?;
    let session = params.get("RoleSessionName").cloned().unwrap_or_default();
    let session_ok = (2..=64).contains(&session.len())
        && session
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if !session_ok {
        return Err(validation(format!(
            "1 validation error detected: Value '{session}' at 'roleSessionName' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
        )));
    }
    let duration = match params.get("DurationSeconds") {
        None => DEFAULT_SESSION_SECONDS,
        Some(d) => d
            .parse::<u64>()
            .ok()
            .filter(|d| (900..=43200).contains(d))
            .ok_or_else(|| {
                validation(format!(
                    "1 validation error detected: Value '{d}' at 'durationSeconds' failed to satisfy \
                     constraint: Member must have value between 900 and 43200"
                ))
            })?,
    };
    if duration > DEFAULT_SESSION_SECONDS {
        return Err(validation(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.".into(),
        ));
    }
    let denied = || {
        AwsError::new(
            "AccessDenied",
            403,
            format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                caller.arn
            ),
        )
    };
    let arn = super::state::parse_arn(role_arn).ok_or_else(denied)?;
    let name = arn
        .resource
        .strip_prefix("role/")
        .and_then(|r| r.rsplit('/').next())
        .ok_or_else(denied)?;
    let role = world.iam.role(arn.account, name).ok_or_else(denied)?;
    let suspended = world
        .organization
        .as_ref()
        .and_then(|o| o.member(arn.account))
        .is_some_and(|a| a.status != "ACTIVE");
    if role.arn != *role_arn
        || suspended
        || !world.iam.trusts(arn.account, name, &caller.account, &caller.arn)
    {
        return Err(denied());
    }
    const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const SECRET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let access_key_id = format!("ASIA{}", random(rng, UPPER, 16));
    let secret_access_key = random(rng, SECRET, 40);
    let session_token = format!("IQoJb3JpZ2luX2VjE{}", random(rng, SECRET, 180));
    let expiration = now + time::Duration::seconds(duration as i64);
    let expiration_text = expiration
        .replace_nanosecond(0)
        .unwrap_or(expiration)
        .format(&Rfc3339)
        .unwrap_or_default();
    let session_arn = format!(
        "arn:{}:sts::{}:assumed-role/{name}/{session}",
        arn.partition, arn.account
    );
    let assumed_role_id = format!("{}:{session}", role.id);
    let principal = Principal {
        access_key_id: access_key_id.clone(),
        secret_access_key: secret_access_key.clone(),
        account: arn.account.to_string(),
        arn: session_arn.clone(),
        user_id: assumed_role_id.clone(),
        identity_policy: world.iam.session_policy(arn.account, name),
    };
    let xml = format!(
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <AssumeRoleResult>\n    \
         <Credentials>\n      <AccessKeyId>{access_key_id}</AccessKeyId>\n      \
         <SecretAccessKey>{}</SecretAccessKey>\n      <SessionToken>{}</SessionToken>\n      \
         <Expiration>{expiration_text}</Expiration>\n    </Credentials>\n    <AssumedRoleUser>\n      \
         <AssumedRoleId>{}</AssumedRoleId>\n      <Arn>{}</Arn>\n    </AssumedRoleUser>\n  \
         </AssumeRoleResult>\n  <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n  \
         </ResponseMetadata>\n</AssumeRoleResponse>\n",
        xml_escape(&secret_access_key),
        xml_escape(&session_token),
        xml_escape(&assumed_role_id),
        xml_escape(&session_arn),
    );
    let json = json!({
        "Credentials": {
            "AccessKeyId": access_key_id,
            "SecretAccessKey": secret_access_key,
            "SessionToken": session_token,
            "Expiration": expiration_text,
        },
        "AssumedRoleUser": {"AssumedRoleId": assumed_role_id, "Arn": session_arn},
    });
    Ok(Assumed {
        principal,
        session_token,
        expires: SystemTime::now() + Duration::from_secs(duration),
        xml,
        json,
    })
}

/// The operation a query-protocol body names (`Action=GetCallerIdentity&Version=…`).
pub fn operation(body: &[u8]) -> Result<String, AwsError> {
    let mut action = None;
    let mut version = None;
    for (k, v) in form_urlencoded::parse(body) {
        match k.as_ref() {
            "Action" => action = Some(v.into_owned()),
            "Version" => version = Some(v.into_owned()),
            _ => {}
        }
    }
    let action = action.ok_or_else(|| AwsError::new("MissingAction", 400, "Missing Action"))?;
    if version.as_deref() != Some("2011-06-15") {
        return Err(AwsError::new(
            "InvalidAction",
            400,
            format!(
                "Could not find operation {action} for version {}",
                version.unwrap_or_default()
            ),
        ));
    }
    Ok(action)
}

pub fn get_caller_identity(principal: &Principal, request_id: &str) -> String {
    format!(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  \
         <GetCallerIdentityResult>\n    <Arn>{}</Arn>\n    <UserId>{}</UserId>\n    \
         <Account>{}</Account>\n  </GetCallerIdentityResult>\n  <ResponseMetadata>\n    \
         <RequestId>{request_id}</RequestId>\n  </ResponseMetadata>\n</GetCallerIdentityResponse>\n",
        xml_escape(&principal.arn),
        xml_escape(&principal.user_id),
        xml_escape(&principal.account),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_action() {
        assert_eq!(
            operation(b"Action=GetCallerIdentity&Version=2011-06-15").unwrap(),
            "GetCallerIdentity"
        );
        assert_eq!(
            operation(b"Version=2011-06-15").unwrap_err().code,
            "MissingAction"
        );
        assert_eq!(
            operation(b"Action=GetCallerIdentity&Version=2010")
                .unwrap_err()
                .code,
            "InvalidAction"
        );
    }
}
