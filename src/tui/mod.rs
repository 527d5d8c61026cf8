//! The interactive explorer: The Elm Architecture on ratatui.
//!
//! One `State`; `update(&mut State, Action) -> Vec<Effect>` is pure; effects run as tasks
//! that send `Action`s back; `render(&State)` is pure. The network is never awaited in the
//! draw loop, and a frame is drawn only when something changed.

pub mod accept;
pub mod accounts;
pub mod keymap;
pub mod state;
pub mod update;
pub mod view;
pub mod wizard;

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use base64::Engine;
use crossterm::event::{DisableMouseCapture, EnableMouseCapture, Event, EventStream};
use crossterm::execute;
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode};
use futures::StreamExt;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use tokio::sync::mpsc;

use crate::aws::Session;
use crate::report::{ScanReport, write_atomically};
use crate::scan::{ScanEvent, ScanHandle, ScanOptions};
pub use state::{Header, State};
pub use update::{Action, Effect, update};
use wizard::WizardEffect;

/// What the explorer opens on.
pub struct Launch {
    /// None when replaying a saved scan: no AWS call is made.
    pub session: Option<Session>,
    pub header: Header,
    pub regions: Vec<String>,
    pub loaded: Option<ScanReport>,
    /// A saved scan to mark changes against (`--baseline`), and where it was read from.
    pub baseline: Option<(ScanReport, String)>,
    /// Where the wizard's fix journals go (default: the XDG state directory).
    pub journal_dir: Option<std::path::PathBuf>,
    /// Many accounts (`--org`, `--profiles`, `--role-arns`), scanned live from `session`.
    pub accounts: Option<std::sync::Arc<accounts::Accounts>>,
    /// The accepted risks that mute rows, and the file `x` adds to (`--exceptions`, or
    /// exceptions.toml beside the configuration).
    pub exceptions: crate::model::exceptions::Exceptions,
    pub exceptions_file: Option<std::path::PathBuf>,
}

/// Puts the terminal back as it was; safe to call more than once.
pub fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(
        std::io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

type Term = Terminal<CrosstermBackend<std::io::Stdout>>;

fn enter() -> std::io::Result<Term> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(std::io::Error::other(
            "the explorer needs a terminal; for headless use run `guardkey scan`",
        ));
    }
    // Whatever happens, a panic leaves the terminal usable.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        previous(info);
    }));
    enable_raw_mode()?;
    // Cleared by hand: ratatui's clear() asks the terminal where the cursor is, and not
    // every terminal answers.
    execute!(
        std::io::stdout(),
        EnterAlternateScreen,
        EnableMouseCapture,
        crossterm::terminal::Clear(crossterm::terminal::ClearType::All)
    )?;
    Terminal::new(CrosstermBackend::new(std::io::stdout()))
}

/// Runs the explorer until the user quits. The terminal is restored on every way out.
/// Returns the exit code: 0, or 130 when quitting interrupted a fix (which stopped between
/// calls, its journal ending `cancelled`).
pub async fn run(launch: Launch) -> std::io::Result<u8> {
    let mut terminal = enter()?;
    let result = event_loop(&mut terminal, launch).await;
    restore_terminal();
    let (code, farewell) = result?;
    // A fix stopped by a signal or a lost terminal: what it did, where a terminal can read it.
    if let Some(text) = farewell {
        eprintln!("{text}");
    }
    Ok(code)
}

