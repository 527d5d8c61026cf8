//! `update`: the only place the explorer's state changes. Pure: it returns the effects to
//! run (scans, lookups, files, the clipboard) instead of running them.

use std::collections::HashMap;

use crossterm::event::{KeyEvent, KeyEventKind, MouseEvent};

use super::state::{AccountCaller, Loadable, Overlay, RegionStatus, State};
use super::view::layout;
use super::wizard::{ExistingKey, Wizard, WizardEffect};
use crate::fix::apply::FixEvent;
use crate::model::{CallError, Guardrail, KeyLookup, VersionInfo};
use crate::report::{ScanReport, to_csv, to_markdown};
use crate::scan::accounts::Reach;
use crate::scan::{RegionOutcome, ScanEvent, ScanResult};

mod commands;
mod keys;

use commands::run_command;
use keys::{on_key, on_mouse};

#[derive(Debug, Clone, PartialEq)]

pub enum Action {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    Tick,
    Scan(ScanEvent),
    VersionsLoaded {
        arn: String,
        versions: Vec<VersionInfo>,
    },
    PolicyLoaded {
        key_arn: String,
        result: Result<String, CallError>,
    },
    Exported(Result<String, String>),
    /// The exceptions file after `x` added to it (or why it could not be written).
    ExceptionsWritten {
        path: String,
        result: Result<crate::model::exceptions::Exceptions, String>,
        added: usize,
    },
    TagsLoaded {
        arn: String,
        result: Result<std::collections::BTreeMap<String, String>, CallError>,
    },
    /// Who uses the guardrails of a region, by ARN.
    UsageLoaded {
        usage: std::collections::HashMap<String, crate::usage::Usage>,
    },
    Copied(String),
    WizardKeys {
        region: String,
        keys: Result<Vec<ExistingKey>, String>,
        /// The IAM policies of the guardrails' users there, by principal (empty when the
        /// account's IAM could not be read).
        iam: std::collections::HashMap<String, crate::usage::PrincipalPolicies>,
        /// IAM's policy simulator's answers for those users on the region's keys.
        answers: crate::scan::usage::IamAnswers,
    },
    WizardAlias {
        region: String,
        alias: String,
        taken_by: Option<String>,
    },
    Fix(FixEvent),
    FixFinished {
        journal: String,
        summary: String,
    },
    /// An account of a view of many accounts was reached, or could not be.
    Account(AccountUpdate),
    /// SIGTERM, SIGHUP (or the terminal gone), SIGINT from outside: quit with `code`, a fix
    /// first stopped between calls.
    Signal {
        code: u8,
    },
}

/// How an account of a view of many accounts went.
#[derive(Debug, Clone, PartialEq)]
pub enum AccountUpdate {
    /// Reached: these regions of it are scanned now.
    Reached {
        generation: u64,
        id: String,
        name: String,
        reach: Reach,
        regions: Vec<String>,
    },
    Unreachable {
        generation: u64,
        /// Empty for a profile that could not sign in.
        id: String,
        name: String,
        reach: Reach,
        error: CallError,
    },
    /// Who the caller is there (asked once it was reached, for the wizard).
    Caller { id: String, caller: AccountCaller },
}

#[derive(Debug, Clone, PartialEq)]

pub enum Effect {
    /// Scan these regions; events carry `generation`. A new generation cancels older scans.
    StartScan {
        generation: u64,
        regions: Vec<String>,
    },
    LoadVersions {
        arn: String,
        region: String,
    },
    LoadPolicy {
        key_arn: String,
    },
    LoadTags {
        arn: String,
        region: String,
    },
    /// Read who uses these guardrails (one region's, just scanned).
    LoadUsage {
        guardrails: Vec<Guardrail>,
    },
    /// Write `content` to a new file named after the time, with this extension.
    Export {
        extension: &'static str,
        content: String,
    },
    /// Put text on the clipboard (OSC 52).
    Copy(String),
    /// Add these accepted risks to the exceptions file (atomically, its comments kept).
    WriteExceptions {
        path: std::path::PathBuf,
        entries: Vec<crate::model::exceptions::Exception>,
    },
    /// What the wizard asks for, in the account it fixes.
    Wizard {
        account: String,
        effect: WizardEffect,
    },
}

