//! The header (account, totals, INCOMPLETE, badges) and the region strip.

use super::{SPINNER, Theme};
use crate::model::Level;
use crate::tui::state::{RegionStatus, State};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// One region's word in the strip: "eu-west-1 ⠋ 12", "ap-south-1 denied: …".
fn region_word(state: &State, i: usize) -> String {
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

/// The region strip, one line: the regions done as a count, then those scanning and those
/// that failed by name, as many as fit; the rest as "+N" (all of them are in the E panel
/// and the summary). Each piece with the status it shows.
pub(super) fn strip_pieces(state: &State, width: u16) -> Vec<(String, Option<RegionStatus>)> {
    let done = state
        .regions
        .iter()
        .filter(|r| matches!(r.status, RegionStatus::Done { .. }))
        .count();
    let mut pieces: Vec<(String, Option<RegionStatus>)> = Vec::new();
    if done > 0 {
        pieces.push((
            format!("{done} ok"),
            Some(RegionStatus::Done {
                guardrails: 0,
                elapsed_ms: 0,
            }),
        ));
    }
    // Failures first (they matter most), then what is still running.
    let named: Vec<usize> = (0..state.regions.len())
        .filter(|i| matches!(state.regions[*i].status, RegionStatus::Failed { .. }))
        .chain((0..state.regions.len()).filter(|i| {
            matches!(
                state.regions[*i].status,
                RegionStatus::Pending | RegionStatus::Loading { .. }
            )
        }))
        .collect();
    let separator = 3;
    let mut used: usize = pieces.iter().map(|(t, _)| t.chars().count() + separator).sum();
    for (n, i) in named.iter().enumerate() {
        let word = region_word(state, *i);
        let rest = named.len() - n - 1;
        // Room for this word, and for the "+N" that would follow it.
        let tail = if rest > 0 {
            format!("+{rest}").len() + separator
        } else {
            0
        };
        if used + word.chars().count() + separator + tail > width as usize {
            pieces.push((format!("+{}", named.len() - n), None));
            return pieces;
        }
        used += word.chars().count() + separator;
        pieces.push((word, Some(state.regions[*i].status.clone())));
    }
    pieces
}

pub(super) fn render_header(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
    let h = &state.header;
    let badge = |text: &str, bg: Color| {
        Span::styled(
            format!(" {text} "),
            theme
                .fg(Color::Black)
                .bg(if state.color { bg } else { Color::Reset })
                .add_modifier(Modifier::BOLD),
        )
    };
    // Badges first, then what identifies the account, the longest (the caller ARN) last:
    // a narrow terminal cuts from the right, and a badge is never what it cuts.
    let mut first = vec![Span::styled(
        "guardkey",
        Style::default().add_modifier(Modifier::BOLD),
    )];
    if h.loaded_from.is_some() {
        first.push(Span::raw(" "));
        first.push(badge("SAVED SCAN", Color::Cyan));
    }
    if h.organization.is_some() {
        first.push(Span::raw(" "));
        first.push(badge("ORGANIZATION", Color::Cyan));
    }
    if h.read_only {
        first.push(Span::raw(" "));
        first.push(badge("READ-ONLY", Color::Yellow));
    }
    match (state.organization_summary(), &h.account) {
        (Some(org), Some(a)) => first.push(Span::raw(format!("  {org} from {a}"))),
        (None, Some(a)) => first.push(Span::raw(format!("  account {a}"))),
        _ => {}
    }
    if let Some(p) = &h.profile {
        first.push(Span::raw(format!("  profile {p}")));
    }
    if let Some(file) = &h.loaded_from {
        first.push(Span::styled(format!("  {file}"), theme.fg(Color::Cyan)));
    }
    if let Some(e) = &h.endpoint {
        first.push(Span::styled(format!("  endpoint {e}"), theme.fg(Color::Cyan)));
    }
    if let Some(arn) = &h.caller_arn {
        first.push(Span::styled(format!("  {arn}"), theme.dim()));
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
    // The counts in words where there is room, in marks where there is not.
    let wide = area.width >= 140;
    let count = |n: usize, mark: &str, word: &str| {
        if wide {
            format!("{mark} {n} {word}  ")
        } else {
            format!("{mark}{n} ")
        }
    };
    let narrow = area.width < 100;
    let mut second = vec![
        Span::raw(if narrow {
            format!("{}: ", t.guardrails)
        } else {
            format!("{}  ", crate::report::plural(t.guardrails, "guardrail"))
        }),
        Span::styled(count(t.fail, "✗", "FAIL"), theme.level(Level::Fail)),
        Span::styled(count(t.warn, "!", "WARN"), theme.level(Level::Warn)),
        Span::styled(count(t.unknown, "?", "UNKNOWN"), theme.level(Level::Unknown)),
        Span::styled(count(t.pass, "✓", "PASS"), theme.level(Level::Pass)),
    ];
    if t.muted > 0 {
        second.push(Span::styled(count(t.muted, "◦", "MUTED"), theme.dim()));
    }
    // Next to the totals, where it cannot be cut off: they do not cover the whole account.
    if !state.loading() && (unreadable > 0 || t.unknown > 0) {
        second.push(Span::raw(" "));
        second.push(badge("INCOMPLETE", Color::Red));
    }
    // The same regions the E panel lists, split the way they matter: an unreadable region
    // hides guardrails, one that is not enabled holds none. Before the done count, which
    // is what a narrow screen may cut.
    let mut failed = Vec::new();
    if unreadable > 0 {
        failed.push(format!("{unreadable} unreadable"));
    }
    if not_enabled > 0 {
        failed.push(format!("{not_enabled} not enabled"));
    }
    if !failed.is_empty() {
        second.push(Span::styled(
            format!("{}{} (E)", if narrow { " " } else { "  " }, failed.join(", ")),
            theme.fg(if unreadable > 0 { Color::Red } else { Color::Reset }),
        ));
    }
    second.push(Span::raw(format!(
        "  regions {done}/{} done",
        state.regions.len()
    )));
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
    let mut spans = Vec::new();
    for (text, status) in strip_pieces(state, area.width) {
        let style = match status {
            Some(RegionStatus::Pending | RegionStatus::Loading { .. }) => theme.fg(Color::Cyan),
            Some(RegionStatus::Done { .. }) => theme.fg(Color::Green),
            Some(RegionStatus::Failed {
                error: crate::model::CallError::NotEnabled,
                ..
            }) => theme.dim(),
            Some(RegionStatus::Failed { .. }) => theme.fg(Color::Red),
            None => theme.dim(),
        };
        spans.push(Span::styled(text, style));
        spans.push(Span::styled(" · ", theme.dim()));
    }
    spans.pop();
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