/// The initial state: a saved scan's rows, or a live scan about to start.
pub fn initial_state(launch: &Launch, color: bool) -> State {
    // Many accounts: each account's region is its own entry, `account/region`.
    let label =
        |r: &crate::report::ScanReport, o: &crate::scan::RegionOutcome| r.region_label(&o.account, &o.region);
    // An account that could not be reached at all is one entry, `account/all regions`, so
    // that the strip, the E panel and INCOMPLETE say it.
    let unreached = |r: &crate::report::ScanReport| -> Vec<(String, crate::model::CallError)> {
        r.accounts
            .iter()
            .filter_map(|a| Some((format!("{}/all regions", a.name), a.unreadable()?.clone())))
            .collect()
    };
    let regions: Vec<String> = match (&launch.loaded, &launch.accounts) {
        (Some(r), _) => r
            .regions
            .iter()
            .map(|o| label(r, o))
            .chain(unreached(r).into_iter().map(|(name, _)| name))
            .collect(),
        // Many accounts, live: each account's regions, pending until it is reached.
        (None, Some(a)) => a
            .targets()
            .iter()
            .filter(|t| !t.suspended)
            .flat_map(|t| launch.regions.iter().map(|r| accounts::label(&t.name, r)))
            .collect(),
        (None, None) => launch.regions.clone(),
    };
    let mut header = launch.header.clone();
    if let Some(r) = launch.loaded.as_ref().filter(|r| !r.accounts.is_empty()) {
        header.organization = Some(state::Organization {
            accounts: r.accounts.len(),
            suspended: r.accounts.iter().filter(|a| a.suspended).count(),
        });
    }
    let mut state = State::new(header, &regions, color);
    state.exceptions = launch.exceptions.clone();
    state.exceptions_file = launch.exceptions_file.clone();
    if let Some(a) = &launch.accounts {
        for t in a.targets() {
            if !t.id.is_empty() {
                state.account_names.insert(t.id.clone(), t.name.clone());
            }
            if t.suspended {
                state.accounts.insert(
                    t.name.clone(),
                    crate::scan::accounts::AccountOutcome::suspended(t),
                );
            }
        }
    }
    if let Some(report) = &launch.loaded {
        for a in &report.accounts {
            state.account_names.insert(a.id.clone(), a.name.clone());
            state.accounts.insert(a.name.clone(), a.clone());
        }
        for (name, error) in unreached(report) {
            if let Some(entry) = state.region_mut(&name) {
                entry.status = state::RegionStatus::Failed { error, guardrails: 0 };
            }
        }
        for outcome in &report.regions {
            if let Some(entry) = state.region_mut(&label(report, outcome)) {
                entry.status = match &outcome.error {
                    Some(error) => state::RegionStatus::Failed {
                        error: error.clone(),
                        guardrails: outcome.guardrails,
                    },
                    None => state::RegionStatus::Done {
                        guardrails: outcome.guardrails,
                        elapsed_ms: outcome.elapsed_ms,
                    },
                };
            }
        }
        state.add_rows(report.guardrails.clone());
    }
    if let Some((report, from)) = &launch.baseline {
        state.set_baseline(report, from.clone());
    }
    state
}

/// At most this long is spent applying queued actions before a frame is drawn, so that a
/// flood of scan events never makes the keyboard wait.
const FRAME_BUDGET: Duration = Duration::from_millis(16);

/// The shortest time between two frames while rows stream in (about 60 a second): the rows
/// of many batches are merged and drawn once.
const FRAME_INTERVAL: Duration = Duration::from_millis(16);

/// What ends the loop: the user (or a signal) quit, or the terminal went away.
enum Ended {
    Quit,
    TerminalGone(std::io::Error),
}

