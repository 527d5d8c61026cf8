//! `guardkey scan`: the headless audit for CI.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use super::{CommandError, connect};
use crate::cli::{FailOn, GlobalArgs, ReportFormat, ScanArgs};
use crate::model::Level;
use crate::report::{ScanReport, to_csv, to_ocsf, to_sarif, to_table, write_atomically};
use crate::scan::{ScanEvent, ScanOptions, collect};

/// Exit codes.
pub const EXIT_PASS: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;
/// The scan could not see part of the estate (a region, a guardrail's posture): whatever
/// it found, it is not a pass. `--allow-incomplete` accepts a partial scan.
pub const EXIT_INCOMPLETE: u8 = 3;

pub fn render(report: &ScanReport, format: ReportFormat) -> String {
    match format {
        ReportFormat::Table => to_table(report),
        ReportFormat::Json => report.to_json(),
        ReportFormat::Csv => to_csv(report),
        ReportFormat::Sarif => to_sarif(report),
        ReportFormat::Ocsf => to_ocsf(report),
        ReportFormat::Asff => crate::report::to_asff(report),
        ReportFormat::Html => crate::report::to_html(report),
    }
}

/// Writes the report; JSON is streamed, not built in memory first, so that a report of
/// 100,000 guardrails does not hold a second copy of itself.
pub fn stream(report: &ScanReport, format: ReportFormat, out: &mut dyn Write) -> std::io::Result<()> {
    match format {
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            out.write_all(b"\n")
        }
        other => out.write_all(render(report, other).as_bytes()),
    }
}

fn write_report(report: &ScanReport, format: ReportFormat, path: &std::path::Path) -> Result<(), String> {
    write_atomically(path, |w| stream(report, format, w))
}

/// The exit code a report deserves: an error when no region could be scanned, then an
/// incomplete scan (unless allowed), then findings.
pub fn exit_code(report: &ScanReport, fail_on: &[FailOn], allow_incomplete: bool) -> u8 {
    // Not one region could be scanned (even if only because none is enabled): the regions
    // asked for are wrong, or the access is; either way nothing was checked.
    let nothing_read = !report.regions.is_empty() && report.regions.iter().all(|r| r.error.is_some());
    if nothing_read {
        return EXIT_ERROR;
    }
    if !report.totals.complete && !allow_incomplete {
        return EXIT_INCOMPLETE;
    }
    // An accepted risk is not a finding; an UNKNOWN is never accepted.
    let finding = report
        .guardrails
        .iter()
        .filter(|g| !g.is_muted())
        .any(|g| match g.posture.level {
            Level::Fail => true,
            Level::Warn => fail_on.contains(&FailOn::Warn),
            Level::Unknown => fail_on.contains(&FailOn::Unknown),
            Level::Pass => false,
        });
    if finding { EXIT_FINDINGS } else { EXIT_PASS }
}

/// The accepted risks of `--exceptions` (or the configuration's), checked; None without.
pub fn load_exceptions(
    global: &GlobalArgs,
) -> Result<Option<crate::model::exceptions::Exceptions>, CommandError> {
    global
        .exceptions
        .as_deref()
        .map(|p| crate::model::exceptions::Exceptions::load(p, crate::model::exceptions::today()))
        .transpose()
        .map_err(|e| CommandError(format!("--exceptions {e}")))
}

/// A one-line progress display on standard error, for terminals only.
struct Progress {
    enabled: bool,
    regions: usize,
    done: usize,
    found: usize,
}

impl Progress {
    fn on(&mut self, event: &ScanEvent) {
        match event {
            ScanEvent::Started { regions, .. } => self.regions = regions.len(),
            ScanEvent::Rows { rows, .. } => self.found += rows.len(),
            ScanEvent::RegionDone { .. } | ScanEvent::RegionFailed { .. } => self.done += 1,
            ScanEvent::RegionProgress { .. } => return,
            ScanEvent::Finished { .. } => {
                if self.enabled {
                    eprint!("\r\x1b[2K");
                }
                return;
            }
        }
        if self.enabled {
            eprint!(
                "\r\x1b[2Kscanning: {}/{} regions done, {} guardrails found",
                self.done, self.regions, self.found
            );
            let _ = std::io::stderr().flush();
        }
    }
}

