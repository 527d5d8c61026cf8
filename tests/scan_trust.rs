//! `guardkey scan` never says "safe" about what it could not check: unreadable inputs make
//! a posture UNKNOWN, unreadable regions make the scan incomplete (exit 3), credentials
//! problems are named with the next step, and input that would be ignored is refused.
//!
//! The binary runs against the simulator on the test's multi-threaded runtime.
//!
//! (Long: each test is one trust guarantee of `scan`, end to end with the binary.)

mod common;

use std::process::{Command, Output};

use common::*;
use guardkey::sim::{Faults, SIM_ACCESS_KEY_ID, SIM_SECRET_ACCESS_KEY, Seed, SimConfig};

/// The binary with a clean AWS environment: no profile, no shared files, no IMDS.
fn bare() -> Command {
    guardkey_command(None, "us-east-1")
}

fn with_sim_keys(mut cmd: Command) -> Command {
    cmd.env("AWS_ACCESS_KEY_ID", SIM_ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SIM_SECRET_ACCESS_KEY);
    cmd
}

fn run(mut cmd: Command, args: &[&str]) -> Output {
    cmd.args(args).output().expect("run guardkey")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&out.stdout)))
}

/// Exactly one plain line on standard error, starting `guardkey:`; no report, no colour.
fn assert_one_plain_line(out: &Output) -> String {
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("guardkey: "), "{err}");
    assert!(!err.contains('\x1b'), "no ANSI codes: {err:?}");
    assert!(
        !err.contains("Location") && !err.contains("BACKTRACE") && !err.contains("panicked"),
        "{err}"
    );
    err
}