async fn event_loop(terminal: &mut Term, launch: Launch) -> std::io::Result<(u8, Option<String>)> {
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let mut state = initial_state(&launch, color);
    let size = terminal.size()?;
    state.width = size.width;
    state.height = size.height;
    let (tx, mut rx) = mpsc::unbounded_channel::<Action>();
    let mut runner = EffectRunner {
        session: launch.session.clone(),
        accounts: launch.accounts.clone(),
        tx: tx.clone(),
        scans: Vec::new(),
        caller: launch.header.caller_arn.clone().unwrap_or_default(),
        cancel: std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
        journal_dir: launch
            .journal_dir
            .clone()
            .unwrap_or_else(crate::fix::journal::default_dir),
        export_dir: std::path::PathBuf::from("."),
        fix_task: None,
        iam: Default::default(),
    };
    if launch.session.is_some() && launch.loaded.is_none() {
        runner.run(Effect::StartScan {
            generation: state.generation,
            regions: state.regions.iter().map(|r| r.name.clone()).collect(),
        });
    }
    listen_for_signals(tx.clone());
    let ended = drive(terminal, &mut state, &mut runner, &mut rx).await;
    // However the loop ended, a fix still writing is stopped between calls and waited for:
    // the runtime must not shut down under it, and its journal ends `cancelled`.
    runner.stop_fix().await;
    while let Ok(action) = rx.try_recv() {
        if matches!(action, Action::FixFinished { .. }) {
            update(&mut state, action);
        }
    }
    let stopped_fix = state.exit_code != 0;
    let farewell = match (&state.wizard, stopped_fix) {
        (Some(w), true) => match (&w.summary, &w.journal) {
            (Some(summary), Some(journal)) if !journal.is_empty() => Some(format!(
                "guardkey: the fix was stopped between calls: {}Journal: {journal}\nTo undo: guardkey restore {journal}",
                summary
            )),
            _ => None,
        },
        _ => None,
    };
    match ended {
        Ended::Quit => Ok((state.exit_code, farewell)),
        // A closed terminal or a dropped SSH connection: as SIGHUP says.
        Ended::TerminalGone(e) => {
            tracing::warn!(error = %e, "the terminal went away");
            Ok((crate::commands::interrupt::EXIT_SIGTERM, farewell))
        }
    }
}

/// SIGTERM, SIGHUP and a SIGINT sent from outside (in raw mode Ctrl-C is a key) as actions:
/// the explorer stops a fix between calls, then quits with the signal's exit code.
fn listen_for_signals(tx: mpsc::UnboundedSender<Action>) {
    use tokio::signal::unix::{SignalKind, signal};
    let kinds = [
        (SignalKind::interrupt(), crate::commands::interrupt::EXIT_SIGINT),
        (SignalKind::terminate(), crate::commands::interrupt::EXIT_SIGTERM),
        (SignalKind::hangup(), crate::commands::interrupt::EXIT_SIGTERM),
    ];
    for (kind, code) in kinds {
        let Ok(mut stream) = signal(kind) else {
            continue;
        };
        let tx = tx.clone();
        tokio::spawn(async move {
            while stream.recv().await.is_some() {
                if tx.send(Action::Signal { code }).is_err() {
                    break;
                }
            }
        });
    }
}

/// The draw loop: frames when something changed (at most every FRAME_INTERVAL while rows
/// stream in, at once after input), actions applied in between.
async fn drive(
    terminal: &mut Term,
    state: &mut State,
    runner: &mut EffectRunner,
    rx: &mut mpsc::UnboundedReceiver<Action>,
) -> Ended {
    let mut events = EventStream::new();
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    let mut last_frame: Option<Instant> = None;
    let mut answer_now = true;
    let mut terminal_gone: Option<std::io::Error> = None;
    loop {
        let frame_due = last_frame.is_none_or(|t| t.elapsed() >= FRAME_INTERVAL);
        if state.dirty && terminal_gone.is_none() && (answer_now || frame_due) {
            state.prepare();
            if let Err(e) = terminal.draw(|f| view::render(state, f)) {
                // Nothing to draw on: stop what runs, as a hang-up would.
                terminal_gone = Some(e);
                for effect in update(
                    state,
                    Action::Signal {
                        code: crate::commands::interrupt::EXIT_SIGTERM,
                    },
                ) {
                    runner.run(effect);
                }
            }
            state.dirty = false;
            last_frame = Some(Instant::now());
            answer_now = false;
        }
        if state.quit {
            break;
        }
        let next_frame = last_frame.map_or_else(Instant::now, |t| t + FRAME_INTERVAL);
        let owed = state.dirty && terminal_gone.is_none();
        let needs_tick = state.loading() || state.toast.is_some();
        let action = tokio::select! {
            event = events.next(), if terminal_gone.is_none() => {
                answer_now = true;
                match event {
                    Some(Ok(Event::Key(k))) => Action::Key(k),
                    Some(Ok(Event::Mouse(m))) => Action::Mouse(m),
                    Some(Ok(Event::Resize(w, h))) => Action::Resize(w, h),
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => {
                        terminal_gone = Some(e);
                        Action::Signal { code: crate::commands::interrupt::EXIT_SIGTERM }
                    }
                    None => {
                        terminal_gone = Some(std::io::Error::other("the terminal closed"));
                        Action::Signal { code: crate::commands::interrupt::EXIT_SIGTERM }
                    }
                }
            },
            Some(action) = rx.recv() => action,
            _ = ticker.tick(), if needs_tick => Action::Tick,
            _ = tokio::time::sleep_until(next_frame.into()), if owed => continue,
        };
        let mut effects = update(state, action);
        let started = Instant::now();
        while started.elapsed() < FRAME_BUDGET {
            match rx.try_recv() {
                Ok(action) => effects.extend(update(state, action)),
                Err(_) => break,
            }
        }
        for effect in effects {
            runner.run(effect);
        }
        if state.quit {
            break;
        }
    }
    match terminal_gone {
        Some(e) => Ended::TerminalGone(e),
        None => Ended::Quit,
    }
}

