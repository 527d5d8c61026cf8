//! The scanner against the simulator, through the real SDK: every posture, every region
//! fault, throttling storms, read-only sessions, cancellation.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use common::*;
use guardkey::aws::Session;
use guardkey::model::{CallError, Guardrail, Level, PostureId};
use guardkey::scan::{ScanEvent, ScanOptions, ScanResult, collect};
use guardkey::sim::{AfterList, Seed, SimConfig};

async fn session(sim: &guardkey::sim::RunningSim, read_only: bool) -> Session {
    guardkey::commands::sim_session(sim, read_only).await
}

fn options(regions: &[&str]) -> ScanOptions {
    ScanOptions {
        regions: regions.iter().map(|s| s.to_string()).collect(),
        ..ScanOptions::default()
    }
}

fn by_name(result: &ScanResult) -> HashMap<&str, &Guardrail> {
    result.guardrails.iter().map(|g| (g.name.as_str(), g)).collect()
}

const DEMO_REGIONS: &[&str] = &[
    "us-east-1",
    "us-west-2",
    "eu-central-1",
    "eu-west-1",
    "ap-south-1",
    "me-central-1",
    "ap-northeast-1",
];

#[tokio::test]
async fn every_posture_of_the_demo_estate_is_classified_right() {
    let sim = start(SimConfig {
        seed: Seed::Demo,
        ..SimConfig::default()
    })
    .await;
    let mut opts = options(DEMO_REGIONS);
    opts.versions = true;
    let result = collect(session(&sim, true).await, opts, |_| {}).await;
    let rows = by_name(&result);
    for (name, level, id) in [
        ("customer-support-bot", Level::Pass, PostureId::CustomerManagedKey),
        ("claims-assistant", Level::Fail, PostureId::AwsOwnedKey),
        ("legacy-chatbot", Level::Warn, PostureId::KeyRotationDisabled),
        ("fraud-triage", Level::Fail, PostureId::KeyPendingDeletion),
        ("marketing-copy", Level::Fail, PostureId::KeyNotCustomerManaged),
        ("deleted-key-bot", Level::Fail, PostureId::KeyNotFound),
        ("ml-platform-playground", Level::Fail, PostureId::KeyDisabled),
        ("claims-intake", Level::Fail, PostureId::KeyUnavailable),
        ("cross-region-key-bot", Level::Warn, PostureId::KeyInOtherRegion),
        ("shared-security-bot", Level::Warn, PostureId::KeyInOtherAccount),
        ("onboarding-assistant", Level::Fail, PostureId::AwsOwnedKey),
    ] {
        let g = rows.get(name).unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(
            (g.posture.level, g.posture.id),
            (level, id),
            "{name}: {}",
            g.posture.reason
        );
    }
    assert_eq!(
        rows["onboarding-assistant"].status, "FAILED",
        "a FAILED guardrail is classified and its status kept"
    );
    assert!(
        rows["fraud-triage"]
            .posture
            .reason
            .contains("pending deletion on 20")
    );
    let key = rows["customer-support-bot"].key_info().unwrap();
    assert_eq!(key.aliases, ["alias/bedrock-guardrails"]);
    assert_eq!(
        key.rotation,
        guardkey::model::Rotation::Enabled {
            period_days: Some(365)
        }
    );

    // Versions: v1 still on the AWS-owned key, v2 on the DRAFT's key.
    let versions = rows["customer-support-bot"].versions.as_ref().unwrap();
    assert_eq!(versions.len(), 2);
    assert!(versions[0].kms_key_arn.is_none());
    assert_eq!(versions[1].kms_key_arn, rows["customer-support-bot"].kms_key_arn);

    // Region outcomes: denied and not enabled are reported as such, the rest finish.
    let outcome: HashMap<&str, &Option<CallError>> = result
        .regions
        .iter()
        .map(|r| (r.region.as_str(), &r.error))
        .collect();
    assert_eq!(outcome.len(), DEMO_REGIONS.len());
    assert_eq!(outcome["me-central-1"], &Some(CallError::NotEnabled));
    match outcome["ap-south-1"] {
        Some(CallError::AccessDenied { action, .. }) => {
            assert_eq!(action.as_deref(), Some("bedrock:ListGuardrails"))
        }
        other => panic!("ap-south-1: {other:?}"),
    }
    for r in [
        "us-east-1",
        "us-west-2",
        "eu-central-1",
        "eu-west-1",
        "ap-northeast-1",
    ] {
        assert_eq!(outcome[r], &None, "{r}");
    }

    // Each distinct key was described once, however many guardrails use it.
    let calls = sim.sim.calls();
    let keys: HashSet<&str> = result
        .guardrails
        .iter()
        .filter_map(|g| g.kms_key_arn.as_deref())
        .collect();
    assert_eq!(
        calls.get("kms:DescribeKey").copied().unwrap_or(0),
        keys.len() as u64
    );
}

