//! Who uses guardrails, as AWS records it: Bedrock agents and prompt flows (Agents for
//! Amazon Bedrock, `aws-sdk-bedrockagent`) and the account's IAM identity policies
//! (`iam:GetAccountAuthorizationDetails`). Returns guardkey's own types; the matching is in
//! `crate::usage`.

use std::collections::HashMap;

use aws_config::Region;
use aws_sdk_bedrockagent::types::{FlowDefinition, FlowNodeConfiguration, GuardrailConfiguration};
use aws_sdk_iam::types::EntityType;
use serde_json::Value;

use super::{Session, classify};
use crate::model::CallError;
use crate::usage::{AccountIam, Boundary, PrincipalPolicies, Via};

/// An agent version or a flow node that names a guardrail, and the role it runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedUse {
    /// The guardrail's id or ARN, as configured.
    pub guardrail: String,
    pub guardrail_version: String,
    pub role_arn: String,
    pub via: Via,
}

fn named(config: Option<&GuardrailConfiguration>) -> Option<(String, String)> {
    let c = config?;
    let id = c.guardrail_identifier()?;
    Some((
        id.to_string(),
        c.guardrail_version().unwrap_or("DRAFT").to_string(),
    ))
}

/// The guardrails a flow definition's prompt and knowledge-base nodes name, loops included.
fn flow_guardrails(definition: Option<&FlowDefinition>, out: &mut Vec<(String, String, String)>) {
    for node in definition.map(FlowDefinition::nodes).unwrap_or_default() {
        let found = match node.configuration() {
            Some(FlowNodeConfiguration::Prompt(p)) => named(p.guardrail_configuration()),
            Some(FlowNodeConfiguration::KnowledgeBase(k)) => named(k.guardrail_configuration()),
            Some(FlowNodeConfiguration::Loop(l)) => {
                flow_guardrails(l.definition(), out);
                None
            }
            _ => None,
        };
        if let Some((id, version)) = found {
            out.push((node.name().to_string(), id, version));
        }
    }
}

/// RFC 3986 percent-decoding of a policy document from GetAccountAuthorizationDetails
/// ("Policies returned by this operation are URL-encoded", IAM API reference; the Rust SDK
/// does not decode them). A document that is not JSON after decoding is None.
pub fn decode_policy(encoded: &str) -> Option<Value> {
    let text = percent_encoding::percent_decode_str(encoded).decode_utf8().ok()?;
    serde_json::from_str(&text).ok()
}

impl Session {
    fn bedrock_agent(&self, region: &str) -> aws_sdk_bedrockagent::Client {
        let conf = aws_sdk_bedrockagent::config::Builder::from(&self.sdk)
            .region(Region::new(region.to_string()))
            .retry_partition(self.partition("bedrock-agent", region))
            .interceptor(self.guard())
            .build();
        aws_sdk_bedrockagent::Client::from_conf(conf)
    }

