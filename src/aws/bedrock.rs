//! Amazon Bedrock's guardrail control plane: each call in guardkey's own types.

use aws_config::Region;
use aws_config::retry::RetryConfig;
use aws_sdk_bedrock::primitives::DateTime;

use super::{Session, classify, guardrails};
use crate::model::CallError;
use crate::model::config::GuardrailConfig;

/// A Bedrock client for one region. Opaque outside `aws`: the SDK stays here.
#[derive(Clone, Debug)]
pub struct Bedrock(aws_sdk_bedrock::Client);

/// A guardrail summary from ListGuardrails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardrailSummary {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub status: String,
    pub version: String,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

/// The parts of GetGuardrail a scan uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardrailHead {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub description: Option<String>,
    pub version: String,
    pub status: String,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub kms_key_arn: Option<String>,
}

/// Sets a guardrail's whole configuration on an UpdateGuardrail or CreateGuardrail
/// request: the two builders have the same members but no common type.
macro_rules! with_config {
    ($request:expr, $config:expr, $policies:expr) => {
        $request
            .name(&$config.name)
            .set_description($config.description.clone())
            .blocked_input_messaging(&$config.blocked_input_messaging)
            .blocked_outputs_messaging(&$config.blocked_outputs_messaging)
            .set_topic_policy_config($policies.topic)
            .set_content_policy_config($policies.content)
            .set_word_policy_config($policies.word)
            .set_sensitive_information_policy_config($policies.sensitive)
            .set_contextual_grounding_policy_config($policies.grounding)
            .set_automated_reasoning_policy_config($policies.reasoning)
            .set_cross_region_config($policies.cross_region)
    };
}

/// A guardrail as a fix reads it: its whole DRAFT and its status.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardrailDraft {
    pub id: String,
    pub arn: String,
    pub status: String,
    pub updated_at: Option<String>,
    pub config: GuardrailConfig,
    /// Why the guardrail is FAILED, and what Bedrock recommends (empty otherwise).
    pub status_reasons: Vec<String>,
    pub failure_recommendations: Vec<String>,
}

impl GuardrailDraft {
    /// A FAILED guardrail's story: Bedrock's reasons and recommendations.
    pub fn failure(&self) -> String {
        let mut out = "the guardrail is FAILED".to_string();
        if !self.status_reasons.is_empty() {
            out.push_str(&format!(": {}", self.status_reasons.join("; ")));
        }
        if !self.failure_recommendations.is_empty() {
            out.push_str(&format!(
                " (Bedrock recommends: {})",
                self.failure_recommendations.join("; ")
            ));
        }
        out
    }
}

fn rfc3339(t: &DateTime) -> Option<String> {
    t.fmt(aws_sdk_bedrock::primitives::DateTimeFormat::DateTime).ok()
}

impl Session {
    pub fn bedrock(&self, region: &str) -> Bedrock {
        self.bedrock_client(region, true)
    }

    /// A Bedrock client whose calls are tried once: for callers that pace and retry
    /// themselves, and must see every throttle to do it.
    pub fn bedrock_without_retries(&self, region: &str) -> Bedrock {
        self.bedrock_client(region, false)
    }

    fn bedrock_client(&self, region: &str, retries: bool) -> Bedrock {
        let mut conf = aws_sdk_bedrock::config::Builder::from(&self.sdk)
            .region(Region::new(region.to_string()))
            .retry_partition(self.partition("bedrock", region))
            .interceptor(self.guard());
        if !retries {
            conf = conf.retry_config(RetryConfig::disabled());
        }
        Bedrock(aws_sdk_bedrock::Client::from_conf(conf.build()))
    }

