//! Every partition, not only the commercial one: GovCloud (US) and the European Sovereign
//! Cloud estates go through scan, fix (a new key and an existing one) and restore with
//! every ARN in their own partition, against a simulator that serves that partition.

mod common;

use std::process::Output;

use common::*;
use guardkey::sim::{RunningSim, SIM_ACCESS_KEY_ID, SIM_SECRET_ACCESS_KEY, Seed, SimConfig};
use serde_json::Value;

async fn sim_in(partition: &str) -> RunningSim {
    let regions = guardkey::regions::regions_of(partition).unwrap().len();
    start(SimConfig {
        seed: Seed::Generated {
            regions,
            per_region: 8,
        },
        partition: partition.into(),
        settle: std::time::Duration::from_millis(20),
        ..SimConfig::default()
    })
    .await
}

fn guardkey(sim: &RunningSim, home: &str, dir: &std::path::Path, args: &[&str]) -> Output {
    guardkey_command(Some((SIM_ACCESS_KEY_ID, SIM_SECRET_ACCESS_KEY)), home)
        .args(args)
        .args(["--endpoint-url", &sim.endpoint()])
        .env("GUARDKEY_STATE_DIR", dir)
        .output()
        .unwrap()
}

/// Every `arn:` in `text` is in `partition`.
fn assert_arns_in(text: &str, partition: &str, what: &str) {
    let mut n = 0;
    for (i, _) in text.match_indices("arn:") {
        let rest = &text[i + 4..];
        let part: String = rest.chars().take_while(|c| *c != ':').collect();
        // Skip prose such as "arn:PARTITION:…" placeholders.
        if part.chars().all(|c| c.is_ascii_lowercase() || c == '-') && part.starts_with("aws") {
            assert_eq!(
                part,
                partition,
                "{what}: an ARN of another partition at …{}",
                &text[i..(i + 60).min(text.len())]
            );
            n += 1;
        }
    }
    assert!(n > 0, "{what} holds no ARN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn govcloud_and_eusc_estates_scan_fix_and_restore_in_their_partition() {
    for (partition, home) in [("aws-us-gov", "us-gov-west-1"), ("aws-eusc", "eusc-de-east-1")] {
        let sim = sim_in(partition).await;
        let dir = tempfile::tempdir().unwrap();
        let run = |args: &[&str]| guardkey(&sim, home, dir.path(), args);

        // Scan: the partition's regions by default, every ARN in the partition.
        let out = run(&["scan", "--format", "json"]);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{partition}: {}",
            said(&out)
        );
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let regions: Vec<&str> = report["regions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["region"].as_str().unwrap())
            .collect();
        assert_eq!(regions, guardkey::regions::regions_of(partition).unwrap());
        assert!(
            report["caller"]["arn"]
                .as_str()
                .unwrap()
                .starts_with(&format!("arn:{partition}:iam::"))
        );
        assert_arns_in(&String::from_utf8_lossy(&out.stdout), partition, "scan JSON");
        for format in ["sarif", "ocsf"] {
            let out = run(&["scan", "--format", format]);
            assert_arns_in(&String::from_utf8_lossy(&out.stdout), partition, format);
        }

        // A region of another partition is refused before any call.
        let out = run(&["scan", "--regions", "us-east-1"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            said(&out).contains(&format!("credentials are in {partition}")),
            "{}",
            said(&out)
        );

        // A principal of another partition is refused before anything is written.
        let out = run(&[
            "fix",
            "--filter",
            "key:none",
            "--create-key",
            "--alias",
            "alias/elsewhere",
            "--user",
            "arn:aws:iam::123456789012:role/ChatApp",
            "--yes",
        ]);
        assert_eq!(out.status.code(), Some(2), "{}", said(&out));
        assert!(said(&out).contains("is in partition aws"), "{}", said(&out));

        // Fix with a new key: its policy, the CLI script and Terraform in the partition.
        let script = dir.path().join("fix.sh");
        let tf = dir.path().join("keys.tf");
        let out = run(&[
            "fix",
            "--filter",
            "key:none",
            "--create-key",
            "--alias",
            "alias/sovereign",
            "--emit-cli",
            script.to_str().unwrap(),
            "--emit-terraform",
            tf.to_str().unwrap(),
            "--yes",
        ]);
        let text = said(&out);
        assert_eq!(out.status.code(), Some(0), "{partition}: {text}");
        assert!(text.contains("skipped, 0 failed"), "{text}");
        assert_arns_in(
            &std::fs::read_to_string(&script).unwrap(),
            partition,
            "the AWS CLI script",
        );
        assert_arns_in(&std::fs::read_to_string(&tf).unwrap(), partition, "Terraform");
        let journal = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("fix-"))
            .unwrap();
        let journaled = std::fs::read_to_string(&journal).unwrap();
        assert_arns_in(&journaled, partition, "the journal");
        let created: Value = journaled
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .find(|e| e["event"] == "key-created")
            .unwrap();
        assert!(
            created["key_arn"]
                .as_str()
                .unwrap()
                .starts_with(&format!("arn:{partition}:kms:"))
        );

        // Fix with an existing key of the partition.
        let out = run(&[
            "fix",
            "--filter",
            "posture:key-disabled",
            "--key",
            "alias/bedrock-guardrails",
            "--yes",
        ]);
        assert_eq!(out.status.code(), Some(0), "{partition}: {}", said(&out));

        // Restore the first fix, narrowed to a region of the journal's partition.
        let out = run(&["restore", journal.to_str().unwrap(), "--regions", home]);
        assert_eq!(out.status.code(), Some(0), "{partition}: {}", said(&out));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_is_its_own_world() {
    let sim = sim_in("aws-us-gov").await;
    // The GovCloud credentials are unknown in a commercial region, as at AWS.
    let (status, head, _) = signed_raw(&sim, "GET", "/guardrails", "us-east-1", "bedrock", &[], "").await;
    assert_eq!(status, 403);
    assert!(head.contains("unrecognizedclientexception"), "{head}");
    // KMS refuses a key policy naming a principal of another partition.
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws-us-gov:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:Decrypt", "Resource": "*"}
    ]});
    let body = serde_json::json!({"Policy": policy.to_string()}).to_string();
    let (status, _, body) = signed_raw(
        &sim,
        "POST",
        "/",
        "us-gov-west-1",
        "kms",
        &[
            ("x-amz-target", "TrentService.CreateKey"),
            ("content-type", "application/x-amz-json-1.1"),
        ],
        &body,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("MalformedPolicyDocumentException") && body.contains("invalid principals"),
        "{body}"
    );
    // The demo estate is commercial: asked for elsewhere, the simulator says so.
    let err = guardkey::sim::Simulator::new(SimConfig {
        seed: Seed::Demo,
        partition: "aws-us-gov".into(),
        ..SimConfig::default()
    })
    .err()
    .unwrap();
    assert!(err.to_string().contains("generated:2:N"), "{err}");
}