#[tokio::test]
async fn missing_permissions_make_the_posture_unknown_never_a_guess() {
    let sim = start(SimConfig {
        seed: Seed::Demo,
        ..SimConfig::default()
    })
    .await;
    sim.sim.set_faults(|f| {
        f.denials.push("kms:DescribeKey@us-west-2".parse().unwrap());
        f.denials.push("kms:Decrypt@eu-central-1".parse().unwrap());
    });
    let result = collect(
        session(&sim, true).await,
        options(&["us-west-2", "eu-central-1"]),
        |_| {},
    )
    .await;
    let rows = by_name(&result);
    let g = rows["code-review-copilot"];
    assert_eq!(
        (g.posture.level, g.posture.id),
        (Level::Unknown, PostureId::AccessDenied)
    );
    assert!(
        g.posture.reason.contains("kms:DescribeKey"),
        "{}",
        g.posture.reason
    );
    // The AWS-owned guardrail of that region is still a plain FAIL: no key to look up.
    assert_eq!(rows["sales-email-drafts"].posture.id, PostureId::AwsOwnedKey);

    let g = rows["kb-search-rag"];
    assert_eq!(
        (g.posture.level, g.posture.id),
        (Level::Unknown, PostureId::AccessDenied)
    );
    assert!(g.posture.hint.contains("kms:Decrypt"), "{}", g.posture.hint);
    assert!(g.kms_key_arn.is_none() && g.read_error.is_some());
    assert_eq!(rows["betriebsrat-assistant"].posture.id, PostureId::AwsOwnedKey);
}

