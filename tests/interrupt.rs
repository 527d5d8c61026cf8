//! Interrupted safely: SIGINT and SIGTERM while `guardkey fix --yes`, `fix --org --yes` and
//! `restore` are writing. The simulator is slow on purpose (updates settle in 1.5 s, two
//! UpdateGuardrail calls a second per region) so that the signal lands mid-write. Each run
//! must exit 130 or 143, its journal must end `cancelled`, and every guardrail must be either
//! on the new key and verified, or exactly as it was: read back with the SDK.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::*;
use guardkey::fix::journal::{Entry, Journal};
use guardkey::sim::{Faults, RunningSim, Seed, SimConfig};

async fn slow_sim(seed: &str) -> RunningSim {
    start(SimConfig {
        seed: seed.parse::<Seed>().unwrap(),
        settle: Duration::from_millis(1500),
        faults: Faults {
            latency: Duration::from_millis(100),
            quotas: vec!["UpdateGuardrail=2".parse().unwrap()],
            ..Faults::default()
        },
        ..SimConfig::default()
    })
    .await
}

fn spawn(sim: &RunningSim, dir: &std::path::Path, args: &[&str]) -> Child {
    guardkey_command(
        Some((
            guardkey::sim::SIM_ACCESS_KEY_ID,
            guardkey::sim::SIM_SECRET_ACCESS_KEY,
        )),
        "us-east-1",
    )
    .args(args)
    .args(["--endpoint-url", &sim.endpoint()])
    .env("GUARDKEY_STATE_DIR", dir)
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap()
}

/// Everything the child says on one stream, collected in the background; `wait_for` blocks
/// until a line contains the text.
struct Said {
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Said {
    fn of(stream: impl std::io::Read + Send + 'static) -> Said {
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let out = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                out.lock().unwrap().push(line);
            }
        });
        Said { lines }
    }

    fn wait_for(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.lines.lock().unwrap().iter().any(|l| l.contains(text)) {
            assert!(Instant::now() < deadline, "never said {text:?}: {}", self.text());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn text(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }
}

fn signal(child: &Child, name: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn wait(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "guardkey did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn journals(dir: &std::path::Path, kind: &str) -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("{kind}-")))
        })
        .collect();
    out.sort();
    out
}

fn ended(entries: &[Entry]) -> (String, usize, usize) {
    match entries.last() {
        Some(Entry::Ended {
            outcome,
            fixed,
            skipped,
            ..
        }) => (outcome.clone(), *fixed, *skipped),
        other => panic!("the journal does not end: its last entry is {other:?}"),
    }
}

/// Every guardrail a journal names is either on the key the fix set, with a `verified`
/// entry, or on its key from before; and every other setting is its pre-image's.
async fn every_guardrail_whole(
    sim: &RunningSim,
    entries: &[Entry],
    account_session: &guardkey::aws::Session,
) -> (usize, usize) {
    let (mut moved, mut as_before) = (0, 0);
    for r in Journal::pre_images(entries) {
        let bedrock = account_session.bedrock(&r.region);
        let now = account_session
            .read_guardrail(&bedrock, &r.arn, None)
            .await
            .unwrap();
        assert_eq!(now.status, "READY", "{} is left {}", r.arn, now.status);
        assert!(
            now.config.differences_besides_key(&r.pre_image).is_empty(),
            "{}: {:?}",
            r.arn,
            now.config.differences_besides_key(&r.pre_image)
        );
        let verified = entries
            .iter()
            .any(|e| matches!(e, Entry::Verified { arn, .. } if *arn == r.arn));
        if now.config.kms_key_arn == r.target_key {
            assert!(verified, "{} is on the new key but was not verified", r.arn);
            moved += 1;
        } else {
            assert_eq!(now.config.kms_key_arn, r.pre_image.kms_key_arn, "{}", r.arn);
            as_before += 1;
        }
    }
    let _ = sim;
    (moved, as_before)
}

