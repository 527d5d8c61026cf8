//! Accepted risks, as a CI pipeline meets them: an exceptions file muting the demo's two
//! eu-west-2 FAILs turns `scan --fail-on fail` from 1 to 0 only when they were the last; an
//! UNKNOWN stays UNKNOWN; an expired entry fails again and is said; bad files exit 2 with the
//! line; the example in assets/ keeps working; SARIF, OCSF and ASFF carry the suppression;
//! `fix` leaves muted guardrails out unless asked.

mod common;

use std::process::Output;

use common::*;
use serde_json::Value;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/accepted-risks.example.toml");

fn guardkey(args: &[&str]) -> Output {
    guardkey_command(None, "us-east-1")
        .args(args)
        .env_remove("GUARDKEY_EXCEPTIONS")
        .output()
        .unwrap()
}

fn scan(regions: &str, more: &[&str]) -> Output {
    // A FAIL fails the scan whatever --fail-on adds.
    let mut args = vec!["scan", "--demo", "--regions", regions];
    args.extend_from_slice(more);
    guardkey(&args)
}

fn date_in(days: i64) -> String {
    guardkey::model::exceptions::format_date(
        time::OffsetDateTime::now_utc().date() + time::Duration::days(days),
    )
}

fn write(dir: &tempfile::TempDir, text: &str) -> String {
    let path = dir.path().join("risks.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn entry(name: &str, expires: &str) -> String {
    format!(
        "[[exception]]\nname = \"{name}\"\nregion = \"eu-west-2\"\nreason = \"accepted\"\nowner = \"secops@example.com\"\nexpires = {expires}\n"
    )
}

#[test]
fn the_example_mutes_the_last_fails_and_only_then_the_scan_passes() {
    // Without it: two FAILs.
    assert_eq!(scan("eu-west-2", &[]).status.code(), Some(1));
    let out = scan("eu-west-2", &["--exceptions", EXAMPLE, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["totals"]["muted"], 2);
    assert_eq!(report["totals"]["fail"], 0);
    for g in report["guardrails"].as_array().unwrap() {
        assert_eq!(g["posture"]["level"], "FAIL", "the verdict is kept, muted");
        assert!(g["exception"]["owner"].as_str().unwrap().contains('@'));
    }
    // The entry that matches nothing is said stale.
    assert_eq!(report["exceptions"]["stale"].as_array().unwrap().len(), 1);
    assert!(said(&out).contains("matches nothing"), "{}", said(&out));
    // With another region's FAIL in the scan, the exit code still says so.
    let out = scan("eu-west-2,us-east-2", &["--exceptions", EXAMPLE]);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    // The table shows them muted, with their own mark and who owns them.
    let out = scan("eu-west-2", &["--exceptions", EXAMPLE, "--format", "table"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("◦ MUTED FAIL  trading-desk-research"), "{table}");
    assert!(table.contains("Accepted risks"), "{table}");
    assert!(table.contains("2 MUTED (accepted risks)"), "{table}");
}

#[test]
fn muting_one_of_two_fails_still_fails_and_an_expired_entry_fails_again() {
    let dir = tempfile::tempdir().unwrap();
    let one = write(&dir, &entry("trading-desk-research", &date_in(30)));
    assert_eq!(scan("eu-west-2", &["--exceptions", &one]).status.code(), Some(1));
    let both = write(
        &dir,
        &format!(
            "{}\n{}",
            entry("trading-desk-research", &date_in(30)),
            entry("wealth-*", &date_in(-1))
        ),
    );
    let out = scan("eu-west-2", &["--exceptions", &both, "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the expired entry mutes nothing: {}",
        said(&out)
    );
    let text = said(&out);
    assert!(
        text.contains("1 exception expired on") && text.contains(&date_in(-1)),
        "{text}"
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["totals"]["muted"], 1);
    assert_eq!(report["exceptions"]["expired"][0]["line"], 8);
}

#[test]
fn bad_files_exit_2_with_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let far = date_in(400);
    let cases = [
        (
            "[[exception]]\nname = \"x\"\nowner = \"o\"\nexpires = 2027-01-01\n",
            ":1:",
            "reason",
        ),
        (
            "[[exception]]\nname = \"x\"\nreason = \"r\"\nowner = \"o\"\n",
            ":1:",
            "expires",
        ),
        (
            "[[exception]]\nname = \"x\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2027-01-01\nowners = \"p\"\n",
            ":6:",
            "owners",
        ),
        (&*entry("x", &far), ":6:", "further than 365 days"),
        (
            "[[exception]]\nreason = \"r\"\nowner = \"o\"\nexpires = 2027-01-01\n",
            ":1:",
            "every guardrail",
        ),
        ("[[exception\n", ":1:", ""),
    ];
    for (text, line, what) in cases {
        let path = write(&dir, text);
        let out = scan("eu-west-2", &["--exceptions", &path]);
        let err = said(&out);
        assert_eq!(out.status.code(), Some(2), "{text}: {err}");
        assert!(
            err.contains(&format!("{path}{line}")) && err.contains(what),
            "{text}: {err}"
        );
    }
    let out = scan("eu-west-2", &["--exceptions", "/nonexistent/risks.toml"]);
    assert_eq!(out.status.code(), Some(2));
    // fix refuses it too, before any call.
    let path = write(&dir, cases[0].0);
    let out = guardkey(&[
        "fix",
        "--demo",
        "--filter",
        "x",
        "--create-key",
        "--exceptions",
        &path,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", said(&out));
}

#[test]
fn an_unknown_is_never_muted() {
    // claims-intake's key cannot be read (key-unavailable is a FAIL); the demo's UNKNOWNs come
    // from an unreadable guardrail: the simulator's fault makes one.
    let dir = tempfile::tempdir().unwrap();
    let every = write(
        &dir,
        &format!(
            "[[exception]]\nregion = \"us-east-1\"\nreason = \"r\"\nowner = \"o\"\nexpires = {}\n",
            date_in(10)
        ),
    );
    let mut report: guardkey::report::ScanReport =
        serde_json::from_slice(&scan("us-east-1", &["--format", "json"]).stdout).unwrap();
    // One guardrail made UNKNOWN, as a scan whose read of it failed would have it.
    let g = &mut report.guardrails[0];
    g.posture.level = guardkey::model::Level::Unknown;
    let exceptions = guardkey::model::exceptions::Exceptions::load(
        std::path::Path::new(&every),
        time::OffsetDateTime::now_utc().date(),
    )
    .unwrap();
    report.apply_exceptions(&exceptions, time::OffsetDateTime::now_utc().date());
    assert!(
        report.guardrails[0].exception.is_none(),
        "an UNKNOWN stays UNKNOWN"
    );
    assert_eq!(report.totals.unknown, 1);
    assert!(!report.totals.complete, "and the scan is still incomplete");
    assert!(
        report.guardrails[1..]
            .iter()
            .filter(|g| g.posture.level == guardkey::model::Level::Fail)
            .all(|g| g.exception.is_some())
    );
    assert!(
        report
            .guardrails
            .iter()
            .filter(|g| g.posture.level == guardkey::model::Level::Pass)
            .all(|g| g.exception.is_none())
    );
}

#[test]
fn sarif_ocsf_and_asff_carry_the_suppression() {
    let out = scan("eu-west-2", &["--exceptions", EXAMPLE, "--format", "sarif"]);
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for r in results {
        let s = &r["suppressions"][0];
        assert_eq!(s["kind"], "external");
        assert_eq!(s["status"], "accepted");
        assert!(s["justification"].as_str().unwrap().contains("until 2035"));
    }
    let out = scan("eu-west-2", &["--exceptions", EXAMPLE, "--format", "ocsf"]);
    let ocsf: Value = serde_json::from_slice(&out.stdout).unwrap();
    let muted: Vec<&Value> = ocsf
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "Suppressed")
        .collect();
    assert_eq!(muted.len(), 2, "{ocsf}");
    assert!(muted.iter().all(|f| f["status_id"] == 3));
    let out = scan("eu-west-2", &["--exceptions", EXAMPLE, "--format", "asff"]);
    let asff: Value = serde_json::from_slice(&out.stdout).unwrap();
    let suppressed: Vec<&Value> = asff
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["Workflow"]["Status"] == "SUPPRESSED")
        .collect();
    assert_eq!(suppressed.len(), 2);
    assert!(
        suppressed
            .iter()
            .all(|f| f["Note"]["Text"].as_str().unwrap().starts_with("accepted risk:"))
    );
    let out = scan("eu-west-2", &["--exceptions", EXAMPLE, "--format", "csv"]);
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(csv.lines().next().unwrap().ends_with(",exception"), "{csv}");
    assert_eq!(csv.matches("accepted risk:").count(), 2, "{csv}");
}

#[test]
fn fix_leaves_muted_guardrails_out_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "fix",
        "--demo",
        "--regions",
        "eu-west-2",
        "--filter",
        "status:fail",
        "--create-key",
        "--exceptions",
        EXAMPLE,
    ];
    let out = guardkey_command(None, "us-east-1")
        .args(args)
        .env("GUARDKEY_STATE_DIR", dir.path())
        .output()
        .unwrap();
    let text = said(&out);
    assert!(text.contains("2 guardrails muted by an accepted risk"), "{text}");
    assert!(text.contains("Nothing to fix"), "{text}");
    let out = guardkey_command(None, "us-east-1")
        .args(args)
        .arg("--include-muted")
        .env("GUARDKEY_STATE_DIR", dir.path())
        .output()
        .unwrap();
    let text = said(&out);
    assert!(text.contains("2 guardrails"), "{text}");
    assert!(
        text.contains("trading-desk-research") && !text.contains("muted by"),
        "{text}"
    );
}