pub async fn run(global: &GlobalArgs, args: &ScanArgs) -> Result<u8, CommandError> {
    let format = args.format.unwrap_or(if std::io::stdout().is_terminal() {
        ReportFormat::Table
    } else {
        ReportFormat::Json
    });
    crate::report::check_new_files(
        &[
            ("--output", args.output.as_deref()),
            ("--save", args.save.as_deref()),
        ],
        args.force,
    )
    .map_err(CommandError)?;
    super::accounts::check_flags(global)?;
    // The accepted risks, read and checked before any AWS call: a bad file is an error.
    let exceptions = load_exceptions(global)?;
    if args.security_hub && super::accounts::many(global) {
        return Err(CommandError(
            "--security-hub imports an account's findings with that account's own credentials \
             (Security Hub refuses another account's): scan each account with --security-hub, \
             or import the --format asff file per account"
                .into(),
        ));
    }
    if args.security_hub && global.read_only {
        return Err(CommandError(
            "--security-hub writes findings to Security Hub, and --read-only forbids every write: \
             drop one of them"
                .into(),
        ));
    }
    // The session that imports into Security Hub, when asked: the scan's own.
    let mut import_session = None;
    let report = match &global.load {
        Some(path) => {
            refuse_with_load(global, args)?;
            let report = ScanReport::load(path).map_err(CommandError)?;
            let report = narrow_to_regions(report, &global.regions)?;
            if args.security_hub {
                let target = connect(global, true).await?;
                if report.account().is_some_and(|a| a != target.identity.account) {
                    return Err(CommandError(format!(
                        "the saved scan is of account {}, the credentials of account {}: Security \
                         Hub imports an account's findings only with that account's credentials",
                        report.account().unwrap_or_default(),
                        target.identity.account
                    )));
                }
                import_session = Some(target);
            }
            report
        }
        None if super::accounts::many(global) => {
            let target = super::accounts::connect_base(global).await?;
            let options = scan_options(args, &target.regions, true);
            super::accounts::scan_many(global, &target, options).await?
        }
        None => {
            // A scan only reads: its session refuses every write, whatever the flags say
            // (but for importing findings into Security Hub, which `--security-hub` asks for).
            let target = connect(global, true).await?;
            let options = scan_options(args, &target.regions, false);
            let mut progress = Progress {
                enabled: std::io::stderr().is_terminal(),
                regions: 0,
                done: 0,
                found: 0,
            };
            let mut result = collect(target.session.clone(), options, |e| progress.on(e)).await;
            if args.usage {
                crate::scan::usage::attach_usage(
                    &target.session,
                    &target.session,
                    &target.identity.account,
                    &mut result.guardrails,
                )
                .await;
            }
            let report = ScanReport::new(
                result,
                Some(target.identity.clone()),
                target.session.endpoint_url.clone(),
            );
            if args.security_hub {
                import_session = Some(target);
            }
            report
        }
    };
    let mut report = report;
    if let Some(exceptions) = &exceptions {
        report.apply_exceptions(exceptions, crate::model::exceptions::today());
        for note in report.exceptions.iter().flat_map(|o| o.notes()) {
            eprintln!("guardkey: {note}");
        }
    }
    if let Some(path) = &args.save {
        report.save(path).map_err(CommandError)?;
        eprintln!(
            "guardkey: scan saved to {} (replay it with --load)",
            path.display()
        );
    }
    match &args.output {
        Some(path) => {
            write_report(&report, format, path).map_err(CommandError)?;
            eprintln!(
                "guardkey: {} report written to {}",
                format_name(format),
                path.display()
            );
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            // A closed pipe (`| head`) is not an error worth a panic.
            let _ = stream(&report, format, &mut out).and_then(|()| out.flush());
        }
    }
    for a in &report.accounts {
        match &a.error {
            Some(_) if a.suspended => eprintln!(
                "guardkey: account {} ({}): suspended in the organization: not scanned",
                a.name, a.id
            ),
            Some(e) => eprintln!(
                "guardkey: account {} ({}): {}: {} — reached {}; fix its access or leave it out with --exclude-accounts {}",
                a.name,
                a.id,
                e.label(),
                e.detail(),
                a.reach.describe(),
                a.id
            ),
            None => {}
        }
    }
    for r in &report.regions {
        // Many accounts: each region is an account's.
        let region = report.region_label(&r.account, &r.region);
        match &r.error {
            Some(e) if e.hides_part_of_the_estate() => {
                eprintln!("guardkey: {region}: {}: {}", e.label(), e.detail())
            }
            Some(e) => eprintln!("guardkey: {region}: {} (nothing to scan there)", e.label()),
            None => {}
        }
    }
    // Names only, never a verdict: but the user hears why keys show as ids.
    let mut alias_failures: Vec<String> = Vec::new();
    for k in report.guardrails.iter().filter_map(|g| g.key_info()) {
        if let Some(e) = &k.aliases_error {
            let line = format!(
                "{}: kms:ListAliases: {} (keys are shown by id): {}",
                k.region,
                e.label(),
                e.detail()
            );
            if !alias_failures.contains(&line) {
                alias_failures.push(line);
            }
        }
    }
    for line in alias_failures {
        eprintln!("guardkey: {line}");
    }
    let mut code = exit_code(&report, &args.fail_on, args.allow_incomplete);
    if let Some(target) = &import_session {
        let on_terminal = std::io::stderr().is_terminal();
        if on_terminal {
            eprint!("importing findings into Security Hub…");
            let _ = std::io::stderr().flush();
        }
        let imports = super::security_hub::import(&target.session, &report).await;
        if on_terminal {
            eprint!("\r\x1b[2K");
        }
        for line in super::security_hub::summary(&imports) {
            eprintln!("guardkey: {line}");
        }
        // The import was asked for: a finding that did not land is no success.
        if !imports.iter().all(|r| r.is_complete()) {
            code = EXIT_ERROR;
        }
    }
    if let Some(incomplete) = report.totals.incompleteness() {
        // Said as it is: accepted only when --allow-incomplete was given; another exit
        // (nothing read, a failed Security Hub import) is not called accepted.
        let consequence = match code {
            EXIT_INCOMPLETE => {
                format!("exit {EXIT_INCOMPLETE}; pass --allow-incomplete to accept a partial scan")
            }
            _ if args.allow_incomplete => "accepted with --allow-incomplete".to_string(),
            other => format!("exit {other}"),
        };
        eprintln!("guardkey: {incomplete} ({consequence}).");
    }
    Ok(code)
}

