//! A guardrail as Terraform: an `import` block and an `aws_bedrock_guardrail` resource
//! written from its DRAFT, with `kms_key_arn` pointing at the key's resource, so that after
//! the import `terraform plan` shows the key change and nothing else.
//!
//! The resource's schema is terraform-provider-aws's (`internal/service/bedrock/guardrail.go`):
//! it cannot express everything a guardrail holds. Topics' per-direction actions, contextual
//! grounding filters' action and enabled, the contextual grounding tier and automated
//! reasoning policies have no argument; the provider's update resends the whole guardrail
//! (UpdateGuardrail), so applying the resource would wipe them. Those members are listed in
//! the file, above the resource, and returned, so that the fix says so (`expressible` is the
//! same knowledge as a value, for the round-trip test).

use std::fmt::Write;

use crate::fix::plan::hcl_string;
use crate::model::config::{Directions, GuardrailConfig};

/// A Terraform identifier for a guardrail's resource: its name and id, unique in a file.
pub fn resource_name(name: &str, id: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect::<String>()
            .to_lowercase()
    };
    format!("guardrail_{}_{}", clean(name), clean(id))
}

/// What the resource can hold of `config`: the members it has no argument for are cleared.
pub fn expressible(config: &GuardrailConfig) -> GuardrailConfig {
    let mut c = config.clone();
    if let Some(p) = &mut c.topic_policy {
        for t in &mut p.topics {
            t.directions = Directions::default();
            t.kind.get_or_insert_with(|| "DENY".into());
        }
    }
    if let Some(p) = &mut c.contextual_grounding_policy {
        p.tier = None;
        for f in &mut p.filters {
            f.action = None;
            f.enabled = None;
        }
    }
    c.automated_reasoning_policy = None;
    if let Some(x) = &c.cross_region_details
        && x.guardrail_profile_arn.is_none()
    {
        c.cross_region_details = None;
    }
    if let Some(x) = &mut c.cross_region_details {
        x.guardrail_profile_id = None;
    }
    c
}

/// The members of `config` that `expressible` clears, as `policy.member` paths.
pub fn inexpressible(config: &GuardrailConfig) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(p) = &config.topic_policy {
        for t in &p.topics {
            if t.directions != Directions::default() {
                out.push(format!(
                    "topicPolicy.topics[{}] inputAction/outputAction/inputEnabled/outputEnabled",
                    t.name
                ));
            }
        }
    }
    if let Some(p) = &config.contextual_grounding_policy {
        if let Some(tier) = &p.tier {
            out.push(format!("contextualGroundingPolicy.tier = {tier}"));
        }
        for f in &p.filters {
            if f.action.is_some() || f.enabled.is_some() {
                out.push(format!(
                    "contextualGroundingPolicy.filters[{}] action/enabled",
                    f.kind
                ));
            }
        }
    }
    if let Some(p) = &config.automated_reasoning_policy {
        out.push(format!(
            "automatedReasoningPolicy ({} policies)",
            p.policies.len()
        ));
    }
    if let Some(x) = &config.cross_region_details
        && x.guardrail_profile_arn.is_none()
        && x.guardrail_profile_id.is_some()
    {
        out.push("crossRegionDetails (a profile id without its ARN)".into());
    }
    out
}

fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| hcl_string(s)).collect();
    format!("[{}]", quoted.join(", "))
}

fn directions(out: &mut String, indent: &str, d: &Directions) {
    if let Some(a) = &d.input_action {
        let _ = writeln!(out, "{indent}input_action = {}", hcl_string(a));
    }
    if let Some(a) = &d.output_action {
        let _ = writeln!(out, "{indent}output_action = {}", hcl_string(a));
    }
    if let Some(e) = d.input_enabled {
        let _ = writeln!(out, "{indent}input_enabled = {e}");
    }
    if let Some(e) = d.output_enabled {
        let _ = writeln!(out, "{indent}output_enabled = {e}");
    }
}

fn tier(out: &mut String, tier: &Option<String>) {
    if let Some(t) = tier {
        let _ = writeln!(out, "    tier_config = [{{ tier_name = {} }}]", hcl_string(t));
    }
}