/// The account's IAM principals and policies, read once for every region's usage.
type IamCell = std::sync::Arc<
    tokio::sync::OnceCell<std::sync::Arc<Result<crate::usage::AccountIam, crate::model::CallError>>>,
>;

/// Runs effects as tasks that report back with actions.
struct EffectRunner {
    /// The caller's session (of the one account, or that many accounts are reached from).
    session: Option<Session>,
    /// Many accounts: their sessions, scans and callers.
    accounts: Option<std::sync::Arc<accounts::Accounts>>,
    tx: mpsc::UnboundedSender<Action>,
    scans: Vec<ScanHandle>,
    caller: String,
    /// Stops a running fix between calls.
    cancel: std::sync::Arc<std::sync::atomic::AtomicBool>,
    journal_dir: std::path::PathBuf,
    /// Where exports and saved scripts go: the current directory.
    export_dir: std::path::PathBuf,
    /// The thread a fix runs on, while it runs.
    fix_task: Option<tokio::task::JoinHandle<()>>,
    /// Each account's IAM principals and policies, by account id.
    iam: std::collections::HashMap<String, IamCell>,
}

impl EffectRunner {
    /// The session that reads account `account`: its own in a view of many accounts.
    fn session_for(&self, account: &str) -> Option<Session> {
        match &self.accounts {
            Some(a) => a.session(account),
            None => self.session.clone(),
        }
    }

    /// The caller's ARN in `account`.
    fn caller_in(&self, account: &str) -> String {
        match &self.accounts {
            Some(a) => a.caller(account).unwrap_or_default(),
            None => self.caller.clone(),
        }
    }

    /// Asks a running fix to stop between calls and waits for it.
    async fn stop_fix(&mut self) {
        if let Some(task) = self.fix_task.take() {
            self.cancel.store(true, std::sync::atomic::Ordering::SeqCst);
            let _ = task.await;
        }
    }