pub fn update(state: &mut State, action: Action) -> Vec<Effect> {
    // What streams in (rows, usage) is merged into the views once per frame, by the draw
    // loop's `prepare`; everything else (a key above all) sees them up to date.
    let streamed = matches!(action, Action::Scan(_) | Action::UsageLoaded { .. });
    if !streamed {
        state.prepare();
    }
    let effects = match action {
        Action::Key(key) if key.kind != KeyEventKind::Release => on_key(state, key),
        Action::Key(_) => Vec::new(),
        Action::Mouse(m) => {
            on_mouse(state, m);
            Vec::new()
        }
        Action::Resize(w, h) => {
            state.width = w;
            state.height = h;
            state.dirty = true;
            Vec::new()
        }
        Action::Tick => {
            state.tick += 1;
            if state.toast.as_ref().is_some_and(|t| state.tick >= t.until) {
                state.toast = None;
                state.dirty = true;
            }
            if state.loading() {
                state.dirty = true;
            }
            Vec::new()
        }
        Action::Scan(event) => on_scan(state, event),
        Action::Signal { code } => {
            state.exit_code = code;
            match state.wizard.as_mut().filter(|w| w.applying()) {
                // No question asked: the fix stops between calls, then the explorer quits.
                Some(w) => {
                    w.asking_cancel = false;
                    w.cancelled = true;
                    state.quit_after_fix = true;
                    vec![Effect::Wizard {
                        account: w.account.clone(),
                        effect: WizardEffect::Cancel,
                    }]
                }
                None => {
                    state.quit = true;
                    Vec::new()
                }
            }
        }
        Action::Account(update) => {
            match update {
                AccountUpdate::Reached {
                    generation,
                    id,
                    name,
                    reach,
                    regions,
                } if generation == state.generation => state.account_reached(&id, &name, reach, &regions),
                AccountUpdate::Unreachable {
                    generation,
                    id,
                    name,
                    reach,
                    error,
                } if generation == state.generation => state.account_unreachable(&id, &name, reach, error),
                AccountUpdate::Caller { id, caller } => {
                    state.account_callers.insert(id, caller);
                }
                // Of a scan a refresh replaced.
                _ => {}
            }
            Vec::new()
        }
        Action::TagsLoaded { arn, result } => {
            let loaded = match result {
                Ok(t) => Loadable::Ready(t),
                Err(e) => Loadable::Failed(e),
            };
            state.tags.insert(arn, loaded);
            state.dirty = true;
            Vec::new()
        }
        Action::UsageLoaded { usage } => {
            state.set_usage(usage);
            state.dirty = true;
            Vec::new()
        }
        Action::VersionsLoaded { arn, versions } => {
            state.versions.insert(arn, Loadable::Ready(versions));
            state.dirty = true;
            Vec::new()
        }
        Action::PolicyLoaded { key_arn, result } => {
            let loaded = match result {
                Ok(p) => Loadable::Ready(p),
                Err(e) => Loadable::Failed(e),
            };
            state.policies.insert(key_arn, loaded);
            state.dirty = true;
            Vec::new()
        }
        Action::Exported(Ok(path)) => {
            if let Some(w) = state.wizard.as_mut() {
                // Pinned in the review, not only a toast: the full path to run or commit.
                w.saved = Some(path.clone());
            }
            state.toast(format!("exported to {path}"), false);
            Vec::new()
        }
        Action::Exported(Err(e)) => {
            state.toast(format!("export failed: {e}"), true);
            Vec::new()
        }
        Action::ExceptionsWritten { path, result, added } => {
            match result {
                Ok(exceptions) => {
                    state.set_exceptions(exceptions);
                    state.toast(
                        format!(
                            "{} written to {path}: muted",
                            crate::report::plural(added, "accepted risk")
                        ),
                        false,
                    );
                }
                Err(e) => state.toast(format!("the exceptions could not be written: {e}"), true),
            }
            Vec::new()
        }
        Action::Copied(arn) => {
            state.toast(format!("copied {arn}"), false);
            Vec::new()
        }
        Action::WizardKeys {
            region,
            keys,
            iam,
            answers,
        } => {
            if let Some(w) = &mut state.wizard {
                w.keys_loaded(&region, keys, iam, answers);
            }
            state.dirty = true;
            Vec::new()
        }
        Action::WizardAlias {
            region,
            alias,
            taken_by,
        } => {
            if let Some(w) = &mut state.wizard {
                w.alias_checked(&region, &alias, taken_by);
            }
            state.dirty = true;
            Vec::new()
        }
        Action::Fix(event) => {
            if let Some(w) = &mut state.wizard {
                w.on_fix_event(event);
            }
            state.dirty = true;
            Vec::new()
        }
        Action::FixFinished { journal, summary } => {
            let cancelled = state.wizard.as_ref().is_some_and(|w| w.cancelled);
            if let Some(w) = &mut state.wizard {
                w.finished(journal, summary);
                // What was fixed is done with: its mark goes (what failed or was skipped
                // stays marked, for another try).
                for (arn, p) in &w.progress {
                    if matches!(p, crate::tui::wizard::Progress::Fixed(_)) {
                        state.marks.remove(arn);
                    }
                }
            }
            if state.quit_after_fix && cancelled {
                // The user asked to quit and confirmed (or a signal did): the fix stopped,
                // the journal says so.
                state.quit = true;
                if state.exit_code == 0 {
                    state.exit_code = 130;
                }
            }
            state.quit_after_fix = false;
            state.dirty = true;
            Vec::new()
        }
    };
    if !streamed {
        state.prepare();
    }
    effects
}

