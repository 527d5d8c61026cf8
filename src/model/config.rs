//! A guardrail's whole configuration, as GetGuardrail returns it (the response shapes),
//! in a form that can be journaled, compared and written back.
//!
//! UpdateGuardrail replaces the whole DRAFT: what a request leaves out is wiped. This type
//! carries every member of every policy, so that a fix can resend all of it and then prove
//! that nothing but the key changed.

use serde::{Deserialize, Serialize};

/// The per-direction members that most policy entries carry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Directions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_enabled: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Topic {
    pub name: String,
    pub definition: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
    /// Optional in responses, required (and only `DENY`) in requests.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(flatten)]
    pub directions: Directions,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicPolicy {
    pub topics: Vec<Topic>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentFilter {
    #[serde(rename = "type")]
    pub kind: String,
    pub input_strength: String,
    pub output_strength: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_modalities: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_modalities: Vec<String>,
    #[serde(flatten)]
    pub directions: Directions,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentPolicy {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<ContentFilter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Word {
    pub text: String,
    #[serde(flatten)]
    pub directions: Directions,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedWords {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(flatten)]
    pub directions: Directions,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WordPolicy {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<Word>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub managed_word_lists: Vec<ManagedWords>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PiiEntity {
    #[serde(rename = "type")]
    pub kind: String,
    pub action: String,
    #[serde(flatten)]
    pub directions: Directions,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Regex {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub pattern: String,
    pub action: String,
    #[serde(flatten)]
    pub directions: Directions,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SensitiveInformationPolicy {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pii_entities: Vec<PiiEntity>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regexes: Vec<Regex>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroundingFilter {
    #[serde(rename = "type")]
    pub kind: String,
    pub threshold: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextualGroundingPolicy {
    pub filters: Vec<GroundingFilter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutomatedReasoningPolicy {
    pub policies: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence_threshold: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrossRegionDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrail_profile_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrail_profile_arn: Option<String>,
}

/// The DRAFT of a guardrail: everything UpdateGuardrail replaces, and its key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GuardrailConfig {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub blocked_input_messaging: String,
    pub blocked_outputs_messaging: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic_policy: Option<TopicPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_policy: Option<ContentPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub word_policy: Option<WordPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitive_information_policy: Option<SensitiveInformationPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contextual_grounding_policy: Option<ContextualGroundingPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automated_reasoning_policy: Option<AutomatedReasoningPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_region_details: Option<CrossRegionDetails>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_arn: Option<String>,
}

impl GuardrailConfig {
    /// The members that differ between two configurations, the key aside: empty when a
    /// write changed nothing but the key.
    pub fn differences_besides_key(&self, other: &GuardrailConfig) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut check = |name: &'static str, same: bool| {
            if !same {
                out.push(name);
            }
        };
        check("name", self.name == other.name);
        check("description", self.description == other.description);
        check(
            "blockedInputMessaging",
            self.blocked_input_messaging == other.blocked_input_messaging,
        );
        check(
            "blockedOutputsMessaging",
            self.blocked_outputs_messaging == other.blocked_outputs_messaging,
        );
        check("topicPolicy", self.topic_policy == other.topic_policy);
        check("contentPolicy", self.content_policy == other.content_policy);
        check("wordPolicy", self.word_policy == other.word_policy);
        check(
            "sensitiveInformationPolicy",
            self.sensitive_information_policy == other.sensitive_information_policy,
        );
        check(
            "contextualGroundingPolicy",
            self.contextual_grounding_policy == other.contextual_grounding_policy,
        );
        check(
            "automatedReasoningPolicy",
            self.automated_reasoning_policy == other.automated_reasoning_policy,
        );
        check(
            "crossRegionDetails",
            self.cross_region_details == other.cross_region_details,
        );
        out
    }

    /// The UpdateGuardrail request (its JSON, as the AWS CLI's `--cli-input-json` takes it)
    /// that writes this configuration back with `kms_key_id`: every policy renamed to its
    /// request shape, empty lists left out, a topic's type defaulted to DENY.
    pub fn update_request(&self, guardrail: &str, kms_key_id: Option<&str>) -> serde_json::Value {
        use serde_json::{Map, Value, json};
        let mut req = Map::new();
        req.insert("guardrailIdentifier".into(), json!(guardrail));
        req.insert("name".into(), json!(self.name));
        if let Some(d) = &self.description {
            req.insert("description".into(), json!(d));
        }
        req.insert(
            "blockedInputMessaging".into(),
            json!(self.blocked_input_messaging),
        );
        req.insert(
            "blockedOutputsMessaging".into(),
            json!(self.blocked_outputs_messaging),
        );
        let tier = |t: &Option<String>| t.as_ref().map(|t| json!({ "tierName": t }));
        if let Some(p) = &self.topic_policy {
            let topics: Vec<Value> = p
                .topics
                .iter()
                .map(|t| {
                    let mut t = t.clone();
                    t.kind.get_or_insert_with(|| "DENY".into());
                    value(&t)
                })
                .collect();
            let mut m = Map::new();
            m.insert("topicsConfig".into(), Value::Array(topics));
            if let Some(t) = tier(&p.tier) {
                m.insert("tierConfig".into(), t);
            }
            req.insert("topicPolicyConfig".into(), Value::Object(m));
        }
        if let Some(p) = &self.content_policy {
            // A content policy without filters cannot be sent: the request needs 1 to 6.
            if !p.filters.is_empty() {
                let mut m = Map::new();
                m.insert(
                    "filtersConfig".into(),
                    Value::Array(p.filters.iter().map(value).collect()),
                );
                if let Some(t) = tier(&p.tier) {
                    m.insert("tierConfig".into(), t);
                }
                req.insert("contentPolicyConfig".into(), Value::Object(m));
            }
        }
        if let Some(p) = &self.word_policy {
            let mut m = Map::new();
            if !p.words.is_empty() {
                m.insert(
                    "wordsConfig".into(),
                    Value::Array(p.words.iter().map(value).collect()),
                );
            }
            if !p.managed_word_lists.is_empty() {
                m.insert(
                    "managedWordListsConfig".into(),
                    Value::Array(p.managed_word_lists.iter().map(value).collect()),
                );
            }
            if !m.is_empty() {
                req.insert("wordPolicyConfig".into(), Value::Object(m));
            }
        }
        if let Some(p) = &self.sensitive_information_policy {
            let mut m = Map::new();
            if !p.pii_entities.is_empty() {
                m.insert(
                    "piiEntitiesConfig".into(),
                    Value::Array(p.pii_entities.iter().map(value).collect()),
                );
            }
            if !p.regexes.is_empty() {
                m.insert(
                    "regexesConfig".into(),
                    Value::Array(p.regexes.iter().map(value).collect()),
                );
            }
            if !m.is_empty() {
                req.insert("sensitiveInformationPolicyConfig".into(), Value::Object(m));
            }
        }
        if let Some(p) = &self.contextual_grounding_policy
            && !p.filters.is_empty()
        {
            let mut m = Map::new();
            m.insert(
                "filtersConfig".into(),
                Value::Array(p.filters.iter().map(value).collect()),
            );
            if let Some(t) = tier(&p.tier) {
                m.insert("tierConfig".into(), t);
            }
            req.insert("contextualGroundingPolicyConfig".into(), Value::Object(m));
        }
        if let Some(p) = &self.automated_reasoning_policy {
            req.insert("automatedReasoningPolicyConfig".into(), value(p));
        }
        if let Some(c) = &self.cross_region_details
            && let Some(profile) = c
                .guardrail_profile_arn
                .as_ref()
                .or(c.guardrail_profile_id.as_ref())
        {
            req.insert(
                "crossRegionConfig".into(),
                json!({ "guardrailProfileIdentifier": profile }),
            );
        }
        if let Some(k) = kms_key_id {
            req.insert("kmsKeyId".into(), json!(k));
        }
        Value::Object(req)
    }
}

fn value<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).expect("policy entries serialize")
}
