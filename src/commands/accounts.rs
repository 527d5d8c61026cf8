//! Which accounts a scan covers, from `--org` (with `--ou`, `--role-name`), `--profiles` or
//! `--role-arns`, narrowed by `--accounts` and `--exclude-accounts`.

use std::io::{IsTerminal, Write};
use std::path::Path;

use super::{CommandError, Target};
use crate::cli::GlobalArgs;
use crate::model::CallError;
use crate::report::ScanReport;
use crate::scan::ScanOptions;
use crate::scan::accounts::{AccountTarget, Reach, collect_accounts};

/// Every account of `global`'s selection scanned from `target`, as one report.
pub async fn scan_many(
    global: &GlobalArgs,
    target: &Target,
    options: ScanOptions,
) -> Result<ScanReport, CommandError> {
    let list = targets(global, target).await?;
    let progress = AccountProgress::new(list.len());
    let (result, outcomes) = collect_accounts(
        &target.session,
        list,
        options,
        global.account_concurrency as usize,
        |e| progress.on(e),
    )
    .await;
    progress.finish();
    Ok(ScanReport::new(
        result,
        Some(target.identity.clone()),
        target.session.endpoint_url.clone(),
    )
    .with_accounts(outcomes))
}

/// Accounts done, on standard error, for terminals only.
struct AccountProgress {
    enabled: bool,
    accounts: usize,
    state: std::sync::Mutex<(usize, usize)>,
}

impl AccountProgress {
    fn new(accounts: usize) -> Self {
        AccountProgress {
            enabled: std::io::stderr().is_terminal(),
            accounts,
            state: std::sync::Mutex::new((0, 0)),
        }
    }

    fn on(&self, event: &crate::scan::accounts::AccountEvent) {
        let crate::scan::accounts::AccountEvent::Done { outcome } = event else {
            return;
        };
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.0 += 1;
        s.1 += outcome.guardrails;
        if self.enabled {
            eprint!(
                "\r\x1b[2Kscanning: {}/{} accounts done, {} guardrails found",
                s.0, self.accounts, s.1
            );
            let _ = std::io::stderr().flush();
        }
    }

    fn finish(&self) {
        if self.enabled {
            eprint!("\r\x1b[2K");
        }
    }
}

/// The role Organizations creates in the accounts it creates.
pub const DEFAULT_ROLE: &str = "OrganizationAccountAccessRole";

/// The session the accounts are reached from: the caller's; with `--profiles`, the first
/// profile's (it gives the partition and the regions, and no other credentials are needed).
pub async fn connect_base(global: &GlobalArgs) -> Result<Target, CommandError> {
    connect_base_for(global, true).await
}

/// `connect_base`, read-only or not (a fix writes).
pub async fn connect_base_for(global: &GlobalArgs, read_only: bool) -> Result<Target, CommandError> {
    match global.profiles.first() {
        Some(first) => {
            let mut base = global.clone();
            base.profile = Some(first.clone());
            super::connect(&base, read_only).await
        }
        None => super::connect(global, read_only).await,
    }
}

/// The target of one account, reached from `base` the way `reach` says: the caller's own
/// session and identity for `Caller`, else the reached session and who it is.
pub async fn reached(base: &Target, reach: &Reach) -> Result<Target, CallError> {
    let (session, identity) = match reach {
        Reach::Caller => (base.session.clone(), base.identity.clone()),
        other => match crate::scan::accounts::reach_session(&base.session, other).await? {
            (session, Some(identity)) => (session, identity),
            (session, None) => {
                let identity = session.caller_identity().await?;
                (session, identity)
            }
        },
    };
    Ok(Target {
        session,
        identity,
        regions: base.regions.clone(),
        demo: None,
    })
}

/// Whether the command covers many accounts.
pub fn many(global: &GlobalArgs) -> bool {
    global.org || !global.profiles.is_empty() || global.role_arns.is_some()
}

fn check_ids(flag: &str, ids: &[String]) -> Result<(), CommandError> {
    match ids.iter().find(|id| !crate::fix::policy::is_account_id(id)) {
        Some(bad) => Err(CommandError(format!(
            "{flag}: '{bad}' is not an AWS account id (12 digits)"
        ))),
        None => Ok(()),
    }
}

/// What can be said of the flags before any call.
pub fn check_flags(global: &GlobalArgs) -> Result<(), CommandError> {
    check_ids("--accounts", &global.accounts)?;
    check_ids("--exclude-accounts", &global.exclude_accounts)?;
    let narrows = !global.accounts.is_empty() || !global.exclude_accounts.is_empty();
    // A profile's account is known only once it signs in: the profiles named are the choice.
    if narrows && !global.profiles.is_empty() {
        return Err(CommandError(
            "--accounts and --exclude-accounts choose among the accounts of --org or --role-arns; \
             with --profiles, name only the profiles to scan"
                .into(),
        ));
    }
    if narrows && !many(global) {
        return Err(CommandError(
            "--accounts and --exclude-accounts choose among the accounts of --org or --role-arns: \
             give one of those"
                .into(),
        ));
    }
    if let Some(ou) = &global.ou
        && !(ou.starts_with("ou-") || ou.starts_with("r-"))
    {
        return Err(CommandError(format!(
            "--ou '{ou}' is not an OU id (ou-…) or the root (r-…)"
        )));
    }
    Ok(())
}

