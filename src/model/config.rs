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
        let policies = [
            (
                "topicPolicyConfig",
                self.topic_policy.as_ref().map(|p| {
                    let topics: Vec<Value> = p
                        .topics
                        .iter()
                        .map(|t| {
                            let mut t = t.clone();
                            t.kind.get_or_insert_with(|| "DENY".into());
                            value(&t)
                        })
                        .collect();
                    request_policy(vec![("topicsConfig", topics)], tier(&p.tier))
                }),
            ),
            (
                "contentPolicyConfig",
                self.content_policy
                    .as_ref()
                    .map(|p| request_policy(vec![("filtersConfig", list(&p.filters))], tier(&p.tier))),
            ),
            (
                "wordPolicyConfig",
                self.word_policy.as_ref().map(|p| {
                    request_policy(
                        vec![
                            ("wordsConfig", list(&p.words)),
                            ("managedWordListsConfig", list(&p.managed_word_lists)),
                        ],
                        None,
                    )
                }),
            ),
            (
                "sensitiveInformationPolicyConfig",
                self.sensitive_information_policy.as_ref().map(|p| {
                    request_policy(
                        vec![
                            ("piiEntitiesConfig", list(&p.pii_entities)),
                            ("regexesConfig", list(&p.regexes)),
                        ],
                        None,
                    )
                }),
            ),
            (
                "contextualGroundingPolicyConfig",
                self.contextual_grounding_policy
                    .as_ref()
                    .map(|p| request_policy(vec![("filtersConfig", list(&p.filters))], tier(&p.tier))),
            ),
        ];
        for (name, policy) in policies {
            if let Some(Some(policy)) = policy {
                req.insert(name.into(), policy);
            }
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

/// A request policy from its lists (the empty ones left out: requests want at least one
/// item) and its tier; None when every list is empty, since such a policy cannot be sent.
fn request_policy(
    lists: Vec<(&str, Vec<serde_json::Value>)>,
    tier: Option<serde_json::Value>,
) -> Option<serde_json::Value> {
    let mut m = serde_json::Map::new();
    for (name, items) in lists {
        if !items.is_empty() {
            m.insert(name.into(), serde_json::Value::Array(items));
        }
    }
    if m.is_empty() {
        return None;
    }
    if let Some(t) = tier {
        m.insert("tierConfig".into(), t);
    }
    Some(serde_json::Value::Object(m))
}

fn list<T: Serialize>(items: &[T]) -> Vec<serde_json::Value> {
    items.iter().map(value).collect()
}

fn value<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).expect("policy entries serialize")
}
