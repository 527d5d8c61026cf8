//! The accounts of an organization (AWS Organizations) and the sessions that reach them
//! (STS AssumeRole), in guardkey's own types.

use aws_config::Region;
use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};

use super::credentials::CredentialSource;
use super::{Session, classify, next_partition_prefix};
use crate::model::CallError;

/// Credentials already in hand, then aws-config's assume-role provider: the SDK's identity
/// cache keeps what this returns until shortly before it expires, then asks again, and
/// from then on the provider assumes the role afresh.
#[derive(Debug)]
struct FirstThenRefresh {
    first: std::sync::Mutex<Option<Credentials>>,
    refresh: AssumeRoleProvider,
}

impl ProvideCredentials for FirstThenRefresh {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            let first = self.first.lock().unwrap_or_else(|p| p.into_inner()).take();
            // Handed out once, and only with time left: else they are assumed again.
            let fresh = |c: &Credentials| {
                c.expiry()
                    .is_none_or(|e| e > std::time::SystemTime::now() + std::time::Duration::from_secs(300))
            };
            match first.filter(fresh) {
                Some(c) => Ok(c),
                None => self.refresh.provide_credentials().await,
            }
        })
    }
}

/// An account of the organization, as ListAccounts names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgMember {
    pub id: String,
    pub name: String,
    /// ACTIVE, SUSPENDED or PENDING_CLOSURE.
    pub status: String,
}

/// Organizations is global: its endpoint signs in the partition's home region.
fn home_region(partition: &str) -> &'static str {
    match partition {
        "aws-us-gov" => "us-gov-west-1",
        _ => "us-east-1",
    }
}

impl Session {
    fn organizations(&self, partition: &str) -> aws_sdk_organizations::Client {
        let conf = aws_sdk_organizations::config::Builder::from(&self.sdk)
            .region(Region::new(home_region(partition)))
            .interceptor(self.guard())
            .build();
        aws_sdk_organizations::Client::from_conf(conf)
    }

    /// Every account of the caller's organization, or of one OU and the OUs under it.
    pub async fn org_accounts(&self, partition: &str, ou: Option<&str>) -> Result<Vec<OrgMember>, CallError> {
        let client = self.organizations(partition);
        let member = |a: &aws_sdk_organizations::types::Account| OrgMember {
            id: a.id().unwrap_or_default().to_string(),
            name: a.name().unwrap_or_default().to_string(),
            status: a.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
        };
        let mut out = Vec::new();
        let Some(ou) = ou else {
            let mut pages = client.list_accounts().into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| classify(e, "organizations:ListAccounts"))?;
                out.extend(page.accounts().iter().map(member));
            }
            return Ok(out);
        };
        // The OU and every OU beneath it, breadth first.
        let mut parents = vec![ou.to_string()];
        while let Some(parent) = parents.pop() {
            let mut pages = client
                .list_accounts_for_parent()
                .parent_id(&parent)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| classify(e, "organizations:ListAccountsForParent"))?;
                out.extend(page.accounts().iter().map(member));
            }
            let mut children = client
                .list_organizational_units_for_parent()
                .parent_id(&parent)
                .into_paginator()
                .send();
            while let Some(page) = children.next().await {
                let page = page.map_err(|e| classify(e, "organizations:ListOrganizationalUnitsForParent"))?;
                parents.extend(
                    page.organizational_units()
                        .iter()
                        .filter_map(|o| o.id().map(str::to_string)),
                );
            }
        }
        Ok(out)
    }

    /// A session that works as `role_arn`, assumed with this session's credentials. The
    /// role is assumed once here, so that a role that is missing or does not trust the
    /// caller is said now (`sts:AssumeRole` denied); the session's own credentials come from
    /// aws-config's assume-role provider, which renews them before they expire. They are
    /// never written anywhere.
    pub async fn assume(&self, role_arn: &str, session_name: &str) -> Result<Session, CallError> {
        let sts = aws_sdk_sts::Client::new(&self.sdk);
        let out = sts
            .assume_role()
            .role_arn(role_arn)
            .role_session_name(session_name)
            .send()
            .await
            .map_err(|e| classify(e, "sts:AssumeRole"))?;
        // The credentials of this check are the account's first: AssumeRole is not called
        // a second time for them (a round trip and a signature per account, in a scan of
        // hundreds). aws-config's provider takes over when they near their expiry.
        let first = out.credentials().map(|c| {
            Credentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().to_string()),
                std::time::SystemTime::try_from(*c.expiration()).ok(),
                "guardkey-assume-role",
            )
        });
        let refresh = AssumeRoleProvider::builder(role_arn)
            .session_name(session_name)
            .configure(&self.sdk)
            .build()
            .await;
        let provider = FirstThenRefresh {
            first: std::sync::Mutex::new(first),
            refresh,
        };
        let sdk = self
            .sdk
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .build();
        Ok(Session {
            sdk,
            read_only: self.read_only,
            partition_prefix: next_partition_prefix(),
            credential_source: CredentialSource::AssumedRole(role_arn.to_string()),
            endpoint_url: self.endpoint_url.clone(),
            profile: self.profile.clone(),
        })
    }
}