    fn run(&mut self, effect: Effect) {
        let tx = self.tx.clone();
        match effect {
            Effect::StartScan { generation, regions } => {
                let Some(session) = self.session.clone() else {
                    return;
                };
                // A new generation makes every older scan pointless.
                self.scans.retain(|s| {
                    let keep = s.generation == generation;
                    if !keep {
                        s.cancel();
                    }
                    keep
                });
                if let Some(accounts) = &self.accounts {
                    self.scans.push(accounts.start(generation, &regions, tx));
                    return;
                }
                let (scan_tx, mut scan_rx) = mpsc::channel::<ScanEvent>(64);
                let options = ScanOptions {
                    regions,
                    ..ScanOptions::default()
                };
                self.scans
                    .push(crate::scan::start(session, options, generation, scan_tx));
                tokio::spawn(async move {
                    while let Some(event) = scan_rx.recv().await {
                        if tx.send(Action::Scan(event)).is_err() {
                            break;
                        }
                    }
                });
            }
            Effect::LoadVersions { arn, region } => {
                let Some(session) = self.session_for(account_of(&arn)) else {
                    return;
                };
                tokio::spawn(async move {
                    let versions = crate::scan::guardrail_versions(&session, &region, &arn).await;
                    let _ = tx.send(Action::VersionsLoaded { arn, versions });
                });
            }
            Effect::LoadPolicy { key_arn } => {
                // The key's own account reads its policy best; another's key, the caller.
                let Some(session) = self
                    .session_for(account_of(&key_arn))
                    .or_else(|| self.session.clone())
                else {
                    return;
                };
                tokio::spawn(async move {
                    let region = key_arn.split(':').nth(3).unwrap_or("us-east-1").to_string();
                    let result = session.key_policy(&session.kms(&region), &key_arn).await;
                    let _ = tx.send(Action::PolicyLoaded { key_arn, result });
                });
            }
            Effect::LoadTags { arn, region } => {
                let Some(session) = self.session_for(account_of(&arn)) else {
                    return;
                };
                tokio::spawn(async move {
                    let result = session.guardrail_tags(&session.bedrock(&region), &arn).await;
                    let _ = tx.send(Action::TagsLoaded { arn, result });
                });
            }
            Effect::LoadUsage { mut guardrails } => {
                let Some(account) = guardrails.first().map(|g| g.account.to_string()) else {
                    return;
                };
                let Some(session) = self.session_for(&account) else {
                    return;
                };
                let iam = self.iam.entry(account.clone()).or_default().clone();
                // The organization's SCPs are read by the management session.
                let org = self.session.clone().unwrap_or_else(|| session.clone());
                tokio::spawn(async move {
                    let partition = guardrails
                        .first()
                        .map_or("aws", |g| crate::regions::partition_of_arn(&g.arn))
                        .to_string();
                    let iam = iam
                        .get_or_init(|| async {
                            std::sync::Arc::new(
                                crate::scan::usage::account_iam(&session, &org, &partition, &account).await,
                            )
                        })
                        .await
                        .clone();
                    let mut sources = crate::scan::usage::read_sources_with(&session, iam, &guardrails).await;
                    crate::scan::usage::attach_checked(&session, &mut sources, &mut guardrails).await;
                    let usage = guardrails
                        .into_iter()
                        .filter_map(|g| Some((g.arn, *g.usage?)))
                        .collect();
                    let _ = tx.send(Action::UsageLoaded { usage });
                });
            }
            Effect::Export { extension, content } => {
                let _ = tx.send(Action::Exported(export(&self.export_dir, extension, &content)));
            }
            Effect::Wizard { account, effect } => self.run_wizard(&account, effect),
            Effect::WriteExceptions { path, entries } => {
                let today = time::OffsetDateTime::now_utc().date();
                let written = crate::model::exceptions::write_entries(&path, &entries, today);
                let _ = tx.send(Action::ExceptionsWritten {
                    path: path.display().to_string(),
                    result: written,
                    added: entries.len(),
                });
            }
            Effect::Copy(text) => {
                // OSC 52: the terminal puts it on the clipboard, over SSH too.
                let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
                let mut out = std::io::stdout();
                let _ = write!(out, "\x1b]52;c;{encoded}\x07");
                let _ = out.flush();
                let _ = tx.send(Action::Copied(text));
            }
        }
    }
}

