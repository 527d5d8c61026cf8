//! `guardkey fix` and `guardkey restore`: headless remediation.

use super::interrupt::Interrupts;
use super::{CommandError, Target, connect};
use crate::cli::{FixArgs, GlobalArgs};
use crate::fix::apply::{ApplyOptions, FixEvent, Outcome, OutcomeKind, apply};
use crate::fix::journal::{self, Journal};
use crate::fix::plan::FixPlan;
use crate::fix::policy::validate_alias;
use crate::fix::prepare::{FixRequest, KeyRequest, Prepared, prepare};
use crate::report::write_atomically;
use crate::scan::ScanOptions;

pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

/// KMS's tag rules, checked before anything is created: a key once, not `managed-by`
/// (guardkey's own), keys of 1–128 and values of 0–256 characters from letters, digits,
/// spaces and `_ . : / = + - @`, at most 50 tags with guardkey's.
fn check_tags(tags: &[(String, String)]) -> Result<(), CommandError> {
    let allowed = |s: &str| {
        s.chars()
            .all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c))
    };
    let mut seen: Vec<&str> = Vec::new();
    for (k, v) in tags {
        if k == "managed-by" {
            return Err(CommandError(
                "--tag managed-by: guardkey sets managed-by=guardkey itself; choose another key".into(),
            ));
        }
        if seen.contains(&k.as_str()) {
            return Err(CommandError(format!(
                "--tag {k} is given twice: a key has one value per tag"
            )));
        }
        seen.push(k);
        if k.chars().count() > 128 || v.chars().count() > 256 {
            return Err(CommandError(format!(
                "--tag {k}: tag keys are at most 128 characters and values 256"
            )));
        }
        if !allowed(k) || !allowed(v) {
            return Err(CommandError(format!(
                "--tag {k}={v}: KMS allows letters, digits, spaces and _ . : / = + - @ only"
            )));
        }
    }
    if tags.len() + 1 > 50 {
        return Err(CommandError(format!(
            "{} tags and managed-by=guardkey: KMS allows 50 per key",
            tags.len()
        )));
    }
    Ok(())
}

/// Files the fix writes: never one that exists (unless --force), never the same twice.
fn check_outputs(args: &FixArgs) -> Result<(), CommandError> {
    let outputs = [
        ("--emit-cli", args.emit_cli.as_deref()),
        ("--emit-terraform", args.emit_terraform.as_deref()),
    ];
    crate::report::check_new_files(&outputs, args.force).map_err(CommandError)
}

