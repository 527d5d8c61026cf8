//! The guardkey binary, end to end: `guardkey scan` against the simulator, its formats,
//! exit codes, saved scans, and bad input.
//!
//! The simulator runs on the test's runtime while the binary blocks a thread: the tests use
//! a multi-threaded runtime so that the simulator keeps answering.

mod common;

use std::process::{Command, Output};

use common::*;
use guardkey::sim::{SIM_ACCESS_KEY_ID, SIM_SECRET_ACCESS_KEY, Seed, SimConfig};

fn guardkey(endpoint: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_guardkey"));
    cmd.args(args)
        .env("AWS_ACCESS_KEY_ID", SIM_ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SIM_SECRET_ACCESS_KEY)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL");
    if let Some(e) = endpoint {
        cmd.arg("--endpoint-url").arg(e);
    }
    cmd.output().expect("run guardkey")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

async fn demo_sim() -> guardkey::sim::RunningSim {
    start(SimConfig {
        seed: Seed::Demo,
        ..SimConfig::default()
    })
    .await
}

#[test]
fn help_lists_the_commands() {
    let out = guardkey(None, &["--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for cmd in [
        "scan",
        "fix",
        "restore",
        "sim",
        "--demo",
        "--read-only",
        "--regions",
        "--profile",
        "--endpoint-url",
    ] {
        assert!(help.contains(cmd), "--help lacks {cmd}:\n{help}");
    }
    let scan_help = text(&guardkey(None, &["scan", "--help"]).stdout);
    for opt in [
        "--format",
        "--output",
        "--save",
        "--versions",
        "--fail-on",
        "Exit codes",
    ] {
        assert!(scan_help.contains(opt), "scan --help lacks {opt}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fix_and_restore_refuse_bad_input_before_any_call() {
    let sim = demo_sim().await;
    for (args, says) in [
        (&["fix", "--filter", "x"][..], "required"),
        (
            &["fix", "--filter", "x", "--create-key", "--key", "alias/k"],
            "cannot be used with",
        ),
        // A new key names the users always: --grant-users is for an existing one.
        (
            &["fix", "--filter", "x", "--create-key", "--grant-users"],
            "'--create-key' cannot be used with '--grant-users'",
        ),
        (
            &[
                "fix",
                "--filter",
                "x",
                "--create-key",
                "--alias",
                "alias/aws/mine",
            ],
            "reserved for AWS managed keys",
        ),
        (
            &["fix", "--filter", "x", "--create-key", "--alias", "bedrock"],
            "must start with alias/",
        ),
        (
            &["--read-only", "fix", "--filter", "x", "--create-key"],
            "--read-only",
        ),
        (
            &["--read-only", "restore", "/no/such/journal.jsonl"],
            "guardkey restore writes to AWS, so it refuses to start",
        ),
        (
            &["fix", "--filter", "x", "--create-key", "--tag", "novalue"],
            "KEY=VALUE",
        ),
        (
            &["fix", "--filter", "x", "--create-key", "--rotation-days", "30"],
            "30",
        ),
        (&["restore", "/no/such/journal.jsonl"], "cannot read"),
        (&["--read-only", "restore", "j.jsonl"], "--read-only"),
    ] {
        // A live simulator: had any of these sent a request, it would be counted.
        let out = guardkey(Some(&sim.endpoint()), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains("panicked"));
        assert_eq!(sim.sim.request_count(), 0, "{args:?} made a call");
    }
}

#[test]
fn bad_flags_are_errors_not_panics() {
    for args in [
        &["scan", "--format", "xml"][..],
        &["scan", "--concurrency", "0"],
        &["--nope"],
        &["sim", "--seed", "prod"],
    ] {
        let out = guardkey(None, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!text(&out.stderr).contains("panicked"), "{args:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_region_is_refused_before_any_call() {
    let sim = demo_sim().await;
    let out = guardkey(
        Some(&sim.endpoint()),
        &["scan", "--regions", "us-east-1,eu-west-9"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("'eu-west-9' is not a region where Amazon Bedrock exists"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(sim.sim.request_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_reports_in_every_format_with_the_right_exit_code() {
    let sim = demo_sim().await;
    let endpoint = sim.endpoint();
    let out = guardkey(
        Some(&endpoint),
        &[
            "scan",
            "--regions",
            "us-east-1,eu-west-1,me-central-1",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "FAILs exit 1: {}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(report["schema"], "guardkey.scan/v1");
    assert_eq!(report["guardrails"].as_array().unwrap().len(), 33);
    assert_eq!(report["caller"]["account"], "123456789012");
    let me = report["regions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["region"] == "me-central-1")
        .unwrap();
    assert_eq!(me["error"]["kind"], "not-enabled");
    assert!(text(&out.stderr).contains("me-central-1: not enabled"));

    for (format, marker) in [
        ("table", "Totals: 33 guardrails"),
        ("csv", "region,account,id,name,arn,status,level,posture"),
        ("sarif", "\"version\": \"2.1.0\""),
        ("ocsf", "\"class_uid\": 2004"),
    ] {
        let out = guardkey(
            Some(&endpoint),
            &["scan", "--regions", "us-east-1,eu-west-1", "--format", format],
        );
        assert_eq!(out.status.code(), Some(1), "{format}");
        assert!(
            text(&out.stdout).contains(marker),
            "{format}: {}",
            text(&out.stdout)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_pass_fail_on_and_every_region_failed() {
    let sim = demo_sim().await;
    let endpoint = sim.endpoint();
    // No guardrail at all in eu-west-3: nothing fails.
    let out = guardkey(
        Some(&endpoint),
        &["scan", "--regions", "eu-west-3", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Every region failed: an error, not a pass.
    let out = guardkey(
        Some(&endpoint),
        &["scan", "--regions", "me-central-1", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(2));

    // A saved scan with only warnings: exit 0, or 1 with --fail-on warn.
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("scan.json");
    let out = guardkey(
        Some(&endpoint),
        &[
            "scan",
            "--regions",
            "us-east-1",
            "--format",
            "json",
            "--save",
            saved.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let mut report: serde_json::Value = serde_json::from_slice(&std::fs::read(&saved).unwrap()).unwrap();
    report["guardrails"]
        .as_array_mut()
        .unwrap()
        .retain(|g| g["posture"]["level"] == "WARN");
    assert!(!report["guardrails"].as_array().unwrap().is_empty());
    let warn_only = dir.path().join("warn.json");
    std::fs::write(&warn_only, report.to_string()).unwrap();
    let out = guardkey(
        None,
        &["--load", warn_only.to_str().unwrap(), "scan", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = guardkey(
        None,
        &[
            "--load",
            warn_only.to_str().unwrap(),
            "scan",
            "--format",
            "json",
            "--fail-on",
            "warn",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_scans_replay_without_any_aws_call() {
    let sim = demo_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("scan.json");
    let table = dir.path().join("report.txt");
    let out = guardkey(
        Some(&sim.endpoint()),
        &[
            "scan",
            "--regions",
            "us-east-1,us-west-2",
            "--save",
            saved.to_str().unwrap(),
            "--format",
            "table",
            "--output",
            table.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("scan saved to"));
    let live = std::fs::read_to_string(&table).unwrap();
    let requests = sim.sim.request_count();

    // Replayed with no credentials and no endpoint: nothing is called.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_guardkey"));
    let out = cmd
        .args(["--load", saved.to_str().unwrap(), "scan", "--format", "table"])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let replayed = text(&out.stdout);
    let body = |t: &str| t.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(
        body(&replayed),
        body(&live),
        "the replay shows what the scan showed"
    );
    assert_eq!(sim.sim.request_count(), requests);

    // A truncated or foreign file is a clear error.
    let full = std::fs::read_to_string(&saved).unwrap();
    let truncated = dir.path().join("truncated.json");
    std::fs::write(&truncated, &full[..full.len() / 3]).unwrap();
    let out = guardkey(None, &["--load", truncated.to_str().unwrap(), "scan"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("truncated"), "{}", text(&out.stderr));
    let foreign = dir.path().join("foreign.json");
    std::fs::write(&foreign, "{\"Findings\": []}").unwrap();
    let out = guardkey(None, &["--load", foreign.to_str().unwrap(), "scan"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is not a usable guardkey scan"),
        "{}",
        text(&out.stderr)
    );
    let out = guardkey(
        None,
        &[
            "--load",
            dir.path().join("missing.json").to_str().unwrap(),
            "scan",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_credentials_is_a_clear_error() {
    let sim = demo_sim().await;
    let out = Command::new(env!("CARGO_BIN_EXE_guardkey"))
        .args([
            "scan",
            "--endpoint-url",
            &sim.endpoint(),
            "--regions",
            "us-east-1",
        ])
        .env_clear()
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("No AWS credentials found"), "{err}");
    assert_eq!(sim.sim.request_count(), 0, "nothing is sent without credentials");
    assert!(!err.contains("panicked"));
}

#[test]
fn scan_demo_works_with_no_account() {
    let out = Command::new(env!("CARGO_BIN_EXE_guardkey"))
        .args(["scan", "--demo", "--regions", "us-west-2", "--format", "csv"])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).lines().count(),
        11,
        "a header and the 10 guardrails of us-west-2"
    );
}

#[test]
fn versions_on_another_key_are_reported() {
    let out = Command::new(env!("CARGO_BIN_EXE_guardkey"))
        .args([
            "scan",
            "--demo",
            "--regions",
            "us-east-1",
            "--versions",
            "--format",
            "table",
        ])
        .env_clear()
        .output()
        .unwrap();
    let table = text(&out.stdout);
    assert!(
        table.contains("us-east-1 customer-support-bot version 1: the AWS-owned key"),
        "{table}"
    );
    assert!(
        !table.contains("customer-support-bot version 2"),
        "version 2 is on the DRAFT's key"
    );
}

#[test]
fn the_configuration_file_gives_defaults_and_bad_ones_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("config.toml");
    std::fs::write(
        &good,
        "regions = [\"eu-west-3\", \"us-west-2\"]\n[fix]\nalias = \"alias/team\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_guardkey"))
        .args([
            "scan",
            "--demo",
            "--format",
            "json",
            "--config",
            good.to_str().unwrap(),
        ])
        .env_clear()
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let regions: Vec<&str> = report["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["region"].as_str().unwrap())
        .collect();
    assert_eq!(regions, ["eu-west-3", "us-west-2"]);
    // The command line wins over the file.
    let out = Command::new(env!("CARGO_BIN_EXE_guardkey"))
        .args([
            "scan",
            "--demo",
            "--format",
            "json",
            "--regions",
            "eu-north-1",
            "--config",
            good.to_str().unwrap(),
        ])
        .env_clear()
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["regions"][0]["region"], "eu-north-1");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "regoins = [\"eu-west-1\"]\n").unwrap();
    for config in [bad, dir.path().join("missing.toml")] {
        let out = guardkey(None, &["scan", "--demo", "--config", config.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2));
        let err = text(&out.stderr);
        assert!(err.contains("configuration"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_says_what_a_fix_changed_between_two_saved_scans() {
    let sim = demo_sim().await;
    let endpoint = sim.endpoint();
    let dir = tempfile::tempdir().unwrap();
    let before = dir.path().join("before.json");
    let after = dir.path().join("after.json");
    let save = |path: &std::path::Path| {
        guardkey(
            Some(&endpoint),
            &[
                "scan",
                "--regions",
                "eu-west-2",
                "--format",
                "json",
                "--save",
                path.to_str().unwrap(),
            ],
        )
    };
    save(&before);
    let out = guardkey(
        Some(&endpoint),
        &[
            "fix",
            "--regions",
            "eu-west-2",
            "--filter",
            "key:none",
            "--create-key",
            "--alias",
            "alias/diff-test",
            "--yes",
            "--journal-dir",
            dir.path().to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    save(&after);
    let out = guardkey(
        None,
        &[
            "diff",
            before.to_str().unwrap(),
            after.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "nothing regressed: {}",
        text(&out.stderr)
    );
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["totals"]["fixed"], 2, "{d}");
    assert_eq!(d["totals"]["regressed"], 0);
    // Backwards, the same change is a regression, and the exit code says so.
    let out = guardkey(
        None,
        &[
            "diff",
            after.to_str().unwrap(),
            before.to_str().unwrap(),
            "--format",
            "md",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("## Regressed (2)"),
        "{}",
        text(&out.stdout)
    );
    let out = guardkey(None, &["diff", before.to_str().unwrap(), "/no/such.json"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn completions_and_the_man_page_are_what_their_consumers_accept() {
    let dir = tempfile::tempdir().unwrap();
    let bash = dir.path().join("guardkey.bash");
    let out = guardkey(None, &["completions", "bash"]);
    assert!(out.status.success());
    std::fs::write(&bash, &out.stdout).unwrap();
    // bash itself parses the script, and it completes the subcommands.
    let check = Command::new("bash").arg("-n").arg(&bash).output().unwrap();
    assert!(check.status.success(), "{}", text(&check.stderr));
    for sub in ["scan", "fix", "restore", "sim", "diff", "policy"] {
        assert!(text(&out.stdout).contains(sub), "bash completion lacks {sub}");
    }
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let out = guardkey(None, &["completions", shell]);
        assert!(out.status.success() && !out.stdout.is_empty(), "{shell}");
    }
    assert_eq!(guardkey(None, &["completions", "tcsh"]).status.code(), Some(2));
    let man = guardkey(None, &["man"]);
    assert!(man.status.success());
    let page = text(&man.stdout);
    assert!(page.contains(".TH guardkey 1"), "{page}");
    // groff, where it is installed, renders it without a warning.
    if let Ok(out) = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(page.as_bytes())?;
            child.wait_with_output()
        })
    {
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("Bedrock"), "the page renders its text");
    }
}