impl EffectRunner {
    fn run_wizard(&mut self, account: &str, effect: WizardEffect) {
        let tx = self.tx.clone();
        let Some(session) = self.session_for(account) else {
            return;
        };
        let caller = self.caller_in(account);
        // In a view of many accounts, an account reached otherwise than with the caller's
        // credentials: its scripts take them first, and its journal says how.
        let target = self
            .accounts
            .as_ref()
            .and_then(|a| a.target(account))
            .filter(|t| t.reach != crate::scan::accounts::Reach::Caller);
        match effect {
            WizardEffect::LoadKeys { region, principals } => {
                let account = account.to_string();
                let iam = self.iam.entry(account.clone()).or_default().clone();
                // The organization's SCPs are read by the management session.
                let org = self.session.clone().unwrap_or_else(|| session.clone());
                tokio::spawn(async move {
                    // The account's IAM, read once (the explorer's who-uses-it read it already).
                    let iam = if principals.is_empty() {
                        None
                    } else {
                        let partition = crate::regions::partition_of(&region).to_string();
                        Some(
                            iam.get_or_init(|| async {
                                std::sync::Arc::new(
                                    crate::scan::usage::account_iam(&session, &org, &partition, &account)
                                        .await,
                                )
                            })
                            .await
                            .clone(),
                        )
                    };
                    let users = Users {
                        principals: &principals,
                        iam: iam.as_deref().and_then(|r| r.as_ref().ok()),
                    };
                    let keys = existing_keys(&session, &region, &account, &caller).await;
                    // The users' IAM policies: the planner evaluates each key with them, and
                    // IAM's policy simulator's answers for each key, as `fix` asks them.
                    let answers = match (users.iam, &keys) {
                        (Some(account_iam), Ok(keys)) => {
                            let mut uses = Vec::new();
                            for p in &principals {
                                for k in keys {
                                    uses.push((p.clone(), region.clone(), k.arn.clone()));
                                }
                            }
                            crate::scan::usage::ask_iam_simulator_for(&session, account_iam, uses).await
                        }
                        _ => Default::default(),
                    };
                    let iam = users.policies();
                    let _ = tx.send(Action::WizardKeys {
                        region,
                        keys,
                        iam,
                        answers,
                    });
                });
            }
            WizardEffect::CheckAlias { region, alias } => {
                tokio::spawn(async move {
                    let taken_by = session
                        .describe_key(&session.kms(&region), &alias)
                        .await
                        .ok()
                        .map(|d| d.arn);
                    let _ = tx.send(Action::WizardAlias {
                        region,
                        alias,
                        taken_by,
                    });
                });
            }
            WizardEffect::Save { extension, content } => self.run(Effect::Export { extension, content }),
            WizardEffect::SaveScript(plan) => {
                let dir = self.export_dir.clone();
                tokio::spawn(async move {
                    let result = match crate::fix::apply::with_drafts(&session, *plan).await {
                        Ok(plan) => match target {
                            Some(t) => export(&dir, "sh", &crate::fix::accounts::script(&[(&t, &plan)])),
                            None => export(&dir, "sh", &plan.cli_script()),
                        },
                        Err(e) => Err(e),
                    };
                    let _ = tx.send(Action::Exported(result));
                });
            }
            WizardEffect::SaveTerraform(plan) => {
                let dir = self.export_dir.clone();
                tokio::spawn(async move {
                    let result = match crate::fix::apply::with_drafts(&session, *plan).await {
                        Ok(plan) => {
                            let (content, gaps) = match target {
                                Some(t) => crate::fix::accounts::terraform(&[(&t, &plan)]),
                                None => plan.terraform_with_gaps(),
                            };
                            export(&dir, "tf", &content).map(|path| match gaps.len() {
                                0 => path,
                                n => format!(
                                    "{path} ({n} guardrails hold settings aws_bedrock_guardrail cannot express: listed in the file)"
                                ),
                            })
                        }
                        Err(e) => Err(e),
                    };
                    let _ = tx.send(Action::Exported(result));
                });
            }
            WizardEffect::Apply(plan) => {
                self.cancel.store(false, std::sync::atomic::Ordering::SeqCst);
                let options = crate::fix::apply::ApplyOptions {
                    caller_arn: caller,
                    cancel: Some(self.cancel.clone()),
                    reach: target.map(|t| t.reach),
                    // The wizard proves each moved guardrail live, as its confirm step says.
                    probe: true,
                    ..crate::fix::apply::ApplyOptions::default()
                };
                // The fix runs on a thread of its own, driven by this runtime: its future
                // borrows from itself, which a spawned task's future may not.
                let handle = tokio::runtime::Handle::current();
                let dir = self.journal_dir.clone();
                self.fix_task = Some(tokio::task::spawn_blocking(move || {
                    handle.block_on(async move {
                        let journal = match crate::fix::journal::Journal::create(&dir, "fix") {
                            Ok(j) => j,
                            Err(e) => {
                                let _ = tx.send(Action::FixFinished {
                                    journal: String::new(),
                                    summary: format!("nothing was changed: {e}"),
                                });
                                return;
                            }
                        };
                        let events = tx.clone();
                        let on_event = move |e: crate::fix::apply::FixEvent| {
                            let _ = events.send(Action::Fix(e));
                        };
                        let report =
                            crate::fix::apply::apply(&session, &plan, &journal, &options, &on_event).await;
                        let _ = tx.send(Action::FixFinished {
                            journal: journal.path().display().to_string(),
                            summary: report.summary(),
                        });
                    })
                }));
            }
            WizardEffect::Cancel => self.cancel.store(true, std::sync::atomic::Ordering::SeqCst),
            WizardEffect::Reread { .. } => {}
        }
    }
}

