//! The key policy of a new guardrail key, and the checks on what goes into it.
//!
//! The account-root statement is always there, so the key can never be locked out; key
//! administrators manage the key; guardrail managers get what creating and updating an
//! encrypted guardrail needs (kms:Decrypt, kms:GenerateDataKey, kms:DescribeKey, and
//! kms:CreateGrant only for AWS resources); guardrail users get kms:Decrypt. Never `*`.
//!
//! (Over 500 lines for its tests: the unit and property tests of the policy are half of it.)

use serde_json::{Value, json};

/// KMS's quota on a key policy document (KMS quotas, "Key policy document size": 32 KiB;
/// beyond it CreateKey and PutKeyPolicy answer LimitExceededException, as KMS's API
/// reference says).
pub const MAX_POLICY_BYTES: usize = 32_768;

/// Who gets what on the key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPolicySpec {
    pub account: String,
    /// `aws`, `aws-us-gov`, …
    pub partition: String,
    pub administrators: Vec<String>,
    pub managers: Vec<String>,
    pub users: Vec<String>,
    /// Other accounts whose principals may use the key (kms:Decrypt, kms:DescribeKey).
    pub external_accounts: Vec<String>,
}

const ADMIN_ACTIONS: &[&str] = &[
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:RotateKeyOnDemand",
];

/// How a new key's policy names the caller, once IAM was asked.
///
/// KMS refuses a key policy that names a principal that does not exist, and a role's ARN
/// carries its path, which the assumed-role session ARN of GetCallerIdentity does not. So:
/// - the role's real ARN from `iam:GetRole`, where the caller may read it;
/// - failing that, for an IAM Identity Center permission-set role (the usual SSO sign-in,
///   always under `/aws-reserved/sso.amazonaws.com/`), an `ArnLike` pattern on
///   `aws:PrincipalArn` with the account root as principal, as AWS's IAM Identity Center
///   guide documents for resource policies (it also survives re-provisioning, which
///   changes the role's suffix);
/// - failing both, no statement of its own: the account-root statement still lets IAM
///   grant the key, and the user is told what to pass with --admin / --manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerPrincipal {
    Arn(String),
    SsoRolePattern(String),
    RootOnly { reason: String },
}

impl CallerPrincipal {
    /// What the administrator and manager lists hold by default.
    pub fn default_entry(&self) -> Option<String> {
        match self {
            CallerPrincipal::Arn(a) | CallerPrincipal::SsoRolePattern(a) => Some(a.clone()),
            CallerPrincipal::RootOnly { .. } => None,
        }
    }

    /// What to tell the user about it, if anything.
    pub fn warning(&self) -> Option<String> {
        match self {
            CallerPrincipal::Arn(_) => None,
            CallerPrincipal::SsoRolePattern(p) => Some(format!(
                "the caller's SSO role could not be read (iam:GetRole), so the key policy matches it by \
                 aws:PrincipalArn like {p}"
            )),
            CallerPrincipal::RootOnly { reason } => Some(format!(
                "{reason}: the key policy names the account root only (IAM policies grant the key). \
                 Pass --admin and --manager with the role's full ARN, with its path, to name it"
            )),
        }
    }
}

/// The `ArnLike` pattern of an IAM Identity Center permission-set role
/// (`AWSReservedSSO_<set>_<16 hex>`), or None for any other role name.
pub fn sso_role_pattern(partition: &str, account: &str, role_name: &str) -> Option<String> {
    let rest = role_name.strip_prefix("AWSReservedSSO_")?;
    let (set, suffix) = rest.rsplit_once('_')?;
    let hex = suffix.len() == 16 && suffix.bytes().all(|b| b.is_ascii_hexdigit());
    (hex && !set.is_empty()).then(|| {
        format!("arn:{partition}:iam::{account}:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_{set}_*")
    })
}

