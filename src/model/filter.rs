//! The filter of the explorer and of `guardkey fix --filter`: free text over name, id,
//! region and alias, `field:value` terms (`status:fail`, `region:eu-*`, `key:none`,
//! `state:updating`, `posture:key-disabled`, `status:muted` for accepted risks), `!` to negate a term. Terms are ANDed;
//! matching ignores case. `check` names the terms that can match nothing (an unknown field
//! or value), so that a typo is an error rather than a silent empty selection.

use crate::model::{Guardrail, Level};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Field {
    Text,
    Status,
    Region,
    Key,
    State,
    Posture,
    Account,
}

#[derive(Debug, Clone)]
struct Term {
    negated: bool,
    field: Field,
    /// Lowercase.
    value: String,
    /// For free text: a fast substring search over a row's search text.
    finder: memchr::memmem::Finder<'static>,
    /// `account:` by name (a view of many accounts): the ids of the accounts so named.
    ids: Option<Vec<String>>,
}

impl PartialEq for Term {
    fn eq(&self, other: &Self) -> bool {
        (self.negated, &self.field, &self.value) == (other.negated, &other.field, &other.value)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    terms: Vec<Term>,
}

/// What free text is matched against: name, id, region and aliases, lowercase, one per line.
/// Built once per row, so that a keystroke is one substring search per row.
pub fn search_text(g: &Guardrail) -> Box<str> {
    let mut s = format!("{}\n{}\n{}\n{}", g.name, g.id, g.region, g.account);
    if let Some(k) = g.key_info() {
        for a in &k.aliases {
            s.push('\n');
            s.push_str(a);
        }
    }
    s.to_lowercase().into_boxed_str()
}

/// `*` matches any run of characters; without one, the value must appear somewhere.
fn glob(pattern: &str, text: &str) -> bool {
    if !pattern.contains('*') {
        return text.contains(pattern);
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

fn contains_ci(haystack: &str, needle: &str) -> bool {
    if haystack.is_ascii() {
        // No allocation on the hot path: the filter runs over every row on each keystroke.
        haystack
            .as_bytes()
            .windows(needle.len().max(1))
            .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
            || needle.is_empty()
    } else {
        haystack.to_lowercase().contains(needle)
    }
}

impl Filter {
    pub fn parse(input: &str) -> Self {
        let terms = input
            .split_whitespace()
            .map(|raw| {
                let (negated, raw) = match raw.strip_prefix('!') {
                    Some(r) => (true, r),
                    None => (false, raw),
                };
                let (field, value) = match raw.split_once(':') {
                    Some(("status" | "level", v)) => (Field::Status, v),
                    Some(("region", v)) => (Field::Region, v),
                    Some(("key", v)) => (Field::Key, v),
                    Some(("state", v)) => (Field::State, v),
                    Some(("posture" | "id", v)) => (Field::Posture, v),
                    Some(("account", v)) => (Field::Account, v),
                    _ => (Field::Text, raw),
                };
                let value = value.to_lowercase();
                let finder = memchr::memmem::Finder::new(value.as_bytes()).into_owned();
                Term {
                    negated,
                    field,
                    value,
                    finder,
                    ids: None,
                }
            })
            .filter(|t| !t.value.is_empty())
            .collect();
        Filter { terms }
    }

    /// The problems of an expression: unknown fields (`bogus:x`), values a field never has
    /// (`status:fial`, `posture:nope`, `state:sleeping`), or no term at all.
    pub fn check(input: &str) -> Result<Filter, String> {
        Self::check_in(input, None)
    }

    /// `check`, in a view of many accounts (`names`: id → name), where `account:` also takes
    /// the accounts' names: one that names no account of the view is a problem too.
    pub fn check_in(
        input: &str,
        names: Option<&std::collections::HashMap<String, String>>,
    ) -> Result<Filter, String> {
        let mut problems = Vec::new();
        for raw in input.split_whitespace() {
            let term = raw.strip_prefix('!').unwrap_or(raw);
            if term.is_empty() {
                problems.push(format!("'{raw}' negates nothing: put a term after the !"));
                continue;
            }
            let Some((field, value)) = term.split_once(':') else {
                continue;
            };
            let value = value.to_lowercase();
            if value.is_empty() {
                // `status:` would match everything: never what was meant.
                problems.push(format!("'{raw}' has no value after the colon"));
                continue;
            }
            match field {
                "status" | "level" => {
                    if !STATUS_VALUES.contains(&value.as_str()) {
                        problems.push(format!("'{raw}': status is one of fail, warn, unknown, pass, muted"));
                    }
                }
                "posture" | "id" => {
                    if !crate::model::PostureId::ALL
                        .iter()
                        .any(|id| glob(&value, id.as_str()))
                    {
                        problems.push(format!(
                            "'{raw}': no posture id is like '{value}' (e.g. aws-owned-key, key-disabled, key-*)"
                        ));
                    }
                }
                "state" => {
                    if !STATES.iter().any(|s| contains_ci(s, &value)) {
                        problems.push(format!(
                            "'{raw}': state is one of {}",
                            STATES.join(", ").to_lowercase()
                        ));
                    }
                }
                "account" => match names {
                    _ if is_id_pattern(&value) => {}
                    Some(names) => {
                        if !names.values().any(|n| glob(&value, &n.to_lowercase())) {
                            let mut known: Vec<&str> = names.values().map(String::as_str).collect();
                            known.sort_unstable();
                            problems.push(format!(
                                "'{raw}': no account is named like '{value}' (accounts: {})",
                                known.join(", ")
                            ));
                        }
                    }
                    None => problems.push(format!(
                        "'{raw}': account is a 12-digit account id (globs like 1111* work), or in the explorer of many accounts an account's name"
                    )),
                },
                "region" | "key" => {
                    if value.is_empty() {
                        problems.push(format!("'{raw}' has no value"));
                    }
                }
                other => problems.push(format!(
                    "'{raw}': unknown field '{other}' (fields: status, region, key, state, posture, account)"
                )),
            }
        }
        let mut filter = Filter::parse(input);
        if let Some(names) = names {
            filter = filter.with_account_names(names);
        }
        if problems.is_empty() && filter.is_empty() {
            problems.push("the filter is empty: give terms such as 'status:fail key:none'".into());
        }
        if problems.is_empty() {
            Ok(filter)
        } else {
            Err(problems.join("; "))
        }
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// With many accounts, an `account:` value that is not an id (digits and `*`) is an
    /// account's name, or a part of names, or a glob of them (`account:prod*`), matched like
    /// the other fields: it stands for the ids of the accounts so named (`names`: id → name).
    pub fn with_account_names(mut self, names: &std::collections::HashMap<String, String>) -> Self {
        for t in &mut self.terms {
            if t.field == Field::Account && !is_id_pattern(&t.value) {
                let ids = names
                    .iter()
                    .filter(|(_, name)| glob(&t.value, &name.to_lowercase()))
                    .map(|(id, _)| id.clone())
                    .collect();
                t.ids = Some(ids);
            }
        }
        self
    }

    /// `search` is the row's `search_text`.
    pub fn matches(&self, g: &Guardrail, search: &str) -> bool {
        self.terms.iter().all(|t| term_matches(t, g, search) != t.negated)
    }
}

const STATUS_VALUES: &[&str] = &[
    "fail", "failed", "x", "warn", "warning", "unknown", "?", "pass", "ok", "passed", "muted",
];
const STATES: &[&str] = &[
    "CREATING",
    "UPDATING",
    "VERSIONING",
    "READY",
    "FAILED",
    "DELETING",
];

/// An account id, or a glob of ids: digits and `*`.
fn is_id_pattern(value: &str) -> bool {
    value.bytes().all(|b| b.is_ascii_digit() || b == b'*')
}

fn term_matches(t: &Term, g: &Guardrail, search: &str) -> bool {
    let v = t.value.as_str();
    match t.field {
        Field::Text => t.finder.find(search.as_bytes()).is_some(),
        Field::Status => {
            let level = g.posture.level;
            match v {
                "fail" | "failed" | "x" => level == Level::Fail,
                "warn" | "warning" => level == Level::Warn,
                "unknown" | "?" => level == Level::Unknown,
                "pass" | "ok" | "passed" => level == Level::Pass,
                // An accepted risk (`--exceptions`): its FAIL or WARN muted.
                "muted" => g.is_muted(),
                _ => false,
            }
        }
        Field::Region => glob(v, &g.region),
        Field::Key => match v {
            "none" | "aws-owned" | "aws" => g.kms_key_arn.is_none() && g.read_error.is_none(),
            "cmk" | "any" => g.kms_key_arn.is_some(),
            _ => {
                g.kms_key_arn.as_deref().is_some_and(|k| contains_ci(k, v))
                    || g.key_info()
                        .is_some_and(|k| k.aliases.iter().any(|a| contains_ci(a, v)))
            }
        },
        Field::State => contains_ci(&g.status, v),
        Field::Posture => glob(v, g.posture.id.as_str()),
        Field::Account => match &t.ids {
            Some(ids) => ids.iter().any(|id| *id == *g.account),
            None => glob(v, &g.account),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Rotation;
    use crate::report::fixtures::{guardrail, key};

    fn rows() -> Vec<Guardrail> {
        vec![
            guardrail("us-east-1", "support-bot", None),
            guardrail(
                "eu-west-1",
                "claims-bot",
                Some(key("eu-west-1", "Enabled", Rotation::Disabled)),
            ),
            guardrail(
                "eu-central-1",
                "kb-search",
                Some(key("eu-central-1", "Disabled", Rotation::Disabled)),
            ),
        ]
    }

    fn names(filter: &str) -> Vec<String> {
        let f = Filter::parse(filter);
        rows()
            .into_iter()
            .filter(|g| f.matches(g, &search_text(g)))
            .map(|g| g.name)
            .collect()
    }

    #[test]
    fn free_text_and_fields() {
        assert_eq!(names(""), ["support-bot", "claims-bot", "kb-search"]);
        assert_eq!(names("BOT"), ["support-bot", "claims-bot"]);
        assert_eq!(
            names("bedrock-guardrails"),
            ["claims-bot", "kb-search"],
            "aliases are searched"
        );
        assert_eq!(names("status:fail"), ["support-bot", "kb-search"]);
        assert_eq!(names("status:warn"), ["claims-bot"]);
        assert_eq!(names("region:eu-*"), ["claims-bot", "kb-search"]);
        assert_eq!(names("region:*-1 !region:us-*"), ["claims-bot", "kb-search"]);
        assert_eq!(names("key:none"), ["support-bot"]);
        assert_eq!(names("!key:none"), ["claims-bot", "kb-search"]);
        assert_eq!(names("posture:key-disabled"), ["kb-search"]);
        assert_eq!(names("posture:key-*"), ["claims-bot", "kb-search"]);
        assert_eq!(names("status:fail region:eu-*"), ["kb-search"]);
        assert_eq!(names("state:ready"), ["support-bot", "claims-bot", "kb-search"]);
        assert!(names("nothing-like-this").is_empty());
    }

    #[test]
    fn typos_and_unknown_fields_are_named() {
        assert!(Filter::check("status:fail key:none").is_ok());
        assert!(Filter::check("!region:eu-* posture:key-*").is_ok());
        for (bad, says) in [
            ("status:fial", "status is one of"),
            ("bogus:xyz", "unknown field 'bogus'"),
            ("posture:nope", "no posture id"),
            ("state:sleeping", "state is one of"),
            ("", "the filter is empty"),
            ("   ", "the filter is empty"),
            ("status:", "has no value"),
            ("posture:", "has no value"),
            ("!", "negates nothing"),
        ] {
            let e = Filter::check(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn globs() {
        assert!(glob("eu-*", "eu-west-1"));
        assert!(glob("*-1", "eu-west-1"));
        assert!(glob("eu-*-1", "eu-west-1"));
        assert!(!glob("eu-*-2", "eu-west-1"));
        assert!(glob("west", "eu-west-1"));
        assert!(glob("*", "x"));
    }

    #[test]
    fn account_takes_names_and_their_globs_in_a_view_of_many_accounts() {
        let names: std::collections::HashMap<String, String> = [
            ("111122223333", "prod-eu"),
            ("444455556666", "prod-us"),
            ("777788889999", "staging"),
        ]
        .iter()
        .map(|(i, n)| (i.to_string(), n.to_string()))
        .collect();
        let mut g = guardrail("us-east-1", "bot", None);
        let of = |account: &str, g: &mut Guardrail| {
            g.account = account.into();
            search_text(g)
        };
        let matches = |expr: &str, account: &str, g: &mut Guardrail| {
            let search = of(account, g);
            Filter::parse(expr).with_account_names(&names).matches(g, &search)
        };
        assert!(matches("account:PROD*", "111122223333", &mut g));
        assert!(
            matches("account:prod", "444455556666", &mut g),
            "a part of the name, as other fields"
        );
        assert!(!matches("account:prod", "777788889999", &mut g));
        assert!(matches("!account:prod*", "777788889999", &mut g));
        assert!(
            matches("account:7777*", "777788889999", &mut g),
            "ids and their globs as before"
        );
        // Without names (guardkey fix --filter), a name is an error that says why.
        assert!(
            Filter::check("account:prod")
                .unwrap_err()
                .contains("12-digit account id")
        );
        assert!(Filter::check_in("account:prod*", Some(&names)).is_ok());
        let err = Filter::check_in("account:dev", Some(&names)).unwrap_err();
        assert!(
            err.contains("no account is named like 'dev'") && err.contains("prod-eu, prod-us, staging"),
            "{err}"
        );
    }
}
