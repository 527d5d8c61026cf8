//! The multi-region streaming scanner.
//!
//! One task per region (a bounded number at once) pages ListGuardrails and fans GetGuardrail
//! out with bounded concurrency; each distinct KMS key is looked up once per scan
//! (DescribeKey, GetKeyRotationStatus, and its aliases from one ListAliases per region).
//! Results stream as `ScanEvent`s over a bounded channel while the scan goes on. Every event
//! carries the scan's generation, so a consumer drops what a cancelled scan still sends.
//!
//! (One file on purpose: the region task, its pacing and its events are one pipeline that
//! reads top to bottom.)

pub mod accounts;
mod governor;
mod keys;
pub mod usage;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use crate::aws::{GuardrailSummary, Session};
use crate::model::{CallError, Guardrail, VersionInfo, assess};
pub use governor::Governor;
use keys::KeyCache;

#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub regions: Vec<String>,
    /// Also read every numbered version and the key it uses.
    pub versions: bool,
    /// GetGuardrail calls in flight per region.
    pub concurrency_per_region: usize,
    /// Regions scanned at once. Each region has its own quotas, so the default covers every
    /// Bedrock region: a region waiting for a slot would add its whole time to the scan.
    pub parallel_regions: usize,
    /// A region that has not finished by then is reported as timed out.
    pub region_deadline: Duration,
    pub page_size: i32,
    /// Rows per `ScanEvent::Rows`.
    pub batch_size: usize,
    /// Also read who uses each guardrail (agents, flows, IAM), once the guardrails are in
    /// (only `collect_accounts` and the scan command act on it: it needs the account).
    pub usage: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            regions: Vec::new(),
            versions: false,
            concurrency_per_region: 8,
            parallel_regions: 40,
            region_deadline: Duration::from_secs(300),
            page_size: 100,
            batch_size: 25,
            usage: false,
        }
    }
}

/// What a scan reports as it goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum ScanEvent {
    Started {
        generation: u64,
        regions: Vec<String>,
    },
    Rows {
        generation: u64,
        region: String,
        rows: Vec<Guardrail>,
    },
    RegionProgress {
        generation: u64,
        region: String,
        pages: u32,
        listed: usize,
        read: usize,
    },
    RegionDone {
        generation: u64,
        region: String,
        guardrails: usize,
        elapsed_ms: u64,
    },
    RegionFailed {
        generation: u64,
        region: String,
        error: CallError,
        guardrails: usize,
        elapsed_ms: u64,
    },
    Finished {
        generation: u64,
        elapsed_ms: u64,
    },
}

impl ScanEvent {
    pub fn generation(&self) -> u64 {
        match self {
            ScanEvent::Started { generation, .. }
            | ScanEvent::Rows { generation, .. }
            | ScanEvent::RegionProgress { generation, .. }
            | ScanEvent::RegionDone { generation, .. }
            | ScanEvent::RegionFailed { generation, .. }
            | ScanEvent::Finished { generation, .. } => *generation,
        }
    }
}