    /// One page of ListGuardrails (the DRAFT of every guardrail, or one guardrail's versions).
    pub async fn list_guardrails_page(
        &self,
        client: &Bedrock,
        guardrail: Option<&str>,
        next_token: Option<String>,
        page_size: i32,
    ) -> Result<(Vec<GuardrailSummary>, Option<String>), CallError> {
        let out = client
            .0
            .list_guardrails()
            .set_guardrail_identifier(guardrail.map(str::to_string))
            .max_results(page_size)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| classify(e, "bedrock:ListGuardrails"))?;
        let rows = out
            .guardrails()
            .iter()
            .map(|g| GuardrailSummary {
                id: g.id().to_string(),
                arn: g.arn().to_string(),
                name: g.name().to_string(),
                status: g.status().as_str().to_string(),
                version: g.version().to_string(),
                created_at: rfc3339(g.created_at()),
                updated_at: rfc3339(g.updated_at()),
            })
            .collect();
        Ok((rows, out.next_token().map(str::to_string)))
    }

    async fn get_guardrail(
        &self,
        client: &Bedrock,
        identifier: &str,
        version: Option<&str>,
    ) -> Result<aws_sdk_bedrock::operation::get_guardrail::GetGuardrailOutput, CallError> {
        client
            .0
            .get_guardrail()
            .guardrail_identifier(identifier)
            .set_guardrail_version(version.map(str::to_string))
            .send()
            .await
            .map_err(|e| classify(e, "bedrock:GetGuardrail"))
    }

    pub async fn get_guardrail_head(
        &self,
        client: &Bedrock,
        identifier: &str,
        version: Option<&str>,
    ) -> Result<GuardrailHead, CallError> {
        let g = self.get_guardrail(client, identifier, version).await?;
        Ok(GuardrailHead {
            id: g.guardrail_id().to_string(),
            arn: g.guardrail_arn().to_string(),
            name: g.name().to_string(),
            description: g.description().map(str::to_string),
            version: g.version().to_string(),
            status: g.status().as_str().to_string(),
            created_at: rfc3339(g.created_at()),
            updated_at: rfc3339(g.updated_at()),
            kms_key_arn: g.kms_key_arn().map(str::to_string),
        })
    }

    /// A guardrail's tags (ListTagsForResource), e.g. the `aws:cloudformation:*` tags of a
    /// guardrail a stack manages.
    pub async fn guardrail_tags(
        &self,
        client: &Bedrock,
        arn: &str,
    ) -> Result<std::collections::BTreeMap<String, String>, CallError> {
        let out = client
            .0
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(|e| classify(e, "bedrock:ListTagsForResource"))?;
        Ok(out
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect())
    }

    /// A guardrail's DRAFT (or a version) in full, with its status.
    pub async fn read_guardrail(
        &self,
        client: &Bedrock,
        identifier: &str,
        version: Option<&str>,
    ) -> Result<GuardrailDraft, CallError> {
        let g = self.get_guardrail(client, identifier, version).await?;
        Ok(GuardrailDraft {
            id: g.guardrail_id().to_string(),
            arn: g.guardrail_arn().to_string(),
            status: g.status().as_str().to_string(),
            updated_at: rfc3339(g.updated_at()),
            config: guardrails::config_from_output(&g),
            status_reasons: g.status_reasons().to_vec(),
            failure_recommendations: g.failure_recommendations().to_vec(),
        })
    }

    /// UpdateGuardrail with the whole configuration and `kms_key_id` (None: the AWS-owned key).
    pub async fn write_guardrail(
        &self,
        client: &Bedrock,
        identifier: &str,
        config: &GuardrailConfig,
        kms_key_id: Option<&str>,
    ) -> Result<(), CallError> {
        let p = guardrails::request_policies(config).map_err(|message| CallError::Other {
            code: "InvalidConfiguration".into(),
            message,
        })?;
        with_config!(
            client.0.update_guardrail().guardrail_identifier(identifier),
            config,
            p
        )
        .set_kms_key_id(kms_key_id.map(str::to_string))
        .send()
        .await
        .map_err(|e| classify(e, "bedrock:UpdateGuardrail"))?;
        Ok(())
    }

    /// CreateGuardrail from a configuration (tests, demos); returns (id, ARN).
    pub async fn create_guardrail(
        &self,
        client: &Bedrock,
        config: &GuardrailConfig,
    ) -> Result<(String, String), CallError> {
        let p = guardrails::request_policies(config).map_err(|message| CallError::Other {
            code: "InvalidConfiguration".into(),
            message,
        })?;
        let out = with_config!(client.0.create_guardrail(), config, p)
            .set_kms_key_id(config.kms_key_arn.clone())
            .send()
            .await
            .map_err(|e| classify(e, "bedrock:CreateGuardrail"))?;
        Ok((out.guardrail_id().to_string(), out.guardrail_arn().to_string()))
    }

    /// CreateGuardrailVersion; returns the new version's number.
    pub async fn publish_version(
        &self,
        client: &Bedrock,
        identifier: &str,
        description: &str,
    ) -> Result<String, CallError> {
        let out = client
            .0
            .create_guardrail_version()
            .guardrail_identifier(identifier)
            .description(description)
            .send()
            .await
            .map_err(|e| classify(e, "bedrock:CreateGuardrailVersion"))?;
        Ok(out.version().to_string())
    }
}
