//! `update`: the only place the explorer's state changes. Pure: it returns the effects to
//! run (scans, lookups, files, the clipboard) instead of running them.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind};

use super::state::{Column, Detail, Loadable, Overlay, RegionStatus, Screen, State};
use super::view::layout;
use super::wizard::{ExistingKey, Step, Wizard, WizardEffect};
use crate::fix::apply::FixEvent;
use crate::model::{CallError, KeyLookup, VersionInfo};
use crate::report::{ScanReport, to_csv, to_markdown};
use crate::scan::{RegionOutcome, ScanEvent, ScanResult};

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
    Copied(String),
    WizardKeys {
        region: String,
        keys: Result<Vec<ExistingKey>, String>,
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
    /// Write `content` to a new file named after the time, with this extension.
    Export {
        extension: &'static str,
        content: String,
    },
    /// Put text on the clipboard (OSC 52).
    Copy(String),
    Wizard(WizardEffect),
}

pub fn update(state: &mut State, action: Action) -> Vec<Effect> {
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
        Action::Scan(event) => {
            on_scan(state, event);
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
        Action::Copied(arn) => {
            state.toast(format!("copied {arn}"), false);
            Vec::new()
        }
        Action::WizardKeys { region, keys } => {
            if let Some(w) = &mut state.wizard {
                w.keys_loaded(&region, keys);
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
            }
            if state.quit_after_fix && cancelled {
                // The user asked to quit and confirmed: the fix stopped, the journal says so.
                state.quit = true;
                state.exit_code = 130;
            }
            state.quit_after_fix = false;
            state.dirty = true;
            Vec::new()
        }
    };
    state.prepare();
    effects
}

