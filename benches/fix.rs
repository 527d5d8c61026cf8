//! The remediation engine under a write quota: 500 guardrails in one region, UpdateGuardrail
//! limited to 5 requests per second, against `guardkey sim` as its own process. Reports the
//! wall time against the limit the quota sets, and checks that no setting was lost.
//!
//!     cargo bench --bench fix

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use guardkey::commands::sim_session_at;
use guardkey::fix::apply::{ApplyOptions, OutcomeKind, apply};
use guardkey::fix::journal::Journal;
use guardkey::fix::plan::{FixPlan, KeyChoice, NewKey, RegionPlan, Target};

const GUARDRAILS: usize = 500;
const QUOTA: f64 = 5.0;

fn main() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_guardkey"))
        .args([
            "sim",
            "--port",
            "0",
            "--seed",
            &format!("generated:1:{GUARDRAILS}"),
        ])
        .args([
            "--quota",
            &format!("UpdateGuardrail={QUOTA}"),
            "--settle-ms",
            "300",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start guardkey sim");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    stdout.read_line(&mut banner).unwrap();
    let endpoint = banner
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_string();
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
            regions: vec![RegionPlan {
                region: "us-east-1".into(),
                key: KeyChoice::Create(NewKey {
                    alias: "alias/bench".into(),
                    description: "bench".into(),
                    policy: guardkey::sim::kms::default_policy("123456789012"),
                    tags: Vec::new(),
                    rotation_days: Some(365),
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
    let _ = child.kill();
    let _ = child.wait();
}
