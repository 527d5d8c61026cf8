//! `scan --security-hub` against the simulator's Security Hub: every finding lands in its
//! own region's hub exactly as `--format asff` writes it (the SDK conversion loses nothing),
//! a region where Security Hub is off is said with the command that enables it, a caller
//! without the permission is told which policy grants it, and nothing that failed exits 0.

mod common;

use std::collections::BTreeMap;
use std::process::Output;

use common::*;
use guardkey::sim::{Principal, RunningSim, SIM_ACCESS_KEY_ID, SIM_SECRET_ACCESS_KEY, Seed, SimConfig};
use serde_json::{Value, json};

const REGIONS: &str = "us-east-1,us-west-2,eu-west-1,sa-east-1";

async fn demo() -> RunningSim {
    start(SimConfig {
        seed: Seed::Demo,
        ..SimConfig::default()
    })
    .await
}

fn run(sim: &RunningSim, keys: (&str, &str), args: &[&str]) -> Output {
    guardkey_command(Some(keys), "us-east-1")
        .args(args)
        .args(["--endpoint-url", &sim.endpoint()])
        .output()
        .unwrap()
}

/// What the simulator's hubs hold, by region: finding id → finding, less what Security
/// Hub adds on import.
fn stored(sim: &RunningSim) -> BTreeMap<String, BTreeMap<String, Value>> {
    sim.sim.with_world(|w| {
        let mut out: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
        for ((_, region), state) in w.regions() {
            for ((_, id), f) in state.security_hub.iter().flat_map(|h| h.findings.iter()) {
                let mut f = f.clone();
                for added in [
                    "Region",
                    "ProductName",
                    "CompanyName",
                    "WorkflowState",
                    "Workflow",
                    "ProcessedAt",
                    "FindingProviderFields",
                ] {
                    f.as_object_mut().unwrap().remove(added);
                }
                out.entry(region.clone()).or_default().insert(id.clone(), f);
            }
        }
        out
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn findings_land_in_their_regions_hub_exactly_as_the_asff_file_says() {
    let sim = demo().await;
    let dir = tempfile::tempdir().unwrap();
    let asff = dir.path().join("findings.json");
    let keys = (SIM_ACCESS_KEY_ID, SIM_SECRET_ACCESS_KEY);
    let out = run(
        &sim,
        keys,
        &[
            "scan",
            "--regions",
            REGIONS,
            "--format",
            "asff",
            "--output",
            asff.to_str().unwrap(),
            "--security-hub",
        ],
    );
    let text = said(&out);
    // sa-east-1 has Security Hub off in the demo: its finding could not land.
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("Security Hub sa-east-1: 0 of 1 findings imported, then InvalidAccessException"),
        "{text}"
    );
    assert!(
        text.contains("aws securityhub enable-security-hub --region sa-east-1"),
        "{text}"
    );
    let written: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&asff).unwrap()).unwrap();
    let mut expected: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
    for f in &written {
        let region = guardkey::report::asff::finding_region(f).to_string();
        if region != "sa-east-1" {
            expected
                .entry(region)
                .or_default()
                .insert(f["Id"].as_str().unwrap().to_string(), f.clone());
        }
    }
    let landed = stored(&sim);
    assert_eq!(
        landed.keys().collect::<Vec<_>>(),
        ["eu-west-1", "us-east-1", "us-west-2"]
    );
    // Member by member, through the SDK's types and back out of the wire.
    assert_eq!(landed, expected);
    let n: usize = expected.values().map(BTreeMap::len).sum();
    assert!(
        text.contains(&format!(
            "Security Hub: {n} of {} findings imported in 3 of 4 regions",
            n + 1
        )),
        "{text}"
    );

    // A second import updates the same findings (same ProductArn and Id): none doubles.
    let again = run(
        &sim,
        keys,
        &[
            "scan",
            "--regions",
            "us-east-1",
            "--format",
            "json",
            "--security-hub",
        ],
    );
    assert!(
        said(&again).contains("imported in 1 of 1 regions"),
        "{}",
        said(&again)
    );
    let ids = |s: &BTreeMap<String, BTreeMap<String, Value>>| -> Vec<(String, String)> {
        s.iter()
            .flat_map(|(r, f)| f.keys().map(move |id| (r.clone(), id.clone())))
            .collect()
    };
    assert_eq!(ids(&stored(&sim)), ids(&landed));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_permission_is_named_and_a_saved_scan_of_another_account_is_refused() {
    let sim = demo().await;
    let policy = |names: &[&str]| {
        let mut statements = Vec::new();
        for n in names {
            let doc: Value = serde_json::from_str(guardkey::permissions::policy(n).unwrap()).unwrap();
            statements.extend(doc["Statement"].as_array().unwrap().iter().cloned());
        }
        json!({"Version": "2012-10-17", "Statement": statements})
    };
    for (key, doc) in [
        ("AKIASCANONLY00000001", policy(&["scan"])),
        ("AKIASCANANDHUB000001", policy(&["scan", "security-hub"])),
    ] {
        sim.sim.add_principal(Principal {
            access_key_id: key.into(),
            secret_access_key: "secret".into(),
            account: "123456789012".into(),
            arn: format!("arn:aws:iam::123456789012:user/{key}"),
            user_id: format!("AIDA{key}"),
            identity_policy: Some(doc),
        });
    }
    let args = [
        "scan",
        "--regions",
        "us-east-1",
        "--format",
        "json",
        "--security-hub",
    ];
    let denied = run(&sim, ("AKIASCANONLY00000001", "secret"), &args);
    let text = said(&denied);
    assert_eq!(denied.status.code(), Some(2), "{text}");
    assert!(text.contains("denied: securityhub:BatchImportFindings"), "{text}");
    assert!(text.contains("guardkey policy security-hub"), "{text}");
    assert!(stored(&sim).is_empty());

    let allowed = run(&sim, ("AKIASCANANDHUB000001", "secret"), &args);
    // us-east-1 of the demo has failing guardrails: exit 1, and every finding imported.
    assert_eq!(allowed.status.code(), Some(1), "{}", said(&allowed));
    assert!(said(&allowed).contains("imported in 1 of 1 regions"));

    // A saved scan is imported with its own account's credentials only.
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("scan.json");
    let mut report: Value = serde_json::from_slice(&allowed.stdout).unwrap();
    report["caller"]["account"] = json!("210987654321");
    std::fs::write(&saved, report.to_string()).unwrap();
    let other = run(
        &sim,
        (SIM_ACCESS_KEY_ID, SIM_SECRET_ACCESS_KEY),
        &["scan", "--load", saved.to_str().unwrap(), "--security-hub"],
    );
    assert_eq!(other.status.code(), Some(2));
    assert!(
        said(&other).contains("the saved scan is of account 210987654321"),
        "{}",
        said(&other)
    );
    let contradiction = run(
        &sim,
        (SIM_ACCESS_KEY_ID, SIM_SECRET_ACCESS_KEY),
        &["scan", "--read-only", "--security-hub"],
    );
    assert_eq!(contradiction.status.code(), Some(2));
    assert!(said(&contradiction).contains("--read-only forbids every write"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_simulator_refuses_what_security_hub_refuses() {
    let sim = demo().await;
    let cfg = sdk_config(&sim).await;
    let session = guardkey::aws::Session::from_sdk_config(cfg, true);
    let hub = session.security_hub("us-east-1");
    let finding = |id: &str, region: &str, account: &str, created: &str| {
        json!({
            "SchemaVersion": "2018-10-08", "Id": id,
            "ProductArn": format!("arn:aws:securityhub:{region}:{account}:product/{account}/default"),
            "GeneratorId": "guardkey/Bedrock-003", "AwsAccountId": account, "Types": ["t"],
            "CreatedAt": created, "UpdatedAt": "2026-11-30T12:00:00Z",
            "Title": "t", "Description": "d",
            "Resources": [{"Type": "Other", "Id": "x"}],
        })
    };
    let good = "2026-11-30T12:00:00Z";
    // One finding badly dated: it alone fails, the other lands.
    let outcome = session
        .import_findings(
            &hub,
            &[
                finding("a", "us-east-1", "123456789012", good),
                finding("b", "us-east-1", "123456789012", "yesterday"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(outcome.imported, 1);
    assert_eq!(outcome.failed.len(), 1);
    assert_eq!(outcome.failed[0].id, "b");
    assert!(outcome.failed[0].message.contains("CreatedAt"));
    // Another region's product, or another account: the whole call is denied.
    for f in [
        finding("c", "eu-west-1", "123456789012", good),
        finding("d", "us-east-1", "210987654321", good),
    ] {
        let err = session.import_findings(&hub, &[f]).await.unwrap_err();
        assert!(
            matches!(&err, guardkey::model::CallError::AccessDenied { action: Some(a), .. } if a == "securityhub:BatchImportFindings"),
            "{err:?}"
        );
    }
    // A finding missing a required member: InvalidInputException, in the model's words.
    let mut incomplete = finding("e", "us-east-1", "123456789012", good);
    incomplete.as_object_mut().unwrap().remove("Title");
    let err = session.import_findings(&hub, &[incomplete]).await.unwrap_err();
    match err {
        guardkey::model::CallError::Other { code, message } => {
            assert_eq!(code, "InvalidInputException");
            assert!(message.contains("Findings.1.member.Title"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // Off in sa-east-1: InvalidAccessException, as when the account never enabled it.
    let off = session.security_hub("sa-east-1");
    let err = session
        .import_findings(&off, &[finding("f", "sa-east-1", "123456789012", good)])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, guardkey::model::CallError::Other { code, .. } if code == "InvalidAccessException")
    );
}
