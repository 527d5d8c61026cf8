//! Who is calling: STS (GetCallerIdentity) and IAM (a role's or user's real ARN).

use aws_config::Region;

use super::{Session, classify, credentials};
use crate::model::CallError;

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
        crate::regions::partition_of_arn(&self.arn)
    }
}

impl Session {
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

    /// IAM is global: its calls are signed for the partition's IAM region.
    pub(super) fn iam(&self, partition: &str) -> aws_sdk_iam::Client {
        // IAM's global endpoint signs in the partition's home region.
        let region = match partition {
            "aws" => "us-east-1".to_string(),
            "aws-us-gov" => "us-gov-west-1".to_string(),
            p => crate::regions::regions_of(p)
                .and_then(|r| r.first())
                .map_or_else(|| self.home_region(), |r| r.to_string()),
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
}
