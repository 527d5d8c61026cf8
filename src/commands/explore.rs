//! `guardkey` and `guardkey --demo`: the interactive explorer.

use super::{CommandError, connect};
use crate::cli::GlobalArgs;
use crate::report::ScanReport;
use crate::tui::{self, Header, Launch};

pub async fn run(global: &GlobalArgs) -> Result<u8, CommandError> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(CommandError(
            "the explorer needs a terminal; for headless use run `guardkey scan` (see --help)".into(),
        ));
    }
    // A bad baseline is said before anything starts.
    let baseline = match &global.baseline {
        Some(path) => Some((
            ScanReport::load(path).map_err(CommandError)?,
            path.display().to_string(),
        )),
        None => None,
    };
    // Keeps the embedded simulator of --demo alive while the explorer runs.
    let mut _demo = None;
    let mut launch = match &global.load {
        // Many accounts: listed, then each reached and its regions streamed in, live.
        None if super::accounts::many(global) => {
            super::accounts::check_flags(global)?;
            let target = super::accounts::connect_base_for(global, global.read_only).await?;
            let targets = super::accounts::targets(global, &target).await?;
            let organization = crate::tui::state::Organization {
                accounts: targets.len(),
                suspended: targets.iter().filter(|t| t.suspended).count(),
            };
            let endpoint = if target.demo.is_some() {
                Some("embedded demo simulator".to_string())
            } else {
                target.session.endpoint_url.clone()
            };
            let accounts = crate::tui::accounts::Accounts::new(
                target.session.clone(),
                target.identity.clone(),
                targets,
                target.regions.clone(),
                global.account_concurrency as usize,
                crate::scan::accounts::MANY_ACCOUNTS_CONCURRENCY,
            );
            _demo = target.demo;
            Launch {
                header: Header {
                    account: Some(target.identity.account.clone()),
                    caller_arn: Some(target.identity.arn.clone()),
                    profile: global.profile.clone(),
                    endpoint,
                    read_only: target.session.is_read_only(),
                    loaded_from: None,
                    caller_principal: None,
                    organization: Some(organization),
                },
                session: Some(target.session),
                regions: target.regions,
                loaded: None,
                baseline: None,
                journal_dir: None,
                accounts: Some(std::sync::Arc::new(accounts)),
                exceptions: Default::default(),
                exceptions_file: None,
            }
        }
        Some(path) => {
            let report = ScanReport::load(path).map_err(CommandError)?;
            Launch {
                session: None,
                header: Header {
                    account: report.caller.as_ref().map(|c| c.account.clone()),
                    caller_arn: report.caller.as_ref().map(|c| c.arn.clone()),
                    profile: None,
                    endpoint: report.endpoint_url.clone(),
                    read_only: true,
                    loaded_from: Some(path.display().to_string()),
                    caller_principal: None,
                    organization: None,
                },
                regions: Vec::new(),
                loaded: Some(report),
                baseline: None,
                journal_dir: None,
                accounts: None,
                exceptions: Default::default(),
                exceptions_file: None,
            }
        }
        None => {
            let target = connect(global, global.read_only).await?;
            // Asked once, for the wizard's key policy: a role's ARN carries its path.
            let caller_principal = if target.session.is_read_only() {
                None
            } else {
                Some(crate::fix::principals::resolve_caller(&target.session, &target.identity.arn).await)
            };
            let endpoint = if target.demo.is_some() {
                Some("embedded demo simulator".to_string())
            } else {
                target.session.endpoint_url.clone()
            };
            let launch = Launch {
                header: Header {
                    account: Some(target.identity.account.clone()),
                    caller_arn: Some(target.identity.arn.clone()),
                    profile: global.profile.clone(),
                    endpoint,
                    read_only: target.session.is_read_only(),
                    loaded_from: None,
                    caller_principal,
                    organization: None,
                },
                session: Some(target.session),
                regions: target.regions,
                loaded: None,
                baseline: None,
                journal_dir: None,
                accounts: None,
                exceptions: Default::default(),
                exceptions_file: None,
            };
            _demo = target.demo;
            launch
        }
    };
    if let Some((report, from)) = &baseline
        && let (Some(was), Some(is)) = (report.account(), launch.header.account.as_deref())
        && was != is
    {
        return Err(CommandError(format!(
            "the baseline {from} is of account {was}, and this scan of account {is}: every guardrail \
             would look new. Use a baseline of the same account."
        )));
    }
    launch.baseline = baseline;
    // The accepted risks, checked before the explorer starts; `x` writes new ones to the
    // same file (or, without one, to exceptions.toml beside the configuration).
    if let Some(exceptions) = super::scan::load_exceptions(global)? {
        launch.exceptions = exceptions;
    }
    launch.exceptions_file = global
        .exceptions
        .clone()
        .or_else(|| crate::config::default_path().map(|p| p.with_file_name("exceptions.toml")));
    let code = tui::run(launch)
        .await
        .map_err(|e| CommandError(format!("the explorer stopped: {e}")))?;
    if code == 130 {
        eprintln!(
            "guardkey: the fix was interrupted: it stopped between calls; its journal (in {}) ends `cancelled` and `guardkey restore` undoes what it did",
            crate::fix::journal::default_dir().display()
        );
    }
    Ok(code)
}
