//! Ctrl-C, SIGTERM and SIGHUP during a headless write (`fix`, `fix --org`, `restore`).
//!
//! What a CI runner's timeout, systemd or a closed SSH session sends must never cut a write
//! in half. Once writing has started (`arm`), the first signal stops new work: the guardrails
//! in flight finish their write, READY, read-back and proof (or are put back), the journal
//! ends `cancelled`, the summary and the restore command are printed, and the process exits
//! 130 (SIGINT) or 143 (SIGTERM, SIGHUP). A second signal says what is still in flight and
//! until when guardkey waits for it; a third, or the deadline, gives up at once (the journal
//! is intact: every pre-image is on disk before its write). Before anything is written, a
//! signal exits at once.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::signal::unix::{SignalKind, signal};

/// The longest guardkey waits for the guardrails in flight after the first signal.
pub const DEADLINE: Duration = Duration::from_secs(120);

pub const EXIT_SIGINT: u8 = 130;
pub const EXIT_SIGTERM: u8 = 143;

#[derive(Default)]
struct Inner {
    /// Set by the first signal: applies stop starting new guardrails.
    cancel: Arc<AtomicBool>,
    /// The exit code of the first signal (0: none yet).
    code: AtomicU8,
    /// Writing has started: a signal waits for what is in flight instead of exiting.
    armed: AtomicBool,
    /// The guardrails being written now, by name.
    in_flight: Mutex<BTreeSet<String>>,
    /// The journals written so far, for the message of a give-up.
    journals: Mutex<Vec<String>>,
}

/// The process's interrupt handling, shared by the write and its progress lines.
#[derive(Clone, Default)]
pub struct Interrupts {
    inner: Arc<Inner>,
}

impl Interrupts {
    /// Listens for SIGINT, SIGTERM and SIGHUP from now on (they no longer kill the process).
    pub fn listen() -> std::io::Result<Self> {
        let this = Interrupts::default();
        let mut streams = [
            (signal(SignalKind::interrupt())?, "Ctrl-C", EXIT_SIGINT),
            (signal(SignalKind::terminate())?, "SIGTERM", EXIT_SIGTERM),
            (signal(SignalKind::hangup())?, "SIGHUP", EXIT_SIGTERM),
        ];
        let handle = this.clone();
        tokio::spawn(async move {
            let mut count = 0;
            loop {
                let (name, code) = {
                    let [(a, na, ca), (b, nb, cb), (c, nc, cc)] = &mut streams;
                    tokio::select! {
                        _ = a.recv() => (*na, *ca),
                        _ = b.recv() => (*nb, *cb),
                        _ = c.recv() => (*nc, *cc),
                    }
                };
                count += 1;
                handle.on_signal(name, code, count);
            }
        });
        Ok(this)
    }

    fn on_signal(&self, name: &str, code: u8, count: u32) {
        let inner = &self.inner;
        let _ = inner
            .code
            .compare_exchange(0, code, Ordering::SeqCst, Ordering::SeqCst);
        if !inner.armed.load(Ordering::SeqCst) {
            eprintln!("guardkey: {name}: stopped before anything was written");
            std::process::exit(i32::from(self.code()));
        }
        match count {
            1 => {
                inner.cancel.store(true, Ordering::SeqCst);
                eprintln!(
                    "guardkey: {name}: stopping after the guardrail(s) being written now ({}); nothing new starts. \
                     Press Ctrl-C again to see what it waits for, a third time to give up at once",
                    self.describe_in_flight()
                );
                let this = self.clone();
                std::thread::spawn(move || {
                    std::thread::sleep(DEADLINE);
                    this.give_up(&format!(
                        "the guardrails in flight did not finish within {} s",
                        DEADLINE.as_secs()
                    ));
                });
            }
            2 => eprintln!(
                "guardkey: {name}: still waiting for {} to finish its write, READY, read-back and proof (at most {} s \
                 after the first signal); once more gives up at once",
                self.describe_in_flight(),
                DEADLINE.as_secs()
            ),
            _ => self.give_up(&format!("{name} a third time")),
        }
    }

    fn give_up(&self, why: &str) {
        let journals = self.inner.journals.lock().clone();
        eprintln!(
            "guardkey: gave up waiting ({why}): {} may be half-written. Every pre-image was journaled before its \
             write; {}",
            self.describe_in_flight(),
            match journals.as_slice() {
                [] => "nothing was journaled".to_string(),
                list => format!("`guardkey restore {}` puts back what was changed", list.join(" ")),
            }
        );
        std::process::exit(i32::from(self.code().max(EXIT_SIGINT)));
    }

    fn describe_in_flight(&self) -> String {
        let names = self.inner.in_flight.lock();
        match names.len() {
            0 => "none in flight".into(),
            _ => names.iter().cloned().collect::<Vec<_>>().join(", "),
        }
    }

    /// From now on a signal waits for the writes in flight (a journal exists).
    pub fn arm(&self, journal: &std::path::Path) {
        self.inner.journals.lock().push(journal.display().to_string());
        self.inner.armed.store(true, Ordering::SeqCst);
    }

    /// The flag the applies check between guardrails.
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        self.inner.cancel.clone()
    }

    pub fn cancelled(&self) -> bool {
        self.inner.cancel.load(Ordering::SeqCst)
    }

    /// The exit code the first signal asks for (0: none came).
    pub fn code(&self) -> u8 {
        self.inner.code.load(Ordering::SeqCst)
    }

    pub fn started(&self, name: &str) {
        self.inner.in_flight.lock().insert(name.to_string());
    }

    pub fn finished(&self, name: &str) {
        self.inner.in_flight.lock().remove(name);
    }
}