/// A `--guardrail` value as Bedrock would take it: an id, or an ARN of the caller's
/// partition and account in a Bedrock region. Checked before any call.
fn check_guardrail_ref(given: &str, account: &str, partition: &str) -> Result<(), CommandError> {
    let is_id = |s: &str| {
        !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    if given.trim().is_empty() {
        return Err(CommandError(
            "--guardrail is empty: give a guardrail id or ARN".into(),
        ));
    }
    if !given.starts_with("arn:") {
        return if is_id(given) {
            Ok(())
        } else {
            Err(CommandError(format!(
                "--guardrail '{given}' is neither a guardrail id (lowercase letters and digits) nor an ARN"
            )))
        };
    }
    let parts: Vec<&str> = given.splitn(6, ':').collect();
    let malformed = || {
        CommandError(format!(
            "--guardrail '{given}' is not a guardrail ARN (arn:{partition}:bedrock:REGION:ACCOUNT:guardrail/ID)"
        ))
    };
    let ["arn", part, "bedrock", region, acct, resource] = parts.as_slice() else {
        return Err(malformed());
    };
    let id = resource.strip_prefix("guardrail/").ok_or_else(malformed)?;
    if !is_id(id) {
        return Err(malformed());
    }
    if *part != partition {
        return Err(CommandError(format!(
            "--guardrail '{given}' is in partition {part}; the credentials are in {partition}"
        )));
    }
    crate::aws::resolve_regions(&[region.to_string()], partition)
        .map_err(|e| CommandError(format!("--guardrail '{given}': {e}")))?;
    if *acct != account {
        return Err(CommandError(format!(
            "--guardrail '{given}' is in account {acct}, not the caller's {account}: run guardkey with credentials of that account"
        )));
    }
    Ok(())
}

/// A fix's progress, on standard error; with many accounts each line names its account.
fn print_event(account: &str, e: FixEvent) {
    let at = |region: &str| {
        if account.is_empty() {
            format!("  {region}")
        } else {
            format!("  {account}/{region}")
        }
    };
    match &e {
        FixEvent::KeyReady {
            region,
            key_arn,
            created: true,
        } => eprintln!("{}: created {key_arn}", at(region)),
        FixEvent::KeyReady {
            region,
            key_arn,
            created: false,
        } => eprintln!("{}: using {key_arn}", at(region)),
        FixEvent::KeyWarning { region, warning } => {
            eprintln!("{}: warning: the key policy: {warning}", at(region))
        }
        FixEvent::KeyFailed { region, error } => eprintln!("{}: ✗ {error}", at(region)),
        FixEvent::Writing { .. } => {}
        FixEvent::Changed { region, name, what } => eprintln!("{}: ! {name}: {what}", at(region)),
        FixEvent::Done(Outcome {
            region, name, kind, ..
        }) => match kind {
            OutcomeKind::Fixed { .. } => eprintln!("{}: ✓ {name}", at(region)),
            OutcomeKind::Skipped { reason } => eprintln!("{}: - {name}: {reason}", at(region)),
            OutcomeKind::Failed { error, .. } => eprintln!("{}: ✗ {name}: {error}", at(region)),
        },
    }
}

pub async fn run(global: &GlobalArgs, args: &FixArgs) -> Result<u8, CommandError> {
    super::refuse_unless_writable(global, "fix")?;
    if args.create_key {
        validate_alias(args.alias()).map_err(CommandError)?;
        check_tags(&args.tags)?;
    }
    check_outputs(args)?;
    // Signals are taken from here on: before anything is written one exits at once, after
    // it the writes in flight are finished first.
    let interrupts = Interrupts::listen()
        .map_err(|e| CommandError(format!("cannot listen for Ctrl-C and SIGTERM: {e}")))?;
    if super::accounts::many(global) {
        return fix_accounts(global, args, &interrupts).await;
    }
    let target = connect(global, false).await?;
    let planned = plan_account(
        &target,
        &target.session,
        args,
        ScanOptions::default().concurrency_per_region,
    )
    .await?;
    print_prepared(&planned);
    let gate = gate_code(&planned);
    let Some(plan) = planned.plan.filter(|p| p.guardrail_count() > 0) else {
        if gate == EXIT_ERROR {
            eprintln!(
                "guardkey: nothing was changed: moving any guardrail selected would lock a user out (the ways out are above)"
            );
        }
        return Ok(gate);
    };
    if let Some(path) = &args.emit_cli {
        write_atomically(path, |w| w.write_all(plan.cli_script().as_bytes())).map_err(CommandError)?;
        println!("AWS CLI script written to {}", path.display());
    }
    if let Some(path) = &args.emit_terraform {
        let (terraform, gaps) = plan.terraform_with_gaps();
        write_atomically(path, |w| w.write_all(terraform.as_bytes())).map_err(CommandError)?;
        println!("Terraform written to {}", path.display());
        say_terraform_gaps(&gaps);
    }
    if !go_ahead(args)? {
        return Ok(gate);
    }
    let (code, journal, summary) = apply_plan(&target, args, &plan, None, "", &interrupts).await?;
    println!("{summary}");
    println!(
        "Journal: {}\nTo undo: guardkey restore {}",
        journal.display(),
        journal.display()
    );
    Ok(interrupted(&interrupts, code.max(gate)))
}

/// Whether to apply: yes with --yes; a dry run says it changed nothing; neither is an error.
fn go_ahead(args: &FixArgs) -> Result<bool, CommandError> {
    if args.dry_run {
        println!("Dry run: nothing was changed. Run again with --yes to apply.");
        return Ok(false);
    }
    if !args.yes {
        return Err(CommandError(
            "nothing was changed: add --yes to apply the plan shown above, or --dry-run to only show it"
                .into(),
        ));
    }
    Ok(true)
}

/// The request the arguments make, for the planner.
fn request_of(args: &FixArgs) -> FixRequest {
    FixRequest {
        filter: args.filter.clone(),
        guardrails: args.guardrails.clone(),
        key: match &args.key {
            Some(key) if !args.create_key => KeyRequest::Existing(key.clone()),
            _ => KeyRequest::Create {
                alias: args.alias().to_string(),
                description: args.description().to_string(),
                admins: args.admins.clone(),
                managers: args.managers.clone(),
                users: args.users.clone(),
                external_accounts: args.external_accounts.clone(),
                tags: args.tags.clone(),
                rotation_days: (!args.no_rotation).then_some(args.rotation()),
            },
        },
        include_compliant: args.include_compliant,
        include_muted: args.include_muted,
        multi_region: args.multi_region,
        primary_region: args.primary_region.clone(),
        exceptions: args.exceptions.clone(),
        include_failed: args.include_failed,
        include_managed: args.include_managed,
        grant_users: args.grant_users,
        allow_lockout: args.allow_lockout,
        publish_version: args.publish_version,
    }
}

fn print_prepared(p: &Prepared) {
    for r in &p.remarks {
        eprintln!("{r}");
    }
    for line in &p.out {
        println!("{line}");
    }
}

/// The fix of one account, planned: the arguments checked against the account, then
/// `fix::prepare` (selection, users, keys) and the planner. Nothing written.
/// `org` reads the account's SCPs (the organization's management session in `--org`).
async fn plan_account(
    target: &Target,
    org: &crate::aws::Session,
    args: &FixArgs,
    per_region: usize,
) -> Result<Prepared, CommandError> {
    for g in &args.guardrails {
        check_guardrail_ref(g, &target.identity.account, target.identity.partition())?;
    }
    let mut prepared = prepare(
        &target.session,
        org,
        &target.identity,
        &target.regions,
        &request_of(args),
        per_region,
    )
    .await
    .map_err(CommandError)?;
    // A fix of the same guardrails that was killed: what it may have changed is said first.
    if let Some(plan) = &prepared.plan {
        let arns: Vec<&str> = plan
            .regions
            .iter()
            .flat_map(|r| &r.targets)
            .chain(plan.held.iter().map(|h| &h.target))
            .map(|t| t.arn.as_str())
            .collect();
        let dir = args.journal_dir.clone().unwrap_or_else(journal::default_dir);
        for (path, names) in Journal::unfinished(&dir, &arns) {
            prepared.remarks.push(format!(
                "guardkey: warning: {} never ended (that fix was killed or cut off): it may have changed {}. \
                 `guardkey restore {}` puts back what it may have changed",
                path.display(),
                names.join(", "),
                path.display()
            ));
        }
    }
    Ok(prepared)
}

/// The exit code the gate gives an account's fix: 2 when it let nothing move, 1 when it
/// held some guardrails back, 0 otherwise.
fn gate_code(p: &Prepared) -> u8 {
    match &p.plan {
        _ if p.all_held_back() => EXIT_ERROR,
        Some(plan) if plan.held.iter().any(|h| !h.moved_anyway) => EXIT_FAILED,
        _ => EXIT_OK,
    }
}

/// Applies an account's plan, journaled; `account` names it on the progress lines (empty for
/// one account). Returns the exit code, the journal and the summary.
async fn apply_plan(
    target: &Target,
    args: &FixArgs,
    plan: &FixPlan,
    reach: Option<crate::scan::accounts::Reach>,
    account: &str,
    interrupts: &Interrupts,
) -> Result<(u8, std::path::PathBuf, String), CommandError> {
    let dir = args.journal_dir.clone().unwrap_or_else(journal::default_dir);
    let journal = Journal::create(&dir, "fix").map_err(CommandError)?;
    match account {
        "" => eprintln!("guardkey: journal {}", journal.path().display()),
        name => eprintln!("guardkey: {name}: journal {}", journal.path().display()),
    }
    // From here a signal lets the guardrails in flight finish, then stops.
    interrupts.arm(journal.path());
    let options = ApplyOptions {
        caller_arn: target.identity.arn.clone(),
        include_failed: args.include_failed,
        probe: args.probe,
        reach,
        cancel: Some(interrupts.cancel_flag()),
        ..ApplyOptions::default()
    };
    let name = account.to_string();
    let names: std::collections::HashMap<String, String> = plan
        .regions
        .iter()
        .flat_map(|r| &r.targets)
        .map(|t| (t.arn.clone(), t.name.clone()))
        .collect();
    let watch = interrupts.clone();
    let on_event = move |e: FixEvent| {
        match &e {
            FixEvent::Writing { arn, .. } => {
                watch.started(names.get(arn).map_or(arn.as_str(), String::as_str))
            }
            FixEvent::Done(o) => watch.finished(&o.name),
            _ => {}
        }
        print_event(&name, e)
    };
    let report = apply(&target.session, plan, &journal, &options, &on_event).await;
    let code = if report.failed() > 0 { EXIT_FAILED } else { EXIT_OK };
    Ok((code, journal.path().to_path_buf(), report.summary()))
}

/// After an apply a signal stopped: says so, and gives the signal's exit code.
fn interrupted(interrupts: &Interrupts, code: u8) -> u8 {
    match interrupts.code() {
        0 => code,
        signal => {
            eprintln!(
                "guardkey: interrupted: the guardrails in flight were finished (or put back), the others                  not started; the journal ends `cancelled`"
            );
            signal
        }
    }
}

/// A fix across the accounts of `--org`, `--profiles` or `--role-arns`. Every account is
/// planned first, `--account-concurrency` at a time (each against its own quotas), its plan
/// printed in the accounts' order as soon as those before it are; then the plans are
/// applied, the accounts at once, each with its own journal, which records how the account
/// was reached so that `restore` reaches it the same way.
async fn fix_accounts(
    global: &GlobalArgs,
    args: &FixArgs,
    interrupts: &Interrupts,
) -> Result<u8, CommandError> {
    use crate::scan::accounts::{AccountTarget, Reach};
    use futures::StreamExt;
    super::accounts::check_flags(global)?;
    let base = super::accounts::connect_base_for(global, false).await?;
    let accounts = super::accounts::targets(global, &base).await?;
    let concurrency = (global.account_concurrency as usize).max(1);
    let mut code = EXIT_OK;
    // Each account with a plan, reached, for the files and the apply.
    let mut planned: Vec<(AccountTarget, Target, FixPlan)> = Vec::new();
    let mut plans = futures::stream::iter(accounts.into_iter().map(|account| {
        let base = &base;
        async move {
            if account.suspended {
                return (
                    account,
                    Err("suspended in the organization: skipped".to_string()),
                    false,
                );
            }
            let target = match super::accounts::reached(base, &account.reach).await {
                Ok(t) => t,
                Err(e) => {
                    return (
                        account,
                        Err(format!("✗ not reached: {}: {}", e.label(), e.detail())),
                        true,
                    );
                }
            };
            // Many accounts' regions at once: fewer calls in flight each (see MANY_ACCOUNTS_CONCURRENCY).
            match plan_account(
                &target,
                &base.session,
                args,
                crate::scan::accounts::MANY_ACCOUNTS_CONCURRENCY,
            )
            .await
            {
                Ok(p) => (account, Ok((target, p)), false),
                Err(e) => (account, Err(format!("✗ {e}")), true),
            }
        }
    }))
    .buffered(concurrency);
    while let Some((account, result, failed)) = plans.next().await {
        println!(
            "\n== account {} ({}), {}",
            account.name,
            account.id,
            account.reach.describe()
        );
        match result {
            Err(why) => {
                println!("{why}");
                if failed {
                    code = code.max(EXIT_FAILED);
                }
            }
            Ok((target, p)) => {
                print_prepared(&p);
                code = code.max(gate_code(&p));
                if let Some(plan) = p.plan.filter(|p| p.guardrail_count() > 0) {
                    planned.push((account, target, plan));
                }
            }
        }
    }
    let files: Vec<(&AccountTarget, &FixPlan)> = planned.iter().map(|(a, _, p)| (a, p)).collect();
    // As for one account: no plan, no file (an empty script would look like a fix).
    if files.is_empty() && (args.emit_cli.is_some() || args.emit_terraform.is_some()) {
        println!("\nNo account has a plan: no --emit-cli or --emit-terraform file is written.");
    }
    if let Some(path) = args.emit_cli.as_ref().filter(|_| !files.is_empty()) {
        write_atomically(path, |w| {
            w.write_all(crate::fix::accounts::script(&files).as_bytes())
        })
        .map_err(CommandError)?;
        println!(
            "AWS CLI script for {} accounts written to {}",
            files.len(),
            path.display()
        );
    }
    if let Some(path) = args.emit_terraform.as_ref().filter(|_| !files.is_empty()) {
        let (terraform, gaps) = crate::fix::accounts::terraform(&files);
        write_atomically(path, |w| w.write_all(terraform.as_bytes())).map_err(CommandError)?;
        println!(
            "Terraform for {} accounts written to {}",
            files.len(),
            path.display()
        );
        say_terraform_gaps(&gaps);
    }
    if planned.is_empty() {
        return Ok(code);
    }
    println!();
    if !go_ahead(args)? {
        return Ok(code);
    }
    // Each account's own quotas: the accounts' fixes run at once, their progress named;
    // the summaries come in the accounts' order.
    let applied: Vec<_> = futures::stream::iter(planned.iter().map(|(account, target, plan)| async move {
        let reach = (account.reach != Reach::Caller).then(|| account.reach.clone());
        apply_plan(target, args, plan, reach, &account.name, interrupts).await
    }))
    .buffered(concurrency)
    .collect()
    .await;
    let mut journals = Vec::new();
    for ((account, _, _), result) in planned.iter().zip(applied) {
        println!("\n== account {} ({}): applied", account.name, account.id);
        match result {
            Ok((c, journal, summary)) => {
                code = code.max(c);
                println!("{summary}\nJournal: {}", journal.display());
                journals.push(journal);
            }
            Err(e) => {
                code = code.max(EXIT_FAILED);
                println!("✗ {e}");
            }
        }
    }
    if !journals.is_empty() {
        let list: Vec<String> = journals.iter().map(|j| j.display().to_string()).collect();
        println!("\nTo undo every account: guardkey restore {}", list.join(" "));
    }
    Ok(interrupted(interrupts, code))
}

/// What the Terraform of a fix cannot express, said on standard error.
fn say_terraform_gaps(gaps: &[(String, Vec<String>)]) {
    for (name, missing) in gaps {
        eprintln!(
            "guardkey: Terraform: {name} holds settings aws_bedrock_guardrail cannot express ({}); \
             applying its resource would wipe them: fix it with guardkey, not Terraform",
            missing.join("; ")
        );
    }
}
