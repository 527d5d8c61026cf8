//! The service contracts the simulator enforces, read from botocore's models.
//!
//! `assets/models/*.json` hold the operations the simulator serves and every shape they
//! reach (trimmed by `tools/trim-models.py`). Requests are validated against the input
//! shapes the way the real services do it, so a client that passes here sends what AWS
//! accepts, and the errors name the offending field in AWS's own words.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use parking_lot::Mutex;
use regex::Regex;
use serde_json::Value;

static BEDROCK: LazyLock<ServiceModel> =
    LazyLock::new(|| ServiceModel::parse(include_str!("../../assets/models/bedrock.json")));
static KMS: LazyLock<ServiceModel> =
    LazyLock::new(|| ServiceModel::parse(include_str!("../../assets/models/kms.json")));

static BEDROCK_RUNTIME: LazyLock<ServiceModel> =
    LazyLock::new(|| ServiceModel::parse(include_str!("../../assets/models/bedrock-runtime.json")));

/// Bedrock Runtime (ApplyGuardrail): signed as `bedrock`, told apart by its path.
pub fn bedrock_runtime() -> &'static ServiceModel {
    &BEDROCK_RUNTIME
}

static ORGANIZATIONS: LazyLock<ServiceModel> =
    LazyLock::new(|| ServiceModel::parse(include_str!("../../assets/models/organizations.json")));

pub fn organizations() -> &'static ServiceModel {
    &ORGANIZATIONS
}

static SECURITYHUB: LazyLock<ServiceModel> =
    LazyLock::new(|| ServiceModel::parse(include_str!("../../assets/models/securityhub.json")));

pub fn securityhub() -> &'static ServiceModel {
    &SECURITYHUB
}

static BEDROCK_AGENT: LazyLock<ServiceModel> =
    LazyLock::new(|| ServiceModel::parse(include_str!("../../assets/models/bedrock-agent.json")));

pub fn bedrock_agent() -> &'static ServiceModel {
    &BEDROCK_AGENT
}

pub fn bedrock() -> &'static ServiceModel {
    &BEDROCK
}

pub fn kms() -> &'static ServiceModel {
    &KMS
}

pub struct ServiceModel {
    doc: Value,
}

/// What is wrong with a request, as the service reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum Invalid {
    /// A member has the wrong JSON type: the service cannot even deserialize it.
    Serialization(String),
    /// Constraint violations, in the service's "N validation errors detected" wording.
    Constraints(Vec<String>),
}

impl Invalid {
    pub fn message(&self) -> String {
        match self {
            Invalid::Serialization(m) => m.clone(),
            Invalid::Constraints(list) => {
                let n = list.len();
                let noun = if n == 1 { "error" } else { "errors" };
                format!("{n} validation {noun} detected: {}", list.join("; "))
            }
        }
    }
}

impl ServiceModel {
    fn parse(text: &str) -> Self {
        let doc: Value = serde_json::from_str(text).expect("embedded service model is valid JSON");
        ServiceModel { doc }
    }

    fn shape(&self, name: &str) -> &Value {
        &self.doc["shapes"][name]
    }

    /// Whether the model has the operation (DescribeOrganization, for one, takes no input).
    pub fn has_operation(&self, operation: &str) -> bool {
        self.doc["operations"].get(operation).is_some()
    }

    pub fn input_shape(&self, operation: &str) -> Option<&str> {
        self.doc["operations"][operation]["input"]["shape"].as_str()
    }

