//! Remediation against the simulator with the real SDK: the happy path in several regions,
//! and every way it can go wrong, each leaving no setting lost.
//!
//! (Long: each test is one scenario end to end against the simulator.)

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use guardkey::aws::Session;
use guardkey::fix::apply::{ApplyOptions, OutcomeKind, apply, check_existing_key};
use guardkey::fix::journal::{Entry, Journal, SCHEMA, now};
use guardkey::fix::plan::{FixPlan, KeyChoice, NewKey, RegionPlan, Target};
use guardkey::model::config::GuardrailConfig;
use guardkey::sim::{RunningSim, SIM_ACCESS_KEY_ID, SIM_SECRET_ACCESS_KEY};

async fn demo() -> RunningSim {
    start_demo(30).await
}

async fn session(sim: &RunningSim) -> Session {
    guardkey::commands::sim_session(sim, false).await
}

/// Every guardrail of a region with its whole DRAFT.
async fn drafts(session: &Session, region: &str) -> Vec<(String, GuardrailConfig)> {
    let bedrock = session.bedrock(region);
    let (page, _) = session
        .list_guardrails_page(&bedrock, None, None, 1000)
        .await
        .unwrap();
    let mut out = Vec::new();
    for g in page {
        let d = session.read_guardrail(&bedrock, &g.arn, None).await.unwrap();
        out.push((g.arn, d.config));
    }
    out
}

/// The guardkey binary against the simulator, with its credentials.
fn guardkey(sim: &RunningSim, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_guardkey"))
        .args(args)
        .args(["--endpoint-url", &sim.endpoint()])
        .env("AWS_ACCESS_KEY_ID", SIM_ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SIM_SECRET_ACCESS_KEY)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .output()
        .unwrap()
}

fn new_key(alias: &str) -> KeyChoice {
    KeyChoice::Create(NewKey {
        alias: alias.into(),
        description: "test key".into(),
        policy: guardkey::sim::kms::default_policy("123456789012"),
        tags: vec![("managed-by".into(), "guardkey".into())],
        rotation_days: Some(365),
        multi_region: Default::default(),
    })
}

fn plan(region: &str, key: KeyChoice, targets: &[(String, GuardrailConfig)]) -> FixPlan {
    FixPlan {
        account: "123456789012".into(),
        publish_version: false,
        usage: Default::default(),
        held: Vec::new(),
        allow_lockout: false,
        notes: Vec::new(),
        regions: vec![RegionPlan {
            region: region.into(),
            key,
            targets: targets
                .iter()
                .map(|(arn, c)| Target {
                    arn: arn.clone(),
                    id: arn.rsplit('/').next().unwrap().into(),
                    name: c.name.clone(),
                    current_key: c.kms_key_arn.clone(),
                    config: Some(c.clone()),
                })
                .collect(),
        }],
    }
}

fn aws_owned(list: Vec<(String, GuardrailConfig)>) -> Vec<(String, GuardrailConfig)> {
    list.into_iter()
        .filter(|(_, c)| c.kms_key_arn.is_none())
        .collect()
}

fn options() -> ApplyOptions {
    ApplyOptions {
        ready_timeout: Duration::from_secs(20),
        caller_arn: "arn:aws:iam::123456789012:user/guardkey-admin".into(),
        ..ApplyOptions::default()
    }
}

fn journal() -> (tempfile::TempDir, Journal) {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::create(dir.path(), "fix").unwrap();
    (dir, j)
}

