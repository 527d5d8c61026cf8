//! The scanner's speed and size against `guardkey sim` running as its own process:
//!
//! - a quota-bound scan: 20 regions × 250 guardrails, 40 ± 10 ms latency, GetGuardrail
//!   limited to 25/s per region: wall time against the limit the quota sets, and the time to
//!   the first row;
//! - the same audit done the documented way (the AWS CLI, one list and one get per
//!   guardrail) on a subset, as a ratio (when `aws` is on PATH);
//! - peak memory of a scan of 100,000 guardrails;
//! - criterion: guardrails per second of a scan without latency.
//!
//!     cargo bench --bench scan

mod common;
use common::{SimProcess, peak_rss_mib};

use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use guardkey::commands::sim_session_at;
use guardkey::regions::BEDROCK_REGIONS;
use guardkey::scan::{ScanEvent, ScanOptions, collect};

fn regions(n: usize) -> Vec<String> {
    BEDROCK_REGIONS.iter().take(n).map(|s| s.to_string()).collect()
}

/// Runs one scan and returns (wall time, time to the first row, rows).
async fn timed_scan(endpoint: &str, options: ScanOptions) -> (Duration, Duration, usize) {
    let session = sim_session_at(endpoint, true).await;
    let start = Instant::now();
    let mut first_row = None;
    let result = collect(session, options, |e| {
        if first_row.is_none() && matches!(e, ScanEvent::Rows { .. }) {
            first_row = Some(start.elapsed());
        }
    })
    .await;
    (
        start.elapsed(),
        first_row.unwrap_or_default(),
        result.guardrails.len(),
    )
}