fn on_scan(state: &mut State, event: ScanEvent) {
    // Events of an older scan (before a refresh) are dropped.
    if event.generation() != state.generation {
        return;
    }
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
            // "Not enabled" is a fact about the account, not an error worth a toast.
            if error != CallError::NotEnabled {
                state.toast(format!("{region}: {label} (E for details)"), true);
            }
        }
        ScanEvent::Finished { .. } => state.active_scans = state.active_scans.saturating_sub(1),
    }
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
    for r in &mut state.regions {
        r.status = RegionStatus::Pending;
    }
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
    if state.header.loaded_from.is_none() {
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
    let result = ScanResult {
        regions: state
            .regions
            .iter()
            .map(|r| RegionOutcome {
                region: r.name.clone(),
                guardrails: state.rows.iter().filter(|g| *g.region == r.name).count(),
                elapsed_ms: match r.status {
                    RegionStatus::Done { elapsed_ms, .. } => elapsed_ms,
                    _ => 0,
                },
                error: match &r.status {
                    RegionStatus::Failed { error, .. } => Some(error.clone()),
                    _ => None,
                },
            })
            .collect(),
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
    let report = ScanReport::new(result, caller, state.header.endpoint.clone());
    let content = match extension {
        "json" => report.to_json(),
        "csv" => to_csv(&report),
        _ => to_markdown(&report, &state.filter_input),
    };
    state.dirty = true;
    vec![Effect::Export { extension, content }]
}

fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    // While a fix writes, quitting would cut it between a write and its proof: Ctrl-C and q
    // ask, as Esc does, and the explorer quits once the fix has stopped between calls.
    if let Some(w) = state.wizard.as_mut().filter(|w| w.applying())
        && ((ctrl && key.code == KeyCode::Char('c')) || key.code == KeyCode::Char('q'))
    {
        if !w.cancelled {
            w.asking_cancel = true;
            state.quit_after_fix = true;
        }
        state.dirty = true;
        return Vec::new();
    }
    if ctrl && key.code == KeyCode::Char('c') {
        state.quit = true;
        return Vec::new();
    }
    // A fast Esc followed by a key reads as Alt+key: never act on what was not meant.
    if key.modifiers.contains(KeyModifiers::ALT) {
        return Vec::new();
    }
    state.dirty = true;
    if let Some(mut input) = state.command.take() {
        match key.code {
            KeyCode::Enter => return run_command(state, &input),
            KeyCode::Esc => {}
            KeyCode::Backspace => {
                input.pop();
                state.command = Some(input);
            }
            KeyCode::Char(c) => {
                input.push(c);
                state.command = Some(input);
            }
            _ => state.command = Some(input),
        }
        return Vec::new();
    }
    if state.editing_filter {
        match key.code {
            KeyCode::Enter => {
                state.editing_filter = false;
                // The same check as `fix --filter`: a typo says so instead of showing nothing.
                if !state.filter_input.trim().is_empty()
                    && let Err(e) = crate::model::filter::Filter::check(&state.filter_input)
                {
                    state.toast(e, true);
                }
            }
            KeyCode::Esc => {
                state.editing_filter = false;
                state.set_filter(String::new());
            }
            KeyCode::Backspace => {
                let mut input = state.filter_input.clone();
                input.pop();
                state.set_filter(input);
            }
            KeyCode::Char(c) if !ctrl => {
                let mut input = state.filter_input.clone();
                input.push(c);
                state.set_filter(input);
            }
            _ => {}
        }
        state.selected = 0;
        state.offset = 0;
        return Vec::new();
    }
    match state.overlay {
        Overlay::Help => {
            match key.code {
                KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('?') => state.overlay = Overlay::None,
                KeyCode::Char('j') | KeyCode::Down => state.help_scroll = state.help_scroll.saturating_add(1),
                KeyCode::Char('k') | KeyCode::Up => state.help_scroll = state.help_scroll.saturating_sub(1),
                _ => {}
            }
            return Vec::new();
        }
        Overlay::Errors if state.wizard.is_none() => {
            let failed: Vec<String> = state.failed_regions().iter().map(|r| r.name.clone()).collect();
            match key.code {
                KeyCode::Esc | KeyCode::Char('E') | KeyCode::Char('q') => state.overlay = Overlay::None,
                KeyCode::Char('j') | KeyCode::Down => {
                    state.error_selected = (state.error_selected + 1).min(failed.len().saturating_sub(1))
                }
                KeyCode::Char('k') | KeyCode::Up => {
                    state.error_selected = state.error_selected.saturating_sub(1)
                }
                KeyCode::Char('R') => {
                    if state.header.loaded_from.is_some() {
                        state.toast("a saved scan cannot be retried", true);
                    } else if let Some(region) = failed.get(state.error_selected).cloned() {
                        state.remove_rows_of(&region);
                        if let Some(entry) = state.region_mut(&region) {
                            entry.status = RegionStatus::Pending;
                        }
                        state.toast(format!("retrying {region}"), false);
                        state.error_selected = state.error_selected.saturating_sub(1);
                        return vec![Effect::StartScan {
                            generation: state.generation,
                            regions: vec![region],
                        }];
                    }
                }
                _ => {}
            }
            return Vec::new();
        }
        Overlay::Export => {
            return match key.code {
                KeyCode::Char('j') => export(state, "json"),
                KeyCode::Char('c') => export(state, "csv"),
                KeyCode::Char('m') => export(state, "md"),
                _ => {
                    state.overlay = Overlay::None;
                    Vec::new()
                }
            };
        }
        _ => {}
    }

    if let Some(wizard) = &mut state.wizard {
        // `?` opens the help, except where it is text being typed.
        if key.code == KeyCode::Char('?') && !matches!(wizard.step, Step::Settings | Step::Confirm) {
            state.overlay = Overlay::Help;
            state.help_scroll = 0;
            return Vec::new();
        }
        let (effects, closed) = wizard.on_key(key);
        if closed {
            state.wizard = None;
        }
        let mut out = Vec::new();
        for e in effects {
            if let WizardEffect::Reread { regions } = &e {
                for r in regions {
                    state.remove_rows_of(r);
                    if let Some(entry) = state.region_mut(r) {
                        entry.status = RegionStatus::Pending;
                    }
                }
                out.push(Effect::StartScan {
                    generation: state.generation,
                    regions: regions.clone(),
                });
            } else {
                out.push(Effect::Wizard(e));
            }
        }
        return out;
    }
    // Keys of the detail pane come before the table's.
    if state.detail != Detail::Closed && state.screen == Screen::Table {
        match key.code {
            KeyCode::Esc => {
                state.detail = if state.detail == Detail::Full {
                    Detail::Split
                } else {
                    Detail::Closed
                };
                return Vec::new();
            }
            KeyCode::Enter => {
                state.detail = if state.detail == Detail::Full {
                    Detail::Split
                } else {
                    Detail::Full
                };
                return Vec::new();
            }
            KeyCode::Char('j') | KeyCode::Down if state.detail == Detail::Full => {
                state.detail_scroll = state.detail_scroll.saturating_add(1);
                return Vec::new();
            }
            KeyCode::Char('k') | KeyCode::Up if state.detail == Detail::Full => {
                state.detail_scroll = state.detail_scroll.saturating_sub(1);
                return Vec::new();
            }
            _ => {}
        }
    }

    let page = page_size(state) as isize;
    let mut effects = Vec::new();
    match key.code {
        KeyCode::Char('q') => state.quit = true,
        KeyCode::Char('?') => {
            state.overlay = Overlay::Help;
            state.help_scroll = 0;
        }
        KeyCode::Esc => {
            if !state.filter_input.is_empty() {
                state.set_filter(String::new());
            } else if state.screen == Screen::Summary {
                state.screen = Screen::Table;
            }
        }
        KeyCode::Tab | KeyCode::BackTab => {
            state.screen = match state.screen {
                Screen::Table => Screen::Summary,
                Screen::Summary => Screen::Table,
            }
        }
        KeyCode::Char('r') => effects = refresh(state),
        KeyCode::Char('E') => {
            if state.failed_regions().is_empty() {
                state.toast("no region failed", false);
            } else {
                state.overlay = Overlay::Errors;
                state.error_selected = 0;
            }
        }
        KeyCode::Char(':') => state.command = Some(String::new()),
        _ if state.screen == Screen::Summary => {}
        KeyCode::Char('/') => state.editing_filter = true,
        KeyCode::Char('j') | KeyCode::Down => move_selection(state, 1),
        KeyCode::Char('k') | KeyCode::Up => move_selection(state, -1),
        KeyCode::Char('g') | KeyCode::Home => select(state, 0),
        KeyCode::Char('G') | KeyCode::End => select(state, state.visible.len().saturating_sub(1)),
        KeyCode::PageDown => move_selection(state, page),
        KeyCode::PageUp => move_selection(state, -page),
        KeyCode::Char('d') if ctrl => move_selection(state, page / 2),
        KeyCode::Char('u') if ctrl => move_selection(state, -page / 2),
        KeyCode::Enter if state.selected_row().is_some() => {
            state.detail = Detail::Split;
            state.detail_scroll = 0;
            effects = detail_loads(state);
        }
        KeyCode::Char(' ') => {
            if let Some(arn) = state.selected_row().map(|g| g.arn.clone()) {
                if !state.marks.remove(&arn) {
                    state.marks.insert(arn);
                }
                move_selection(state, 1);
            }
        }
        KeyCode::Char('a') => {
            let arns: Vec<String> = state.visible_rows().map(|g| g.arn.clone()).collect();
            state.marks.extend(arns);
        }
        KeyCode::Char('A') => state.marks.clear(),
        KeyCode::Char('y') => {
            if let Some(arn) = state.selected_row().map(|g| g.arn.clone()) {
                effects.push(Effect::Copy(arn));
            }
        }
        KeyCode::Char('e') => state.overlay = Overlay::Export,
        KeyCode::Char('f') => open_wizard(state),
        KeyCode::Char(c @ '1'..='9') => {
            let column = Column::ALL[c as usize - '1' as usize];
            let descending = state.sort == column && !state.descending;
            state.set_sort(column, descending);
        }
        _ => {}
    }
    // The detail pane follows the selection.
    if state.detail != Detail::Closed && effects.is_empty() {
        effects = detail_loads(state);
    }
    effects
}

