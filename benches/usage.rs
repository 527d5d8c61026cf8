//! Who uses the guardrails, at scale: an account with 5,000 IAM roles, 200 agents and 1,000
//! guardrails, against the embedded simulator. Reports the time to read every source
//! (GetAccountAuthorizationDetails paged, agents and their versions, flows, key policies)
//! and to match them, the matching alone (criterion), and the memory.
//!
//!     cargo bench --bench usage

mod common;
use common::rss_mib;

use std::time::{Duration, Instant};

use criterion::Criterion;
use guardkey::commands::sim_session_at;
use guardkey::scan::usage::{ask_iam_simulator_for, attach, read_sources};
use guardkey::scan::{ScanOptions, collect};
use guardkey::sim::agents::{Agent, Flow, GuardrailRef, prompt_flow_definition};
use guardkey::sim::{Seed, SimConfig, Simulator};
use serde_json::json;

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
const ROLES: usize = 5_000;
const AGENTS: usize = 200;
const FLOWS: usize = 50;
const GUARDRAILS: usize = 1_000;

/// 5,000 roles as an account has them: most for other services, some allowed to apply two
/// guardrails by ARN, some with kms:Decrypt through Bedrock, a few with every guardrail of
/// the region by pattern, and a handful of administrators.
fn populate(sim: &Simulator) {
    sim.with_world(|w| {
        let ids: Vec<String> = w
            .region(ACCOUNT, REGION)
            .expect("the generated region")
            .guardrails
            .keys()
            .cloned()
            .collect();
        let arn = |i: usize| format!("arn:aws:bedrock:{REGION}:{ACCOUNT}:guardrail/{}", ids[i % ids.len()]);
        for i in 0..ROLES {
            let name = format!("app-role-{i:05}");
            if i % 1000 == 999 {
                w.iam.add_assumable_role("aws", ACCOUNT, &name, vec![], None);
                continue;
            }
            w.iam.add_role("aws", ACCOUNT, "/apps/", &name);
            let policy = match i % 10 {
                0 if i % 100 == 0 => json!({"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "bedrock:ApplyGuardrail",
                     "Resource": format!("arn:aws:bedrock:{REGION}:{ACCOUNT}:guardrail/*")},
                    {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
                     "Condition": {"StringLike": {"kms:ViaService": "bedrock.*.amazonaws.com"}}}]}),
                1 => json!({"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": ["bedrock:ApplyGuardrail", "bedrock:InvokeModel"],
                     "Resource": [arn(i), arn(i * 7 + 3)]}]}),
                2 => json!({"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
                     "Condition": {"StringEquals": {"kms:ViaService": format!("bedrock.{REGION}.amazonaws.com")}}}]}),
                _ => json!({"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                     "Resource": format!("arn:aws:s3:::bucket-{i}/*")},
                    {"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}),
            };
            w.iam.set_role_policy(ACCOUNT, &name, policy);
        }
        let now = time::OffsetDateTime::now_utc();
        let region = w.region_mut(ACCOUNT, REGION);
        for i in 0..AGENTS {
            let id = format!("AGENT{i:05}");
            region.agents.insert(
                id.clone(),
                Agent {
                    id,
                    name: format!("agent-{i}"),
                    role_arn: format!("arn:aws:iam::{ACCOUNT}:role/apps/app-role-{:05}", (i * 13) % ROLES),
                    guardrail: Some(GuardrailRef {
                        identifier: ids[(i * 5) % ids.len()].clone(),
                        version: "DRAFT".into(),
                    }),
                    versions: Vec::new(),
                    created_at: now,
                },
            );
        }
        for i in 0..FLOWS {
            let id = format!("FLOW{i:06}");
            region.flows.insert(
                id.clone(),
                Flow {
                    arn: format!("arn:aws:bedrock:{REGION}:{ACCOUNT}:flow/{id}"),
                    id,
                    name: format!("flow-{i}"),
                    role_arn: format!("arn:aws:iam::{ACCOUNT}:role/apps/app-role-{:05}", (i * 17) % ROLES),
                    definition: prompt_flow_definition(&GuardrailRef {
                        identifier: format!("arn:aws:bedrock:{REGION}:{ACCOUNT}:guardrail/{}", ids[(i * 11) % ids.len()]),
                        version: "DRAFT".into(),
                    }),
                    created_at: now,
                },
            );
        }
    });
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt.block_on(async {
        Simulator::new(SimConfig {
            seed: Seed::Generated {
                regions: 1,
                per_region: GUARDRAILS,
            },
            ..SimConfig::default()
        })
        .expect("simulator")
        .serve_loopback()
        .await
        .expect("listen")
    });
    populate(&sim.sim);
    let (session, mut guardrails) = rt.block_on(async {
        let session = sim_session_at(&sim.endpoint(), true).await;
        let scan = collect(
            session.clone(),
            ScanOptions {
                regions: vec![REGION.into()],
                ..ScanOptions::default()
            },
            |_| {},
        )
        .await;
        (session, scan.guardrails)
    });
    assert_eq!(guardrails.len(), GUARDRAILS);
    let before = rss_mib();
    let started = Instant::now();
    let sources = rt.block_on(read_sources(&session, &session, "aws", ACCOUNT, &guardrails));
    let read = started.elapsed();
    let matched = Instant::now();
    attach(&sources, &mut guardrails);
    let matching = matched.elapsed();
    let users: usize = guardrails
        .iter()
        .filter_map(|g| g.usage.as_ref())
        .map(|u| u.users.len())
        .sum();
    let principals = sources.iam.as_ref().as_ref().map_or(0, |i| i.principals.len());
    assert!(principals >= ROLES, "{principals} principals read");
    let calls = sim.sim.calls();
    println!(
        "usage/end_to_end: {ROLES} roles, {AGENTS} agents, {FLOWS} flows, {GUARDRAILS} guardrails: \
         sources read in {:.2} s ({} GetAccountAuthorizationDetails pages, {} ListAgentVersions, {} GetFlow), \
         matched in {:.1} ms, {users} users found; resident {:.1} MiB (+{:.1} MiB for sources and usage)",
        read.as_secs_f64(),
        calls
            .get("iam:GetAccountAuthorizationDetails")
            .copied()
            .unwrap_or(0),
        calls.get("bedrock:ListAgentVersions").copied().unwrap_or(0),
        calls.get("bedrock:GetFlow").copied().unwrap_or(0),
        matching.as_secs_f64() * 1000.0,
        rss_mib(),
        rss_mib() - before,
    );
    // IAM's policy simulator for 1,000 users, each on every customer managed key of the
    // region: one SimulatePrincipalPolicy call per user (its keys in one call), 8 in flight.
    let keys: Vec<String> = sim.sim.with_world(|w| {
        w.region(ACCOUNT, REGION)
            .map(|r| r.keys.values().map(|k| k.arn.clone()).collect())
            .unwrap_or_default()
    });
    let uses: Vec<(String, String, String)> = (0..1_001)
        .filter(|i| i % 1000 != 999)
        .take(1_000)
        .flat_map(|i| {
            let principal = format!("arn:aws:iam::{ACCOUNT}:role/apps/app-role-{i:05}");
            keys.iter()
                .map(move |k| (principal.clone(), REGION.to_string(), k.clone()))
        })
        .collect();
    let before_calls = sim
        .sim
        .calls()
        .get("iam:SimulatePrincipalPolicy")
        .copied()
        .unwrap_or(0);
    let asked = Instant::now();
    let iam = sources.iam.as_ref().as_ref().expect("IAM read");
    let answers = rt.block_on(ask_iam_simulator_for(&session, iam, uses));
    let asking = asked.elapsed();
    let simulate_calls = sim
        .sim
        .calls()
        .get("iam:SimulatePrincipalPolicy")
        .copied()
        .unwrap_or(0)
        - before_calls;
    assert_eq!(
        answers.len(),
        1_000 * keys.len(),
        "every user asked about every key"
    );
    println!(
        "usage/iam_simulator: {} answers ({} users x {} keys) in {:.2} s, {simulate_calls} SimulatePrincipalPolicy calls",
        answers.len(),
        answers.len() / keys.len().max(1),
        keys.len(),
        asking.as_secs_f64(),
    );
    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(20)
        .measurement_time(Duration::from_secs(5));
    c.bench_function("usage/match_5000_roles_1000_guardrails", |b| {
        b.iter(|| {
            let mut rows = guardrails.clone();
            attach(&sources, &mut rows);
            rows
        })
    });
    c.final_summary();
}
