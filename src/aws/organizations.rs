//! The accounts of an organization (AWS Organizations) and the sessions that reach them
//! (STS AssumeRole), in guardkey's own types.

use aws_config::Region;
use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};

use super::credentials::CredentialSource;
use super::{Session, classify, next_partition_prefix};
use crate::model::CallError;
use crate::usage::access::{ScpLevel, Scps};

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

/// Why SCPs were not read, with what grants it when the caller lacks a permission.
fn scp_unread(e: &CallError) -> String {
    match e {
        CallError::AccessDenied { .. } => format!("{}; `guardkey policy scan` grants it", e.label()),
        _ => e.label(),
    }
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

    /// The service control policies that apply to `account`: the policies attached to the
    /// root, each OU down to the account, and the account itself (Organizations User Guide,
    /// "SCP evaluation": a request must be allowed at every level, and a deny at any level
    /// wins). SCPs do not apply to the management account, nor outside an organization
    /// (NotApplicable). Only the management account or a delegated administrator may list
    /// them: from another account, or without the permissions, NotRead says why.
    pub async fn account_scps(&self, partition: &str, account: &str) -> Scps {
        let client = self.organizations(partition);
        let org = match client.describe_organization().send().await {
            Ok(o) => o,
            Err(e) => {
                return match classify(e, "organizations:DescribeOrganization") {
                    CallError::Other { code, .. } if code == "AWSOrganizationsNotInUseException" => {
                        Scps::NotApplicable
                    }
                    e => Scps::NotRead(scp_unread(&e)),
                };
            }
        };
        let Some(org) = org.organization() else {
            return Scps::NotRead("DescribeOrganization answered no organization".into());
        };
        if org.master_account_id() == Some(account) {
            return Scps::NotApplicable;
        }
        // SCPs only apply when the organization has all features and the policy type on.
        if org.feature_set().map(|f| f.as_str()) == Some("CONSOLIDATED_BILLING") {
            return Scps::NotApplicable;
        }
        match self.scp_levels(&client, account).await {
            Ok(levels) => Scps::Read(levels),
            Err(e) => Scps::NotRead(format!(
                "{}; read them with the management account or a delegated administrator",
                scp_unread(&e)
            )),
        }
    }

    /// From the root down to the account, each level's SCPs with their documents.
    async fn scp_levels(
        &self,
        client: &aws_sdk_organizations::Client,
        account: &str,
    ) -> Result<Vec<ScpLevel>, CallError> {
        use aws_sdk_organizations::types::{ParentType, PolicyType};
        // The path: ListParents from the account up to the root (one parent each).
        let mut path = vec![account.to_string()];
        loop {
            let child = path.last().cloned().unwrap_or_default();
            let out = client
                .list_parents()
                .child_id(&child)
                .send()
                .await
                .map_err(|e| classify(e, "organizations:ListParents"))?;
            let Some(parent) = out.parents().first() else {
                break;
            };
            path.push(parent.id().unwrap_or_default().to_string());
            if parent.r#type() == Some(&ParentType::Root) || path.len() > 8 {
                break;
            }
        }
        path.reverse();
        let mut levels = Vec::with_capacity(path.len());
        for target in path {
            let mut policies = Vec::new();
            let mut pages = client
                .list_policies_for_target()
                .target_id(&target)
                .filter(PolicyType::ServiceControlPolicy)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| classify(e, "organizations:ListPoliciesForTarget"))?;
                for summary in page.policies() {
                    let id = summary.id().unwrap_or_default();
                    let name = summary.name().unwrap_or(id).to_string();
                    let document = self.scp_document(client, id).await?;
                    policies.push((name, document));
                }
            }
            levels.push(ScpLevel { target, policies });
        }
        Ok(levels)
    }

    /// A policy's document (DescribePolicy), read once per session: every account of an
    /// organization shares its root's and its OUs' policies.
    async fn scp_document(
        &self,
        client: &aws_sdk_organizations::Client,
        id: &str,
    ) -> Result<serde_json::Value, CallError> {
        if let Some(doc) = self
            .scp_documents
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
        {
            return Ok(doc.clone());
        }
        let out = client
            .describe_policy()
            .policy_id(id)
            .send()
            .await
            .map_err(|e| classify(e, "organizations:DescribePolicy"))?;
        let content = out.policy().and_then(|p| p.content()).unwrap_or_default();
        let doc: serde_json::Value = serde_json::from_str(content).map_err(|e| CallError::Other {
            code: "MalformedPolicyDocument".into(),
            message: format!("the SCP {id} is not JSON: {e}"),
        })?;
        self.scp_documents
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.to_string(), doc.clone());
        Ok(doc)
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
            scp_documents: self.scp_documents.clone(),
        })
    }
}