    /// The input members bound to the URI, query string or headers:
    /// (member name, location, wire name, shape type).
    pub fn http_members(&self, operation: &str) -> Vec<(String, String, String, String)> {
        let Some(shape) = self.input_shape(operation) else {
            return Vec::new();
        };
        let members = self.shape(shape)["members"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        members
            .into_iter()
            .filter_map(|(name, m)| {
                let location = m["location"].as_str()?.to_string();
                let wire = m["locationName"].as_str().unwrap_or(&name).to_string();
                let kind = self.shape(m["shape"].as_str()?)["type"].as_str()?.to_string();
                Some((name, location, wire, kind))
            })
            .collect()
    }

    /// Validates `request` (body members plus URI, query and header members merged in by
    /// their member names) against the operation's input shape.
    pub fn validate_input(&self, operation: &str, request: &Value) -> Result<(), Invalid> {
        let Some(shape) = self.input_shape(operation) else {
            return Ok(());
        };
        let mut errors = Vec::new();
        self.check(shape, request, "", false, &mut errors)?;
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Invalid::Constraints(errors))
        }
    }

    fn check(
        &self,
        shape_name: &str,
        value: &Value,
        path: &str,
        sensitive: bool,
        errors: &mut Vec<String>,
    ) -> Result<(), Invalid> {
        let shape = self.shape(shape_name);
        let sensitive = sensitive || shape["sensitive"].as_bool() == Some(true);
        let kind = shape["type"].as_str().unwrap_or("");
        let wrong_type =
            || Invalid::Serialization(format!("Unexpected value type for '{}': expected {kind}", path));
        let mut fail = |constraint: String| {
            let at = path;
            errors.push(if sensitive {
                format!("Value at '{at}' failed to satisfy constraint: {constraint}")
            } else {
                format!(
                    "Value {} at '{at}' failed to satisfy constraint: {constraint}",
                    quoted(value)
                )
            });
        };
        match kind {
            "structure" => {
                let obj = value.as_object().ok_or_else(wrong_type)?;
                let members = shape["members"].as_object().cloned().unwrap_or_default();
                if let Some(required) = shape["required"].as_array() {
                    for r in required.iter().filter_map(Value::as_str) {
                        if obj.get(r).is_none_or(Value::is_null) {
                            errors.push(format!(
                                "Value null at '{}' failed to satisfy constraint: Member must not be null",
                                join(path, r)
                            ));
                        }
                    }
                }
                for (name, member) in &members {
                    if let Some(v) = obj.get(name).filter(|v| !v.is_null()) {
                        let target = member["shape"].as_str().unwrap_or("");
                        self.check(target, v, &join(path, name), false, errors)?;
                    }
                }
            }
            "list" => {
                let items = value.as_array().ok_or_else(wrong_type)?;
                length_bounds(shape, items.len(), &mut fail);
                let member = shape["member"]["shape"].as_str().unwrap_or("");
                for (i, item) in items.iter().enumerate() {
                    let p = format!("{}.{}.member", path, i + 1);
                    self.check(member, item, &p, sensitive, errors)?;
                }
            }
            "map" => {
                let obj = value.as_object().ok_or_else(wrong_type)?;
                length_bounds(shape, obj.len(), &mut fail);
            }
            "string" => {
                let s = value.as_str().ok_or_else(wrong_type)?;
                if let Some(allowed) = shape["enum"].as_array()
                    && !allowed.iter().any(|a| a.as_str() == Some(s))
                {
                    let set: Vec<&str> = allowed.iter().filter_map(Value::as_str).collect();
                    fail(format!(
                        "Member must satisfy enum value set: [{}]",
                        set.join(", ")
                    ));
                    return Ok(());
                }
                length_bounds(shape, s.chars().count(), &mut fail);
                if let Some(p) = shape["pattern"].as_str()
                    && !full_match(p, s)
                {
                    fail(format!("Member must satisfy regular expression pattern: {p}"));
                }
            }
            "integer" | "long" => {
                let n = value.as_i64().ok_or_else(wrong_type)?;
                number_bounds(shape, n as f64, &mut fail);
            }
            "double" | "float" => {
                let n = value.as_f64().ok_or_else(wrong_type)?;
                number_bounds(shape, n, &mut fail);
            }
            "boolean" => {
                value.as_bool().ok_or_else(wrong_type)?;
            }
            // timestamps and blobs are not sent by the operations served here
            _ => {}
        }
        Ok(())
    }
}

fn join(path: &str, member: &str) -> String {
    if path.is_empty() {
        member.to_string()
    } else {
        format!("{path}.{member}")
    }
}

fn quoted(v: &Value) -> String {
    match v {
        Value::String(s) => format!("'{s}'"),
        Value::Array(_) | Value::Object(_) => "'[...]'".to_string(),
        other => format!("'{other}'"),
    }
}

fn length_bounds(shape: &Value, len: usize, fail: &mut impl FnMut(String)) {
    if let Some(min) = shape["min"].as_u64()
        && (len as u64) < min
    {
        fail(format!("Member must have length greater than or equal to {min}"));
    }
    if let Some(max) = shape["max"].as_u64()
        && (len as u64) > max
    {
        fail(format!("Member must have length less than or equal to {max}"));
    }
}