/// How the scan flags read AWS.
fn scan_options(args: &ScanArgs, regions: &[String], many_accounts: bool) -> ScanOptions {
    ScanOptions {
        regions: regions.to_vec(),
        versions: args.versions,
        usage: args.usage,
        concurrency_per_region: args.concurrency.unwrap_or(if many_accounts {
            crate::scan::accounts::MANY_ACCOUNTS_CONCURRENCY as u16
        } else {
            8
        }) as usize,
        region_deadline: Duration::from_secs(args.region_timeout),
        ..ScanOptions::default()
    }
}

/// A saved scan is replayed as it was: the flags that would change how AWS is read mean
/// nothing there, and are refused rather than ignored.
fn refuse_with_load(global: &GlobalArgs, args: &ScanArgs) -> Result<(), CommandError> {
    // --security-hub does call AWS: then --demo and --endpoint-url say where.
    let calls_aws = args.security_hub;
    let refused = [
        (global.demo && !calls_aws, "--demo"),
        (global.endpoint_url.is_some() && !calls_aws, "--endpoint-url"),
        (super::accounts::many(global), "--org, --profiles or --role-arns"),
        (args.versions, "--versions"),
        (args.usage, "--usage"),
    ];
    match refused.iter().find(|(given, _)| *given) {
        Some((_, flag)) => Err(CommandError(format!(
            "{flag} cannot be used with --load: a saved scan is replayed without calling AWS. \
             Scan again without --load to use it."
        ))),
        None => Ok(()),
    }
}

