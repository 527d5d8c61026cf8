//! IAM's policy simulator (`iam:SimulatePrincipalPolicy`): AWS's own answer to whether a
//! principal's identity policies, permissions boundary and its account's SCPs let it use a
//! KMS key as Bedrock does. Returns guardkey's `IamAnswer`; combining it with the key policy
//! and grants is `crate::usage::access::with_iam_answer`'s.

use aws_sdk_iam::types::{ContextEntry, ContextKeyTypeEnum};

use super::{Session, classify};
use crate::model::CallError;
use crate::usage::IamAnswer;

impl Session {
    /// `action` (`kms:Decrypt`) on each of `keys` (key ARNs of one region) for `principal` (a
    /// role or user of the caller's account), as Bedrock in `region` asks KMS: with
    /// `kms:ViaService = bedrock.REGION.amazonaws.com` and `kms:CallerAccount`. Paged.
    pub async fn simulate_key_use(
        &self,
        partition: &str,
        principal: &str,
        region: &str,
        action: &str,
        keys: &[String],
    ) -> Result<Vec<(String, IamAnswer)>, CallError> {
        let client = self.iam(partition);
        let account = principal.split(':').nth(4).unwrap_or_default();
        let entry = |name: &str, value: String| {
            ContextEntry::builder()
                .context_key_name(name)
                .context_key_values(value)
                .context_key_type(ContextKeyTypeEnum::String)
                .build()
        };
        let mut out = Vec::with_capacity(keys.len());
        let mut marker = None;
        loop {
            let page = client
                .simulate_principal_policy()
                .policy_source_arn(principal)
                .action_names(action)
                .set_resource_arns(Some(keys.to_vec()))
                .context_entries(entry("kms:ViaService", format!("bedrock.{region}.amazonaws.com")))
                .context_entries(entry("kms:CallerAccount", account.to_string()))
                .max_items(1000)
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| classify(e, "iam:SimulatePrincipalPolicy"))?;
            for r in page.evaluation_results() {
                let Some(key) = r.eval_resource_name() else {
                    continue;
                };
                out.push((
                    key.to_string(),
                    IamAnswer {
                        decision: r.eval_decision().as_str().to_string(),
                        boundary_allows: r
                            .permissions_boundary_decision_detail()
                            .map(|d| d.allowed_by_permissions_boundary()),
                        organizations_allow: r
                            .organizations_decision_detail()
                            .map(|d| d.allowed_by_organizations()),
                    },
                ));
            }
            marker = page.marker().filter(|_| page.is_truncated()).map(str::to_string);
            if marker.is_none() {
                break;
            }
        }
        Ok(out)
    }
}