/// An assumed-role session ARN's (partition, account, role name); None for any other ARN.
fn assumed_role(arn: &str) -> Option<(&str, &str, &str)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "sts", "", account, resource] => {
            let role = resource.strip_prefix("assumed-role/")?.split('/').next()?;
            Some((partition, account, role))
        }
        _ => None,
    }
}

/// The role name of an assumed-role session ARN.
pub fn session_role(arn: &str) -> Option<&str> {
    assumed_role(arn).map(|(_, _, role)| role)
}

/// The caller as a key policy can name it, from its ARN and what iam:GetRole said of its
/// role (None when the caller is not a role session).
pub fn caller_principal(caller_arn: &str, role_lookup: Option<Result<String, String>>) -> CallerPrincipal {
    let Some((partition, account, role)) = assumed_role(caller_arn) else {
        // An IAM user's ARN, path included, is what GetCallerIdentity returns.
        return CallerPrincipal::Arn(caller_arn.to_string());
    };
    match role_lookup {
        Some(Ok(arn)) if !arn.is_empty() => CallerPrincipal::Arn(arn),
        other => {
            let why = match other {
                Some(Err(e)) => e,
                _ => "no answer".into(),
            };
            match sso_role_pattern(partition, account, role) {
                Some(p) => CallerPrincipal::SsoRolePattern(p),
                None => CallerPrincipal::RootOnly {
                    reason: format!("the ARN of role {role} (with its path) could not be read: {why}"),
                },
            }
        }
    }
}

/// Whether `p` is an `ArnLike` pattern of roles in `account` (matched with the account root
/// as principal and a condition on aws:PrincipalArn).
fn is_role_pattern(p: &str, account: &str) -> bool {
    let parts: Vec<&str> = p.splitn(6, ':').collect();
    matches!(parts.as_slice(),
        ["arn", part, "iam", "", acct, resource]
            if part.starts_with("aws") && *acct == account && resource.starts_with("role/")
                && resource.len() > "role/*".len())
}

/// The role ARN behind an assumed-role session ARN, without its path (which the session
/// ARN does not carry): a guess, used only where IAM cannot be asked.
pub fn principal_of_caller(arn: &str) -> String {
    match assumed_role(arn) {
        Some((partition, account, role)) => format!("arn:{partition}:iam::{account}:role/{role}"),
        None => arn.to_string(),
    }
}

/// Twelve digits: an AWS account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// A principal as a key policy may name it: an IAM ARN (user, role, root) or an account id
/// (turned into its root ARN). `*` and anything else are refused with the reason.
pub fn principal(input: &str, partition: &str) -> Result<String, String> {
    let p = input.trim();
    if p == "*" || p.contains('*') {
        return Err(format!(
            "'{p}': a key policy from guardkey never grants to everyone (*)"
        ));
    }
    if is_account_id(p) {
        return Ok(format!("arn:{partition}:iam::{p}:root"));
    }
    let parts: Vec<&str> = p.splitn(6, ':').collect();
    match parts.as_slice() {
        // KMS refuses a principal of another partition than the key's.
        ["arn", part, "iam", "", _, _] if *part != partition => Err(format!(
            "'{p}' is in partition {part}; the key is in {partition}, whose key policies name {partition} principals only"
        )),
        ["arn", part, "iam", "", account, resource]
            if part.starts_with("aws")
                && is_account_id(account)
                && (*resource == "root"
                    || resource.starts_with("user/")
                    || resource.starts_with("role/")) =>
        {
            Ok(p.to_string())
        }
        ["arn", _, "sts", "", _, r] if r.starts_with("assumed-role/") => Ok(principal_of_caller(p)),
        _ => Err(format!(
            "'{p}' is not a principal: give an IAM user or role ARN (arn:{partition}:iam::123456789012:role/Name) or an account id"
        )),
    }
}