#[tokio::test]
async fn region_faults_stay_in_their_region() {
    let sim = start(SimConfig {
        seed: Seed::Generated {
            regions: 5,
            per_region: 12,
        },
        ..SimConfig::default()
    })
    .await;
    // us-east-1 hangs, us-west-2 throws 500s at every list, eu-central-1 is throttled hard,
    // eu-west-1 is denied, ap-northeast-1 is healthy.
    sim.sim.set_faults(|f| {
        f.hang_regions.insert("us-east-1".into());
        f.quotas.push("GetGuardrail@eu-central-1=5".parse().unwrap());
        f.denials
            .push("bedrock:ListGuardrails@eu-west-1".parse().unwrap());
    });
    sim.sim.fail_next("ListGuardrails", Some("us-west-2"), 1000);
    let mut opts = options(&[
        "us-east-1",
        "us-west-2",
        "eu-central-1",
        "eu-west-1",
        "ap-northeast-1",
    ]);
    opts.region_deadline = Duration::from_secs(6);
    let session = Session::from_sdk_config(
        {
            let cfg = sdk_config(&sim).await;
            cfg.into_builder()
                .retry_config(
                    aws_config::retry::RetryConfig::adaptive()
                        .with_max_attempts(4)
                        .with_max_backoff(Duration::from_millis(200)),
                )
                .timeout_config(
                    aws_config::timeout::TimeoutConfig::builder()
                        .operation_attempt_timeout(Duration::from_secs(1))
                        .build(),
                )
                .build()
        },
        true,
    );
    let result = collect(session, opts, |_| {}).await;
    let outcome: HashMap<&str, _> = result.regions.iter().map(|r| (r.region.as_str(), r)).collect();
    assert!(
        matches!(outcome["us-east-1"].error, Some(CallError::Timeout)),
        "{:?}",
        outcome["us-east-1"]
    );
    assert!(
        matches!(&outcome["us-west-2"].error, Some(CallError::Other { code, .. }) if code == "InternalServerException"),
        "{:?}",
        outcome["us-west-2"]
    );
    assert!(matches!(
        outcome["eu-west-1"].error,
        Some(CallError::AccessDenied { .. })
    ));
    assert_eq!(outcome["ap-northeast-1"].error, None);
    assert_eq!(outcome["ap-northeast-1"].guardrails, 12);
    // Throttled at 5/s, eu-central-1 still finishes, and no row is lost: a guardrail whose
    // GetGuardrail stayed throttled is reported UNKNOWN, not dropped.
    assert_eq!(
        outcome["eu-central-1"].error, None,
        "{:?}",
        outcome["eu-central-1"]
    );
    let rows = result
        .guardrails
        .iter()
        .filter(|g| &*g.region == "eu-central-1")
        .count();
    assert_eq!(rows, 12);
}

#[tokio::test]
async fn no_row_is_lost_or_duplicated_under_throttling() {
    let sim = start(SimConfig {
        seed: Seed::Generated {
            regions: 3,
            per_region: 80,
        },
        ..SimConfig::default()
    })
    .await;
    sim.sim.set_faults(|f| {
        f.quotas.push("GetGuardrail=40".parse().unwrap());
        f.quotas.push("ListGuardrails=2".parse().unwrap());
        f.quotas.push("kms:DescribeKey=2".parse().unwrap());
    });
    let regions = ["us-east-1", "us-west-2", "eu-central-1"];
    let mut opts = options(&regions);
    opts.page_size = 10;
    opts.concurrency_per_region = 16;
    let mut pages = 0;
    let result = collect(session(&sim, true).await, opts, |e| {
        if let ScanEvent::RegionProgress { .. } = e {
            pages += 1;
        }
    })
    .await;
    assert_eq!(pages, 3 * 8, "every page of 10 is listed once");
    let expected: HashSet<String> = sim.sim.with_world(|w| {
        w.regions()
            .flat_map(|(_, r)| r.guardrails.values().map(|g| g.arn.clone()).collect::<Vec<_>>())
            .collect()
    });
    let seen: Vec<String> = result.guardrails.iter().map(|g| g.arn.clone()).collect();
    let unique: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(seen.len(), unique.len(), "duplicated rows");
    assert_eq!(unique, expected, "lost rows");
    assert!(
        result.regions.iter().all(|r| r.error.is_none()),
        "{:?}",
        result.regions
    );
    let unknown = result
        .guardrails
        .iter()
        .filter(|g| g.posture.level == Level::Unknown)
        .count();
    assert_eq!(unknown, 0, "the adaptive retries got every call through");
}

#[tokio::test]
async fn vanished_guardrails_are_dropped_quietly() {
    let sim = start(SimConfig {
        seed: Seed::Generated {
            regions: 1,
            per_region: 5,
        },
        ..SimConfig::default()
    })
    .await;
    let ids: Vec<String> = sim.sim.with_world(|w| {
        w.region("123456789012", "us-east-1")
            .unwrap()
            .guardrails
            .keys()
            .cloned()
            .collect()
    });
    sim.sim.after_list(&ids[0], AfterList::Vanish);
    sim.sim.after_list(&ids[1], AfterList::Change);
    let result = collect(session(&sim, true).await, options(&["us-east-1"]), |_| {}).await;
    assert_eq!(result.guardrails.len(), 4);
    assert!(result.guardrails.iter().all(|g| g.id != ids[0]));
    assert_eq!(result.regions[0].error, None);
    assert_eq!(result.regions[0].guardrails, 4);
}

