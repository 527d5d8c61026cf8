//! The IAM policies guardkey ships (`guardkey policy scan|fix`), proven against the
//! simulator, which evaluates a principal's identity policy as IAM does: with exactly that
//! document everything works and nothing is UNKNOWN for lack of a permission; without any
//! single one of its actions, something says that action was denied (so nothing in the
//! list is unused).

mod common;

use std::process::{Command, Output};

use common::*;
use guardkey::sim::{Principal, RunningSim, Seed, SimConfig};
use serde_json::Value;

const KEY_ID: &str = "AKIALEASTPRIVILEGE01";
const SECRET: &str = "least-privilege-secret";
/// Readable regions of the demo holding AWS-owned and CMK guardrails.
const REGIONS: &str = "us-east-1,us-west-2,eu-west-1";

fn policy(name: &str) -> Value {
    serde_json::from_str(guardkey::permissions::policy(name).unwrap()).unwrap()
}

fn without(mut doc: Value, action: &str) -> Value {
    for st in doc["Statement"].as_array_mut().unwrap() {
        match &mut st["Action"] {
            Value::Array(a) => a.retain(|x| x != action),
            a @ Value::String(_) if *a == action => *a = Value::Array(Vec::new()),
            _ => {}
        }
    }
    doc
}

/// A demo simulator where KEY_ID signs in as `arn`, bound by `doc`.
async fn sim_with(arn: &str, doc: Value) -> RunningSim {
    let sim = start(SimConfig {
        seed: Seed::Demo,
        settle: std::time::Duration::from_millis(20),
        ..SimConfig::default()
    })
    .await;
    sim.sim.add_principal(Principal {
        access_key_id: KEY_ID.into(),
        secret_access_key: SECRET.into(),
        account: "123456789012".into(),
        arn: arn.into(),
        user_id: "AIDALEASTPRIVILEGE01".into(),
        identity_policy: Some(doc),
    });
    sim
}

fn guardkey(sim: &RunningSim, journal: &std::path::Path, args: &[&str]) -> Output {
    guardkey_command(Some((KEY_ID, SECRET)), "us-east-1")
        .args(args)
        .args(["--endpoint-url", &sim.endpoint()])
        .env("GUARDKEY_STATE_DIR", journal)
        .output()
        .unwrap()
}

const AUDITOR: &str = "arn:aws:iam::123456789012:user/guardkey-auditor";
/// A role with a path: the fix resolves it with iam:GetRole.
const OPERATOR: &str = "arn:aws:sts::123456789012:assumed-role/GuardrailOps/ci";

fn scan(sim: &RunningSim, dir: &std::path::Path) -> Output {
    guardkey(
        sim,
        dir,
        &["scan", "--regions", REGIONS, "--format", "json", "--usage"],
    )
}

fn fix(sim: &RunningSim, dir: &std::path::Path) -> Output {
    guardkey(
        sim,
        dir,
        &[
            "fix",
            "--regions",
            "us-east-1",
            "--filter",
            "status:fail key:none",
            "--create-key",
            "--alias",
            "alias/least-privilege",
            "--tag",
            "team=security",
            "--user",
            "arn:aws:iam::123456789012:user/guardkey-admin",
            "--publish-version",
            // As the wizard does: each moved guardrail proved live (bedrock:ApplyGuardrail).
            "--probe",
            "--yes",
        ],
    )
}