/// A list's principals, and its role patterns (from IAM Identity Center callers).
fn principals(list: &[String], partition: &str, account: &str) -> Result<(Vec<String>, Vec<String>), String> {
    let mut out: Vec<String> = Vec::new();
    let mut patterns: Vec<String> = Vec::new();
    for p in list {
        let p = p.trim();
        if p.contains('*') && is_role_pattern(p, account) {
            if !patterns.iter().any(|x| x == p) {
                patterns.push(p.to_string());
            }
            continue;
        }
        let p = principal(p, partition)?;
        if !out.contains(&p) {
            out.push(p);
        }
    }
    Ok((out, patterns))
}

/// The statement for principals matched by pattern: the account root as principal, and
/// the patterns on aws:PrincipalArn (with any other condition of the statement).
fn by_pattern(sid: &str, root: &str, patterns: &[String], actions: Value, extra: Option<Value>) -> Value {
    let mut condition = json!({ "ArnLike": { "aws:PrincipalArn": if patterns.len() == 1 { json!(patterns[0]) } else { json!(patterns) } } });
    if let Some(Value::Object(extra)) = extra {
        for (k, v) in extra {
            condition[k] = v;
        }
    }
    json!({
        "Sid": sid,
        "Effect": "Allow",
        "Principal": { "AWS": root },
        "Action": actions,
        "Resource": "*",
        "Condition": condition
    })
}

fn aws(list: Vec<String>) -> Value {
    if list.len() == 1 {
        json!({ "AWS": list[0] })
    } else {
        json!({ "AWS": list })
    }
}