fn number_bounds(shape: &Value, n: f64, fail: &mut impl FnMut(String)) {
    if let Some(min) = shape["min"].as_f64()
        && n < min
    {
        fail(format!("Member must have value greater than or equal to {min}"));
    }
    if let Some(max) = shape["max"].as_f64()
        && n > max
    {
        fail(format!("Member must have value less than or equal to {max}"));
    }
}

/// The services match patterns against the whole value (Java's `String.matches`).
/// A pattern Rust's engine cannot compile is not enforced rather than guessed at.
pub fn full_match(pattern: &str, s: &str) -> bool {
    static CACHE: LazyLock<Mutex<HashMap<String, Option<Arc<Regex>>>>> =
        LazyLock::new(|| Mutex::new(HashMap::new()));
    let re = CACHE
        .lock()
        .entry(pattern.to_string())
        .or_insert_with(|| {
            let translated = pattern.replace("\\u", "\\x{").replace_unicode_escapes();
            Regex::new(&format!("^(?:{translated})$")).ok().map(Arc::new)
        })
        .clone();
    re.is_none_or(|re| re.is_match(s))
}

trait UnicodeEscapes {
    fn replace_unicode_escapes(self) -> String;
}

impl UnicodeEscapes for String {
    /// Turns the `\x{0009` left by the first replacement into `\x{0009}`: Java writes
    /// `\u0009`, Rust's regex wants `\x{0009}`.
    fn replace_unicode_escapes(self) -> String {
        let mut out = String::with_capacity(self.len());
        let mut rest = self.as_str();
        while let Some(i) = rest.find("\\x{") {
            out.push_str(&rest[..i + 3]);
            let hex: String = rest[i + 3..].chars().take(4).collect();
            out.push_str(&hex);
            out.push('}');
            rest = &rest[i + 3 + hex.len()..];
        }
        out.push_str(rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn required_members_and_patterns_are_named() {
        let err = bedrock()
            .validate_input(
                "CreateGuardrail",
                &json!({"name": "bad name!", "blockedInputMessaging": "no"}),
            )
            .unwrap_err();
        let msg = err.message();
        assert!(msg.starts_with("2 validation errors detected"), "{msg}");
        assert!(
            msg.contains("'blockedOutputsMessaging' failed to satisfy constraint: Member must not be null")
        );
        assert!(msg.contains(
            "at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern"
        ));
    }

    #[test]
    fn list_bounds_use_one_based_member_paths() {
        let regexes: Vec<_> = (0..31)
            .map(|i| json!({"name": format!("r{i}"), "pattern": "x", "action": "BLOCK"}))
            .collect();
        let err = bedrock()
            .validate_input(
                "CreateGuardrail",
                &json!({"name": "g", "blockedInputMessaging": "a", "blockedOutputsMessaging": "b",
                    "sensitiveInformationPolicyConfig": {"regexesConfig": regexes},
                    "contentPolicyConfig": {"filtersConfig": [{"type": "RUDE", "inputStrength": "HIGH", "outputStrength": "HIGH"}]}}),
            )
            .unwrap_err();
        let msg = err.message();
        assert!(msg.contains("'sensitiveInformationPolicyConfig.regexesConfig' failed to satisfy constraint: Member must have length less than or equal to 30"), "{msg}");
        assert!(msg.contains("Value 'RUDE' at 'contentPolicyConfig.filtersConfig.1.member.type' failed to satisfy constraint: Member must satisfy enum value set"), "{msg}");
    }

    #[test]
    fn wrong_types_are_serialization_errors() {
        let err = kms()
            .validate_input("EnableKeyRotation", &json!({"KeyId": 5}))
            .unwrap_err();
        assert!(matches!(err, Invalid::Serialization(_)));
    }

    #[test]
    fn java_unicode_escapes_are_understood() {
        assert!(full_match(
            "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+",
            "{\"a\": 1}\n"
        ));
        assert!(!full_match("[\\u0020-\\u00FF]*", "\u{1}"));
        assert!(full_match("^[a-zA-Z0-9:/_-]+$", "alias/x"));
        assert!(full_match("[0-9a-zA-Z-_]+", "my-guard_1"));
        assert!(!full_match("[0-9a-zA-Z-_]+", "my guard"));
    }
}