fn on_scan(state: &mut State, event: ScanEvent) -> Vec<Effect> {
    // Events of an older scan (before a refresh) are dropped.
    if event.generation() != state.generation {
        return Vec::new();
    }
    let mut effects = Vec::new();
    state.dirty = true;
    match event {
        ScanEvent::Started { regions, .. } => {
            state.active_scans += 1;
            for r in regions {
                if let Some(entry) = state.region_mut(&r) {
                    entry.status = RegionStatus::Loading {
                        pages: 0,
                        listed: 0,
                        read: 0,
                    };
                }
            }
        }
        ScanEvent::Rows { rows, .. } => state.add_rows(rows),
        ScanEvent::RegionProgress {
            region,
            pages,
            listed,
            read,
            ..
        } => {
            if let Some(entry) = state.region_mut(&region) {
                entry.status = RegionStatus::Loading { pages, listed, read };
            }
        }
        ScanEvent::RegionDone {
            region,
            guardrails,
            elapsed_ms,
            ..
        } => {
            if let Some(entry) = state.region_mut(&region) {
                entry.status = RegionStatus::Done {
                    guardrails,
                    elapsed_ms,
                };
            }
            // Who uses them: read in the background, shown in the USERS column and the detail.
            let rows: Vec<Guardrail> = state.rows_of_entry(&region).into_iter().cloned().collect();
            if !rows.is_empty() && !state.is_snapshot() {
                effects.push(Effect::LoadUsage { guardrails: rows });
            }
            if let Some(i) = state.retrying.iter().position(|r| *r == region) {
                state.retrying.remove(i);
                state.toast(
                    format!(
                        "{region}: retried, read now ({})",
                        crate::report::plural(guardrails, "guardrail")
                    ),
                    false,
                );
            }
        }
        ScanEvent::RegionFailed {
            region,
            error,
            guardrails,
            ..
        } => {
            let label = error.label();
            if let Some(entry) = state.region_mut(&region) {
                entry.status = RegionStatus::Failed {
                    error: error.clone(),
                    guardrails,
                };
            }
            let retried = match state.retrying.iter().position(|r| *r == region) {
                Some(i) => {
                    state.retrying.remove(i);
                    " again"
                }
                None => "",
            };
            // "Not enabled" is a fact about the account, not an error worth a toast.
            if error != CallError::NotEnabled || !retried.is_empty() {
                state.toast(format!("{region}: {label}{retried} (E for details)"), true);
            }
        }
        ScanEvent::Finished { .. } => state.active_scans = state.active_scans.saturating_sub(1),
    }
    effects
}

/// Rows of the table that fit on screen.
pub fn page_size(state: &State) -> usize {
    layout(state).table_rows.max(1)
}

fn move_selection(state: &mut State, delta: isize) {
    let len = state.visible.len();
    if len == 0 {
        return;
    }
    let next = (state.selected as isize + delta).clamp(0, len as isize - 1) as usize;
    select(state, next);
}

/// Selects a row and scrolls the viewport so that it stays visible.
pub fn select(state: &mut State, index: usize) {
    state.selected = index.min(state.visible.len().saturating_sub(1));
    state.follow = state.selected_row().map(|g| g.arn.clone());
    let page = page_size(state);
    if state.selected < state.offset {
        state.offset = state.selected;
    } else if state.selected >= state.offset + page {
        state.offset = state.selected + 1 - page;
    }
    state.detail_scroll = 0;
    state.dirty = true;
}