/// The policy document, pretty-printed.
pub fn build(spec: &KeyPolicySpec) -> Result<String, String> {
    if !is_account_id(&spec.account) {
        return Err(format!("'{}' is not an account id", spec.account));
    }
    let partition = if spec.partition.is_empty() {
        "aws"
    } else {
        spec.partition.as_str()
    };
    let root = format!("arn:{partition}:iam::{}:root", spec.account);
    let mut statements = vec![json!({
        "Sid": "Enable IAM User Permissions",
        "Effect": "Allow",
        "Principal": { "AWS": root },
        "Action": "kms:*",
        "Resource": "*"
    })];
    let (admins, admin_patterns) = principals(&spec.administrators, partition, &spec.account)?;
    if !admins.is_empty() {
        statements.push(json!({
            "Sid": "Allow access for Key Administrators",
            "Effect": "Allow",
            "Principal": aws(admins),
            "Action": ADMIN_ACTIONS,
            "Resource": "*"
        }));
    }
    if !admin_patterns.is_empty() {
        statements.push(by_pattern(
            "Allow access for Key Administrators by role ARN",
            &root,
            &admin_patterns,
            json!(ADMIN_ACTIONS),
            None,
        ));
    }
    let (managers, manager_patterns) = principals(&spec.managers, partition, &spec.account)?;
    if !manager_patterns.is_empty() {
        statements.push(by_pattern(
            "Allow guardrail managers to encrypt guardrails by role ARN",
            &root,
            &manager_patterns,
            json!(["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]),
            None,
        ));
        statements.push(by_pattern(
            "Allow grants for AWS resources only by role ARN",
            &root,
            &manager_patterns,
            json!(["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]),
            Some(json!({ "Bool": { "kms:GrantIsForAWSResource": "true" } })),
        ));
    }
    if !managers.is_empty() {
        statements.push(json!({
            "Sid": "Allow guardrail managers to encrypt guardrails",
            "Effect": "Allow",
            "Principal": aws(managers.clone()),
            "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            "Resource": "*"
        }));
        statements.push(json!({
            "Sid": "Allow grants for AWS resources only",
            "Effect": "Allow",
            "Principal": aws(managers),
            "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
            "Resource": "*",
            "Condition": { "Bool": { "kms:GrantIsForAWSResource": "true" } }
        }));
    }
    let (users, user_patterns) = principals(&spec.users, partition, &spec.account)?;
    if !user_patterns.is_empty() {
        statements.push(by_pattern(
            "Allow guardrail users to use encrypted guardrails by role ARN",
            &root,
            &user_patterns,
            json!("kms:Decrypt"),
            None,
        ));
    }
    if !users.is_empty() {
        statements.push(json!({
            "Sid": USERS_SID,
            "Effect": "Allow",
            "Principal": aws(users),
            "Action": "kms:Decrypt",
            "Resource": "*"
        }));
    }
    let external: Vec<String> = spec
        .external_accounts
        .iter()
        .map(|a| {
            if is_account_id(a.trim()) {
                Ok(format!("arn:{partition}:iam::{}:root", a.trim()))
            } else {
                Err(format!("'{a}' is not an account id (12 digits)"))
            }
        })
        .collect::<Result<_, _>>()?;
    if !external.is_empty() {
        statements.push(json!({
            "Sid": "Allow other accounts to use encrypted guardrails",
            "Effect": "Allow",
            "Principal": aws(external),
            "Action": ["kms:Decrypt", "kms:DescribeKey"],
            "Resource": "*"
        }));
    }
    let doc =
        json!({ "Version": "2012-10-17", "Id": "guardkey-bedrock-guardrails", "Statement": statements });
    let text = serde_json::to_string_pretty(&doc).expect("a policy serializes");
    if text.len() > MAX_POLICY_BYTES {
        return Err(format!(
            "the key policy would be {} bytes, more than KMS's quota of {MAX_POLICY_BYTES} (too many principals named: \
             name fewer with --user, or grant them through IAM)",
            text.len()
        ));
    }
    Ok(text)
}

/// The Sid of the statement that lets a guardrail's users decrypt.
pub const USERS_SID: &str = "Allow guardrail users to use encrypted guardrails";

/// An existing key policy with the users statement naming `principals` added (merged into
/// the statement guardkey added before, if any). Every other statement is kept as it was.
pub fn with_users(policy: &str, principals: &[String]) -> Result<String, String> {
    let mut doc: Value =
        serde_json::from_str(policy).map_err(|e| format!("the key policy is not JSON: {e}"))?;
    let statements = match &mut doc["Statement"] {
        Value::Array(a) => a,
        s @ Value::Object(_) => {
            *s = Value::Array(vec![s.take()]);
            s.as_array_mut().expect("just made an array")
        }
        _ => return Err("the key policy has no Statement".into()),
    };
    let existing = statements
        .iter_mut()
        .find(|s| s["Sid"].as_str() == Some(USERS_SID) && s["Effect"] == "Allow");
    match existing {
        Some(s) => {
            let mut listed: Vec<String> = match &s["Principal"]["AWS"] {
                Value::String(p) => vec![p.clone()],
                Value::Array(a) => a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
                _ => Vec::new(),
            };
            for p in principals {
                if !listed.contains(p) {
                    listed.push(p.clone());
                }
            }
            s["Principal"] = aws(listed);
        }
        None => statements.push(json!({
            "Sid": USERS_SID,
            "Effect": "Allow",
            "Principal": aws(principals.to_vec()),
            "Action": "kms:Decrypt",
            "Resource": "*"
        })),
    }
    let text = serde_json::to_string_pretty(&doc).expect("a policy serializes");
    if text.len() > MAX_POLICY_BYTES {
        return Err(format!(
            "the key policy would be {} bytes with the users statement, more than KMS's quota of {MAX_POLICY_BYTES}",
            text.len()
        ));
    }
    Ok(text)
}

/// An alias KMS will accept: `alias/` then letters, digits, `/_-`, not `alias/aws/`.
pub fn validate_alias(alias: &str) -> Result<(), String> {
    let Some(name) = alias.strip_prefix("alias/") else {
        return Err(format!(
            "'{alias}' must start with alias/ (e.g. alias/bedrock-guardrails)"
        ));
    };
    if name.is_empty() {
        return Err("the alias needs a name after alias/".into());
    }
    if alias.starts_with("alias/aws/") {
        return Err(format!("'{alias}': alias/aws/ is reserved for AWS managed keys"));
    }
    if alias.len() > 256 {
        return Err(format!("'{alias}' is longer than 256 characters"));
    }
    if let Some(bad) = alias
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-')))
    {
        return Err(format!("'{alias}' has '{bad}': use letters, digits, /, _ and -"));
    }
    Ok(())
}

/// Whether an existing key's policy lets guardrails be encrypted with it; the missing
/// statements, described for a warning.
pub fn missing_for_guardrails(policy: &str, account: &str, caller: &str) -> Vec<String> {
    let Some(summary) = crate::model::policy::summarize(policy, account) else {
        return vec!["the key policy is not a JSON policy document".into()];
    };
    let mut missing = Vec::new();
    if !summary.root_statement {
        missing.push("no account-root statement: IAM policies cannot grant use of the key".into());
    }
    let partition = crate::regions::partition_of_arn(caller);
    let root = format!("arn:{partition}:iam::{account}:root");
    let caller = principal_of_caller(caller);
    let covers = |list: &[String]| list.iter().any(|p| *p == caller || *p == root || p == account);
    for (what, list) in [
        ("kms:Decrypt", &summary.decrypt),
        ("kms:GenerateDataKey", &summary.generate_data_key),
        ("kms:CreateGrant", &summary.create_grant),
    ] {
        if !covers(list) {
            missing.push(format!(
                "{what} is not granted to {caller} (nor through the account root)"
            ));
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_users_statement_is_added_once_merged_and_within_kms_quota() {
        let old = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow",
            "Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#;
        let a = "arn:aws:iam::111122223333:role/service-role/A".to_string();
        let b = "arn:aws:iam::111122223333:role/B".to_string();
        let once = with_users(old, std::slice::from_ref(&a)).unwrap();
        let twice = with_users(&once, &[a.clone(), b.clone()]).unwrap();
        let doc: Value = serde_json::from_str(&twice).unwrap();
        let statements = doc["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 2, "merged into guardkey's statement: {twice}");
        assert_eq!(
            statements[0]["Sid"], "Enable IAM User Permissions",
            "the rest kept as it was"
        );
        assert_eq!(statements[1]["Principal"]["AWS"], json!([a, b]));
        // Too many principals for KMS's 32 KiB: said before any call.
        let many: Vec<String> = (0..600)
            .map(|i| format!("arn:aws:iam::111122223333:role/application-role-number-{i:04}"))
            .collect();
        let err = with_users(old, &many).unwrap_err();
        assert!(err.contains("32768"), "{err}");
        assert!(with_users("not json", &many[..1]).is_err());
    }
    use proptest::prelude::*;

    fn spec() -> KeyPolicySpec {
        KeyPolicySpec {
            account: "123456789012".into(),
            partition: "aws".into(),
            administrators: vec!["arn:aws:sts::123456789012:assumed-role/SecOps/alice".into()],
            managers: vec!["arn:aws:iam::123456789012:role/GuardrailAdmin".into()],
            users: vec![
                "arn:aws:iam::123456789012:role/ChatApp".into(),
                "arn:aws:iam::123456789012:role/ChatApp".into(),
            ],
            external_accounts: vec!["210987654321".into()],
        }
    }

    #[test]
    fn the_policy_has_every_statement_guardrails_need() {
        let text = build(&spec()).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        let sids: Vec<&str> = doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Sid"].as_str().unwrap())
            .collect();
        assert_eq!(sids.len(), 6);
        assert_eq!(
            doc["Statement"][0]["Principal"]["AWS"],
            "arn:aws:iam::123456789012:root"
        );
        assert_eq!(
            doc["Statement"][1]["Principal"]["AWS"], "arn:aws:iam::123456789012:role/SecOps",
            "a session becomes its role"
        );
        assert_eq!(
            doc["Statement"][3]["Condition"]["Bool"]["kms:GrantIsForAWSResource"],
            "true"
        );
        assert_eq!(
            doc["Statement"][4]["Principal"]["AWS"], "arn:aws:iam::123456789012:role/ChatApp",
            "no duplicates"
        );
        let summary = crate::model::policy::summarize(&text, "123456789012").unwrap();
        assert!(summary.root_statement);
        assert!(
            summary
                .decrypt
                .contains(&"arn:aws:iam::123456789012:role/GuardrailAdmin".to_string())
        );
        insta::assert_snapshot!(text);
    }

    #[test]
    fn principals_are_checked() {
        assert_eq!(
            principal("123456789012", "aws").unwrap(),
            "arn:aws:iam::123456789012:root"
        );
        assert!(
            principal("*", "aws")
                .unwrap_err()
                .contains("never grants to everyone")
        );
        assert!(principal("arn:aws:iam::*:root", "aws").is_err());
        assert!(principal("bob", "aws").is_err());
        assert!(principal("arn:aws:s3:::bucket", "aws").is_err());
        assert!(principal("arn:aws:iam::12345:role/x", "aws").is_err());
        let mut bad = spec();
        bad.users.push("*".into());
        assert!(build(&bad).is_err());
        bad = spec();
        bad.external_accounts.push("acme".into());
        assert!(build(&bad).is_err());
    }

    #[test]
    fn aliases_are_checked_before_any_call() {
        assert!(validate_alias("alias/bedrock-guardrails").is_ok());
        assert!(validate_alias("alias/team/prod_1").is_ok());
        for bad in [
            "bedrock",
            "alias/",
            "alias/aws/x",
            "alias/has space",
            "alias/ümlaut",
        ] {
            assert!(validate_alias(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn existing_key_policies_are_checked_for_guardrails() {
        let ok = build(&spec()).unwrap();
        assert!(missing_for_guardrails(&ok, "123456789012", "arn:aws:iam::123456789012:user/x").is_empty());
        let narrow = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/App"},"Action":"kms:Decrypt","Resource":"*"}]}"#;
        let missing = missing_for_guardrails(narrow, "123456789012", "arn:aws:iam::123456789012:user/x");
        assert_eq!(missing.len(), 4, "{missing:?}");
    }

    proptest! {
        #[test]
        fn any_valid_principals_give_a_valid_policy_without_wildcards(
            roles in prop::collection::vec("[A-Za-z][A-Za-z0-9_-]{0,20}", 0..4),
            accounts in prop::collection::vec("[0-9]{12}", 0..3),
        ) {
            let arns: Vec<String> = roles.iter().map(|r| format!("arn:aws:iam::123456789012:role/{r}")).collect();
            let s = KeyPolicySpec {
                account: "123456789012".into(),
                partition: "aws".into(),
                administrators: arns.clone(),
                managers: arns.clone(),
                users: accounts.clone(),
                external_accounts: accounts,
            };
            let text = build(&s).unwrap();
            let doc: Value = serde_json::from_str(&text).unwrap();
            // No statement grants to everyone: no "*" principal, in either form ("Resource":
            // "*" is how a key policy names its own key, and is expected).
            for st in doc["Statement"].as_array().unwrap() {
                prop_assert_ne!(&st["Principal"], "*");
                let aws = &st["Principal"]["AWS"];
                prop_assert!(aws != "*" && !aws.as_array().is_some_and(|a| a.iter().any(|p| p == "*")), "{}", st);
            }
            prop_assert!(crate::model::policy::summarize(&text, "123456789012").unwrap().root_statement);
            for st in doc["Statement"].as_array().unwrap() {
                let principals = match &st["Principal"]["AWS"] {
                    Value::String(p) => vec![p.clone()],
                    Value::Array(a) => a.iter().map(|p| p.as_str().unwrap().to_string()).collect(),
                    _ => vec![],
                };
                prop_assert!(!principals.is_empty());
                for p in principals {
                    prop_assert!(p.starts_with("arn:aws:iam::") && !p.contains('*'));
                }
            }
        }
    }
}
