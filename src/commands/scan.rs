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

pub fn render(report: &ScanReport, format: ReportFormat) -> String {
    match format {
        ReportFormat::Table => to_table(report),
        ReportFormat::Json => report.to_json(),
        ReportFormat::Csv => to_csv(report),
        ReportFormat::Sarif => to_sarif(report),
        ReportFormat::Ocsf => to_ocsf(report),
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

/// The exit code a report deserves.
pub fn exit_code(report: &ScanReport, fail_on: &[FailOn]) -> u8 {
    let all_failed = !report.regions.is_empty() && report.regions.iter().all(|r| r.error.is_some());
    if all_failed {
        return EXIT_ERROR;
    }
    let finding = report.guardrails.iter().any(|g| match g.posture.level {
        Level::Fail => true,
        Level::Warn => fail_on.contains(&FailOn::Warn),
        Level::Unknown => fail_on.contains(&FailOn::Unknown),
        Level::Pass => false,
    });
    if finding { EXIT_FINDINGS } else { EXIT_PASS }
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
    let report = match &global.load {
        Some(path) => ScanReport::load(path).map_err(CommandError)?,
        None => {
            // A scan only reads: its session refuses every write, whatever the flags say.
            let target = connect(global, true).await?;
            let options = ScanOptions {
                regions: target.regions.clone(),
                versions: args.versions,
                concurrency_per_region: args.concurrency as usize,
                region_deadline: Duration::from_secs(args.region_timeout),
                ..ScanOptions::default()
            };
            let mut progress = Progress {
                enabled: std::io::stderr().is_terminal(),
                regions: 0,
                done: 0,
                found: 0,
            };
            let result = collect(target.session.clone(), options, |e| progress.on(e)).await;
            ScanReport::new(
                result,
                Some(target.identity.clone()),
                target.session.endpoint_url.clone(),
            )
        }
    };
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
    for r in report.regions.iter().filter(|r| r.error.is_some()) {
        if let Some(e) = &r.error {
            eprintln!("guardkey: {}: {}", r.region, e.label());
        }
    }
    Ok(exit_code(&report, &args.fail_on))
}

fn format_name(f: ReportFormat) -> &'static str {
    match f {
        ReportFormat::Table => "table",
        ReportFormat::Json => "JSON",
        ReportFormat::Csv => "CSV",
        ReportFormat::Sarif => "SARIF",
        ReportFormat::Ocsf => "OCSF",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures;

    #[test]
    fn exit_codes_follow_the_worst_level_and_fail_on() {
        let report = fixtures::report();
        assert_eq!(exit_code(&report, &[]), EXIT_FINDINGS);
        let mut passing = report.clone();
        passing.guardrails.retain(|g| g.posture.level == Level::Pass);
        assert_eq!(exit_code(&passing, &[]), EXIT_PASS);
        let mut warn_only = report.clone();
        warn_only.guardrails.retain(|g| g.posture.level == Level::Warn);
        assert_eq!(exit_code(&warn_only, &[]), EXIT_PASS);
        assert_eq!(exit_code(&warn_only, &[FailOn::Warn]), EXIT_FINDINGS);
        let mut unknown_only = report.clone();
        unknown_only
            .guardrails
            .retain(|g| g.posture.level == Level::Unknown);
        assert_eq!(exit_code(&unknown_only, &[FailOn::Warn]), EXIT_PASS);
        assert_eq!(exit_code(&unknown_only, &[FailOn::Unknown]), EXIT_FINDINGS);
        let mut all_failed = report.clone();
        for r in &mut all_failed.regions {
            r.error = Some(crate::model::CallError::Timeout);
        }
        assert_eq!(exit_code(&all_failed, &[]), EXIT_ERROR);
    }
}
