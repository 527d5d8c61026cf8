//! Keys and the mouse, by mode: the command line, the filter, overlays, the wizard, the
//! table and the detail pane. Each key that can do something returns what it does.

use super::{
    Effect, detail_loads, export, move_selection, open_accept, open_wizard, page_size, refresh, run_command,
    select,
};
use crate::tui::state::{Column, Detail, Overlay, RegionStatus, Screen, State};
use crate::tui::view::layout;
use crate::tui::wizard::{Step, WizardEffect};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};

pub(super) fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
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
    if let Some(form) = state.accept.as_mut() {
        use crate::tui::accept::Outcome;
        match form.on_key(key, state.today) {
            Outcome::Editing => {}
            Outcome::Cancelled => state.accept = None,
            Outcome::Submit(entries) => {
                state.accept = None;
                if let Some(path) = state.exceptions_file.clone() {
                    return vec![Effect::WriteExceptions { path, entries }];
                }
            }
        }
        return Vec::new();
    }
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
                    && let Err(e) =
                        crate::model::filter::Filter::check_in(&state.filter_input, state.filter_names())
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
            KeyCode::Char('u') if ctrl => state.set_filter(String::new()),
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
                        state.toast(format!("retrying {region}…"), false);
                        state.retrying.push(region.clone());
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
                KeyCode::Char('h') => export(state, "html"),
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
        let account = wizard.account.clone();
        let (effects, closed) = wizard.on_key(key);
        if closed {
            state.wizard = None;
        }
        let mut out = Vec::new();
        for e in effects {
            if let WizardEffect::Reread { regions } = &e {
                // The strip's entries of the fixed account's regions.
                let labels: Vec<String> = regions.iter().map(|r| state.entry_label(&account, r)).collect();
                for label in &labels {
                    state.remove_rows_of(label);
                    if let Some(entry) = state.region_mut(label) {
                        entry.status = RegionStatus::Pending;
                    }
                }
                out.push(Effect::StartScan {
                    generation: state.generation,
                    regions: labels,
                });
            } else {
                out.push(Effect::Wizard {
                    account: account.clone(),
                    effect: e,
                });
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
        KeyCode::Char('x') => open_accept(state),
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

pub(super) fn on_mouse(state: &mut State, m: MouseEvent) {
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
