//! The IAM policies guardkey needs, shipped as files (`assets/iam/`) and printed by
//! `guardkey policy NAME`, so that `aws iam create-policy --policy-document "$(guardkey
//! policy scan)"` works as it is. Each is proven exact by the tests: everything works with
//! it, and without any one of its actions something says that action was denied.

use serde_json::Value;

/// (name, what it is for, the document).
pub const POLICIES: &[(&str, &str, &str)] = &[
    (
        "scan",
        "read-only: guardkey scan and the explorer (no write of any kind)",
        include_str!("../assets/iam/scan.json"),
    ),
    (
        "fix",
        "guardkey fix, restore and the wizard: the scan's reads, creating keys, updating guardrails",
        include_str!("../assets/iam/fix.json"),
    ),
    (
        "security-hub",
        "guardkey scan --security-hub: importing the findings (attach it beside scan)",
        include_str!("../assets/iam/security-hub.json"),
    ),
];

/// A policy document by name.
pub fn policy(name: &str) -> Option<&'static str> {
    POLICIES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, _, doc)| *doc)
}

/// Every action a policy document allows.
pub fn actions(document: &str) -> Vec<String> {
    let doc: Value = serde_json::from_str(document).expect("a shipped policy is JSON");
    let mut out = Vec::new();
    for st in doc["Statement"].as_array().into_iter().flatten() {
        match &st["Action"] {
            Value::String(a) => out.push(a.clone()),
            Value::Array(a) => out.extend(a.iter().filter_map(|x| x.as_str().map(str::to_string))),
            _ => {}
        }
    }
    out
}

/// Each policy's name and actions, read once: every AccessDenied of a scan asks.
static GRANTS: std::sync::LazyLock<Vec<(&'static str, Vec<String>)>> = std::sync::LazyLock::new(|| {
    POLICIES
        .iter()
        .map(|(name, _, doc)| (*name, actions(doc)))
        .collect()
});

/// The first (least) policy that grants `action`, to name in an AccessDenied message.
pub fn granting(action: &str) -> Option<&'static str> {
    GRANTS
        .iter()
        .find(|(_, actions)| actions.iter().any(|a| a.eq_ignore_ascii_case(action)))
        .map(|(name, _)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scan_policy_is_read_only_and_the_fix_policy_contains_it() {
        let scan = actions(policy("scan").unwrap());
        for a in &scan {
            let op = a.split(':').nth(1).unwrap();
            for verb in [
                "Create", "Put", "Update", "Delete", "Enable", "Disable", "Schedule", "Tag", "Untag",
            ] {
                assert!(!op.starts_with(verb), "{a} is not read-only");
            }
        }
        let fix = actions(policy("fix").unwrap());
        for a in &scan {
            assert!(fix.contains(a), "fix lacks {a}");
        }
        assert!(
            !scan.iter().any(|a| a.contains('*')) && !fix.iter().any(|a| a.contains('*')),
            "no wildcards"
        );
        assert_eq!(granting("kms:GetKeyRotationStatus"), Some("scan"));
        assert_eq!(granting("kms:CreateKey"), Some("fix"));
        assert_eq!(granting("ec2:RunInstances"), None);
    }
}
