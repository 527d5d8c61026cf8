//! The header (account, totals, INCOMPLETE, badges) and the region strip.

use super::{SPINNER, Theme};
use crate::model::Level;
use crate::tui::state::{RegionStatus, State};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub(super) fn strip_item(state: &State, i: usize) -> String {
    let r = &state.regions[i];
    match &r.status {
        RegionStatus::Pending => format!("{} …", r.name),
        RegionStatus::Loading { read, .. } => {
            format!(
                "{} {} {read}",
                r.name,
                SPINNER[(state.tick as usize + i) % SPINNER.len()]
            )
        }
        RegionStatus::Done { guardrails, .. } => format!("{} {guardrails}", r.name),
        RegionStatus::Failed { error, .. } => format!("{} {}", r.name, error.label()),
    }
}

pub(super) fn strip_lines(state: &State, width: u16) -> Vec<Vec<usize>> {
    let mut lines: Vec<Vec<usize>> = vec![Vec::new()];
    let mut used = 0usize;
    for i in 0..state.regions.len() {
        let w = strip_item(state, i).chars().count() + 3;
        if used + w > width as usize && !lines.last().is_some_and(Vec::is_empty) {
            lines.push(Vec::new());
            used = 0;
        }
        used += w;
        lines.last_mut().expect("one line at least").push(i);
    }
    lines
}

pub(super) fn render_header(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
    let h = &state.header;
    let mut first = vec![Span::styled(
        "guardkey",
        Style::default().add_modifier(Modifier::BOLD),
    )];
    if let Some(a) = &h.account {
        first.push(Span::raw(format!("  account {a}")));
    }
    if let Some(arn) = &h.caller_arn {
        first.push(Span::styled(format!("  {arn}"), theme.dim()));
    }
    if let Some(p) = &h.profile {
        first.push(Span::raw(format!("  profile {p}")));
    }
    if let Some(e) = &h.endpoint {
        first.push(Span::styled(format!("  endpoint {e}"), theme.fg(Color::Cyan)));
    }
    if let Some(file) = &h.loaded_from {
        first.push(Span::styled(
            format!("  saved scan {file}"),
            theme.fg(Color::Cyan),
        ));
    }
    if h.read_only {
        first.push(Span::raw("  "));
        first.push(Span::styled(
            " READ-ONLY ",
            theme
                .fg(Color::Black)
                .bg(if state.color { Color::Yellow } else { Color::Reset })
                .add_modifier(Modifier::BOLD),
        ));
    }
    let t = state.totals;
    let done = state
        .regions
        .iter()
        .filter(|r| matches!(r.status, RegionStatus::Done { .. }))
        .count();
    let (unreadable, not_enabled) = state
        .failed_regions()
        .iter()
        .fold((0, 0), |(u, n), r| match &r.status {
            RegionStatus::Failed { error, .. } if error.hides_part_of_the_estate() => (u + 1, n),
            _ => (u, n + 1),
        });
    let mut second = vec![
        Span::raw(format!("{} guardrails  ", t.guardrails)),
        Span::styled(format!("✗ {} FAIL  ", t.fail), theme.level(Level::Fail)),
        Span::styled(format!("! {} WARN  ", t.warn), theme.level(Level::Warn)),
        Span::styled(format!("? {} UNKNOWN  ", t.unknown), theme.level(Level::Unknown)),
        Span::styled(format!("✓ {} PASS", t.pass), theme.level(Level::Pass)),
        Span::raw(format!("  regions {done}/{} done", state.regions.len())),
    ];
    // The same regions the E panel lists, split the way they matter: an unreadable region
    // hides guardrails, one that is not enabled holds none.
    let mut failed = Vec::new();
    if unreadable > 0 {
        failed.push(format!("{unreadable} unreadable"));
    }
    if not_enabled > 0 {
        failed.push(format!("{not_enabled} not enabled"));
    }
    if !failed.is_empty() {
        second.push(Span::styled(
            format!(", {} (E)", failed.join(", ")),
            theme.fg(if unreadable > 0 { Color::Red } else { Color::Reset }),
        ));
    }
    // Next to the totals, where it cannot be cut off: they do not cover the whole account.
    if !state.loading() && (unreadable > 0 || t.unknown > 0) {
        second.insert(5, Span::raw("  "));
        second.insert(
            6,
            Span::styled(
                " INCOMPLETE ",
                theme
                    .fg(Color::Black)
                    .bg(if state.color { Color::Red } else { Color::Reset })
                    .add_modifier(Modifier::BOLD),
            ),
        );
    }
    if state.loading() {
        second.push(Span::raw(format!(
            "  {} scanning",
            SPINNER[state.tick as usize % SPINNER.len()]
        )));
    }
    f.render_widget(Paragraph::new(vec![Line::from(first), Line::from(second)]), area);
}

pub(super) fn render_strip(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
    if area.height == 0 {
        return;
    }
    let lines: Vec<Line> = strip_lines(state, area.width)
        .into_iter()
        .take(area.height as usize)
        .map(|items| {
            let mut spans = Vec::new();
            for i in items {
                let style = match &state.regions[i].status {
                    RegionStatus::Pending | RegionStatus::Loading { .. } => theme.fg(Color::Cyan),
                    RegionStatus::Done { .. } => theme.fg(Color::Green),
                    RegionStatus::Failed {
                        error: crate::model::CallError::NotEnabled,
                        ..
                    } => theme.dim(),
                    RegionStatus::Failed { .. } => theme.fg(Color::Red),
                };
                spans.push(Span::styled(strip_item(state, i), style));
                spans.push(Span::styled(" │ ", theme.dim()));
            }
            spans.pop();
            Line::from(spans)
        })
        .collect();
    f.render_widget(Paragraph::new(lines), area);
}