/// `:` commands, for what is quicker typed than pressed.
fn run_command(state: &mut State, input: &str) -> Vec<Effect> {
    let words: Vec<&str> = input.split_whitespace().collect();
    match words.as_slice() {
        [] => Vec::new(),
        ["q" | "quit"] => {
            state.quit = true;
            Vec::new()
        }
        ["r" | "refresh"] => refresh(state),
        ["fix"] => {
            open_wizard(state);
            Vec::new()
        }
        ["summary"] => {
            state.screen = Screen::Summary;
            Vec::new()
        }
        ["table"] => {
            state.screen = Screen::Table;
            Vec::new()
        }
        ["help"] => {
            state.overlay = Overlay::Help;
            Vec::new()
        }
        ["export", "json"] => export(state, "json"),
        ["export", "csv"] => export(state, "csv"),
        ["export", "md" | "markdown"] => export(state, "md"),
        ["filter", rest @ ..] => {
            state.set_filter(rest.join(" "));
            state.selected = 0;
            state.offset = 0;
            Vec::new()
        }
        ["sort", column, rest @ ..] => {
            match Column::ALL
                .iter()
                .find(|c| c.title().eq_ignore_ascii_case(&column.replace('-', " ")))
            {
                Some(c) => state.set_sort(*c, rest.first().is_some_and(|d| *d == "desc")),
                None => state.toast(
                    format!(
                        "no column {column}: {}",
                        Column::ALL.map(|c| c.title()).join(", ")
                    ),
                    true,
                ),
            }
            Vec::new()
        }
        _ => {
            state.toast(
                format!(":{input} is not a command: q, refresh, fix, summary, table, help, export json|csv|md, filter EXPR, sort COLUMN [desc]"),
                true,
            );
            Vec::new()
        }
    }
}