fn refresh(state: &mut State) -> Vec<Effect> {
    if state.header.loaded_from.is_some() {
        state.toast(
            "a saved scan cannot be refreshed: run guardkey without --load to scan",
            true,
        );
        return Vec::new();
    }
    state.generation += 1;
    state.active_scans = 0;
    state.clear_rows();
    state.versions.clear();
    state.policies.clear();
    state.tags.clear();
    for r in &mut state.regions {
        r.status = RegionStatus::Pending;
    }
    state.retrying.clear();
    state.dirty = true;
    vec![Effect::StartScan {
        generation: state.generation,
        regions: state.regions.iter().map(|r| r.name.clone()).collect(),
    }]
}

/// The lookups the detail pane of the selected row needs and does not have yet.
fn detail_loads(state: &mut State) -> Vec<Effect> {
    let Some(g) = state.selected_row() else {
        return Vec::new();
    };
    let (arn, region) = (g.arn.clone(), g.region.to_string());
    let key_arn = match &g.key {
        Some(KeyLookup::Found(k)) => Some(k.arn.clone()),
        _ => None,
    };
    let mut effects = Vec::new();
    if !state.is_snapshot() {
        if !state.tags.contains_key(&arn) {
            state.tags.insert(arn.clone(), Loadable::Loading);
            effects.push(Effect::LoadTags {
                arn: arn.clone(),
                region: region.clone(),
            });
        }
        if !state.versions.contains_key(&arn) {
            state.versions.insert(arn.clone(), Loadable::Loading);
            effects.push(Effect::LoadVersions { arn, region });
        }
        if let Some(key_arn) = key_arn
            && !state.policies.contains_key(&key_arn)
        {
            state.policies.insert(key_arn.clone(), Loadable::Loading);
            effects.push(Effect::LoadPolicy { key_arn });
        }
    }
    effects
}

fn export(state: &mut State, extension: &'static str) -> Vec<Effect> {
    state.overlay = Overlay::None;
    // With many accounts an entry is `name/region`: the report keeps the account's id and
    // the region apart, and an account not reached is said once, in its accounts.
    let ids: HashMap<&str, &str> = state
        .account_names
        .iter()
        .map(|(id, name)| (name.as_str(), id.as_str()))
        .collect();
    // Each row counted once under its entry (an organization has thousands of entries).
    let mut counts: HashMap<String, usize> = HashMap::new();
    for g in &state.rows {
        *counts.entry(state.region_label(g)).or_default() += 1;
    }
    let regions: Vec<RegionOutcome> = state
        .regions
        .iter()
        .filter_map(|r| {
            let (account, region) = match r.name.rsplit_once('/') {
                Some((_, crate::tui::accounts::ALL_REGIONS)) => return None,
                Some((name, region)) if state.header.organization.is_some() => {
                    (ids.get(name).copied().unwrap_or_default(), region)
                }
                _ => ("", r.name.as_str()),
            };
            Some(RegionOutcome {
                account: account.to_string(),
                region: region.to_string(),
                guardrails: counts.get(&r.name).copied().unwrap_or_default(),
                elapsed_ms: match r.status {
                    RegionStatus::Done { elapsed_ms, .. } => elapsed_ms,
                    _ => 0,
                },
                error: match &r.status {
                    RegionStatus::Failed { error, .. } => Some(error.clone()),
                    _ => None,
                },
            })
        })
        .collect();
    let accounts: Vec<crate::scan::accounts::AccountOutcome> = state
        .accounts
        .values()
        .map(|a| {
            let mut a = a.clone();
            let mine: Vec<&RegionOutcome> = regions.iter().filter(|r| r.account == a.id).collect();
            a.guardrails = mine.iter().map(|r| r.guardrails).sum();
            // Every region failed: the account was not read, as a headless scan says.
            if a.error.is_none() && !mine.is_empty() && mine.iter().all(|r| r.unreadable().is_some()) {
                a.error = mine[0].error.clone();
            }
            a
        })
        .collect();
    let result = ScanResult {
        regions,
        guardrails: state.visible_rows().cloned().collect(),
        elapsed_ms: 0,
    };
    let caller = match (&state.header.account, &state.header.caller_arn) {
        (Some(account), Some(arn)) => Some(crate::aws::CallerIdentity {
            account: account.clone(),
            arn: arn.clone(),
            user_id: String::new(),
        }),
        _ => None,
    };
    let mut report = ScanReport::new(result, caller, state.header.endpoint.clone());
    if !accounts.is_empty() {
        report = report.with_accounts(accounts);
    }
    let content = match extension {
        "json" => report.to_json(),
        "csv" => to_csv(&report),
        "html" => crate::report::to_html(&report),
        _ => to_markdown(&report, &state.filter_input),
    };
    state.dirty = true;
    vec![Effect::Export { extension, content }]
}

