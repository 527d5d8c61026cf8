//! Multi-Region keys in the simulator, as KMS has them: CreateKey with MultiRegion, then
//! ReplicateKey into another region of the partition: the same `mrk-` key id, each replica a
//! key of its region with its own policy, DescribeKey's MultiRegionConfiguration naming the
//! primary and the replicas; the errors KMS gives; and the scan, which shows a guardrail on its
//! own region's replica as PASS with the primary and replicas in its key.

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_has_the_same_key_id_its_own_policy_and_is_named_by_the_primary() {
    let sim = start_empty().await;
    let cfg = sdk_config(&sim).await;
    let (use1, euw1) = (kms(&cfg, "us-east-1"), kms(&cfg, "eu-west-1"));
    let primary = use1
        .create_key()
        .multi_region(true)
        .description("Bedrock guardrails")
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    let id = primary.key_id().to_string();
    assert!(id.starts_with("mrk-") && id.len() == 36, "{id}");
    let out = use1
        .replicate_key()
        .key_id(&id)
        .replica_region("eu-west-1")
        .send()
        .await
        .unwrap();
    let replica = out.replica_key_metadata.unwrap();
    assert_eq!(replica.key_id(), id);
    assert_eq!(
        replica.arn().unwrap(),
        format!("arn:aws:kms:eu-west-1:123456789012:key/{id}")
    );
    assert!(
        out.replica_policy.unwrap().contains(":root"),
        "the default policy, its own"
    );
    // DescribeKey in each region: PRIMARY and REPLICA, the same family.
    let described = euw1
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    let config = described.multi_region_configuration().unwrap();
    assert_eq!(config.multi_region_key_type().unwrap().as_str(), "REPLICA");
    assert_eq!(config.primary_key().unwrap().region(), Some("us-east-1"));
    let primary_config = use1
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    let primary_config = primary_config.multi_region_configuration().unwrap();
    assert_eq!(
        primary_config.multi_region_key_type().unwrap().as_str(),
        "PRIMARY"
    );
    assert_eq!(primary_config.replica_keys()[0].region(), Some("eu-west-1"));
    // The errors KMS gives.
    let again = use1
        .replicate_key()
        .key_id(&id)
        .replica_region("eu-west-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&again), "AlreadyExistsException");
    let same = use1
        .replicate_key()
        .key_id(&id)
        .replica_region("us-east-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&same), "ValidationException");
    let other_partition = use1
        .replicate_key()
        .key_id(&id)
        .replica_region("us-gov-west-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&other_partition), "ValidationException");
    let single = use1.create_key().send().await.unwrap().key_metadata.unwrap();
    let refused = use1
        .replicate_key()
        .key_id(single.key_id())
        .replica_region("eu-west-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&refused), "UnsupportedOperationException");
    let from_replica = euw1
        .replicate_key()
        .key_id(&id)
        .replica_region("us-west-2")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&from_replica),
        "UnsupportedOperationException",
        "only the primary replicates"
    );

    // A guardrail of eu-west-1 on its region's replica passes, and its key says whose it is.
    let bedrock = bedrock(&cfg, "eu-west-1");
    let g = bedrock
        .create_guardrail()
        .name("eu-bot")
        .blocked_input_messaging("no")
        .blocked_outputs_messaging("no")
        .kms_key_id(replica.arn().unwrap())
        .content_policy_config(
            aws_sdk_bedrock::types::GuardrailContentPolicyConfig::builder()
                .filters_config(
                    aws_sdk_bedrock::types::GuardrailContentFilterConfig::builder()
                        .r#type(aws_sdk_bedrock::types::GuardrailContentFilterType::Hate)
                        .input_strength(aws_sdk_bedrock::types::GuardrailFilterStrength::High)
                        .output_strength(aws_sdk_bedrock::types::GuardrailFilterStrength::High)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    // Rotation is the primary's to set, and applies to the replicas.
    use1.enable_key_rotation().key_id(&id).send().await.unwrap();
    let on_replica = euw1.enable_key_rotation().key_id(&id).send().await.unwrap_err();
    assert_eq!(code(&on_replica), "UnsupportedOperationException");
    let status = euw1.get_key_rotation_status().key_id(&id).send().await.unwrap();
    assert!(
        status.key_rotation_enabled(),
        "the replica rotates with its primary"
    );
    let session = guardkey::aws::Session::from_sdk_config(cfg.clone(), true);
    let scan = guardkey::scan::collect(
        session,
        guardkey::scan::ScanOptions {
            regions: vec!["eu-west-1".into()],
            ..Default::default()
        },
        |_| {},
    )
    .await;
    let row = scan.guardrails.iter().find(|r| r.id == g.guardrail_id()).unwrap();
    let key = row.key_info().unwrap();
    let family = key.multi_region_key.as_ref().unwrap();
    assert_eq!(family.kind, "REPLICA");
    assert_eq!(family.primary, primary.arn().unwrap());
    assert_eq!(
        row.posture.id.as_str(),
        "customer-managed-key",
        "{:?}",
        row.posture
    );
}

/// `fix --create-key --multi-region --yes` on the demo: one mrk- key, its primary in the
/// plan's first region and a replica in each other, every fixed guardrail on the replica of
/// its own region, every setting kept, the scan PASS, and `restore` puts them back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fix_with_one_multi_region_key_leaves_each_guardrail_on_its_regions_replica() {
    let sim = start_demo(20).await;
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        guardkey_command(
            Some((
                guardkey::sim::SIM_ACCESS_KEY_ID,
                guardkey::sim::SIM_SECRET_ACCESS_KEY,
            )),
            "us-east-1",
        )
        .args(args)
        .args(["--endpoint-url", &sim.endpoint()])
        .env("GUARDKEY_STATE_DIR", dir.path())
        .output()
        .unwrap()
    };
    let regions = "us-west-2,eu-west-2,eu-north-1";
    let before = sim.sim.with_world(|w| {
        let mut out = Vec::new();
        for ((account, region), r) in w.regions().filter(|((a, _), _)| a == DEMO_ACCOUNT) {
            let _ = account;
            for g in r.guardrails.values().filter(|g| g.draft.kms_key_arn.is_none()) {
                out.push((region.clone(), g.id.clone(), g.draft.clone()));
            }
        }
        out
    });
    let out = run(&[
        "fix",
        "--regions",
        regions,
        "--filter",
        "status:fail key:none",
        "--create-key",
        "--multi-region",
        "--primary-region",
        "eu-west-2",
        "--alias",
        "alias/guardrails-mrk",
        "--yes",
    ]);
    let text = said(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let cfg = sdk_config(&sim).await;
    let mut ids = std::collections::BTreeSet::new();
    let mut moved = 0;
    for (region, id, draft) in &before {
        if !regions.split(',').any(|r| r == region) {
            continue;
        }
        let g = bedrock(&cfg, region)
            .get_guardrail()
            .guardrail_identifier(id)
            .send()
            .await
            .unwrap();
        let Some(key) = g.kms_key_arn() else { continue };
        moved += 1;
        assert_eq!(
            key.split(':').nth(3),
            Some(region.as_str()),
            "{id} is on its own region's key: {key}"
        );
        let key_id = key.rsplit('/').next().unwrap().to_string();
        assert!(key_id.starts_with("mrk-"), "{key}");
        ids.insert(key_id);
        // Every setting kept: only the key changed.
        sim.sim.with_world(|w| {
            let now = &w.region("123456789012", region).unwrap().guardrails[id].draft;
            let mut was = draft.clone();
            was.kms_key_arn = now.kms_key_arn.clone();
            assert_eq!(*now, was, "{id}: only the key changes");
        });
    }
    assert!(moved >= 4, "{text}");
    assert_eq!(ids.len(), 1, "one multi-Region key: {ids:?}");
    let id = ids.into_iter().next().unwrap();
    let primary = kms(&cfg, "eu-west-2")
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    let family = primary.multi_region_configuration().unwrap();
    assert_eq!(family.multi_region_key_type().unwrap().as_str(), "PRIMARY");
    let mut replicas: Vec<&str> = family.replica_keys().iter().filter_map(|r| r.region()).collect();
    replicas.sort();
    assert_eq!(replicas, ["eu-north-1", "us-west-2"]);
    // Each region has the alias, and its replica its own policy naming that region's users.
    for region in ["us-west-2", "eu-north-1"] {
        let k = kms(&cfg, region)
            .describe_key()
            .key_id("alias/guardrails-mrk")
            .send()
            .await
            .unwrap();
        assert_eq!(k.key_metadata.unwrap().key_id(), id);
    }
    let rotation = kms(&cfg, "us-west-2")
        .get_key_rotation_status()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    assert!(
        rotation.key_rotation_enabled(),
        "set on the primary, it applies to the replica"
    );
    // The scan calls them PASS.
    let out = run(&["scan", "--regions", regions, "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for g in report["guardrails"].as_array().unwrap() {
        if g["kms_key_arn"].as_str().is_some_and(|k| k.contains(&id)) {
            assert_eq!(g["posture"]["level"], "PASS", "{g}");
        }
    }
    // The script and the Terraform say the same: create-key --multi-region, replicate-key
    // from the primary's region; aws_kms_key with multi_region and aws_kms_replica_key.
    let script = dir.path().join("mrk.sh");
    let tf = dir.path().join("mrk.tf");
    let out = run(&[
        "fix",
        "--regions",
        "us-east-1,ap-northeast-1",
        "--filter",
        "key:none",
        "--create-key",
        "--multi-region",
        "--alias",
        "alias/guardrails-mrk2",
        "--dry-run",
        "--emit-cli",
        script.to_str().unwrap(),
        "--emit-terraform",
        tf.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let script = std::fs::read_to_string(script).unwrap();
    assert!(
        script.contains("aws kms create-key --region us-east-1 --multi-region"),
        "{script}"
    );
    assert!(script.contains("aws kms replicate-key --region us-east-1 --key-id \"$KEY_US_EAST_1\" --replica-region ap-northeast-1"), "{script}");
    let tf = std::fs::read_to_string(tf).unwrap();
    assert!(
        tf.contains("multi_region            = true") && tf.contains("resource \"aws_kms_replica_key\""),
        "{tf}"
    );
    // restore puts every guardrail back, and leaves the keys (it says so).
    let journal = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .unwrap();
    let out = run(&["restore", journal.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    for (region, id, _) in before
        .iter()
        .filter(|(r, _, _)| regions.split(',').any(|x| x == r))
    {
        let g = bedrock(&cfg, region)
            .get_guardrail()
            .guardrail_identifier(id)
            .send()
            .await
            .unwrap();
        assert_eq!(g.kms_key_arn(), None, "{id} is back on the AWS-owned key");
    }
}

/// An existing multi-Region key given by its primary's ARN: each region's guardrails go to
/// that region's replica; a region with no replica is refused before any write, naming the
/// `aws kms replicate-key` command that makes one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_multi_region_key_is_used_through_each_regions_replica() {
    let sim = start_demo(20).await;
    let cfg = sdk_config(&sim).await;
    let primary = kms(&cfg, "us-west-2")
        .create_key()
        .multi_region(true)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    let (id, arn) = (primary.key_id().to_string(), primary.arn().unwrap().to_string());
    kms(&cfg, "us-west-2")
        .replicate_key()
        .key_id(&id)
        .replica_region("eu-west-2")
        .send()
        .await
        .unwrap();
    let run = |regions: &str| {
        guardkey_command(
            Some((
                guardkey::sim::SIM_ACCESS_KEY_ID,
                guardkey::sim::SIM_SECRET_ACCESS_KEY,
            )),
            "us-east-1",
        )
        .args([
            "fix",
            "--regions",
            regions,
            "--filter",
            "status:fail key:none",
            "--key",
            &arn,
            "--yes",
        ])
        .args(["--endpoint-url", &sim.endpoint()])
        .env("GUARDKEY_STATE_DIR", tempfile::tempdir().unwrap().path())
        .output()
        .unwrap()
    };
    let out = run("us-west-2,eu-west-2,eu-north-1");
    let text = said(&out);
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(&format!(
            "aws kms replicate-key --region us-west-2 --key-id {id} --replica-region eu-north-1"
        )),
        "{text}"
    );
    let untouched = sim.sim.with_world(|w| {
        w.regions()
            .filter(|((a, _), _)| a == DEMO_ACCOUNT)
            .flat_map(|(_, r)| r.guardrails.values())
            .all(|g| g.draft.kms_key_arn.as_deref().is_none_or(|k| !k.contains(&id)))
    });
    assert!(untouched, "refused before any write");
    let out = run("us-west-2,eu-west-2");
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    sim.sim.with_world(|w| {
        for region in ["us-west-2", "eu-west-2"] {
            let moved: Vec<&str> = w
                .region(DEMO_ACCOUNT, region)
                .unwrap()
                .guardrails
                .values()
                .filter_map(|g| g.draft.kms_key_arn.as_deref())
                .filter(|k| k.contains(&id))
                .collect();
            assert!(!moved.is_empty(), "{region}");
            assert!(
                moved.iter().all(|k| k.split(':').nth(3) == Some(region)),
                "{moved:?}"
            );
        }
    });
}