/// After a fix: each guardrail is on `key`, or untouched, and no setting changed either way.
async fn assert_nothing_lost(session: &Session, region: &str, before: &[(String, GuardrailConfig)]) {
    let after = drafts(session, region).await;
    for (arn, b) in before {
        let (_, a) = after
            .iter()
            .find(|(x, _)| x == arn)
            .unwrap_or_else(|| panic!("{arn} vanished"));
        assert_eq!(a.differences_besides_key(b), Vec::<&str>::new(), "{}", b.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_fixes_two_regions_and_restore_undoes_it() {
    let sim = demo().await;
    let s = session(&sim).await;
    let before_use1 = drafts(&s, "us-east-1").await;
    let before_usw2 = drafts(&s, "us-west-2").await;
    let dir = tempfile::tempdir().unwrap();
    let journal_dir = dir.path().to_str().unwrap().to_string();
    let run = |args: &[&str]| guardkey(&sim, &[args, &["--journal-dir", &journal_dir]].concat());
    let out = run(&[
        "fix",
        "--regions",
        "us-east-1,us-west-2",
        "--filter",
        "key:none",
        "--create-key",
        "--alias",
        "alias/gk-test",
        "--yes",
        "--publish-version",
        // The demo's onboarding-assistant is FAILED before the fix: rewritten too, on request.
        "--include-failed",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = aws_owned(before_use1.clone()).len() + aws_owned(before_usw2.clone()).len();
    assert!(
        stdout.contains(&format!("{expected} fixed, 0 skipped, 0 failed")),
        "{stdout}"
    );
    assert_nothing_lost(&s, "us-east-1", &before_use1).await;
    assert_nothing_lost(&s, "us-west-2", &before_usw2).await;
    // Every guardrail that was on the AWS-owned key is now on the new key, in its region.
    for region in ["us-east-1", "us-west-2"] {
        let key = check_existing_key(&s, region, "123456789012", "alias/gk-test")
            .await
            .unwrap();
        let fixed = drafts(&s, region)
            .await
            .into_iter()
            .filter(|(_, c)| c.kms_key_arn.as_deref() == Some(key.as_str()))
            .count();
        let was_owned = if region == "us-east-1" {
            aws_owned(before_use1.clone()).len()
        } else {
            aws_owned(before_usw2.clone()).len()
        };
        assert_eq!(fixed, was_owned, "{region}");
        let rotation = s.key_rotation(&s.kms(region), &key).await.unwrap();
        assert_eq!(
            rotation,
            guardkey::model::Rotation::Enabled {
                period_days: Some(365)
            }
        );
    }
    let journal_path = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Journal: "))
        .unwrap()
        .to_string();
    let entries = Journal::read(std::path::Path::new(&journal_path)).unwrap();
    assert_eq!(Journal::pre_images(&entries).len(), expected);
    assert_eq!(
        entries
            .iter()
            .filter(|e| matches!(e, Entry::Verified { version: Some(_), .. }))
            .count(),
        expected
    );

    // Running it again changes nothing: every guardrail is on the key already.
    let again = run(&[
        "fix",
        "--regions",
        "us-east-1",
        "--filter",
        "key:gk-test",
        "--key",
        "alias/gk-test",
        "--yes",
        // They pass now: left out unless asked, and asked here to prove the rerun is a no-op.
        "--include-compliant",
    ]);
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("already on"),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );

    // Restore: back to the AWS-owned key, everything else as it was.
    let out = run(&["restore", &journal_path]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let after = drafts(&s, "us-east-1").await;
    for (arn, b) in &before_use1 {
        let (_, a) = after.iter().find(|(x, _)| x == arn).unwrap();
        assert_eq!(a, b, "{} is exactly as before the fix", b.name);
    }
}

#[tokio::test]
async fn throttled_updates_are_absorbed() {
    let sim = demo().await;
    sim.sim
        .set_faults(|f| f.quotas.push("UpdateGuardrail@us-east-1=3".parse().unwrap()));
    let s = session(&sim).await;
    let before = aws_owned(drafts(&s, "us-east-1").await);
    let (_dir, j) = journal();
    let report = apply(
        &s,
        &plan("us-east-1", new_key("alias/throttled"), &before),
        &j,
        &options(),
        &|_| {},
    )
    .await;
    assert_eq!(report.failed(), 0, "{}", report.summary());
    assert_eq!(report.outcomes.len(), before.len());
    assert_nothing_lost(&s, "us-east-1", &before).await;
}

#[tokio::test]
async fn a_failing_guardrail_never_stops_the_others() {
    let sim = demo().await;
    let s = session(&sim).await;
    let before = aws_owned(drafts(&s, "us-east-1").await);
    // Enough server errors to outlast one guardrail's retries (8 attempts), no more.
    sim.sim.fail_next("UpdateGuardrail", Some("us-east-1"), 8);
    let (_dir, j) = journal();
    let mut opts = options();
    opts.concurrency = 1;
    // Every guardrail, the demo's FAILED one too.
    opts.include_failed = true;
    let report = apply(
        &s,
        &plan("us-east-1", new_key("alias/flaky"), &before),
        &j,
        &opts,
        &|_| {},
    )
    .await;
    let failed: Vec<_> = report
        .outcomes
        .iter()
        .filter(|o| matches!(o.kind, OutcomeKind::Failed { .. }))
        .collect();
    assert_eq!(failed.len(), 1, "{}", report.summary());
    assert!(
        matches!(&failed[0].kind, OutcomeKind::Failed { error, restored: true } if error.contains("InternalServerException"))
    );
    assert_eq!(
        report.outcomes.len() - 1,
        report
            .outcomes
            .iter()
            .filter(|o| matches!(o.kind, OutcomeKind::Fixed { .. }))
            .count()
    );
    assert_nothing_lost(&s, "us-east-1", &before).await;
}

#[tokio::test]
async fn a_denied_create_key_changes_nothing() {
    let sim = demo().await;
    sim.sim
        .set_faults(|f| f.denials.push("kms:CreateKey".parse().unwrap()));
    let s = session(&sim).await;
    let before = drafts(&s, "us-east-1").await;
    let (_dir, j) = journal();
    let report = apply(
        &s,
        &plan("us-east-1", new_key("alias/denied"), &aws_owned(before.clone())),
        &j,
        &options(),
        &|_| {},
    )
    .await;
    assert!(
        report
            .outcomes
            .iter()
            .all(|o| matches!(&o.kind, OutcomeKind::Failed { error, .. } if error.contains("kms:CreateKey")))
    );
    assert_eq!(drafts(&s, "us-east-1").await, before, "nothing was written");
}

#[tokio::test]
async fn a_key_disabled_mid_run_fails_safely() {
    let sim = demo().await;
    let s = session(&sim).await;
    let kms = s.kms("us-east-1");
    let key = s
        .create_key(
            &kms,
            &guardkey::sim::kms::default_policy("123456789012"),
            "soon disabled",
            &[],
            false,
        )
        .await
        .unwrap();
    let checked = check_existing_key(&s, "us-east-1", "123456789012", &key.arn)
        .await
        .unwrap();
    let before = aws_owned(drafts(&s, "us-east-1").await);
    // Between the plan (key checked) and the apply, someone disables the key.
    let sdk = sdk_config(&sim).await;
    common::kms(&sdk, "us-east-1")
        .disable_key()
        .key_id(&key.arn)
        .send()
        .await
        .unwrap();
    let (_dir, j) = journal();
    let report = apply(
        &s,
        &plan("us-east-1", KeyChoice::Existing(checked), &before),
        &j,
        &options(),
        &|_| {},
    )
    .await;
    assert!(
        report
            .outcomes
            .iter()
            .all(|o| matches!(o.kind, OutcomeKind::Failed { .. })),
        "{}",
        report.summary()
    );
    let after = drafts(&s, "us-east-1").await;
    for (arn, b) in &before {
        assert_eq!(after.iter().find(|(x, _)| x == arn).unwrap().1, *b);
    }
}

#[tokio::test]
async fn a_change_between_plan_and_apply_is_kept() {
    let sim = demo().await;
    let s = session(&sim).await;
    let before = aws_owned(drafts(&s, "us-east-1").await);
    let (arn, config) = before
        .iter()
        .find(|(_, c)| c.word_policy.is_some())
        .unwrap()
        .clone();
    let p = plan(
        "us-east-1",
        new_key("alias/changed"),
        &[(arn.clone(), config.clone())],
    );
    // Someone adds a word after the plan was made.
    let mut changed = config.clone();
    changed
        .word_policy
        .as_mut()
        .unwrap()
        .words
        .push(guardkey::model::config::Word {
            text: "added-later".into(),
            directions: Default::default(),
        });
    let bedrock = s.bedrock("us-east-1");
    s.write_guardrail(&bedrock, &arn, &changed, None).await.unwrap();
    let (_dir, j) = journal();
    let report = apply(&s, &p, &j, &options(), &|_| {}).await;
    assert_eq!(report.failed(), 0, "{}", report.summary());
    let after = s.read_guardrail(&bedrock, &arn, None).await.unwrap();
    assert!(after.config.kms_key_arn.is_some());
    assert_eq!(
        after.config.differences_besides_key(&changed),
        Vec::<&str>::new(),
        "the later change survives"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_the_journal_write_is_recovered_by_restore() {
    let sim = demo().await;
    let s = session(&sim).await;
    let bedrock = s.bedrock("us-east-1");
    let (arn, pre) = aws_owned(drafts(&s, "us-east-1").await)
        .into_iter()
        .find(|(_, c)| c.topic_policy.is_some())
        .unwrap();
    let key = s
        .create_key(
            &s.kms("us-east-1"),
            &guardkey::sim::kms::default_policy("123456789012"),
            "k",
            &[],
            false,
        )
        .await
        .unwrap();
    // The journal says what was about to happen; then the write goes wrong (a lossy,
    // partial configuration) and the process dies before it can verify or restore.
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::create(dir.path(), "fix").unwrap();
    j.append(&Entry::Started {
        schema: SCHEMA.into(),
        at: now(),
        account: "123456789012".into(),
        caller: "x".into(),
        guardkey_version: "t".into(),
        reach: None,
    })
    .unwrap();
    j.append(&Entry::pre_image(
        "us-east-1",
        &arn,
        &pre,
        Some(&key.arn),
        pre.update_request(&arn, Some(&key.arn)),
    ))
    .unwrap();
    let mut lossy = pre.clone();
    lossy.topic_policy = None;
    s.write_guardrail(&bedrock, &arn, &lossy, Some(&key.arn))
        .await
        .unwrap();
    drop(j);
    let journal_path = std::fs::read_dir(dir.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let restore = |force: bool| {
        let mut args = vec![
            "restore",
            journal_path.to_str().unwrap(),
            "--journal-dir",
            dir.path().to_str().unwrap(),
        ];
        if force {
            args.push("--force");
        }
        guardkey(&sim, &args)
    };
    // The DRAFT is not what the journal says the fix sent (the topic policy is gone): a
    // restore does not overwrite what it cannot account for unless told to.
    let out = restore(false);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        said.contains("skipped: changed since the fix (topicPolicy"),
        "{said}"
    );
    assert!(said.contains("--force"), "{said}");
    let out = restore(true);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let now_config = s.read_guardrail(&bedrock, &arn, None).await.unwrap().config;
    assert_eq!(now_config, pre, "the topic policy and the AWS-owned key are back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fix_refuses_read_only_and_a_taken_alias_before_writing() {
    let sim = demo().await;
    let run = |args: &[&str]| guardkey(&sim, args);
    let out = run(&[
        "--read-only",
        "fix",
        "--filter",
        "key:none",
        "--create-key",
        "--yes",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(sim.sim.request_count(), 0, "refused before any call");
    let out = run(&[
        "fix",
        "--regions",
        "us-east-1",
        "--filter",
        "key:none",
        "--create-key",
        "--yes",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("alias/bedrock-guardrails already exists in us-east-1 and points to arn:aws:kms:us-east-1:123456789012:key/"), "{err}");
    assert!(err.contains("--key alias/bedrock-guardrails"), "{err}");
    let out = run(&[
        "fix",
        "--regions",
        "us-east-1",
        "--filter",
        "key:none",
        "--create-key",
        "--alias",
        "alias/new",
    ]);
    assert_eq!(out.status.code(), Some(2), "neither --yes nor --dry-run");
    assert!(String::from_utf8_lossy(&out.stderr).contains("add --yes"));
    let calls = sim.sim.calls();
    assert!(
        calls
            .keys()
            .all(|op| !op.contains("Update") && !op.contains("Create")),
        "{calls:?}"
    );
}
