//! What a key policy grants, in the terms a guardrail cares about.

use serde_json::Value;

/// Who may do what a guardrail needs with a key, as its key policy says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicySummary {
    /// The account-root statement (`arn:aws:iam::ACCOUNT:root` allowed `kms:*`) that keeps
    /// the key manageable through IAM, so it can never be locked out.
    pub root_statement: bool,
    pub decrypt: Vec<String>,
    pub generate_data_key: Vec<String>,
    pub create_grant: Vec<String>,
    /// Allow statements that carry conditions (shown, not evaluated).
    pub conditional: usize,
}

/// A policy element that is a string or a list of strings (`Action`, `Resource`, a
/// principal list, a condition's values), as a list.
pub fn strings(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// A policy document's statements: `Statement` is a list or a single object.
pub fn statements(doc: &Value) -> Vec<&Value> {
    match &doc["Statement"] {
        Value::Array(a) => a.iter().collect(),
        s @ Value::Object(_) => vec![s],
        _ => Vec::new(),
    }
}

fn list(v: &Value) -> Vec<String> {
    strings(v).into_iter().map(str::to_string).collect()
}

/// IAM's wildcard match: `*` any run of characters, `?` exactly one.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn action_allows(pattern: &str, action: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    let action = action.to_ascii_lowercase();
    match pattern.strip_suffix('*') {
        Some(prefix) => action.starts_with(prefix),
        None => pattern == action,
    }
}

/// Reads a key policy document. A document that is not JSON gives None.
pub fn summarize(policy: &str, account: &str) -> Option<PolicySummary> {
    let doc: Value = serde_json::from_str(policy).ok()?;
    let statements = statements(&doc);
    // The account root in whatever partition the policy is in (arn:PARTITION:iam::ACCOUNT:root).
    let is_root = |p: &str| {
        p == account
            || (p.starts_with("arn:aws")
                && p.ends_with(&format!(":iam::{account}:root"))
                && p.split(':').count() == 6)
    };
    let mut out = PolicySummary::default();
    for s in statements {
        if s["Effect"].as_str() != Some("Allow") {
            continue;
        }
        let principals = match &s["Principal"] {
            Value::String(p) => vec![p.clone()],
            p => [list(&p["AWS"]), list(&p["Service"])].concat(),
        };
        let actions = list(&s["Action"]);
        let allows = |a: &str| actions.iter().any(|p| action_allows(p, a));
        if s.get("Condition").is_some() {
            out.conditional += 1;
        } else if allows("kms:PutKeyPolicy") && allows("kms:Decrypt") && principals.iter().any(|p| is_root(p))
        {
            out.root_statement = true;
        }
        for (action, into) in [
            ("kms:Decrypt", &mut out.decrypt),
            ("kms:GenerateDataKey", &mut out.generate_data_key),
            ("kms:CreateGrant", &mut out.create_grant),
        ] {
            if allows(action) {
                for p in &principals {
                    if !into.contains(p) {
                        into.push(p.clone());
                    }
                }
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_who_may_use_the_key() {
        let policy = r#"{"Version":"2012-10-17","Statement":[
            {"Sid":"root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"},
            {"Sid":"users","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:role/App"]},"Action":["kms:Decrypt","kms:GenerateDataKey*"],"Resource":"*"},
            {"Sid":"grants","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/Admin"},"Action":"kms:CreateGrant","Resource":"*","Condition":{"Bool":{"kms:GrantIsForAWSResource":"true"}}},
            {"Sid":"deny","Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*"}]}"#;
        let s = summarize(policy, "123456789012").unwrap();
        assert!(s.root_statement);
        assert_eq!(
            s.decrypt,
            [
                "arn:aws:iam::123456789012:root",
                "arn:aws:iam::123456789012:role/App"
            ]
        );
        assert_eq!(s.generate_data_key.len(), 2);
        assert_eq!(
            s.create_grant,
            [
                "arn:aws:iam::123456789012:root",
                "arn:aws:iam::123456789012:role/Admin"
            ]
        );
        assert_eq!(s.conditional, 1);
    }

    #[test]
    fn a_policy_without_the_root_statement_is_flagged() {
        let policy = r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:role/x"},"Action":"kms:Decrypt","Resource":"*"}}"#;
        let s = summarize(policy, "1").unwrap();
        assert!(!s.root_statement);
        assert_eq!(s.decrypt, ["arn:aws:iam::1:role/x"]);
        assert!(summarize("not json", "1").is_none());
    }
}
