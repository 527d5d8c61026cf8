//! The simulator's speed and size: GetGuardrail throughput with the real SDK as client, and
//! the resident memory of a 100,000-guardrail estate.
//!
//!     cargo bench --bench simulator

use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_bedrock::config::Credentials;
use criterion::{Criterion, Throughput};
use futures::StreamExt;
use guardkey::sim::{SIM_ACCESS_KEY_ID, SIM_SECRET_ACCESS_KEY, Seed, SimConfig, Simulator};

/// Resident and peak resident memory of this process, in MiB (Linux).
fn memory_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn estate_memory(rt: &tokio::runtime::Runtime) {
    let (before, _) = memory_mib();
    let sim = Simulator::new(SimConfig {
        seed: Seed::Generated {
            regions: 20,
            per_region: 5_000,
        },
        record_dir: None,
        ..SimConfig::default()
    })
    .expect("seed");
    let running = rt.block_on(sim.serve_loopback()).expect("listen");
    let count = sim.with_world(|w| w.guardrail_count());
    let (after, peak) = memory_mib();
    println!(
        "simulator/estate-memory: {count} guardrails seeded and served: {after:.1} MiB resident \
         ({:.1} MiB for the estate), peak {peak:.1} MiB",
        after - before
    );
    drop(running);
}

fn get_guardrail_throughput(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
    let sim = Simulator::new(SimConfig {
        seed: Seed::Generated {
            regions: 1,
            per_region: 1_000,
        },
        record_dir: None,
        ..SimConfig::default()
    })
    .expect("seed");
    let running = rt.block_on(sim.serve_loopback()).expect("listen");
    let client = rt.block_on(async {
        let cfg = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(running.endpoint())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(
                SIM_ACCESS_KEY_ID,
                SIM_SECRET_ACCESS_KEY,
                None,
                None,
                "bench",
            ))
            .load()
            .await;
        aws_sdk_bedrock::Client::new(&cfg)
    });
    let ids: Vec<String> = rt.block_on(async {
        client
            .list_guardrails()
            .max_results(1000)
            .into_paginator()
            .items()
            .send()
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .map(|s| s.expect("list").id().to_string())
            .collect()
    });
    const BATCH: usize = 1_000;
    const CONCURRENCY: usize = 32;
    let mut group = c.benchmark_group("simulator");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.measurement_time(Duration::from_secs(10));
    group.sample_size(20);
    group.bench_function("get_guardrail_sdk_32_concurrent", |b| {
        b.to_async(rt).iter(|| {
            let client = client.clone();
            let ids = ids.clone();
            async move {
                futures::stream::iter(0..BATCH)
                    .map(|i| {
                        let client = client.clone();
                        let id = ids[i % ids.len()].clone();
                        async move {
                            client
                                .get_guardrail()
                                .guardrail_identifier(id)
                                .send()
                                .await
                                .expect("get")
                        }
                    })
                    .buffer_unordered(CONCURRENCY)
                    .count()
                    .await
            }
        })
    });
    group.finish();
    drop(running);
}

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    estate_memory(&rt);
    let mut c = Criterion::default().configure_from_args();
    get_guardrail_throughput(&mut c, &rt);
    c.final_summary();
}