/// `f`: the wizard, on the marked guardrails or else the selected one.
/// `x`: the accept-a-risk form for the marked (or selected) FAILs and WARNs not muted yet.
/// An UNKNOWN is never accepted: what could not be checked is not a risk anyone weighed.
pub(super) fn open_accept(state: &mut State) {
    if state.exceptions_file.is_none() {
        state.toast("no exceptions file: start guardkey with --exceptions FILE", true);
        return;
    }
    let rows = state.marked_or_selected();
    let targets: Vec<crate::tui::accept::Target> = rows
        .iter()
        .filter(|g| {
            matches!(
                g.posture.level,
                crate::model::Level::Fail | crate::model::Level::Warn
            ) && !g.is_muted()
                && g.read_error.is_none()
        })
        .map(|g| crate::tui::accept::Target {
            arn: g.arn.clone(),
            name: g.name.clone(),
            posture: g.posture.id.as_str().to_string(),
        })
        .collect();
    if targets.is_empty() {
        state.toast(
            "only a FAIL or WARN not muted yet can be accepted (an UNKNOWN never: it was not checked)",
            true,
        );
        return;
    }
    let owner = state.header.caller_arn.clone().unwrap_or_default();
    state.accept = Some(crate::tui::accept::AcceptForm::new(targets, owner, state.today));
}

fn open_wizard(state: &mut State) {
    if state.header.loaded_from.is_some() {
        state.toast(
            "a saved scan cannot be remediated: run guardkey on the account",
            true,
        );
        return;
    }
    if state.header.read_only {
        state.toast(
            "read-only: the remediation wizard does not open (start guardkey without --read-only)",
            true,
        );
        return;
    }
    let mut rows = state.marked_or_selected();
    if rows.is_empty() {
        state.toast("no guardrail selected", true);
        return;
    }
    // Keys, roles and journals are per account: with many accounts, the wizard fixes the
    // guardrails of one account at a time, as the caller is in that account. Marks across
    // accounts are taken account by account: the first with a guardrail still to fix now,
    // the others on the next `f`.
    let mut next_accounts = 0;
    let (account, caller, principal) = if state.header.organization.is_some() {
        let mut accounts: Vec<&str> = Vec::new();
        for g in &rows {
            if !accounts.contains(&&*g.account) {
                accounts.push(&g.account);
            }
        }
        let account = rows
            .iter()
            .find(|g| g.posture.level != crate::model::Level::Pass)
            .unwrap_or(&rows[0])
            .account
            .to_string();
        if accounts.len() > 1 {
            next_accounts = accounts.len() - 1;
            rows.retain(|g| *g.account == account);
        }
        let who = match state.account_callers.get(&account) {
            Some(who) if who.problem.is_none() => who,
            Some(who) => {
                let why = who.problem.clone().unwrap_or_default();
                state.toast(
                    format!(
                        "account {account}: who the caller is there could not be asked ({why}), and the key \
                         policy needs it: fix it with `guardkey fix --org --accounts {account} …`"
                    ),
                    true,
                );
                return;
            }
            None => {
                state.toast(
                    format!("account {account}: who the caller is there is still being asked; try again in a moment"),
                    true,
                );
                return;
            }
        };
        (account, who.caller_arn.clone(), who.principal.clone())
    } else {
        (
            state.header.account.clone().unwrap_or_default(),
            state.header.caller_arn.clone().unwrap_or_default(),
            state.header.caller_principal.clone(),
        )
    };
    let mut wizard = Wizard::new(rows, &account, &caller, principal.as_ref());
    // A guardrail a stack manages is left out, as `guardkey fix` does, unless included by hand.
    for t in &mut wizard.targets {
        if let Some(Loadable::Ready(tags)) = state.tags.get(&t.arn) {
            t.managed_by = crate::model::ManagedBy::of(tags).map(|m| m.describe());
            t.included &= t.managed_by.is_none();
        }
    }
    state.wizard = Some(wizard);
    if let Some(w) = principal.as_ref().and_then(|p| p.warning()) {
        state.toast(w, false);
    } else if next_accounts > 0 {
        let name = state.account_names.get(&account).cloned().unwrap_or(account);
        state.toast(
            format!(
                "the marks span {} accounts, fixed one at a time (its keys, its role, its journal): {name} now; \
                 press f again after it for the next",
                next_accounts + 1
            ),
            false,
        );
    }
}