/// Writes the `import` block and the resource of one guardrail; returns what it could not
/// express (also written, as comments, above the resource).
pub fn write_guardrail(
    out: &mut String,
    provider: &str,
    name: &str,
    id: &str,
    config: &GuardrailConfig,
    key_reference: &str,
) -> Vec<String> {
    let resource = resource_name(name, id);
    let gaps = inexpressible(config);
    let c = expressible(config);
    let _ = writeln!(
        out,
        "\nimport {{\n  provider = aws.{provider}\n  to       = aws_bedrock_guardrail.{resource}\n  id       = {}\n}}",
        hcl_string(&format!("{id},DRAFT"))
    );
    if !gaps.is_empty() {
        let _ = writeln!(
            out,
            "\n# guardkey: {name} has settings aws_bedrock_guardrail cannot express; applying this\n\
             # resource would wipe them (the provider resends the whole guardrail). Keep them by\n\
             # fixing this guardrail with `guardkey fix` instead, or set them outside Terraform:"
        );
        for g in &gaps {
            let _ = writeln!(out, "#   {g}");
        }
    }
    let _ = writeln!(out, "\nresource \"aws_bedrock_guardrail\" \"{resource}\" {{");
    let _ = writeln!(out, "  provider                  = aws.{provider}");
    let _ = writeln!(out, "  name                      = {}", hcl_string(&c.name));
    if let Some(d) = &c.description {
        let _ = writeln!(out, "  description               = {}", hcl_string(d));
    }
    let _ = writeln!(
        out,
        "  blocked_input_messaging   = {}",
        hcl_string(&c.blocked_input_messaging)
    );
    let _ = writeln!(
        out,
        "  blocked_outputs_messaging = {}",
        hcl_string(&c.blocked_outputs_messaging)
    );
    let _ = writeln!(out, "  kms_key_arn               = {key_reference}");
    if let Some(p) = &c.content_policy {
        let _ = writeln!(out, "\n  content_policy_config {{");
        tier(out, &p.tier);
        for f in &p.filters {
            let _ = writeln!(out, "    filters_config {{");
            let _ = writeln!(out, "      type            = {}", hcl_string(&f.kind));
            let _ = writeln!(out, "      input_strength  = {}", hcl_string(&f.input_strength));
            let _ = writeln!(out, "      output_strength = {}", hcl_string(&f.output_strength));
            if !f.input_modalities.is_empty() {
                let _ = writeln!(out, "      input_modalities = {}", list(&f.input_modalities));
            }
            if !f.output_modalities.is_empty() {
                let _ = writeln!(out, "      output_modalities = {}", list(&f.output_modalities));
            }
            directions(out, "      ", &f.directions);
            let _ = writeln!(out, "    }}");
        }
        let _ = writeln!(out, "  }}");
    }
    if let Some(p) = &c.contextual_grounding_policy {
        let _ = writeln!(out, "\n  contextual_grounding_policy_config {{");
        for f in &p.filters {
            let _ = writeln!(
                out,
                "    filters_config {{\n      type      = {}\n      threshold = {:?}\n    }}",
                hcl_string(&f.kind),
                f.threshold
            );
        }
        let _ = writeln!(out, "  }}");
    }
    if let Some(arn) = c
        .cross_region_details
        .as_ref()
        .and_then(|x| x.guardrail_profile_arn.as_ref())
    {
        let _ = writeln!(
            out,
            "\n  cross_region_config {{\n    guardrail_profile_identifier = {}\n  }}",
            hcl_string(arn)
        );
    }
    if let Some(p) = &c.sensitive_information_policy {
        let _ = writeln!(out, "\n  sensitive_information_policy_config {{");
        for e in &p.pii_entities {
            let _ = writeln!(out, "    pii_entities_config {{");
            let _ = writeln!(out, "      type   = {}", hcl_string(&e.kind));
            let _ = writeln!(out, "      action = {}", hcl_string(&e.action));
            directions(out, "      ", &e.directions);
            let _ = writeln!(out, "    }}");
        }
        for r in &p.regexes {
            let _ = writeln!(out, "    regexes_config {{");
            let _ = writeln!(out, "      name    = {}", hcl_string(&r.name));
            let _ = writeln!(out, "      pattern = {}", hcl_string(&r.pattern));
            let _ = writeln!(out, "      action  = {}", hcl_string(&r.action));
            if let Some(d) = &r.description {
                let _ = writeln!(out, "      description = {}", hcl_string(d));
            }
            directions(out, "      ", &r.directions);
            let _ = writeln!(out, "    }}");
        }
        let _ = writeln!(out, "  }}");
    }
    if let Some(p) = &c.topic_policy {
        let _ = writeln!(out, "\n  topic_policy_config {{");
        tier(out, &p.tier);
        for t in &p.topics {
            let _ = writeln!(out, "    topics_config {{");
            let _ = writeln!(out, "      name       = {}", hcl_string(&t.name));
            let _ = writeln!(out, "      definition = {}", hcl_string(&t.definition));
            let _ = writeln!(
                out,
                "      type       = {}",
                hcl_string(t.kind.as_deref().unwrap_or("DENY"))
            );
            if !t.examples.is_empty() {
                let _ = writeln!(out, "      examples   = {}", list(&t.examples));
            }
            let _ = writeln!(out, "    }}");
        }
        let _ = writeln!(out, "  }}");
    }
    if let Some(p) = &c.word_policy {
        let _ = writeln!(out, "\n  word_policy_config {{");
        for m in &p.managed_word_lists {
            let _ = writeln!(out, "    managed_word_lists_config {{");
            let _ = writeln!(out, "      type = {}", hcl_string(&m.kind));
            directions(out, "      ", &m.directions);
            let _ = writeln!(out, "    }}");
        }
        for w in &p.words {
            let _ = writeln!(out, "    words_config {{");
            let _ = writeln!(out, "      text = {}", hcl_string(&w.text));
            directions(out, "      ", &w.directions);
            let _ = writeln!(out, "    }}");
        }
        let _ = writeln!(out, "  }}");
    }
    let _ = writeln!(
        out,
        "\n  # guardkey does not read the guardrail's tags: Terraform leaves them as they are.\n  \
         # Remove this to manage them here (then set `tags`).\n  lifecycle {{\n    ignore_changes = [tags]\n  }}\n}}"
    );
    gaps
}