async fn interrupted_fix(signal_name: &str, code: i32) {
    let sim = slow_sim("generated:2:20").await;
    let dir = tempfile::tempdir().unwrap();
    let regions = guardkey::regions::BEDROCK_REGIONS[..2].join(",");
    let mut child = spawn(
        &sim,
        dir.path(),
        &[
            "fix",
            "--regions",
            &regions,
            "--filter",
            "status:fail",
            "--create-key",
            "--alias",
            "alias/interrupted",
            "--yes",
        ],
    );
    let stdout = Said::of(child.stdout.take().unwrap());
    let stderr = Said::of(child.stderr.take().unwrap());
    // Mid-write: a first guardrail done, others being written.
    stderr.wait_for(": ✓ ");
    signal(&child, signal_name);
    stderr.wait_for("stopping after the guardrail(s) being written now");
    let status = wait(&mut child);
    assert_eq!(status.code(), Some(code), "{}\n{}", stdout.text(), stderr.text());
    let journal = journals(dir.path(), "fix");
    assert_eq!(journal.len(), 1);
    let entries = Journal::read(&journal[0]).unwrap();
    let (outcome, fixed, skipped) = ended(&entries);
    assert_eq!(outcome, "cancelled");
    assert!(
        fixed > 0 && skipped > 0,
        "some moved, some not started: {fixed} {skipped}"
    );
    let session = guardkey::commands::sim_session(&sim, true).await;
    let (moved, as_before) = every_guardrail_whole(&sim, &entries, &session).await;
    assert_eq!(moved, fixed, "the verified ones are those counted fixed");
    let _ = as_before;
    // The summary lists both, and the way back.
    let out = stdout.text();
    assert!(out.contains(&format!("{fixed} fixed")), "{out}");
    assert!(out.contains("cancelled before it started"), "{out}");
    assert!(out.contains("To undo: guardkey restore"), "{out}");
    assert!(stderr.text().contains("interrupted"), "{}", stderr.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_during_fix_finishes_the_writes_in_flight_and_exits_130() {
    interrupted_fix("INT", 130).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_fix_finishes_the_writes_in_flight_and_exits_143() {
    interrupted_fix("TERM", 143).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_fix_of_many_accounts_stops_every_account_cleanly() {
    let sim = slow_sim("generated:3:1:12").await;
    let dir = tempfile::tempdir().unwrap();
    let region = guardkey::regions::BEDROCK_REGIONS[0];
    let mut child = spawn(
        &sim,
        dir.path(),
        &[
            "fix",
            "--org",
            "--regions",
            region,
            "--filter",
            "status:fail",
            "--create-key",
            "--alias",
            "alias/interrupted",
            "--yes",
        ],
    );
    let stdout = Said::of(child.stdout.take().unwrap());
    let stderr = Said::of(child.stderr.take().unwrap());
    stderr.wait_for(": ✓ ");
    signal(&child, "TERM");
    let status = wait(&mut child);
    assert_eq!(status.code(), Some(143), "{}\n{}", stdout.text(), stderr.text());
    let list = journals(dir.path(), "fix");
    assert!(list.len() >= 2, "a journal per account: {list:?}");
    let mut cancelled = 0;
    for path in &list {
        let entries = Journal::read(path).unwrap();
        let (outcome, ..) = ended(&entries);
        cancelled += usize::from(outcome == "cancelled");
        let account = match &entries[0] {
            Entry::Started { account, .. } => account.clone(),
            other => panic!("{other:?}"),
        };
        // Each account's guardrails, read in that account.
        let session = if account == "123456789012" {
            guardkey::commands::sim_session(&sim, true).await
        } else {
            let base = guardkey::commands::sim_session(&sim, true).await;
            base.assume(
                &format!("arn:aws:iam::{account}:role/OrganizationAccountAccessRole"),
                "tests",
            )
            .await
            .unwrap()
        };
        every_guardrail_whole(&sim, &entries, &session).await;
    }
    assert!(cancelled > 0, "the journals: {list:?}");
    assert!(
        stdout.text().contains("To undo every account"),
        "{}",
        stdout.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_during_restore_finishes_the_guardrail_in_flight() {
    // Guardrails of the AWS-owned key only: one from a key pending deletion could not be put
    // back on it (Bedrock refuses such a key), which is not what this test is about.
    let sim = slow_sim("generated:1:12").await;
    let dir = tempfile::tempdir().unwrap();
    let region = guardkey::regions::BEDROCK_REGIONS[0];
    let mut fix = spawn(
        &sim,
        dir.path(),
        &[
            "fix",
            "--regions",
            region,
            "--filter",
            "key:none",
            "--create-key",
            "--alias",
            "alias/interrupted",
            "--yes",
        ],
    );
    let fix_out = Said::of(fix.stdout.take().unwrap());
    let _fix_err = Said::of(fix.stderr.take().unwrap());
    assert_eq!(wait(&mut fix).code(), Some(0), "{}", fix_out.text());
    let journal = journals(dir.path(), "fix").remove(0);
    let mut child = spawn(&sim, dir.path(), &["restore", journal.to_str().unwrap()]);
    let stdout = Said::of(child.stdout.take().unwrap());
    let stderr = Said::of(child.stderr.take().unwrap());
    stdout.wait_for("is back on");
    signal(&child, "INT");
    let status = wait(&mut child);
    assert_eq!(status.code(), Some(130), "{}\n{}", stdout.text(), stderr.text());
    assert!(
        stdout.text().contains("not started: interrupted"),
        "{}",
        stdout.text()
    );
    let restore = journals(dir.path(), "restore");
    let entries = Journal::read(&restore[0]).unwrap();
    let (outcome, restored, not_started) = ended(&entries);
    assert_eq!(outcome, "cancelled");
    assert!(restored > 0 && not_started > 0, "{restored} {not_started}");
    // Each guardrail of the fix: back as it was, or still as the fix verified it.
    let fixed = Journal::read(&journal).unwrap();
    let session = guardkey::commands::sim_session(&sim, true).await;
    let (on_new_key, back) = every_guardrail_whole(&sim, &fixed, &session).await;
    assert_eq!(back, restored);
    assert!(on_new_key > 0);
    // The same restore again goes on where it stopped.
    let mut again = spawn(&sim, dir.path(), &["restore", journal.to_str().unwrap()]);
    let out = Said::of(again.stdout.take().unwrap());
    let _err = Said::of(again.stderr.take().unwrap());
    let status = wait(&mut again);
    assert_eq!(status.code(), Some(0), "{}", out.text());
    let (on_new_key, _) = every_guardrail_whole(&sim, &fixed, &session).await;
    assert_eq!(on_new_key, 0, "everything is back");
}

/// A killed fix (no `ended` line) is named by the next fix of the same guardrails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_fix_names_a_journal_a_killed_fix_left_unfinished() {
    let sim = slow_sim("generated:1:12").await;
    let dir = tempfile::tempdir().unwrap();
    let region = guardkey::regions::BEDROCK_REGIONS[0];
    let args = [
        "fix",
        "--regions",
        region,
        "--filter",
        "key:none",
        "--create-key",
        "--alias",
        "alias/interrupted",
        "--yes",
    ];
    let mut child = spawn(&sim, dir.path(), &args);
    let _out = Said::of(child.stdout.take().unwrap());
    let stderr = Said::of(child.stderr.take().unwrap());
    stderr.wait_for(": ✓ ");
    signal(&child, "KILL");
    wait(&mut child);
    let journal = journals(dir.path(), "fix").remove(0);
    let entries = Journal::read(&journal).unwrap();
    assert!(!entries.iter().any(|e| matches!(e, Entry::Ended { .. })));
    let mut next = spawn(
        &sim,
        dir.path(),
        &[
            "fix",
            "--regions",
            region,
            "--filter",
            "status:fail",
            "--key",
            "alias/bedrock-guardrails",
            "--dry-run",
        ],
    );
    let _out = Said::of(next.stdout.take().unwrap());
    let err = Said::of(next.stderr.take().unwrap());
    wait(&mut next);
    let text = err.text();
    assert!(text.contains("never ended"), "{text}");
    assert!(
        text.contains(&format!("guardkey restore {}", journal.display())),
        "{text}"
    );
    // Its restore says the fix was cut short, and puts back what it changed.
    let mut restore = spawn(&sim, dir.path(), &["restore", journal.to_str().unwrap()]);
    let out = Said::of(restore.stdout.take().unwrap());
    let _err = Said::of(restore.stderr.take().unwrap());
    assert_eq!(wait(&mut restore).code(), Some(0), "{}", out.text());
    assert!(out.text().contains("has no end"), "{}", out.text());
}