#[tokio::test]
async fn read_only_sessions_never_send_a_write() {
    let sim = start(SimConfig {
        seed: Seed::Demo,
        ..SimConfig::default()
    })
    .await;
    let ro = session(&sim, true).await;
    let before = sim.sim.request_count();
    let bedrock = ro.bedrock("us-east-1");
    let config: guardkey::model::config::GuardrailConfig = serde_json::from_value(serde_json::json!({
        "name": "x", "blockedInputMessaging": "a", "blockedOutputsMessaging": "b"
    }))
    .unwrap();
    assert_eq!(
        ro.write_guardrail(&bedrock, "abc", &config, None).await,
        Err(CallError::ReadOnly {
            action: "bedrock:UpdateGuardrail".into()
        })
    );
    let kms = ro.kms("us-east-1");
    let policy = guardkey::sim::kms::default_policy("123456789012");
    assert_eq!(
        ro.create_key(&kms, &policy, "x", &[], false).await.unwrap_err(),
        CallError::ReadOnly {
            action: "kms:CreateKey".into()
        }
    );
    assert!(matches!(
        ro.create_alias(&kms, "alias/x", "k").await,
        Err(CallError::ReadOnly { .. })
    ));
    assert_eq!(
        sim.sim.request_count(),
        before,
        "no refused request reached the simulator"
    );

    // A whole scan in read-only mode makes reads only.
    collect(ro, options(&["us-east-1", "eu-west-1"]), |_| {}).await;
    let calls = sim.sim.calls();
    assert!(!calls.is_empty());
    for op in calls.keys() {
        let name = op.split(':').nth(1).unwrap();
        assert!(
            ["Get", "List", "Describe"].iter().any(|p| name.starts_with(p)),
            "{op} reached the simulator"
        );
    }

    // The same session without read-only does write.
    let rw = session(&sim, false).await;
    rw.create_key(&rw.kms("us-east-1"), &policy, "x", &[], false)
        .await
        .expect("a read-write session writes");
}

#[tokio::test]
async fn events_stream_with_their_generation_and_cancel_promptly() {
    let sim = start(SimConfig {
        seed: Seed::Generated {
            regions: 2,
            per_region: 60,
        },
        ..SimConfig::default()
    })
    .await;
    sim.sim.set_faults(|f| {
        f.hang_regions.insert("us-west-2".into());
    });
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let handle = guardkey::scan::start(
        session(&sim, true).await,
        options(&["us-east-1", "us-west-2"]),
        42,
        tx,
    );
    let mut rows = 0;
    let mut done = Vec::new();
    while let Some(event) = rx.recv().await {
        assert_eq!(event.generation(), 42);
        match event {
            ScanEvent::Rows { rows: r, .. } => rows += r.len(),
            ScanEvent::RegionDone { region, .. } => {
                done.push(region);
                break;
            }
            _ => {}
        }
    }
    assert_eq!(
        done,
        ["us-east-1"],
        "the healthy region finishes while the other hangs"
    );
    assert_eq!(rows, 60);
    handle.cancel();
    // Cancelled: the channel closes without a Finished event from a region that never answered.
    let rest = tokio::time::timeout(Duration::from_secs(10), async {
        let mut rest = Vec::new();
        while let Some(e) = rx.recv().await {
            rest.push(e);
        }
        rest
    })
    .await
    .expect("the scan stops when cancelled");
    assert!(
        rest.iter()
            .all(|e| !matches!(e, ScanEvent::RegionDone { .. } | ScanEvent::Finished { .. })),
        "{rest:?}"
    );
    handle.join().await;
}