fn verdicts(out: &Output) -> Vec<(String, String)> {
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", said(out)));
    let mut v: Vec<(String, String)> = report["guardrails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["arn"].as_str().unwrap().into(),
                g["posture"]["id"].as_str().unwrap().into(),
            )
        })
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scan_policy_is_enough_and_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let admin = start(SimConfig {
        seed: Seed::Demo,
        ..SimConfig::default()
    })
    .await;
    let expected = verdicts(
        &guardkey_command(
            Some((
                guardkey::sim::SIM_ACCESS_KEY_ID,
                guardkey::sim::SIM_SECRET_ACCESS_KEY,
            )),
            "us-east-1",
        )
        .args([
            "scan",
            "--regions",
            REGIONS,
            "--format",
            "json",
            "--endpoint-url",
            &admin.endpoint(),
        ])
        .output()
        .unwrap(),
    );
    let sim = sim_with(AUDITOR, policy("scan")).await;
    let out = scan(&sim, dir.path());
    let got = verdicts(&out);
    assert_eq!(got, expected, "the same verdicts as an administrator's scan");
    assert!(!got.iter().any(|(_, id)| id == "access-denied"), "{got:?}");
    // (Usage verdicts say "decrypt": "denied" of users locked out of a key: not a denial of the scan.)
    assert!(!said(&out).contains("not authorized"), "{}", said(&out));
    assert!(
        said(&out).contains("\"via\""),
        "--usage read who uses the guardrails"
    );
    // And it can write nothing.
    let out = fix(&sim, dir.path());
    assert_ne!(out.status.code(), Some(0));
    assert!(said(&out).contains("kms:CreateKey"), "{}", said(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fix_policy_is_enough() {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim_with(OPERATOR, policy("fix")).await;
    let out = fix(&sim, dir.path());
    let text = said(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("skipped, 0 failed"), "{text}");
    assert!(!text.contains("denied") && !text.contains("warning"), "{text}");
    // The key policy names the caller's role with its path: iam:GetRole answered.
    let journal = std::fs::read_dir(dir.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(std::fs::read_to_string(journal).unwrap().contains("key-created"));
    // And restore works with it too.
    let journal = std::fs::read_dir(dir.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let out = guardkey(&sim, dir.path(), &["restore", journal.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_any_one_scan_action_the_denial_is_named() {
    for action in guardkey::permissions::actions(guardkey::permissions::policy("scan").unwrap()) {
        let dir = tempfile::tempdir().unwrap();
        let sim = sim_with(AUDITOR, without(policy("scan"), &action)).await;
        let text = if action == "kms:GetKeyPolicy" {
            // The explorer's key-policy view is its only reader.
            let session =
                guardkey::aws::Session::with_static_keys(&sim.endpoint(), KEY_ID, SECRET, true).await;
            let key = session
                .describe_key(&session.kms("us-east-1"), "alias/bedrock-guardrails")
                .await
                .unwrap();
            session
                .key_policy(&session.kms("us-east-1"), &key.arn)
                .await
                .unwrap_err()
                .detail()
        } else if action == "iam:SimulatePrincipalPolicy" {
            // Optional: without it guardkey's own evaluation stands (nothing turns UNKNOWN),
            // and the call itself names what is missing.
            let session =
                guardkey::aws::Session::with_static_keys(&sim.endpoint(), KEY_ID, SECRET, true).await;
            let keys = ["arn:aws:kms:us-east-1:123456789012:key/any".to_string()];
            let out = scan(&sim, dir.path());
            assert_eq!(
                verdicts(&out),
                verdicts(&scan(&sim_with(AUDITOR, policy("scan")).await, dir.path()))
            );
            session
                .simulate_key_use(
                    "aws",
                    "arn:aws:iam::123456789012:role/ChatApp",
                    "us-east-1",
                    "kms:Decrypt",
                    &keys,
                )
                .await
                .unwrap_err()
                .detail()
        } else if action.starts_with("organizations:") {
            // SCPs are read for member accounts (they do not apply to the management one);
            // in a scan IAM's policy simulator, which applies them itself, may stand in.
            let session =
                guardkey::aws::Session::with_static_keys(&sim.endpoint(), KEY_ID, SECRET, true).await;
            match session.account_scps("aws", "111122223333").await {
                guardkey::usage::access::Scps::NotRead(why) => why,
                other => format!("{other:?}"),
            }
        } else {
            said(&scan(&sim, dir.path()))
        };
        assert!(
            text.contains(&action),
            "without {action}, nothing names it:\n{text}"
        );
        assert!(
            text.contains("guardkey policy scan"),
            "without {action}, the policy is not named:\n{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_any_one_fix_action_the_denial_is_named() {
    let scan_actions = guardkey::permissions::actions(guardkey::permissions::policy("scan").unwrap());
    let fix_only: Vec<String> = guardkey::permissions::actions(guardkey::permissions::policy("fix").unwrap())
        .into_iter()
        .filter(|a| !scan_actions.contains(a))
        .collect();
    assert!(fix_only.len() >= 8, "{fix_only:?}");
    for action in fix_only {
        let dir = tempfile::tempdir().unwrap();
        let sim = sim_with(OPERATOR, without(policy("fix"), &action)).await;
        // A multi-Region key is replicated: only `--multi-region` calls ReplicateKey.
        let out = if action == "kms:ReplicateKey" {
            guardkey(
                &sim,
                dir.path(),
                &[
                    "fix",
                    "--regions",
                    "us-east-1,us-west-2",
                    "--filter",
                    "status:fail key:none",
                    "--create-key",
                    "--multi-region",
                    "--alias",
                    "alias/least-privilege",
                    "--user",
                    "arn:aws:iam::123456789012:user/guardkey-admin",
                    "--yes",
                ],
            )
        } else {
            fix(&sim, dir.path())
        };
        let text = said(&out);
        assert!(
            text.contains(&action),
            "without {action}, nothing names it:\n{text}"
        );
    }
}

#[test]
fn the_policies_print_for_the_aws_cli() {
    for name in ["scan", "fix"] {
        let out = Command::new(env!("CARGO_BIN_EXE_guardkey"))
            .args(["policy", name])
            .output()
            .unwrap();
        assert!(out.status.success());
        let doc: Value = serde_json::from_slice(&out.stdout).expect("the document alone, as JSON");
        assert_eq!(doc, policy(name));
    }
    let out = Command::new(env!("CARGO_BIN_EXE_guardkey"))
        .args(["policy", "admin"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
