//! GetGuardrail's output to guardkey's `GuardrailConfig`, and back into the typed
//! UpdateGuardrail (or CreateGuardrail) request: every policy, every member, nothing lost.

use aws_sdk_bedrock::operation::get_guardrail::GetGuardrailOutput;
use aws_sdk_bedrock::types as t;

use crate::model::config::{
    AutomatedReasoningPolicy, ContentFilter, ContentPolicy, ContextualGroundingPolicy, CrossRegionDetails,
    Directions, GroundingFilter, GuardrailConfig, ManagedWords, PiiEntity, Regex, SensitiveInformationPolicy,
    Topic, TopicPolicy, Word, WordPolicy,
};

fn s<T: AsRef<str>>(v: Option<&T>) -> Option<String> {
    v.map(|x| x.as_ref().to_string())
}

fn strings<T: AsRef<str>>(v: &[T]) -> Vec<String> {
    v.iter().map(|x| x.as_ref().to_string()).collect()
}

fn none_if_empty<T>(v: Vec<T>) -> Option<Vec<T>> {
    if v.is_empty() { None } else { Some(v) }
}

/// The per-direction members of a response entry (every entry type has the same four).
macro_rules! directions {
    ($x:expr) => {
        Directions {
            input_action: s($x.input_action()),
            output_action: s($x.output_action()),
            input_enabled: $x.input_enabled(),
            output_enabled: $x.output_enabled(),
        }
    };
}

/// Request entry builders that take the four per-direction members.
trait WithDirections: Sized {
    fn directions(self, d: &Directions) -> Self;
}

macro_rules! with_directions {
    ($($builder:ty),*) => {
        $(impl WithDirections for $builder {
            fn directions(self, d: &Directions) -> Self {
                self.set_input_action(d.input_action.as_deref().map(Into::into))
                    .set_output_action(d.output_action.as_deref().map(Into::into))
                    .set_input_enabled(d.input_enabled)
                    .set_output_enabled(d.output_enabled)
            }
        })*
    };
}

with_directions!(
    t::builders::GuardrailTopicConfigBuilder,
    t::builders::GuardrailContentFilterConfigBuilder,
    t::builders::GuardrailWordConfigBuilder,
    t::builders::GuardrailManagedWordsConfigBuilder,
    t::builders::GuardrailPiiEntityConfigBuilder,
    t::builders::GuardrailRegexConfigBuilder
);

