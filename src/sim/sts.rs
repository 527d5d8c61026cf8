//! AWS STS (query protocol, XML responses): who is calling.

use super::Principal;
use super::wire::{AwsError, xml_escape};

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
