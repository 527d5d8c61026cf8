//! Agents for Amazon Bedrock (`bedrock-agent`, REST-JSON, signed as `bedrock` like the
//! control plane): the agents and prompt flows of a region, and the guardrails they name.
//!
//! Only what tells who uses a guardrail is served: ListAgents (whose summaries carry the
//! agent's `guardrailConfiguration`), GetAgent (its `agentResourceRoleArn`),
//! ListAgentVersions (DRAFT and the published versions, each with the guardrail it was
//! published with), ListFlows and GetFlow (the definition, whose prompt and knowledge-base
//! nodes may name a guardrail, and the flow's `executionRoleArn`). Shapes and errors follow
//! botocore's `bedrock-agent` 2023-06-05 model (`assets/models/bedrock-agent.json`).
//!
//! Facts this follows (Bedrock API reference): an unknown agent or flow is 404
//! ResourceNotFoundException; ListAgents and ListAgentVersions are POST with the paging
//! members in the body, ListFlows is GET with them in the query string; an agent's working
//! copy is version `DRAFT`.

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::bedrock::{decode_token, encode_token, iso8601};
use super::state::{Ctx, World, parse_arn};
use super::wire::AwsError;

/// A guardrail as an agent or a flow node names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardrailRef {
    /// An id or an ARN.
    pub identifier: String,
    /// `DRAFT` or a version number.
    pub version: String,
}

impl GuardrailRef {
    fn json(&self) -> Value {
        json!({"guardrailIdentifier": self.identifier, "guardrailVersion": self.version})
    }
}

