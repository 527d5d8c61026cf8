//! The explorer with 100,000 guardrails: the whole stream that puts them in the table (the
//! scanner's batches through `update`, merged and drawn at the frame rate), a full frame, a
//! filter keystroke (re-filter and render), and the memory of the state.
//!
//!     cargo bench --bench tui

mod common;
use common::rss_mib;

use std::sync::Arc;

use std::time::{Duration, Instant};

use criterion::Criterion;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use guardkey::model::{Guardrail, KeyInfo, KeyLookup, Rotation, assess};
use guardkey::regions::BEDROCK_REGIONS;
use guardkey::scan::ScanEvent;
use guardkey::tui::state::{Column, Header, State};
use guardkey::tui::update::{Action, update};
use guardkey::tui::view::render;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const ROWS: usize = 100_000;
const WIDTH: u16 = 200;
const HEIGHT: u16 = 60;

fn estate() -> Vec<Guardrail> {
    let regions: Vec<Arc<str>> = BEDROCK_REGIONS.iter().take(20).map(|r| Arc::from(*r)).collect();
    let account: Arc<str> = Arc::from("123456789012");
    let keys: Vec<Arc<KeyInfo>> = regions
        .iter()
        .map(|r| {
            Arc::new(KeyInfo {
                arn: format!("arn:aws:kms:{r}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
                key_id: "1234abcd-12ab-34cd-56ef-1234567890ab".into(),
                account: "123456789012".into(),
                region: r.to_string(),
                aliases: vec!["alias/bedrock-guardrails".into()],
                manager: "CUSTOMER".into(),
                state: "Enabled".into(),
                spec: "SYMMETRIC_DEFAULT".into(),
                usage: "ENCRYPT_DECRYPT".into(),
                multi_region: false,
                multi_region_key: None,
                created_at: None,
                deletion_date: None,
                rotation: Rotation::Enabled {
                    period_days: Some(365),
                },
                description: None,
                aliases_error: None,
            })
        })
        .collect();
    (0..ROWS)
        .map(|n| {
            let r = n % regions.len();
            let region = regions[r].clone();
            let key = (n % 5 < 3).then(|| KeyLookup::Found(keys[r].clone()));
            let kms_key_arn = key.as_ref().map(|_| keys[r].arn.clone());
            let posture = assess(&account, &region, None, kms_key_arn.as_deref(), key.as_ref());
            let id = format!("{n:012x}");
            Guardrail {
                arn: format!("arn:aws:bedrock:{region}:123456789012:guardrail/{id}"),
                region,
                account: account.clone(),
                id,
                name: format!("guardrail-{n:06}"),
                description: None,
                status: "READY".into(),
                created_at: Some("2026-01-02T03:04:05Z".into()),
                updated_at: Some("2026-02-03T04:05:06Z".into()),
                kms_key_arn,
                key,
                read_error: None,
                versions: None,
                posture,
                usage: None,
                exception: None,
            }
        })
        .collect()
}

/// The scanner's batches (25 rows), the regions taking turns as they answer.
fn batches(rows: &[Guardrail]) -> Vec<(String, Vec<Guardrail>)> {
    let mut by_region: Vec<(String, Vec<Guardrail>)> = Vec::new();
    for g in rows {
        match by_region.iter_mut().find(|(r, _)| **r == *g.region) {
            Some((_, list)) => list.push(g.clone()),
            None => by_region.push((g.region.to_string(), vec![g.clone()])),
        }
    }
    let mut out = Vec::new();
    let mut chunks: Vec<_> = by_region
        .into_iter()
        .map(|(r, list)| {
            let chunks: Vec<Vec<Guardrail>> = list.chunks(25).map(<[Guardrail]>::to_vec).collect();
            (r, chunks.into_iter())
        })
        .collect();
    loop {
        let mut any = false;
        for (r, it) in &mut chunks {
            if let Some(c) = it.next() {
                out.push((r.clone(), c));
                any = true;
            }
        }
        if !any {
            return out;
        }
    }
}

/// What one stream cost: all of it, and its slowest frame (merge and draw).
struct Streamed {
    total: Duration,
    slowest_frame: Duration,
    frames: usize,
}

/// Streams `batches` into a new explorer as the draw loop does: every batch through
/// `update`, each region's end said, and a frame (prepare and draw) whenever 16 ms passed.
fn stream(
    batches: Vec<(String, Vec<Guardrail>)>,
    regions: &[String],
    sort: Option<(Column, bool)>,
    filter: &str,
    terminal: &mut Terminal<TestBackend>,
) -> Streamed {
    const FRAME: Duration = Duration::from_millis(16);
    let mut state = State::new(Header::default(), regions, true);
    state.width = WIDTH;
    state.height = HEIGHT;
    if let Some((column, descending)) = sort {
        state.set_sort(column, descending);
    }
    state.set_filter(filter.to_string());
    let generation = state.generation;
    let started = Instant::now();
    update(
        &mut state,
        Action::Scan(ScanEvent::Started {
            generation,
            regions: regions.to_vec(),
        }),
    );
    let mut frame = |state: &mut State, slowest: &mut Duration, frames: &mut usize| {
        let at = Instant::now();
        state.prepare();
        terminal.draw(|f| render(state, f)).unwrap();
        state.dirty = false;
        *slowest = (*slowest).max(at.elapsed());
        *frames += 1;
    };
    let (mut slowest, mut frames) = (Duration::ZERO, 0);
    let mut last = Instant::now();
    let total = batches.len();
    for (n, (region, rows)) in batches.into_iter().enumerate() {
        update(
            &mut state,
            Action::Scan(ScanEvent::Rows {
                generation,
                region: region.clone(),
                rows,
            }),
        );
        // A region's last batch: it is done (its usage would be read now).
        if n + regions.len() >= total {
            update(
                &mut state,
                Action::Scan(ScanEvent::RegionDone {
                    generation,
                    region,
                    guardrails: 0,
                    elapsed_ms: 0,
                }),
            );
        }
        if last.elapsed() >= FRAME {
            frame(&mut state, &mut slowest, &mut frames);
            last = Instant::now();
        }
    }
    frame(&mut state, &mut slowest, &mut frames);
    assert_eq!(state.rows.len(), ROWS);
    Streamed {
        total: started.elapsed(),
        slowest_frame: slowest,
        frames,
    }
}

fn main() {
    let before = rss_mib();
    let regions: Vec<String> = BEDROCK_REGIONS.iter().take(20).map(|s| s.to_string()).collect();
    let mut state = State::new(Header::default(), &regions, true);
    state.width = WIDTH;
    state.height = HEIGHT;
    state.add_rows(estate());
    state.prepare();
    println!(
        "tui/memory: {ROWS} guardrails in the explorer's state: {:.1} MiB resident ({:.1} MiB for the rows)",
        rss_mib(),
        rss_mib() - before
    );
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
    let mut c = Criterion::default().configure_from_args();
    // The stream a user waits on, in the table's default order, and with a filter and a
    // sort by name, descending: total time per stream, and the slowest frame said apart.
    let rows = estate();
    for (name, sort, filter) in [
        ("tui/stream_100k_rows", None, ""),
        (
            "tui/stream_100k_rows_filtered_sorted_by_name",
            Some((Column::Name, true)),
            "status:fail 9",
        ),
    ] {
        let mut slowest = Duration::ZERO;
        let mut frames = 0;
        c.bench_function(name, |b| {
            b.iter_custom(|iterations| {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let input = batches(&rows);
                    let s = stream(input, &regions, sort, filter, &mut terminal);
                    total += s.total;
                    slowest = slowest.max(s.slowest_frame);
                    frames = s.frames;
                }
                total
            })
        });
        println!(
            "{name}: slowest frame while streaming {:.1} ms ({frames} frames in the last stream)",
            slowest.as_secs_f64() * 1000.0
        );
    }
    c.bench_function("tui/render_full_frame_100k", |b| {
        b.iter(|| {
            terminal.draw(|f| render(&state, f)).unwrap();
        })
    });
    c.bench_function("tui/refilter_only_100k", |b| {
        let mut toggle = false;
        b.iter(|| {
            toggle = !toggle;
            state.set_filter(if toggle { "9".into() } else { String::new() });
            state.prepare();
        })
    });
    // A keystroke in the filter: re-filter the 100,000 rows and draw the frame.
    update(
        &mut state,
        Action::Key(KeyEvent::new(KeyCode::Char('/'), KeyModifiers::NONE)),
    );
    c.bench_function("tui/filter_keystroke_100k", |b| {
        let mut toggle = false;
        b.iter(|| {
            let key = if toggle {
                KeyCode::Backspace
            } else {
                KeyCode::Char('9')
            };
            toggle = !toggle;
            update(&mut state, Action::Key(KeyEvent::new(key, KeyModifiers::NONE)));
            terminal.draw(|f| render(&state, f)).unwrap();
        })
    });
    // The summary of an organization: 200 accounts × 20 regions (4,000 entries in the strip
    // and the summary), the same 100,000 rows spread over the accounts.
    let accounts: Vec<Arc<str>> = (0..200)
        .map(|i| Arc::from(format!("{:012}", 100_000_000_000u64 + i)))
        .collect();
    let mut rows = estate();
    for (n, g) in rows.iter_mut().enumerate() {
        g.account = accounts[n % accounts.len()].clone();
    }
    let entries: Vec<String> = accounts
        .iter()
        .enumerate()
        .flat_map(|(i, _)| regions.iter().map(move |r| format!("member-{i:04}/{r}")))
        .collect();
    let mut org = State::new(
        Header {
            organization: Some(guardkey::tui::state::Organization {
                accounts: accounts.len(),
                suspended: 0,
            }),
            ..Header::default()
        },
        &entries,
        true,
    );
    for (i, a) in accounts.iter().enumerate() {
        org.account_names.insert(a.to_string(), format!("member-{i:04}"));
    }
    org.width = WIDTH;
    org.height = HEIGHT;
    org.add_rows(rows);
    org.screen = guardkey::tui::state::Screen::Summary;
    org.prepare();
    c.bench_function("tui/summary_of_an_organization_4000_entries_100k", |b| {
        b.iter(|| {
            terminal.draw(|f| render(&org, f)).unwrap();
        })
    });
    c.final_summary();
}