/// The account of an ARN (its fifth field).
fn account_of(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or_default()
}

/// Writes an export to `guardkey-<time>.<extension>` in the current directory (never over
/// an existing file); returns its full path.
fn export(dir: &std::path::Path, extension: &str, content: &str) -> Result<String, String> {
    let stamp = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year][month][day]-[hour][minute][second]"
        ))
        .unwrap_or_default();
    let mut path = dir.join(format!("guardkey-{stamp}.{extension}"));
    let mut n = 1;
    while path.exists() {
        n += 1;
        path = dir.join(format!("guardkey-{stamp}-{n}.{extension}"));
    }
    write_atomically(&path, |w| w.write_all(content.as_bytes()))
        .map(|()| std::fs::canonicalize(&path).unwrap_or(path).display().to_string())
}

/// The guardrails' users, and the account's IAM principals and policies when they could be
/// read.
struct Users<'a> {
    principals: &'a [String],
    iam: Option<&'a crate::usage::AccountIam>,
}

impl Users<'_> {
    /// The users' identity policies and boundaries, by principal (those IAM lists).
    fn policies(&self) -> std::collections::HashMap<String, crate::usage::PrincipalPolicies> {
        let Some(iam) = self.iam else {
            return Default::default();
        };
        let index = crate::usage::IamIndex::build(iam);
        self.principals
            .iter()
            .filter_map(|p| Some((p.clone(), index.principal(p)?.clone())))
            .collect()
    }
}

/// The customer managed keys of a region (by alias), each checked for guardrails, with its
/// policy for the planner.
async fn existing_keys(
    session: &Session,
    region: &str,
    account: &str,
    caller: &str,
) -> Result<Vec<wizard::ExistingKey>, String> {
    let kms = session.kms(region);
    let aliases = session.list_aliases(&kms).await.map_err(|e| e.detail())?;
    let mut out = Vec::new();
    for (alias, _) in aliases.into_iter().filter(|(a, _)| !a.starts_with("alias/aws/")) {
        let suitable = crate::fix::apply::check_existing_key(session, region, account, &alias).await;
        let (arn, state) = match session.describe_key(&kms, &alias).await {
            Ok(d) => (d.arn, d.state),
            Err(e) => (alias.clone(), e.label()),
        };
        let rotation = match session.key_rotation(&kms, &arn).await {
            Ok(crate::model::Rotation::Enabled { period_days }) => {
                format!("{} days", period_days.unwrap_or(365))
            }
            Ok(_) => "off".into(),
            Err(_) => "?".into(),
        };
        let (policy_warning, policy_text) = match session.key_policy(&kms, &arn).await {
            Ok(policy) => {
                let missing = crate::fix::policy::missing_for_guardrails(&policy, account, caller);
                ((!missing.is_empty()).then(|| missing.join("; ")), Some(policy))
            }
            Err(e) => (Some(format!("its policy cannot be read ({})", e.label())), None),
        };
        let grants = session.list_grants(&kms, &arn).await.unwrap_or_default();
        out.push(wizard::ExistingKey {
            arn,
            alias: Some(alias),
            state,
            rotation,
            suitable: suitable.map(|_| ()),
            policy_warning,
            policy: policy_text,
            grants,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod wizard_tests;
