//! The principals a new key's policy names, checked with IAM before anything is written:
//! KMS refuses a policy that names one that does not exist ("Policy contains a statement
//! with one or more invalid principals."), and the CreateKey would fail half-way through a
//! fix. Where IAM may not be read, the check says so and leaves the verdict to KMS.

use super::policy::{CallerPrincipal, caller_principal, principal, session_role};
use crate::aws::Session;
use crate::model::CallError;

/// How the caller is named in a key policy (see `CallerPrincipal` for the rules).
pub async fn resolve_caller(session: &Session, caller_arn: &str) -> CallerPrincipal {
    let partition = crate::regions::partition_of_arn(caller_arn);
    let lookup = match session_role(caller_arn) {
        Some(role) => Some(session.role_arn(partition, role).await.map_err(|e| e.label())),
        None => None,
    };
    caller_principal(caller_arn, lookup)
}

/// The principals of `list` as the policy should name them, each of `account` checked to
/// exist (a session becomes its role, with its path), and notes on those IAM would not
/// let guardkey check. `flag` names the option in messages (`--user`).
pub async fn check_principals(
    session: &Session,
    account: &str,
    partition: &str,
    flag: &str,
    list: &[String],
) -> Result<(Vec<String>, Vec<String>), String> {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    for given in list {
        let given = given.trim();
        // Role patterns (an SSO caller) and other accounts' principals cannot be looked up here.
        let parts: Vec<&str> = given.splitn(6, ':').collect();
        let (service, acct, resource) = match parts.as_slice() {
            ["arn", _, service, "", acct, resource] => (*service, *acct, *resource),
            _ => ("", "", ""),
        };
        if given.contains('*') {
            // A role pattern; `build` refuses any other wildcard.
            out.push(given.to_string());
            continue;
        }
        // Its form and partition first: KMS refuses another partition's principals.
        let normalized = principal(given, partition).map_err(|e| format!("{flag} {e}"))?;
        if acct != account || resource == "root" {
            out.push(normalized);
            continue;
        }
        let (kind, name) = match (service, resource.split_once('/')) {
            ("sts", Some(("assumed-role", rest))) => ("role", rest.split('/').next().unwrap_or(rest)),
            ("iam", Some(("role", rest))) => ("role", rest.rsplit('/').next().unwrap_or(rest)),
            ("iam", Some(("user", rest))) => ("user", rest.rsplit('/').next().unwrap_or(rest)),
            _ => return Err(format!("{flag} '{given}' is not an IAM user or role ARN")),
        };
        let found = match kind {
            "role" => session.role_arn(partition, name).await,
            _ => session.user_arn(partition, name).await,
        };
        match found {
            Ok(real) if service == "sts" || real == given => out.push(real),
            Ok(real) => {
                return Err(format!(
                    "{flag} {given} does not exist: the {kind} named {name} is {real} (its ARN carries its path)"
                ));
            }
            Err(CallError::NotFound { .. }) => {
                return Err(format!(
                    "{flag} {given}: account {account} has no {kind} named {name}; KMS would refuse a key policy that names it"
                ));
            }
            Err(e) => {
                notes.push(format!(
                    "{flag} {given} could not be checked ({}): KMS refuses the key if it does not exist",
                    e.label()
                ));
                out.push(normalized);
            }
        }
    }
    Ok((out, notes))
}