pub fn config_from_output(g: &GetGuardrailOutput) -> GuardrailConfig {
    GuardrailConfig {
        name: g.name().to_string(),
        description: g.description().map(str::to_string),
        blocked_input_messaging: g.blocked_input_messaging().to_string(),
        blocked_outputs_messaging: g.blocked_outputs_messaging().to_string(),
        topic_policy: g.topic_policy().map(|p| TopicPolicy {
            topics: p
                .topics()
                .iter()
                .map(|x| Topic {
                    name: x.name().to_string(),
                    definition: x.definition().to_string(),
                    examples: x.examples().to_vec(),
                    kind: s(x.r#type()),
                    directions: directions!(x),
                })
                .collect(),
            tier: p.tier().map(|t| t.tier_name().as_str().to_string()),
        }),
        content_policy: g.content_policy().map(|p| ContentPolicy {
            filters: p
                .filters()
                .iter()
                .map(|x| ContentFilter {
                    kind: x.r#type().as_str().to_string(),
                    input_strength: x.input_strength().as_str().to_string(),
                    output_strength: x.output_strength().as_str().to_string(),
                    input_modalities: strings(x.input_modalities()),
                    output_modalities: strings(x.output_modalities()),
                    directions: directions!(x),
                })
                .collect(),
            tier: p.tier().map(|t| t.tier_name().as_str().to_string()),
        }),
        word_policy: g.word_policy().map(|p| WordPolicy {
            words: p
                .words()
                .iter()
                .map(|x| Word {
                    text: x.text().to_string(),
                    directions: directions!(x),
                })
                .collect(),
            managed_word_lists: p
                .managed_word_lists()
                .iter()
                .map(|x| ManagedWords {
                    kind: x.r#type().as_str().to_string(),
                    directions: directions!(x),
                })
                .collect(),
        }),
        sensitive_information_policy: g
            .sensitive_information_policy()
            .map(|p| SensitiveInformationPolicy {
                pii_entities: p
                    .pii_entities()
                    .iter()
                    .map(|x| PiiEntity {
                        kind: x.r#type().as_str().to_string(),
                        action: x.action().as_str().to_string(),
                        directions: directions!(x),
                    })
                    .collect(),
                regexes: p
                    .regexes()
                    .iter()
                    .map(|x| Regex {
                        name: x.name().to_string(),
                        description: x.description().map(str::to_string),
                        pattern: x.pattern().to_string(),
                        action: x.action().as_str().to_string(),
                        directions: directions!(x),
                    })
                    .collect(),
            }),
        contextual_grounding_policy: g
            .contextual_grounding_policy()
            .map(|p| ContextualGroundingPolicy {
                filters: p
                    .filters()
                    .iter()
                    .map(|x| GroundingFilter {
                        kind: x.r#type().as_str().to_string(),
                        threshold: x.threshold(),
                        action: s(x.action()),
                        enabled: x.enabled(),
                    })
                    .collect(),
                tier: p.tier().map(|t| t.tier_name().as_str().to_string()),
            }),
        automated_reasoning_policy: g.automated_reasoning_policy().map(|p| AutomatedReasoningPolicy {
            policies: p.policies().to_vec(),
            confidence_threshold: p.confidence_threshold(),
        }),
        cross_region_details: g.cross_region_details().map(|c| CrossRegionDetails {
            guardrail_profile_id: c.guardrail_profile_id().map(str::to_string),
            guardrail_profile_arn: c.guardrail_profile_arn().map(str::to_string),
        }),
        kms_key_arn: g.kms_key_arn().map(str::to_string),
    }
}

/// The typed policies of a configuration, as UpdateGuardrail and CreateGuardrail take them.
pub struct RequestPolicies {
    pub topic: Option<t::GuardrailTopicPolicyConfig>,
    pub content: Option<t::GuardrailContentPolicyConfig>,
    pub word: Option<t::GuardrailWordPolicyConfig>,
    pub sensitive: Option<t::GuardrailSensitiveInformationPolicyConfig>,
    pub grounding: Option<t::GuardrailContextualGroundingPolicyConfig>,
    pub reasoning: Option<t::GuardrailAutomatedReasoningPolicyConfig>,
    pub cross_region: Option<t::GuardrailCrossRegionConfig>,
}

/// A request member's builder failed: a required member was missing in the configuration.
fn built<T, E: std::fmt::Display>(r: Result<T, E>) -> Result<T, String> {
    r.map_err(|e| format!("the guardrail's configuration cannot be resent: {e}"))
}

pub fn request_policies(c: &GuardrailConfig) -> Result<RequestPolicies, String> {
    let topic = match &c.topic_policy {
        Some(p) if !p.topics.is_empty() => {
            let mut b = t::GuardrailTopicPolicyConfig::builder();
            for x in &p.topics {
                b = b.topics_config(built(
                    t::GuardrailTopicConfig::builder()
                        .name(&x.name)
                        .definition(&x.definition)
                        .set_examples(none_if_empty(x.examples.clone()))
                        // Optional in the response, required (and only DENY) in the request.
                        .r#type(x.kind.as_deref().unwrap_or("DENY").into())
                        .directions(&x.directions)
                        .build(),
                )?);
            }
            if let Some(tier) = &p.tier {
                b = b.tier_config(built(
                    t::GuardrailTopicsTierConfig::builder()
                        .tier_name(tier.as_str().into())
                        .build(),
                )?);
            }
            Some(built(b.build())?)
        }
        _ => None,
    };
    let content = match &c.content_policy {
        // An absent or empty filter list means: no content policy (the request needs 1 to 6).
        Some(p) if !p.filters.is_empty() => {
            let mut b = t::GuardrailContentPolicyConfig::builder();
            for x in &p.filters {
                b = b.filters_config(built(
                    t::GuardrailContentFilterConfig::builder()
                        .r#type(x.kind.as_str().into())
                        .input_strength(x.input_strength.as_str().into())
                        .output_strength(x.output_strength.as_str().into())
                        .set_input_modalities(none_if_empty(
                            x.input_modalities.iter().map(|m| m.as_str().into()).collect(),
                        ))
                        .set_output_modalities(none_if_empty(
                            x.output_modalities.iter().map(|m| m.as_str().into()).collect(),
                        ))
                        .directions(&x.directions)
                        .build(),
                )?);
            }
            if let Some(tier) = &p.tier {
                b = b.tier_config(built(
                    t::GuardrailContentFiltersTierConfig::builder()
                        .tier_name(tier.as_str().into())
                        .build(),
                )?);
            }
            Some(built(b.build())?)
        }
        _ => None,
    };
    let word = match &c.word_policy {
        Some(p) if !p.words.is_empty() || !p.managed_word_lists.is_empty() => {
            let mut b = t::GuardrailWordPolicyConfig::builder();
            for x in &p.words {
                b = b.words_config(built(
                    t::GuardrailWordConfig::builder()
                        .text(&x.text)
                        .directions(&x.directions)
                        .build(),
                )?);
            }
            for x in &p.managed_word_lists {
                b = b.managed_word_lists_config(built(
                    t::GuardrailManagedWordsConfig::builder()
                        .r#type(x.kind.as_str().into())
                        .directions(&x.directions)
                        .build(),
                )?);
            }
            Some(b.build())
        }
        _ => None,
    };
    let sensitive = match &c.sensitive_information_policy {
        Some(p) if !p.pii_entities.is_empty() || !p.regexes.is_empty() => {
            let mut b = t::GuardrailSensitiveInformationPolicyConfig::builder();
            for x in &p.pii_entities {
                b = b.pii_entities_config(built(
                    t::GuardrailPiiEntityConfig::builder()
                        .r#type(x.kind.as_str().into())
                        .action(x.action.as_str().into())
                        .directions(&x.directions)
                        .build(),
                )?);
            }
            for x in &p.regexes {
                b = b.regexes_config(built(
                    t::GuardrailRegexConfig::builder()
                        .name(&x.name)
                        .set_description(x.description.clone())
                        .pattern(&x.pattern)
                        .action(x.action.as_str().into())
                        .directions(&x.directions)
                        .build(),
                )?);
            }
            Some(b.build())
        }
        _ => None,
    };
    let grounding = match &c.contextual_grounding_policy {
        Some(p) if !p.filters.is_empty() => {
            let mut b = t::GuardrailContextualGroundingPolicyConfig::builder();
            for x in &p.filters {
                b = b.filters_config(built(
                    t::GuardrailContextualGroundingFilterConfig::builder()
                        .r#type(x.kind.as_str().into())
                        .threshold(x.threshold)
                        .set_action(x.action.as_deref().map(Into::into))
                        .set_enabled(x.enabled)
                        .build(),
                )?);
            }
            if let Some(tier) = &p.tier {
                b = b.tier_config(built(
                    t::GuardrailContextualGroundingTierConfig::builder()
                        .tier_name(tier.as_str().into())
                        .build(),
                )?);
            }
            Some(built(b.build())?)
        }
        _ => None,
    };
    let reasoning = match &c.automated_reasoning_policy {
        Some(p) => Some(built(
            t::GuardrailAutomatedReasoningPolicyConfig::builder()
                .set_policies(Some(p.policies.clone()))
                .set_confidence_threshold(p.confidence_threshold)
                .build(),
        )?),
        None => None,
    };
    let cross_region = match c.cross_region_details.as_ref().and_then(|d| {
        d.guardrail_profile_arn
            .as_ref()
            .or(d.guardrail_profile_id.as_ref())
    }) {
        Some(profile) => Some(built(
            t::GuardrailCrossRegionConfig::builder()
                .guardrail_profile_identifier(profile)
                .build(),
        )?),
        None => None,
    };
    Ok(RequestPolicies {
        topic,
        content,
        word,
        sensitive,
        grounding,
        reasoning,
        cross_region,
    })
}