fn quota_bound(rt: &tokio::runtime::Runtime) {
    const REGIONS: usize = 20;
    const PER_REGION: usize = 250;
    const QUOTA: f64 = 25.0;
    const PAGE: usize = 100;
    let sim = SimProcess::start(&[
        "--seed",
        &format!("generated:{REGIONS}:{PER_REGION}"),
        "--latency-ms",
        "40",
        "--jitter-ms",
        "10",
        "--quota",
        &format!("GetGuardrail={QUOTA}"),
    ]);
    // The limit: the slowest region's GetGuardrail calls at the quota, plus one round trip
    // per page of ListGuardrails.
    let pages = PER_REGION.div_ceil(PAGE);
    let limit = PER_REGION as f64 / QUOTA + pages as f64 * 0.040;
    let mut runs = Vec::new();
    for _ in 0..3 {
        // Let the quota's buckets fill up again between runs.
        std::thread::sleep(Duration::from_secs(2));
        let options = ScanOptions {
            regions: regions(REGIONS),
            page_size: PAGE as i32,
            ..ScanOptions::default()
        };
        let (wall, first, rows) = rt.block_on(timed_scan(&sim.endpoint, options));
        assert_eq!(rows, REGIONS * PER_REGION);
        runs.push((wall, first));
    }
    runs.sort();
    let (wall, first) = runs[1];
    println!(
        "scan/quota-bound: {} guardrails in {REGIONS} regions, 40±10 ms, GetGuardrail {QUOTA}/s: median {:.2} s \
         (runs {}), limit {limit:.2} s, ratio {:.2}; first row after {} ms",
        REGIONS * PER_REGION,
        wall.as_secs_f64(),
        runs.iter()
            .map(|(w, _)| format!("{:.2}", w.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", "),
        wall.as_secs_f64() / limit,
        first.as_millis()
    );
}

fn against_the_aws_cli(rt: &tokio::runtime::Runtime) {
    const SUBSET: usize = 20;
    if Command::new("aws").arg("--version").output().is_err() {
        println!("scan/vs-aws-cli: skipped, no `aws` on PATH");
        return;
    }
    let sim = SimProcess::start(&[
        "--seed",
        &format!("generated:1:{SUBSET}"),
        "--latency-ms",
        "40",
        "--jitter-ms",
        "10",
    ]);
    let aws = |args: &[&str]| {
        let out = Command::new("aws")
            .args(args)
            .args([
                "--region",
                "us-east-1",
                "--endpoint-url",
                &sim.endpoint,
                "--output",
                "text",
            ])
            .env("AWS_ACCESS_KEY_ID", guardkey::sim::SIM_ACCESS_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", guardkey::sim::SIM_SECRET_ACCESS_KEY)
            .env("AWS_CONFIG_FILE", "/dev/null")
            .output()
            .expect("aws");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let start = Instant::now();
    let arns = aws(&["bedrock", "list-guardrails", "--query", "guardrails[*].arn"]);
    let arns: Vec<&str> = arns.split_whitespace().collect();
    for arn in &arns {
        aws(&[
            "bedrock",
            "get-guardrail",
            "--guardrail-identifier",
            arn,
            "--query",
            "kmsKeyArn",
        ]);
    }
    let by_hand = start.elapsed();
    let options = ScanOptions {
        regions: regions(1),
        ..ScanOptions::default()
    };
    let (ours, _, rows) = rt.block_on(timed_scan(&sim.endpoint, options));
    assert_eq!((arns.len(), rows), (SUBSET, SUBSET));
    println!(
        "scan/vs-aws-cli: {SUBSET} guardrails, 1 region, 40±10 ms: AWS CLI {:.2} s, guardkey {:.3} s (with key health), {:.0}× faster",
        by_hand.as_secs_f64(),
        ours.as_secs_f64(),
        by_hand.as_secs_f64() / ours.as_secs_f64()
    );
}

fn memory_of_a_large_scan(rt: &tokio::runtime::Runtime) {
    let sim = SimProcess::start(&["--seed", "generated:20:5000"]);
    let before = peak_rss_mib();
    let options = ScanOptions {
        regions: regions(20),
        concurrency_per_region: 16,
        ..ScanOptions::default()
    };
    let (wall, _, rows) = rt.block_on(timed_scan(&sim.endpoint, options));
    assert_eq!(rows, 100_000, "every guardrail was scanned");
    println!(
        "scan/memory: {rows} guardrails scanned in {:.1} s, peak resident {:.1} MiB (before the scan {before:.1} MiB)",
        wall.as_secs_f64(),
        peak_rss_mib()
    );
}

fn throughput(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
    let sim = SimProcess::start(&["--seed", "generated:4:250"]);
    let mut group = c.benchmark_group("scan");
    group.throughput(Throughput::Elements(1000));
    group.sample_size(10);
    group.bench_function("generated_4x250_no_latency", |b| {
        b.to_async(rt).iter(|| async {
            let options = ScanOptions {
                regions: regions(4),
                ..ScanOptions::default()
            };
            timed_scan(&sim.endpoint, options).await
        })
    });
    group.finish();
}

/// The simulated organization's accounts, as `--org` reaches them: the management account
/// with the caller's credentials, the others through the role Organizations creates.
async fn org_targets(session: &guardkey::aws::Session) -> Vec<guardkey::scan::accounts::AccountTarget> {
    use guardkey::scan::accounts::{AccountTarget, Reach};
    let members = session.org_accounts("aws", None).await.expect("ListAccounts");
    members
        .into_iter()
        .map(|m| AccountTarget {
            reach: if m.id == guardkey::sim::DEFAULT_ACCOUNT {
                Reach::Caller
            } else {
                Reach::Role {
                    arn: format!("arn:aws:iam::{}:role/OrganizationAccountAccessRole", m.id),
                }
            },
            id: m.id,
            name: m.name,
            suspended: false,
        })
        .collect()
}

/// An organization: 200 accounts × 2 regions × 10 guardrails, 100 ms of latency on every
/// call (AssumeRole too), GetGuardrail limited to 5/s per account and region. Accounts are
/// scanned concurrently, so the scan should take about one account's time, not 200 times it.
fn organization(rt: &tokio::runtime::Runtime) {
    use guardkey::scan::accounts::{AccountEvent, collect_accounts};
    // GUARDKEY_BENCH_ACCOUNTS=1 measures one account alone, for comparison.
    let accounts: usize = std::env::var("GUARDKEY_BENCH_ACCOUNTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    const PER_REGION: usize = 10;
    const QUOTA: f64 = 5.0;
    let sim = SimProcess::start(&[
        "--seed",
        &format!("generated:{accounts}:2:{PER_REGION}"),
        "--latency-ms",
        "100",
        "--quota",
        &format!("GetGuardrail={QUOTA}"),
    ]);
    // One account's quota limit: its 10 GetGuardrail calls a region at 5/s.
    let limit = PER_REGION as f64 / QUOTA;
    let (before, _) = (peak_rss_mib(), ());
    let (wall, first_row, rows, unread) = rt.block_on(async {
        let session = sim_session_at(&sim.endpoint, true).await;
        let targets = org_targets(&session).await;
        let start = Instant::now();
        let first = std::sync::Mutex::new(None);
        let (result, outcomes) = collect_accounts(
            &session,
            targets,
            ScanOptions {
                regions: regions(2),
                concurrency_per_region: guardkey::scan::accounts::MANY_ACCOUNTS_CONCURRENCY,
                ..ScanOptions::default()
            },
            256,
            |e| {
                if matches!(e, AccountEvent::Rows { .. }) {
                    first.lock().unwrap().get_or_insert(start.elapsed());
                }
            },
        )
        .await;
        let unread = outcomes.iter().filter(|o| o.error.is_some()).count();
        let mut times: Vec<u64> = outcomes.iter().map(|o| o.elapsed_ms).collect();
        times.sort_unstable();
        println!(
            "scan/organization: per account: fastest {} ms, median {} ms, slowest {} ms",
            times[0],
            times[times.len() / 2],
            times[times.len() - 1]
        );
        let first_row = first.into_inner().unwrap().unwrap_or_default();
        (start.elapsed(), first_row, result.guardrails.len(), unread)
    });
    println!(
        "scan/organization: {accounts} accounts × 2 regions × {PER_REGION} guardrails, 100 ms latency, \
         GetGuardrail {QUOTA}/s per account and region: {rows} guardrails in {:.2} s ({:.2}× one \
         account's quota limit of {limit:.1} s), first row after {} ms, {unread} accounts unread, \
         peak memory {:.0} MiB (before {before:.0} MiB)",
        wall.as_secs_f64(),
        wall.as_secs_f64() / limit,
        first_row.as_millis(),
        peak_rss_mib()
    );
    // The explorer's live view of the same organization: the accounts' scans streamed into
    // its state through `update`, as the explorer does, until every entry is in.
    std::thread::sleep(Duration::from_secs(1));
    let (wall, first_row, rows, failed) = rt.block_on(async {
        use guardkey::tui::accounts::{Accounts, label};
        use guardkey::tui::state::{Header, Organization, RegionStatus, State};
        use guardkey::tui::update::update;
        let session = sim_session_at(&sim.endpoint, true).await;
        let identity = session.caller_identity().await.expect("GetCallerIdentity");
        let targets = org_targets(&session).await;
        let labels: Vec<String> = targets
            .iter()
            .flat_map(|t| regions(2).into_iter().map(|r| label(&t.name, &r)))
            .collect();
        let header = Header {
            organization: Some(Organization {
                accounts: targets.len(),
                suspended: 0,
            }),
            ..Header::default()
        };
        let mut state = State::new(header, &labels, false);
        for t in &targets {
            state.account_names.insert(t.id.clone(), t.name.clone());
        }
        let accounts = Accounts::new(
            session,
            identity,
            targets,
            regions(2),
            256,
            guardkey::scan::accounts::MANY_ACCOUNTS_CONCURRENCY,
        );
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let start = Instant::now();
        let _scan = accounts.start(state.generation, &labels, tx);
        let mut first = None;
        while state.loading() {
            let action = rx.recv().await.expect("the scan reports until every entry is in");
            update(&mut state, action);
            if first.is_none() && !state.rows.is_empty() {
                first = Some(start.elapsed());
            }
        }
        let failed = state
            .regions
            .iter()
            .filter(|r| matches!(r.status, RegionStatus::Failed { .. }))
            .count();
        (
            start.elapsed(),
            first.unwrap_or_default(),
            state.rows.len(),
            failed,
        )
    });
    println!(
        "explorer/organization: the same, streamed live into the explorer's state: {rows} rows in \
         {:.2} s ({:.2}× the limit), first row after {} ms, {failed} entries failed",
        wall.as_secs_f64(),
        wall.as_secs_f64() / limit,
        first_row.as_millis()
    );
}

/// The binary's allocator, so that the figures are the product's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    // `cargo bench --bench scan -- organization` (or `quota`) runs that measurement alone.
    if std::env::args().any(|a| a == "organization") {
        organization(&rt);
        return;
    }
    if std::env::args().any(|a| a == "quota") {
        quota_bound(&rt);
        return;
    }
    // Memory first: the peak of this process is then the large scan's own.
    memory_of_a_large_scan(&rt);
    quota_bound(&rt);
    organization(&rt);
    against_the_aws_cli(&rt);
    let mut c = Criterion::default().configure_from_args();
    throughput(&mut c, &rt);
    c.final_summary();
}