    /// Every agent version of the region that names a guardrail (ListAgents,
    /// ListAgentVersions), with the agent's service role (GetAgent). A published version
    /// runs as the agent's role: Bedrock keeps one role per agent.
    pub async fn agent_uses(&self, region: &str) -> Result<Vec<NamedUse>, CallError> {
        let client = self.bedrock_agent(region);
        let agents = client
            .list_agents()
            .max_results(100)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| classify(e, "bedrock:ListAgents"))?;
        let mut out = Vec::new();
        for agent in agents {
            let (id, name) = (agent.agent_id().to_string(), agent.agent_name().to_string());
            let versions: Vec<(String, (String, String))> = client
                .list_agent_versions()
                .agent_id(&id)
                .max_results(100)
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>()
                .await
                .map_err(|e| classify(e, "bedrock:ListAgentVersions"))?
                .iter()
                .filter_map(|v| Some((v.agent_version().to_string(), named(v.guardrail_configuration())?)))
                .collect();
            if versions.is_empty() {
                continue;
            }
            let agent = client
                .get_agent()
                .agent_id(&id)
                .send()
                .await
                .map_err(|e| classify(e, "bedrock:GetAgent"))?;
            let role = agent
                .agent()
                .map(|a| a.agent_resource_role_arn().to_string())
                .unwrap_or_default();
            for (version, (guardrail, guardrail_version)) in versions {
                out.push(NamedUse {
                    guardrail,
                    guardrail_version,
                    role_arn: role.clone(),
                    via: Via::Agent {
                        id: id.clone(),
                        name: name.clone(),
                        version,
                    },
                });
            }
        }
        Ok(out)
    }

    /// Every prompt or knowledge-base node of the region's flows that names a guardrail
    /// (ListFlows, GetFlow), with the flow's execution role.
    pub async fn flow_uses(&self, region: &str) -> Result<Vec<NamedUse>, CallError> {
        let client = self.bedrock_agent(region);
        let flows = client
            .list_flows()
            .max_results(100)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| classify(e, "bedrock:ListFlows"))?;
        let mut out = Vec::new();
        for id in flows.iter().map(|f| f.id().to_string()) {
            let flow = client
                .get_flow()
                .flow_identifier(&id)
                .send()
                .await
                .map_err(|e| classify(e, "bedrock:GetFlow"))?;
            let mut nodes = Vec::new();
            flow_guardrails(flow.definition(), &mut nodes);
            for (node, guardrail, guardrail_version) in nodes {
                out.push(NamedUse {
                    guardrail,
                    guardrail_version,
                    role_arn: flow.execution_role_arn().to_string(),
                    via: Via::Flow {
                        id: id.clone(),
                        name: flow.name().to_string(),
                        node,
                    },
                });
            }
        }
        Ok(out)
    }

    /// The account's users and roles with their identity policies (inline, attached
    /// managed, and a user's groups'), from GetAccountAuthorizationDetails, paged.
    pub async fn account_iam(&self, partition: &str, account: &str) -> Result<AccountIam, CallError> {
        let client = self.iam(partition);
        let (mut users, mut roles) = (Vec::new(), Vec::new());
        let mut groups: HashMap<String, (Vec<Value>, Vec<String>)> = HashMap::new();
        let mut managed: HashMap<String, Value> = HashMap::new();
        let mut marker = None;
        loop {
            let page = client
                .get_account_authorization_details()
                .set_filter(Some(vec![
                    EntityType::User,
                    EntityType::Role,
                    EntityType::Group,
                    EntityType::LocalManagedPolicy,
                    EntityType::AwsManagedPolicy,
                ]))
                .max_items(1000)
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| classify(e, "iam:GetAccountAuthorizationDetails"))?;
            let inline = |list: &[aws_sdk_iam::types::PolicyDetail]| -> Vec<Value> {
                list.iter()
                    .filter_map(|p| p.policy_document().and_then(decode_policy))
                    .collect()
            };
            let attached = |list: &[aws_sdk_iam::types::AttachedPolicy]| -> Vec<String> {
                list.iter()
                    .filter_map(|p| p.policy_arn().map(str::to_string))
                    .collect()
            };
            let boundary = |b: Option<&aws_sdk_iam::types::AttachedPermissionsBoundary>| {
                b.and_then(|b| b.permissions_boundary_arn()).map(str::to_string)
            };
            for u in page.user_detail_list() {
                users.push((
                    u.arn().unwrap_or_default().to_string(),
                    inline(u.user_policy_list()),
                    attached(u.attached_managed_policies()),
                    u.group_list().to_vec(),
                    boundary(u.permissions_boundary()),
                ));
            }
            for g in page.group_detail_list() {
                groups.insert(
                    g.group_name().unwrap_or_default().to_string(),
                    (
                        inline(g.group_policy_list()),
                        attached(g.attached_managed_policies()),
                    ),
                );
            }
            for r in page.role_detail_list() {
                roles.push((
                    r.arn().unwrap_or_default().to_string(),
                    inline(r.role_policy_list()),
                    attached(r.attached_managed_policies()),
                    boundary(r.permissions_boundary()),
                ));
            }
            for p in page.policies() {
                let default = p
                    .policy_version_list()
                    .iter()
                    .find(|v| v.is_default_version())
                    .and_then(|v| v.document())
                    .and_then(decode_policy);
                if let (Some(arn), Some(doc)) = (p.arn(), default) {
                    managed.insert(arn.to_string(), doc);
                }
            }
            marker = page.marker().filter(|_| page.is_truncated()).map(str::to_string);
            if marker.is_none() {
                break;
            }
        }
        let resolve =
            |arn: String, mut documents: Vec<Value>, attached: Vec<String>, boundary: Option<String>| {
                let mut missing = Vec::new();
                for a in attached {
                    match managed.get(&a) {
                        Some(doc) => documents.push(doc.clone()),
                        None => missing.push(a),
                    }
                }
                // A boundary is a managed policy too: its default version's document.
                let boundary = boundary.map(|arn| match managed.get(&arn) {
                    Some(document) => Boundary::Policy {
                        arn,
                        document: document.clone(),
                    },
                    None => Boundary::Missing { arn },
                });
                PrincipalPolicies {
                    arn,
                    documents,
                    missing,
                    boundary,
                    scps: Default::default(),
                }
            };
        let mut principals = Vec::with_capacity(users.len() + roles.len());
        for (arn, mut docs, mut attached, member_of, boundary) in users {
            for g in member_of {
                if let Some((d, a)) = groups.get(&g) {
                    docs.extend(d.iter().cloned());
                    attached.extend(a.iter().cloned());
                }
            }
            principals.push(resolve(arn, docs, attached, boundary));
        }
        for (arn, docs, attached, boundary) in roles {
            principals.push(resolve(arn, docs, attached, boundary));
        }
        Ok(AccountIam {
            account: account.to_string(),
            principals,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_documents_are_url_decoded() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(
            decode_policy(encoded),
            Some(serde_json::json!({"Version": "2012-10-17", "Statement": []}))
        );
        assert_eq!(decode_policy("not%20json"), None);
    }
}