/// A running scan: cancel it, or wait for it.
pub struct ScanHandle {
    pub generation: u64,
    cancel: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl ScanHandle {
    /// Runs `work` as a task that `cancel` (or dropping the handle) stops at its next await.
    pub fn spawn(generation: u64, work: impl std::future::Future<Output = ()> + Send + 'static) -> Self {
        let cancel = CancellationToken::new();
        let token = cancel.clone();
        let task = tokio::spawn(async move {
            tokio::select! {
                _ = token.cancelled() => {}
                _ = work => {}
            }
        });
        ScanHandle {
            generation,
            cancel,
            task: Some(task),
        }
    }

    /// Stops every region promptly; no event follows but what was already queued.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    pub async fn join(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for ScanHandle {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

struct Scan {
    session: Session,
    options: ScanOptions,
    generation: u64,
    keys: KeyCache,
    events: mpsc::Sender<ScanEvent>,
}

impl Scan {
    async fn emit(&self, event: ScanEvent) {
        // A consumer that went away just stops caring; the scan ends with the token.
        let _ = self.events.send(event).await;
    }
}

/// Starts a scan that sends its events to `events`.
pub fn start(
    session: Session,
    options: ScanOptions,
    generation: u64,
    events: mpsc::Sender<ScanEvent>,
) -> ScanHandle {
    let scan = Arc::new(Scan {
        session,
        options,
        generation,
        keys: KeyCache::default(),
        events,
    });
    ScanHandle::spawn(generation, run(scan))
}

async fn run(scan: Arc<Scan>) {
    let started = Instant::now();
    let generation = scan.generation;
    scan.emit(ScanEvent::Started {
        generation,
        regions: scan.options.regions.clone(),
    })
    .await;
    let permits = Arc::new(Semaphore::new(scan.options.parallel_regions.max(1)));
    let tasks = scan.options.regions.iter().cloned().map(|region| {
        let scan = scan.clone();
        let permits = permits.clone();
        tokio::spawn(async move {
            let _permit = permits.acquire_owned().await;
            let region_started = Instant::now();
            let read = AtomicUsize::new(0);
            let outcome =
                tokio::time::timeout(scan.options.region_deadline, scan_region(&scan, &region, &read)).await;
            let read = read.load(Ordering::Relaxed);
            match &outcome {
                Ok(Ok(n)) => tracing::info!(%region, guardrails = n, "region scanned"),
                Ok(Err(e)) => tracing::warn!(%region, error = %e.label(), "region failed"),
                Err(_) => tracing::warn!(%region, "region timed out"),
            }
            let elapsed_ms = region_started.elapsed().as_millis() as u64;
            let event = match outcome {
                Ok(Ok(guardrails)) => ScanEvent::RegionDone {
                    generation,
                    region,
                    guardrails,
                    elapsed_ms,
                },
                Ok(Err(error)) => ScanEvent::RegionFailed {
                    generation,
                    region,
                    error,
                    guardrails: read,
                    elapsed_ms,
                },
                Err(_) => ScanEvent::RegionFailed {
                    generation,
                    region,
                    error: CallError::Timeout,
                    guardrails: read,
                    elapsed_ms,
                },
            };
            scan.emit(event).await;
        })
    });
    // Aborting a JoinHandle on drop is not automatic: hold them so cancellation of `run`
    // (by the select above) drops and aborts them all.
    let handles: Vec<_> = tasks.collect();
    let mut guard = AbortOnDrop(handles);
    for h in guard.0.iter_mut() {
        let _ = h.await;
    }
    drop(guard);
    scan.emit(ScanEvent::Finished {
        generation,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
    .await;
}

struct AbortOnDrop(Vec<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for h in &self.0 {
            h.abort();
        }
    }
}

/// Lists and reads one region; returns how many guardrails it reported.
async fn scan_region(scan: &Arc<Scan>, region: &str, read: &AtomicUsize) -> Result<usize, CallError> {
    // The scanner paces and retries its Bedrock calls itself (see `governor`).
    let bedrock = scan.session.bedrock_without_retries(region);
    let pace = Arc::new(RegionPace::default());
    let generation = scan.generation;
    let (mut found_tx, found_rx) =
        futures::channel::mpsc::channel::<GuardrailSummary>(scan.options.page_size.max(1) as usize);

    let lister = {
        let bedrock = bedrock.clone();
        let scan = scan.clone();
        let region = region.to_string();
        let pace = pace.clone();
        async move {
            let mut token: Option<String> = None;
            let mut pages = 0u32;
            let mut listed = 0usize;
            loop {
                let (page, next) = paced(&pace.list, || {
                    let size = scan.options.page_size;
                    scan.session
                        .list_guardrails_page(&bedrock, None, token.clone(), size)
                })
                .await?;
                pages += 1;
                listed += page.len();
                for summary in page {
                    if found_tx.send(summary).await.is_err() {
                        return Ok(());
                    }
                }
                scan.emit(ScanEvent::RegionProgress {
                    generation,
                    region: region.clone(),
                    pages,
                    listed,
                    read: read.load(Ordering::Relaxed),
                })
                .await;
                match next {
                    Some(t) => token = Some(t),
                    None => return Ok::<(), CallError>(()),
                }
            }
        }
    };

    let reader = async {
        let mut rows = found_rx
            .map(|summary| read_guardrail(scan, &bedrock, &pace, region, summary))
            .buffer_unordered(scan.options.concurrency_per_region.max(1));
        let mut batch = Vec::with_capacity(scan.options.batch_size);
        let mut last_flush: Option<Instant> = None;
        while let Some(row) = rows.next().await {
            // A guardrail that vanished between the list and the get is dropped quietly.
            let Some(row) = row else { continue };
            read.fetch_add(1, Ordering::Relaxed);
            batch.push(row);
            // Rows go out in batches, but the first at once and none waits long.
            let due = last_flush.is_none_or(|t| t.elapsed() >= FLUSH_EVERY);
            if batch.len() >= scan.options.batch_size || due {
                last_flush = Some(Instant::now());
                let rows = std::mem::take(&mut batch);
                scan.emit(ScanEvent::Rows {
                    generation,
                    region: region.to_string(),
                    rows,
                })
                .await;
            }
        }
        if !batch.is_empty() {
            scan.emit(ScanEvent::Rows {
                generation,
                region: region.to_string(),
                rows: batch,
            })
            .await;
        }
    };

    let (listed, ()) = futures::join!(lister, reader);
    listed.map(|()| read.load(Ordering::Relaxed))
}

/// The longest a read row waits for its batch.
const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// What a region's reads share: a pace per operation (each has its own quota), and the
/// region's and account's names, stored once for all its rows.
#[derive(Default)]
struct RegionPace {
    list: Governor,
    get: Governor,
    names: parking_lot::Mutex<Vec<Arc<str>>>,
}

impl RegionPace {
    fn shared(&self, name: &str) -> Arc<str> {
        let mut names = self.names.lock();
        match names.iter().find(|n| ***n == *name) {
            Some(n) => n.clone(),
            None => {
                let n: Arc<str> = Arc::from(name);
                names.push(n.clone());
                n
            }
        }
    }
}

/// How often a throttled call is paced and sent again before it is reported throttled.
const MAX_THROTTLED: u32 = 40;
/// How often a call that failed on the server's side or the network is tried again.
const MAX_TRANSIENT: u32 = 3;

fn is_transient(e: &CallError) -> bool {
    match e {
        CallError::Timeout | CallError::Network { .. } => true,
        CallError::Other { code, .. } => matches!(
            code.as_str(),
            "InternalServerException"
                | "InternalFailure"
                | "ServiceUnavailableException"
                | "ServiceUnavailable"
        ),
        _ => false,
    }
}

/// Sends a call at the region's pace, again when it is throttled (the pace slows down) or
/// fails transiently (after a short backoff).
pub(crate) async fn paced<T, F, Fut>(governor: &Governor, mut call: F) -> Result<T, CallError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, CallError>>,
{
    let (mut throttled, mut transient) = (0, 0);
    loop {
        let sent = governor.acquire().await;
        match call().await {
            Ok(v) => {
                governor.on_success();
                return Ok(v);
            }
            Err(CallError::Throttled) if throttled < MAX_THROTTLED => {
                throttled += 1;
                governor.on_throttle(sent);
            }
            Err(e) if transient < MAX_TRANSIENT && is_transient(&e) => {
                transient += 1;
                tokio::time::sleep(Duration::from_millis(100 << transient)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

fn account_of(arn: &str) -> String {
    arn.split(':').nth(4).unwrap_or_default().to_string()
}

async fn read_guardrail(
    scan: &Scan,
    bedrock: &crate::aws::Bedrock,
    pace: &RegionPace,
    region: &str,
    summary: GuardrailSummary,
) -> Option<Guardrail> {
    let account = account_of(&summary.arn);
    let head = paced(&pace.get, || {
        scan.session.get_guardrail_head(bedrock, &summary.arn, None)
    })
    .await;
    let (head, read_error) = match head {
        Ok(h) => (Some(h), None),
        Err(CallError::NotFound { .. }) => return None,
        Err(e) => (None, Some(e)),
    };
    let kms_key_arn = head.as_ref().and_then(|h| h.kms_key_arn.clone());
    let key = match &kms_key_arn {
        Some(arn) => Some(scan.keys.lookup(&scan.session, arn).await),
        None => None,
    };
    let versions = match (&head, scan.options.versions) {
        (Some(_), true) => Some(read_versions(scan, bedrock, pace, &summary.arn).await),
        _ => None,
    };
    let posture = assess(
        &account,
        region,
        read_error.as_ref(),
        kms_key_arn.as_deref(),
        key.as_ref(),
    );
    let (name, description, status, created_at, updated_at) = match head {
        Some(h) => (h.name, h.description, h.status, h.created_at, h.updated_at),
        None => (
            summary.name,
            None,
            summary.status,
            summary.created_at,
            summary.updated_at,
        ),
    };
    Some(Guardrail {
        region: pace.shared(region),
        account: pace.shared(&account),
        id: summary.id,
        arn: summary.arn,
        name,
        description,
        status,
        created_at,
        updated_at,
        kms_key_arn,
        key,
        read_error: read_error.map(Box::new),
        versions,
        posture,
        usage: None,
        exception: None,
    })
}

/// Every numbered version of a guardrail with its key. A version that cannot be read is
/// left out: the DRAFT's posture does not depend on it.
async fn read_versions(
    scan: &Scan,
    bedrock: &crate::aws::Bedrock,
    pace: &RegionPace,
    arn: &str,
) -> Vec<VersionInfo> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let listed = paced(&pace.list, || {
            scan.session
                .list_guardrails_page(bedrock, Some(arn), token.clone(), 100)
        })
        .await;
        let Ok((page, next)) = listed else {
            break;
        };
        for v in page.into_iter().filter(|v| v.version != "DRAFT") {
            let head = paced(&pace.get, || {
                scan.session.get_guardrail_head(bedrock, arn, Some(&v.version))
            })
            .await;
            if let Ok(head) = head {
                out.push(VersionInfo {
                    version: v.version,
                    kms_key_arn: head.kms_key_arn,
                    created_at: v.created_at,
                });
            }
        }
        match next {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    out.sort_by_key(|v| v.version.parse::<u64>().unwrap_or(0));
    out
}

/// Reads the numbered versions of one guardrail, on demand (the explorer's detail pane).
pub async fn guardrail_versions(session: &Session, region: &str, arn: &str) -> Vec<VersionInfo> {
    let scan = Scan {
        session: session.clone(),
        options: ScanOptions::default(),
        generation: 0,
        keys: KeyCache::default(),
        events: mpsc::channel(1).0,
    };
    let bedrock = session.bedrock_without_retries(region);
    read_versions(&scan, &bedrock, &RegionPace::default(), arn).await
}

/// Runs a scan to the end and collects what it found (headless use).
pub async fn collect(
    session: Session,
    options: ScanOptions,
    mut on_event: impl FnMut(&ScanEvent),
) -> ScanResult {
    let (tx, mut rx) = mpsc::channel(256);
    let handle = start(session, options.clone(), 1, tx);
    let mut result = ScanResult::default();
    while let Some(event) = rx.recv().await {
        on_event(&event);
        match event {
            ScanEvent::Rows { rows, .. } => result.guardrails.extend(rows),
            ScanEvent::RegionDone {
                region,
                guardrails,
                elapsed_ms,
                ..
            } => result.regions.push(RegionOutcome {
                account: String::new(),
                region,
                guardrails,
                elapsed_ms,
                error: None,
            }),
            ScanEvent::RegionFailed {
                region,
                error,
                guardrails,
                elapsed_ms,
                ..
            } => result.regions.push(RegionOutcome {
                account: String::new(),
                region,
                guardrails,
                elapsed_ms,
                error: Some(error),
            }),
            ScanEvent::Finished { elapsed_ms, .. } => {
                result.elapsed_ms = elapsed_ms;
                break;
            }
            ScanEvent::Started { .. } | ScanEvent::RegionProgress { .. } => {}
        }
    }
    handle.join().await;
    // Stable output: regions in the order asked for, guardrails by region then name.
    let order = |r: &str| options.regions.iter().position(|o| o == r).unwrap_or(usize::MAX);
    result.regions.sort_by_key(|r| order(&r.region));
    result
        .guardrails
        .sort_unstable_by(|a, b| (order(&a.region), &a.name, &a.id).cmp(&(order(&b.region), &b.name, &b.id)));
    result
}

/// How one region's scan ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionOutcome {
    /// The account the region was scanned in; empty in a scan of one account.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub account: String,
    pub region: String,
    pub guardrails: usize,
    pub elapsed_ms: u64,
    pub error: Option<CallError>,
}

impl RegionOutcome {
    /// The error that kept this region's guardrails from being seen, if one did (an opt-in
    /// region that is not enabled hides nothing).
    pub fn unreadable(&self) -> Option<&CallError> {
        self.error.as_ref().filter(|e| e.hides_part_of_the_estate())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanResult {
    pub regions: Vec<RegionOutcome>,
    pub guardrails: Vec<Guardrail>,
    pub elapsed_ms: u64,
}