async fn sim_with(seed: Seed, faults: Faults) -> guardkey::sim::RunningSim {
    start(SimConfig {
        seed,
        faults,
        ..SimConfig::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cmk_whose_rotation_cannot_be_read_never_passes() {
    let sim = sim_with(
        Seed::Demo,
        Faults {
            denials: vec!["kms:GetKeyRotationStatus".parse().unwrap()],
            ..Faults::default()
        },
    )
    .await;
    let out = run(
        with_sim_keys(bare()),
        &["scan", "--endpoint-url", &sim.endpoint(), "--format", "json"],
    );
    let report = json(&out);
    let on_cmk: Vec<&serde_json::Value> = report["guardrails"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["key"]["lookup"] == "found" && g["key"]["manager"] == "CUSTOMER")
        .collect();
    assert!(
        on_cmk.len() >= 10,
        "the demo has CMK guardrails: {}",
        on_cmk.len()
    );
    for g in &on_cmk {
        assert_ne!(g["posture"]["level"], "PASS", "{} passed unseen", g["name"]);
    }
    // Those on an enabled key are UNKNOWN, naming the permission.
    let unknown: Vec<_> = on_cmk
        .iter()
        .filter(|g| g["posture"]["level"] == "UNKNOWN")
        .collect();
    assert!(!unknown.is_empty());
    for g in unknown {
        assert_eq!(g["posture"]["id"], "access-denied");
        assert!(
            g["posture"]["reason"]
                .as_str()
                .unwrap()
                .contains("kms:GetKeyRotationStatus"),
            "{}",
            g["posture"]["reason"]
        );
    }
    assert_eq!(report["totals"]["complete"], false);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliases_that_cannot_be_listed_change_no_verdict() {
    let sim = sim_with(
        Seed::Demo,
        Faults {
            denials: vec!["kms:ListAliases".parse().unwrap()],
            ..Faults::default()
        },
    )
    .await;
    let endpoint = sim.endpoint();
    let args = [
        "scan",
        "--endpoint-url",
        &endpoint,
        "--regions",
        "us-east-1,eu-west-1",
        "--format",
        "json",
    ];
    let denied = json(&run(with_sim_keys(bare()), &args));
    let sim2 = sim_with(Seed::Demo, Faults::default()).await;
    let endpoint2 = sim2.endpoint();
    let args2 = [
        "scan",
        "--endpoint-url",
        &endpoint2,
        "--regions",
        "us-east-1,eu-west-1",
        "--format",
        "json",
    ];
    let seen = json(&run(with_sim_keys(bare()), &args2));
    let verdicts = |r: &serde_json::Value| -> Vec<(String, String)> {
        r["guardrails"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                (
                    g["name"].as_str().unwrap().to_string(),
                    g["posture"]["id"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert_eq!(verdicts(&denied), verdicts(&seen));
    assert!(verdicts(&seen).iter().any(|(_, id)| id == "customer-managed-key"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_that_could_not_read_a_region_does_not_exit_0() {
    let sim = sim_with(
        Seed::Empty,
        Faults {
            denials: vec!["bedrock:ListGuardrails@eu-west-1".parse().unwrap()],
            disabled_regions: ["me-central-1".to_string()].into_iter().collect(),
            ..Faults::default()
        },
    )
    .await;
    let endpoint = sim.endpoint();
    let regions = "us-east-1,eu-west-1,me-central-1";
    for extra in [&[][..], &["--fail-on", "unknown"]] {
        let mut args = vec![
            "scan",
            "--endpoint-url",
            &endpoint,
            "--regions",
            regions,
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let out = run(with_sim_keys(bare()), &args);
        assert_eq!(out.status.code(), Some(3), "{extra:?}: {}", text(&out.stderr));
        let report = json(&out);
        assert_eq!(report["totals"]["complete"], false);
        assert_eq!(report["totals"]["unreadable_regions"], 1);
        assert_eq!(report["totals"]["not_enabled_regions"], 1);
        let err = text(&out.stderr);
        assert!(err.contains("eu-west-1: denied: bedrock:ListGuardrails"), "{err}");
        assert!(
            err.contains("INCOMPLETE") && err.contains("--allow-incomplete"),
            "{err}"
        );
        assert!(
            err.contains("me-central-1: not enabled (nothing to scan there)"),
            "{err}"
        );
        assert!(
            err.contains("INCOMPLETE: 1 region could"),
            "not enabled is no failure: {err}"
        );
    }
    // Accepted on request: what was seen (nothing) decides.
    let out = run(
        with_sim_keys(bare()),
        &[
            "scan",
            "--endpoint-url",
            &endpoint,
            "--regions",
            regions,
            "--format",
            "json",
            "--allow-incomplete",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Every format says so.
    let sarif = json(&run(
        with_sim_keys(bare()),
        &[
            "scan",
            "--endpoint-url",
            &endpoint,
            "--regions",
            regions,
            "--format",
            "sarif",
        ],
    ));
    let invocation = &sarif["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    assert!(
        invocation["toolExecutionNotifications"][0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("eu-west-1")
    );
    let ocsf = json(&run(
        with_sim_keys(bare()),
        &[
            "scan",
            "--endpoint-url",
            &endpoint,
            "--regions",
            regions,
            "--format",
            "ocsf",
        ],
    ));
    let region_findings: Vec<_> = ocsf
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["metadata"]["event_code"] == "region-unreadable")
        .map(|f| f["cloud"]["region"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(region_findings, ["eu-west-1"]);
    let table = text(
        &run(
            with_sim_keys(bare()),
            &[
                "scan",
                "--endpoint-url",
                &endpoint,
                "--regions",
                regions,
                "--format",
                "table",
            ],
        )
        .stdout,
    );
    assert!(
        table.lines().nth(1).unwrap().starts_with("INCOMPLETE: 1 region"),
        "{table}"
    );
    // The regions that hold nothing are one line, not one each.
    let out = run(
        with_sim_keys(bare()),
        &["scan", "--endpoint-url", &endpoint, "--format", "table"],
    );
    let table = text(&out.stdout);
    let folded = table
        .lines()
        .find(|l| l.contains("regions with no guardrail:"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(
        folded.contains("us-east-1") && folded.contains("us-west-2"),
        "{folded}"
    );
    assert!(
        !table.lines().any(|l| l.trim_start().starts_with("us-west-2 ")),
        "{table}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_credentials_are_called_invalid_not_a_disabled_region() {
    let sim = sim_with(Seed::Empty, Faults::default()).await;
    let mut cmd = bare();
    cmd.env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test");
    let out = run(cmd, &["scan", "--endpoint-url", &sim.endpoint()]);
    assert_eq!(out.status.code(), Some(2));
    let err = assert_one_plain_line(&out);
    assert!(
        err.contains("credentials from the environment") && err.contains("are invalid"),
        "{err}"
    );
    assert!(err.contains("InvalidClientTokenId"), "{err}");
    assert!(!err.contains("not enabled"), "{err}");
}

#[test]
fn no_credentials_at_all_says_where_it_looked() {
    let out = run(bare(), &["scan", "--endpoint-url", "http://127.0.0.1:9"]);
    assert_eq!(out.status.code(), Some(2));
    let err = assert_one_plain_line(&out);
    assert!(err.contains("No AWS credentials found"), "{err}");
    for place in [
        "AWS_ACCESS_KEY_ID",
        "~/.aws/credentials",
        "instance metadata",
        "--demo",
    ] {
        assert!(err.contains(place), "lacks {place}: {err}");
    }
    assert!(
        !err.contains("dispatch failure") && !err.contains("IMDS"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_profile_is_that_profile_or_an_error() {
    let sim = sim_with(Seed::Empty, Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        format!(
            "[profile sim]\naws_access_key_id = {SIM_ACCESS_KEY_ID}\naws_secret_access_key = {SIM_SECRET_ACCESS_KEY}\nregion = us-east-1\n\n\
             [profile broken-process]\ncredential_process = /bin/false\nregion = us-east-1\n\n\
             [profile expired-sso]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Audit\nregion = us-east-1\n\n\
             [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n"
        ),
    )
    .unwrap();
    let endpoint = sim.endpoint();
    let profile = |name: &str| {
        // The environment's keys are the simulator's: a silent fallback would succeed.
        let mut cmd = with_sim_keys(bare());
        cmd.env("AWS_CONFIG_FILE", &config).env("HOME", dir.path());
        run(
            cmd,
            &[
                "--profile",
                name,
                "scan",
                "--endpoint-url",
                &endpoint,
                "--regions",
                "us-east-1",
                "--format",
                "json",
            ],
        )
    };
    let out = profile("nosuch");
    assert_eq!(out.status.code(), Some(2));
    let err = assert_one_plain_line(&out);
    assert!(
        err.contains("The config profile (nosuch) could not be found"),
        "{err}"
    );
    assert_eq!(
        sim.sim.request_count(),
        0,
        "nothing was sent with the environment's keys"
    );

    let out = profile("broken-process");
    assert_eq!(out.status.code(), Some(2));
    let err = assert_one_plain_line(&out);
    assert!(
        err.contains("credential_process of profile broken-process failed"),
        "{err}"
    );

    let out = profile("expired-sso");
    assert_eq!(out.status.code(), Some(2));
    let err = assert_one_plain_line(&out);
    assert!(err.contains("SSO session of profile expired-sso"), "{err}");
    assert!(err.contains("aws sso login --profile expired-sso"), "{err}");

    let out = profile("sim");
    assert_eq!(
        out.status.code(),
        Some(0),
        "the profile's own keys work: {}",
        text(&out.stderr)
    );
}

#[test]
fn endpoint_urls_are_checked_and_a_refused_connection_is_called_so() {
    let out = run(with_sim_keys(bare()), &["scan", "--endpoint-url", "notaurl"]);
    assert_eq!(out.status.code(), Some(2));
    let err = assert_one_plain_line(&out);
    assert!(err.contains("--endpoint-url 'notaurl' is not a URL"), "{err}");

    // Port 1 on loopback: nothing listens there.
    let out = run(
        with_sim_keys(bare()),
        &["scan", "--endpoint-url", "http://127.0.0.1:1"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = assert_one_plain_line(&out);
    assert!(
        err.contains("Cannot connect to http://127.0.0.1:1: connection refused"),
        "{err}"
    );
    assert!(!err.contains("dispatch failure"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inputs_that_would_be_ignored_are_refused_or_applied() {
    let sim = sim_with(Seed::Demo, Faults::default()).await;
    let endpoint = sim.endpoint();
    let out = run(
        with_sim_keys(bare()),
        &["scan", "--endpoint-url", &endpoint, "--regions", ""],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = assert_one_plain_line(&out);
    assert!(err.contains("--regions is empty"), "{err}");
    assert_eq!(sim.sim.request_count(), 0);

    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("scan.json");
    let saved = saved.to_str().unwrap();
    let out = run(
        with_sim_keys(bare()),
        &[
            "scan",
            "--endpoint-url",
            &endpoint,
            "--regions",
            "us-east-1,eu-west-1",
            "--format",
            "json",
            "--save",
            saved,
        ],
    );
    assert!(out.status.code().is_some_and(|c| c != 2), "{}", text(&out.stderr));
    // A saved scan, narrowed to a region it covers.
    let out = run(
        bare(),
        &[
            "--load",
            saved,
            "scan",
            "--regions",
            "us-east-1",
            "--format",
            "json",
        ],
    );
    let report = json(&out);
    assert!(
        report["guardrails"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["region"] == "us-east-1")
    );
    assert!(!report["guardrails"].as_array().unwrap().is_empty());
    assert_eq!(report["regions"].as_array().unwrap().len(), 1);
    // And refused what it cannot mean.
    for (args, says) in [
        (
            &["--load", saved, "scan", "--regions", "mars-1"][..],
            "'mars-1' is not a region",
        ),
        (
            &["--load", saved, "scan", "--regions", "ap-south-1"],
            "does not cover ap-south-1",
        ),
        (
            &["--load", saved, "scan", "--versions"],
            "--versions cannot be used with --load",
        ),
        (
            &["--load", saved, "scan", "--endpoint-url", "http://127.0.0.1:9"],
            "--endpoint-url cannot be used with --load",
        ),
        (
            &["--load", saved, "fix", "--filter", "x", "--create-key"],
            "guardkey fix needs live access to AWS",
        ),
        (
            &["--load", saved, "restore", "/no/such/journal.jsonl"],
            "guardkey restore needs live access to AWS",
        ),
    ] {
        let out = run(bare(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = assert_one_plain_line(&out);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_port_is_one_plain_line() {
    let sim = sim_with(Seed::Empty, Faults::default()).await;
    let port = sim.addr.port().to_string();
    let out = run(bare(), &["sim", "--port", &port]);
    assert_eq!(out.status.code(), Some(2));
    let err = assert_one_plain_line(&out);
    assert!(
        err.contains("cannot listen on 127.0.0.1:") && err.contains("--port"),
        "{err}"
    );
}
