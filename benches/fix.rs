//! The remediation engine against `guardkey sim` as its own process:
//!
//! - under a write quota: 500 guardrails in one region, UpdateGuardrail limited to 5 requests
//!   per second: the wall time against the limit the quota sets, and no setting lost;
//! - across an organization: `guardkey fix --org` of 20 accounts × 2 regions, 50 ms latency,
//!   UpdateGuardrail 5/s per account and region, accounts one at a time and all at once.
//!
//!     cargo bench --bench fix            (both; `-- organization` for the second alone)

mod common;
use common::SimProcess;

use std::process::Command;
use std::time::{Duration, Instant};

use guardkey::commands::sim_session_at;
use guardkey::fix::apply::{ApplyOptions, OutcomeKind, apply};
use guardkey::fix::journal::Journal;
use guardkey::fix::plan::{FixPlan, KeyChoice, NewKey, RegionPlan, Target};

const GUARDRAILS: usize = 500;
const QUOTA: f64 = 5.0;

fn main() {
    if !std::env::args().any(|a| a == "organization") {
        quota_bound();
    }
    organization();
}

fn quota_bound() {
    let sim = SimProcess::start(&[
        "--seed",
        &format!("generated:1:{GUARDRAILS}"),
        "--quota",
        &format!("UpdateGuardrail={QUOTA}"),
        "--settle-ms",
        "300",
    ]);
    let endpoint = sim.endpoint.clone();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let session = sim_session_at(&endpoint, false).await;
        let bedrock = session.bedrock("us-east-1");
        let mut targets = Vec::new();
        let mut token = None;
        loop {
            let (page, next) = session
                .list_guardrails_page(&bedrock, None, token, 1000)
                .await
                .unwrap();
            for g in page {
                let d = session.read_guardrail(&bedrock, &g.arn, None).await.unwrap();
                targets.push((g.arn.clone(), d.config));
            }
            match next {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        assert_eq!(targets.len(), GUARDRAILS);
        let plan = FixPlan {
            account: "123456789012".into(),
            publish_version: false,
            usage: Default::default(),
            held: Vec::new(),
            allow_lockout: false,
            notes: Vec::new(),
            regions: vec![RegionPlan {
                region: "us-east-1".into(),
                key: KeyChoice::Create(NewKey {
                    alias: "alias/bench".into(),
                    description: "bench".into(),
                    policy: guardkey::sim::kms::default_policy("123456789012"),
                    tags: Vec::new(),
                    rotation_days: Some(365),
                    multi_region: Default::default(),
                }),
                targets: targets
                    .iter()
                    .map(|(arn, c)| Target {
                        arn: arn.clone(),
                        id: arn.rsplit('/').next().unwrap().into(),
                        name: c.name.clone(),
                        current_key: c.kms_key_arn.clone(),
                        config: None,
                    })
                    .collect(),
            }],
        };
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::create(dir.path(), "fix").unwrap();
        let options = ApplyOptions {
            ready_timeout: Duration::from_secs(120),
            ..ApplyOptions::default()
        };
        let started = Instant::now();
        let report = apply(&session, &plan, &journal, &options, &|_| {}).await;
        let wall = started.elapsed().as_secs_f64();
        let writes = report
            .outcomes
            .iter()
            .filter(|o| matches!(o.kind, OutcomeKind::Fixed { .. }))
            .count();
        let limit = writes as f64 / QUOTA;
        let mut lost = 0;
        for (arn, before) in &targets {
            let after = session.read_guardrail(&bedrock, arn, None).await.unwrap();
            lost += after.config.differences_besides_key(before).len();
        }
        println!(
            "fix/quota-bound: {writes} guardrails written under UpdateGuardrail {QUOTA}/s in {wall:.1} s; \
             limit {limit:.1} s, ratio {:.2}; {} failed; settings lost: {lost}",
            wall / limit,
            report.failed()
        );
        // A fast fix that loses a setting or a guardrail is no result worth a figure.
        assert_eq!(lost, 0, "settings lost under the quota");
        assert_eq!(report.failed(), 0, "{}", report.summary());
        assert_eq!(writes, targets.len(), "every guardrail written");
    });
}

/// `guardkey fix --org` of a generated organization, the accounts one at a time
/// (`--account-concurrency 1`, as a fix of many accounts ran before) and all at once.
fn organization() {
    const ACCOUNTS: usize = 20;
    let mut walls = Vec::new();
    for concurrency in [1, 256] {
        // A fresh organization each time: the first run fixes it.
        let sim = SimProcess::start(&[
            "--seed",
            &format!("generated:{ACCOUNTS}:2:10"),
            "--latency-ms",
            "50",
            "--quota",
            &format!("UpdateGuardrail={QUOTA}"),
            "--settle-ms",
            "300",
        ]);
        let journals = tempfile::tempdir().unwrap();
        let started = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_guardkey"))
            .args([
                "fix",
                "--org",
                "--regions",
                "us-east-1,us-west-2",
                "--filter",
                "key:none",
            ])
            .args(["--create-key", "--alias", "alias/bench-org", "--yes"])
            .args(["--account-concurrency", &concurrency.to_string()])
            .args(["--journal-dir", journals.path().to_str().unwrap()])
            .args(["--endpoint-url", &sim.endpoint])
            .env("AWS_ACCESS_KEY_ID", guardkey::sim::SIM_ACCESS_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", guardkey::sim::SIM_SECRET_ACCESS_KEY)
            .env("AWS_REGION", "us-east-1")
            .env_remove("AWS_PROFILE")
            .output()
            .expect("run guardkey fix");
        let wall = started.elapsed().as_secs_f64();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let fixed: usize = text
            .lines()
            .filter_map(|l| l.split(" fixed,").next()?.trim().parse::<usize>().ok())
            .sum();
        let journals = std::fs::read_dir(journals.path()).unwrap().count();
        assert_eq!(journals, ACCOUNTS, "a journal per account");
        println!(
            "fix/organization: {ACCOUNTS} accounts × 2 regions, {fixed} guardrails fixed, \
             --account-concurrency {concurrency}: {wall:.1} s"
        );
        walls.push(wall);
    }
    println!(
        "fix/organization: all accounts at once {:.1}× faster than one at a time",
        walls[0] / walls[1]
    );
}