/// `f`: the wizard, on the marked guardrails or else the selected one.
fn open_wizard(state: &mut State) {
    if state.header.read_only {
        state.toast(
            "read-only: the remediation wizard does not open (start guardkey without --read-only)",
            true,
        );
        return;
    }
    if state.header.loaded_from.is_some() {
        state.toast(
            "a saved scan cannot be remediated: run guardkey on the account",
            true,
        );
        return;
    }
    let rows: Vec<&crate::model::Guardrail> = if state.marks.is_empty() {
        state.selected_row().into_iter().collect()
    } else {
        state
            .rows
            .iter()
            .filter(|g| state.marks.contains(&g.arn))
            .collect()
    };
    if rows.is_empty() {
        state.toast("no guardrail selected", true);
        return;
    }
    let account = state.header.account.clone().unwrap_or_default();
    let caller = state.header.caller_arn.clone().unwrap_or_default();
    let principal = state.header.caller_principal.clone();
    state.wizard = Some(Wizard::new(rows, &account, &caller, principal.as_ref()));
    if let Some(w) = principal.as_ref().and_then(|p| p.warning()) {
        state.toast(w, false);
    }
}

fn on_mouse(state: &mut State, m: MouseEvent) {
    if state.overlay != Overlay::None || state.screen != Screen::Table {
        return;
    }
    match m.kind {
        MouseEventKind::ScrollDown => move_selection(state, 3),
        MouseEventKind::ScrollUp => move_selection(state, -3),
        MouseEventKind::Down(crossterm::event::MouseButton::Left) => {
            let l = layout(state);
            // The table's first row is below its border and header line.
            let first = l.table.y + 2;
            if m.row >= first && m.row < l.table.y + l.table.height.saturating_sub(1) {
                let index = state.offset + (m.row - first) as usize;
                if index < state.visible.len() {
                    select(state, index);
                }
            }
        }
        _ => {}
    }
}