/// `--role-arns FILE`: role ARNs, one a line, each with an optional name after it.
pub fn read_role_arns(path: &Path, partition: &str) -> Result<Vec<AccountTarget>, CommandError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CommandError(format!("cannot read --role-arns {}: {e}", path.display())))?;
    let mut out: Vec<AccountTarget> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.split_whitespace();
        let arn = parts.next().unwrap_or_default();
        let bad = || {
            CommandError(format!(
                "{}:{}: '{arn}' is not a role ARN (arn:{partition}:iam::ACCOUNT:role/NAME)",
                path.display(),
                n + 1
            ))
        };
        let fields: Vec<&str> = arn.splitn(6, ':').collect();
        let [prefix, arn_partition, "iam", "", account, resource] = fields[..] else {
            return Err(bad());
        };
        if prefix != "arn" || !resource.starts_with("role/") || !crate::fix::policy::is_account_id(account) {
            return Err(bad());
        }
        if arn_partition != partition {
            return Err(CommandError(format!(
                "{}:{}: {arn} is in partition {arn_partition}, and the credentials are in {partition}",
                path.display(),
                n + 1
            )));
        }
        if out.iter().any(|t| t.id == account) {
            return Err(CommandError(format!(
                "{}:{}: account {account} is named twice",
                path.display(),
                n + 1
            )));
        }
        let name: Vec<&str> = parts.collect();
        out.push(AccountTarget {
            id: account.to_string(),
            name: if name.is_empty() {
                account.to_string()
            } else {
                name.join(" ")
            },
            reach: Reach::Role { arn: arn.to_string() },
            suspended: false,
        });
    }
    if out.is_empty() {
        return Err(CommandError(format!(
            "--role-arns {} names no role",
            path.display()
        )));
    }
    Ok(out)
}

/// The accounts to scan, each with how to reach it.
pub async fn targets(global: &GlobalArgs, target: &Target) -> Result<Vec<AccountTarget>, CommandError> {
    let partition = target.identity.partition().to_string();
    let caller = &target.identity.account;
    let mut list = if global.org {
        let role = global.role_name.as_deref().unwrap_or(DEFAULT_ROLE);
        let members = target
            .session
            .org_accounts(&partition, global.ou.as_deref())
            .await
            .map_err(|e| org_error(&e, caller))?;
        members
            .into_iter()
            .map(|m| AccountTarget {
                reach: if m.id == *caller {
                    Reach::Caller
                } else {
                    Reach::Role {
                        arn: format!("arn:{partition}:iam::{}:role/{role}", m.id),
                    }
                },
                suspended: m.status != "ACTIVE",
                id: m.id,
                name: m.name,
            })
            .collect()
    } else if let Some(path) = &global.role_arns {
        read_role_arns(path, &partition)?
            .into_iter()
            .map(|mut t| {
                // The caller's own account needs no role.
                if t.id == *caller {
                    t.reach = Reach::Caller;
                }
                t
            })
            .collect()
    } else {
        global
            .profiles
            .iter()
            .map(|p| AccountTarget {
                id: String::new(),
                name: p.clone(),
                reach: Reach::Profile { name: p.clone() },
                suspended: false,
            })
            .collect::<Vec<_>>()
    };
    if !global.accounts.is_empty() {
        if let Some(missing) = global.accounts.iter().find(|a| !list.iter().any(|t| t.id == **a)) {
            return Err(CommandError(format!(
                "--accounts: {missing} is not among the accounts to scan ({})",
                list.iter().map(|t| t.id.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
        list.retain(|t| global.accounts.contains(&t.id));
    }
    list.retain(|t| !global.exclude_accounts.contains(&t.id));
    if list.is_empty() {
        return Err(CommandError("no account is left to scan".into()));
    }
    Ok(list)
}

fn org_error(e: &CallError, caller: &str) -> CommandError {
    let next = match e {
        CallError::Other { code, .. } if code == "AWSOrganizationsNotInUseException" => {
            format!("account {caller} is in no organization: scan accounts with --profiles or --role-arns")
        }
        CallError::AccessDenied { .. } => format!(
            "account {caller} may not list the organization's accounts: run --org from the \
             management account or a delegated administrator (organizations:ListAccounts), or \
             name the accounts with --role-arns"
        ),
        _ => "the organization's accounts could not be listed".into(),
    };
    CommandError(format!("--org: {next}. ({}: {})", e.label(), e.detail()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arn_files_are_checked_line_by_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("roles.txt");
        std::fs::write(
            &path,
            "# audit roles\narn:aws:iam::111122223333:role/Audit prod account\n\narn:aws:iam::444455556666:role/path/Audit\n",
        )
        .unwrap();
        let t = read_role_arns(&path, "aws").unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].name, "prod account");
        assert_eq!(t[1].name, "444455556666");
        for (text, says) in [
            (
                "arn:aws:iam::1111:role/X\n",
                ":1: 'arn:aws:iam::1111:role/X' is not a role ARN",
            ),
            ("arn:aws:iam::111122223333:user/X\n", "is not a role ARN"),
            (
                "arn:aws-us-gov:iam::111122223333:role/X\n",
                "is in partition aws-us-gov",
            ),
            (
                "arn:aws:iam::111122223333:role/X\narn:aws:iam::111122223333:role/Y\n",
                ":2: account 111122223333 is named twice",
            ),
            ("# nothing\n", "names no role"),
        ] {
            std::fs::write(&path, text).unwrap();
            let err = read_role_arns(&path, "aws").unwrap_err().0;
            assert!(err.contains(says), "{text:?}: {err}");
        }
    }
}