/// A saved scan narrowed to the regions asked for, each checked as for a live scan.
fn narrow_to_regions(mut report: ScanReport, regions: &[String]) -> Result<ScanReport, CommandError> {
    if regions.is_empty() {
        return Ok(report);
    }
    let partition = report.partition().to_string();
    let wanted = crate::aws::resolve_regions(regions, &partition).map_err(CommandError)?;
    if let Some(missing) = wanted
        .iter()
        .find(|w| !report.regions.iter().any(|r| r.region == **w))
    {
        return Err(CommandError(format!(
            "the saved scan does not cover {missing}; it covers {}",
            report
                .regions
                .iter()
                .map(|r| r.region.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    report.regions.retain(|r| wanted.contains(&r.region));
    report
        .guardrails
        .retain(|g| wanted.iter().any(|w| **w == *g.region));
    report.recount();
    Ok(report)
}

fn format_name(f: ReportFormat) -> &'static str {
    match f {
        ReportFormat::Table => "table",
        ReportFormat::Json => "JSON",
        ReportFormat::Csv => "CSV",
        ReportFormat::Sarif => "SARIF",
        ReportFormat::Ocsf => "OCSF",
        ReportFormat::Asff => "ASFF",
        ReportFormat::Html => "HTML",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Totals, fixtures};

    #[test]
    fn exit_codes_follow_the_worst_level_and_fail_on() {
        let report = fixtures::report();
        // The fixture has an unreadable region and an UNKNOWN guardrail.
        assert_eq!(exit_code(&report, &[], false), EXIT_INCOMPLETE);
        assert_eq!(exit_code(&report, &[], true), EXIT_FINDINGS);
        let seen_whole = |mut r: ScanReport, keep: &dyn Fn(Level) -> bool| {
            r.regions.retain(|r| r.region != "ap-south-1");
            r.guardrails.retain(|g| keep(g.posture.level));
            r.totals = Totals::of_scan(&r.guardrails, &r.regions);
            r
        };
        let passing = seen_whole(report.clone(), &|l| l == Level::Pass);
        assert_eq!(exit_code(&passing, &[], false), EXIT_PASS);
        let warn_only = seen_whole(report.clone(), &|l| l == Level::Warn);
        assert_eq!(exit_code(&warn_only, &[], false), EXIT_PASS);
        assert_eq!(exit_code(&warn_only, &[FailOn::Warn], false), EXIT_FINDINGS);
        let unknown_only = seen_whole(report.clone(), &|l| l == Level::Unknown);
        assert_eq!(exit_code(&unknown_only, &[FailOn::Warn], false), EXIT_INCOMPLETE);
        assert_eq!(exit_code(&unknown_only, &[FailOn::Warn], true), EXIT_PASS);
        assert_eq!(exit_code(&unknown_only, &[FailOn::Unknown], true), EXIT_FINDINGS);
        // An unreadable region alone, with every guardrail seen passing: still not a pass.
        let mut region_denied = passing.clone();
        region_denied.regions.push(report.regions.last().unwrap().clone());
        region_denied.totals = Totals::of_scan(&region_denied.guardrails, &region_denied.regions);
        assert_eq!(
            exit_code(&region_denied, &[FailOn::Unknown], false),
            EXIT_INCOMPLETE
        );
        let mut all_failed = report.clone();
        for r in &mut all_failed.regions {
            r.error = Some(crate::model::CallError::Timeout);
        }
        all_failed.totals = Totals::of_scan(&all_failed.guardrails, &all_failed.regions);
        assert_eq!(exit_code(&all_failed, &[], false), EXIT_ERROR);
    }
}