/// A published version of an agent and the guardrail it was published with.
#[derive(Debug, Clone)]
pub struct AgentVersion {
    pub version: String,
    pub guardrail: Option<GuardrailRef>,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct Agent {
    pub id: String,
    pub name: String,
    /// The service role the agent runs as: the principal that applies its guardrail.
    pub role_arn: String,
    pub guardrail: Option<GuardrailRef>,
    pub versions: Vec<AgentVersion>,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct Flow {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub role_arn: String,
    /// The flow's definition as GetFlow returns it (`nodes`, `connections`).
    pub definition: Value,
    pub created_at: OffsetDateTime,
}

/// The bedrock-agent operations served.
pub const OPERATIONS: &[&str] = &[
    "ListAgents",
    "GetAgent",
    "ListAgentVersions",
    "ListFlows",
    "GetFlow",
];

/// The operation a bedrock-agent request is for, and the agent or flow its path names.
pub fn route(method: &str, path: &str) -> Option<(&'static str, Option<String>)> {
    let segments: Vec<&str> = path
        .trim_start_matches('/')
        .trim_end_matches('/')
        .split('/')
        .collect();
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    Some(match (method, segments.as_slice()) {
        ("POST", ["agents"]) => ("ListAgents", None),
        ("GET", ["agents", id]) => ("GetAgent", Some(decode(id))),
        ("POST", ["agents", id, "agentversions"]) => ("ListAgentVersions", Some(decode(id))),
        ("GET", ["flows"]) => ("ListFlows", None),
        ("GET", ["flows", id]) => ("GetFlow", Some(decode(id))),
        _ => return None,
    })
}

/// The member the path's identifier fills.
pub fn path_member(op: &str) -> &'static str {
    match op {
        "GetFlow" => "flowIdentifier",
        _ => "agentId",
    }
}

pub fn handle(world: &World, ctx: &Ctx, op: &str, req: &Value) -> Result<Value, AwsError> {
    let empty = Default::default();
    let region = world.region(ctx.account, ctx.region).unwrap_or(&empty);
    let agent = |req: &Value| {
        let id = req["agentId"].as_str().unwrap_or_default();
        region
            .agents
            .get(id)
            .ok_or_else(|| AwsError::not_found(format!("Agent with id {id} does not exist in your account.")))
    };
    match op {
        "ListAgents" => {
            let summaries: Vec<Value> = region
                .agents
                .values()
                .map(|a| {
                    let mut s = json!({
                        "agentId": a.id, "agentName": a.name, "agentStatus": "PREPARED",
                        "updatedAt": iso8601(a.created_at),
                    });
                    if let Some(v) = a.versions.last() {
                        s["latestAgentVersion"] = json!(v.version);
                    }
                    if let Some(g) = &a.guardrail {
                        s["guardrailConfiguration"] = g.json();
                    }
                    s
                })
                .collect();
            page(summaries, req, "agentSummaries")
        }
        "GetAgent" => {
            let a = agent(req)?;
            let partition = crate::regions::partition_of(ctx.region);
            let mut out = json!({
                "agentId": a.id, "agentName": a.name,
                "agentArn": format!("arn:{partition}:bedrock:{}:{}:agent/{}", ctx.region, ctx.account, a.id),
                "agentVersion": "DRAFT", "agentStatus": "PREPARED", "idleSessionTTLInSeconds": 600,
                "agentResourceRoleArn": a.role_arn,
                "foundationModel": "anthropic.claude-3-haiku-20240307-v1:0",
                "createdAt": iso8601(a.created_at), "updatedAt": iso8601(a.created_at),
                "preparedAt": iso8601(a.created_at),
            });
            if let Some(g) = &a.guardrail {
                out["guardrailConfiguration"] = g.json();
            }
            Ok(json!({ "agent": out }))
        }
        "ListAgentVersions" => {
            let a = agent(req)?;
            let draft = AgentVersion {
                version: "DRAFT".into(),
                guardrail: a.guardrail.clone(),
                created_at: a.created_at,
            };
            let summaries: Vec<Value> = std::iter::once(&draft)
                .chain(&a.versions)
                .map(|v| {
                    let mut s = json!({
                        "agentName": a.name, "agentStatus": "PREPARED", "agentVersion": v.version,
                        "createdAt": iso8601(v.created_at), "updatedAt": iso8601(v.created_at),
                    });
                    if let Some(g) = &v.guardrail {
                        s["guardrailConfiguration"] = g.json();
                    }
                    s
                })
                .collect();
            page(summaries, req, "agentVersionSummaries")
        }
        "ListFlows" => {
            let summaries: Vec<Value> = region
                .flows
                .values()
                .map(|f| {
                    json!({
                        "name": f.name, "id": f.id, "arn": f.arn, "status": "Prepared",
                        "createdAt": iso8601(f.created_at), "updatedAt": iso8601(f.created_at),
                        "version": "DRAFT",
                    })
                })
                .collect();
            page(summaries, req, "flowSummaries")
        }
        "GetFlow" => {
            let given = req["flowIdentifier"].as_str().unwrap_or_default();
            let id = match parse_arn(given) {
                Some(arn) => arn.resource.strip_prefix("flow/").unwrap_or_default().to_string(),
                None => given.to_string(),
            };
            let f = region
                .flows
                .get(&id)
                .filter(|f| !given.starts_with("arn:") || f.arn == given);
            let f = f.ok_or_else(|| AwsError::not_found(format!("Flow with id {given} does not exist.")))?;
            Ok(json!({
                "name": f.name, "executionRoleArn": f.role_arn, "id": f.id, "arn": f.arn,
                "status": "Prepared", "createdAt": iso8601(f.created_at),
                "updatedAt": iso8601(f.created_at), "version": "DRAFT", "definition": f.definition,
            }))
        }
        _ => Err(AwsError::new(
            "UnknownOperationException",
            404,
            format!("Operation {op} is not supported."),
        )),
    }
}

/// One page of `items` under `member`: `maxResults` (default 10 for these operations, as
/// the console's calls show; any 1–1000 the model allows) from `nextToken`.
fn page(items: Vec<Value>, req: &Value, member: &str) -> Result<Value, AwsError> {
    let start = match decode_token(req)? {
        Some(cursor) => cursor.parse::<usize>().map_err(|_| {
            AwsError::validation(
                "The pagination token is invalid. Use the nextToken from the previous response.",
            )
        })?,
        None => 0,
    };
    let max = req["maxResults"].as_u64().unwrap_or(10) as usize;
    let end = (start + max).min(items.len());
    let mut out = json!({ member: items.get(start..end).unwrap_or_default() });
    if end < items.len() {
        out["nextToken"] = json!(encode_token(&end.to_string()));
    }
    Ok(out)
}

/// A flow definition with one prompt node that names `guardrail`, as the console builds it.
pub fn prompt_flow_definition(guardrail: &GuardrailRef) -> Value {
    json!({
        "nodes": [
            {"name": "FlowInputNode", "type": "Input",
             "configuration": {"input": {}},
             "outputs": [{"name": "document", "type": "String"}]},
            {"name": "Answer", "type": "Prompt",
             "configuration": {"prompt": {
                 "sourceConfiguration": {"inline": {
                     "templateType": "TEXT",
                     "templateConfiguration": {"text": {"text": "Answer the claimant: {{question}}"}},
                     "modelId": "anthropic.claude-3-haiku-20240307-v1:0"}},
                 "guardrailConfiguration": guardrail.json()}},
             "inputs": [{"name": "question", "type": "String", "expression": "$.data"}],
             "outputs": [{"name": "modelCompletion", "type": "String"}]},
            {"name": "FlowOutputNode", "type": "Output",
             "configuration": {"output": {}},
             "inputs": [{"name": "document", "type": "String", "expression": "$.data"}]}
        ],
        "connections": [
            {"name": "in", "source": "FlowInputNode", "target": "Answer", "type": "Data",
             "configuration": {"data": {"sourceOutput": "document", "targetInput": "question"}}},
            {"name": "out", "source": "Answer", "target": "FlowOutputNode", "type": "Data",
             "configuration": {"data": {"sourceOutput": "modelCompletion", "targetInput": "document"}}}
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_the_agent_api() {
        assert_eq!(route("POST", "/agents/"), Some(("ListAgents", None)));
        assert_eq!(
            route("GET", "/agents/AB12CD34EF/"),
            Some(("GetAgent", Some("AB12CD34EF".into())))
        );
        assert_eq!(
            route("POST", "/agents/AB12CD34EF/agentversions/"),
            Some(("ListAgentVersions", Some("AB12CD34EF".into())))
        );
        assert_eq!(route("GET", "/flows/"), Some(("ListFlows", None)));
        assert_eq!(
            route("GET", "/flows/FL0W123456/"),
            Some(("GetFlow", Some("FL0W123456".into())))
        );
        assert_eq!(route("GET", "/guardrails"), None);
    }

    #[test]
    fn pages_follow_their_tokens() {
        let items: Vec<Value> = (0..25).map(|i| json!(i)).collect();
        let first = page(items.clone(), &json!({}), "x").unwrap();
        assert_eq!(first["x"].as_array().unwrap().len(), 10);
        let token = first["nextToken"].as_str().unwrap();
        let second = page(items.clone(), &json!({"nextToken": token, "maxResults": 20}), "x").unwrap();
        assert_eq!(second["x"].as_array().unwrap().len(), 15);
        assert!(second.get("nextToken").is_none());
        assert!(page(items, &json!({"nextToken": "nope"}), "x").is_err());
    }
}
