//! The summary: a bar per region and the top reasons.

use super::Theme;
use crate::model::Level;
use crate::report::Totals;
use crate::tui::state::{RegionStatus, State};
use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

/// A stacked bar of a count's levels, to scale: the bar's end is where the running total
/// falls, so that the segments add up to the count and bars compare by length.
fn bar(t: &Totals, max: usize, bar_width: usize, color: bool, theme: &Theme) -> Vec<Span<'static>> {
    let cells_to = |n: usize| (n * bar_width + max / 2) / max;
    let mut running = 0;
    let mut spans = Vec::new();
    for (count, level, ch) in [
        (t.fail, Level::Fail, "✗"),
        (t.unknown, Level::Unknown, "?"),
        (t.warn, Level::Warn, "!"),
        (t.pass, Level::Pass, "✓"),
    ] {
        let start = cells_to(running);
        running += count;
        // A level that is there gets a cell, however small.
        let cells = (cells_to(running) - start).max(usize::from(count > 0));
        if cells > 0 {
            // The mark makes the bar readable without colour.
            let glyph = if color { "█" } else { ch };
            spans.push(Span::styled(glyph.repeat(cells), theme.level(level)));
        }
    }
    spans
}

pub(super) fn render_summary(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
    let parts = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Min(5), Constraint::Length(10)])
        .split(area);
    let name_width = state.regions.iter().map(|r| r.name.len()).max().unwrap_or(10);
    let bar_width = (parts[0].width as usize)
        .saturating_sub(name_width + 64)
        .clamp(10, 60);
    // Each row counted once under its entry (an organization has thousands of entries).
    let mut by_entry: std::collections::HashMap<String, Totals> = std::collections::HashMap::new();
    for g in &state.rows {
        by_entry
            .entry(state.region_label(g))
            .or_default()
            .add_guardrail(g);
    }
    let per_region: Vec<(String, Totals, Option<String>)> = state
        .regions
        .iter()
        .map(|r| {
            let t = by_entry.get(&r.name).copied().unwrap_or_default();
            let note = match &r.status {
                RegionStatus::Failed { error, .. } => Some(error.label()),
                RegionStatus::Pending | RegionStatus::Loading { .. } => Some("scanning…".into()),
                RegionStatus::Done { .. } => None,
            };
            (r.name.clone(), t, note)
        })
        .collect();
    let max = per_region
        .iter()
        .map(|(_, t, _)| t.guardrails)
        .max()
        .unwrap_or(0)
        .max(1);
    let mut lines = Vec::new();
    // Many accounts: a bar per account first (its guardrails in every region), then the
    // account/region bars.
    if !state.account_names.is_empty() {
        let mut by_account: std::collections::HashMap<&str, Totals> = std::collections::HashMap::new();
        for g in &state.rows {
            by_account.entry(&g.account).or_default().add_guardrail(g);
        }
        let mut accounts: Vec<(&String, &String)> = state.account_names.iter().collect();
        accounts.sort_by(|a, b| a.1.cmp(b.1));
        let per_account: Vec<(&str, Totals, String)> = accounts
            .iter()
            .map(|(id, name)| {
                let t = by_account.get(id.as_str()).copied().unwrap_or_default();
                let how = state.account_how(id).unwrap_or_default();
                (name.as_str(), t, how)
            })
            .collect();
        let max = per_account
            .iter()
            .map(|(_, t, _)| t.guardrails)
            .max()
            .unwrap_or(0)
            .max(1);
        lines.push(Line::styled("By account", theme.dim()));
        for (name, t, how) in &per_account {
            let mut spans = vec![Span::raw(format!("{name:<name_width$} "))];
            spans.extend(bar(t, max, bar_width, state.color, theme));
            // An account not read has unknown counts: "?", never a reassuring 0.
            spans.push(Span::raw(if how.starts_with("not read") {
                "  ? guardrails".to_string()
            } else if how.starts_with("suspended") {
                "  no guardrails scanned".to_string()
            } else {
                format!("  {}", counts(t))
            }));
            if how.starts_with("not read") || how.starts_with("suspended") {
                spans.push(Span::styled(format!("  {how}"), theme.dim()));
            }
            lines.push(Line::from(spans));
        }
        lines.push(Line::raw(""));
        lines.push(Line::styled("By account and region", theme.dim()));
    }
    for (name, t, note) in per_region
        .iter()
        .filter(|(_, t, note)| t.guardrails > 0 || note.is_some())
    {
        let mut spans = vec![Span::raw(format!("{name:<name_width$} "))];
        spans.extend(bar(t, max, bar_width, state.color, theme));
        // An unreadable region's counts are not known: "?", never a reassuring 0.
        let unreadable = state
            .regions
            .iter()
            .find(|r| r.name == *name)
            .and_then(|r| match &r.status {
                RegionStatus::Failed { error, .. } => Some(error.hides_part_of_the_estate()),
                _ => None,
            });
        spans.push(Span::raw(match unreadable {
            Some(true) if t.guardrails == 0 => "  ? guardrails: not readable".to_string(),
            Some(true) => format!("  ≥ {} (read before it failed)", counts(t)),
            Some(false) => "  no guardrails".to_string(),
            None => format!("  {}", counts(t)),
        }));
        if let Some(n) = note {
            spans.push(Span::styled(format!("  {n}"), theme.dim()));
        }
        lines.push(Line::from(spans));
    }
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(
            if state.account_names.is_empty() {
                " Summary by region (Tab: table) "
            } else {
                " Summary by account and region (Tab: table) "
            },
        )),
        parts[0],
    );
    let mut reasons: Vec<(crate::model::PostureId, usize)> = Vec::new();
    for g in state.rows.iter().filter(|g| g.posture.level != Level::Pass) {
        match reasons.iter_mut().find(|(id, _)| *id == g.posture.id) {
            Some((_, n)) => *n += 1,
            None => reasons.push((g.posture.id, 1)),
        }
    }
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    // The box holds eight lines inside its border; what does not fit is counted, not lost.
    let room = if reasons.len() > 8 { 7 } else { 8 };
    let hidden = reasons.len().saturating_sub(room);
    let mut lines: Vec<Line> = reasons
        .iter()
        .take(room)
        .map(|(id, n)| {
            Line::from(vec![
                Span::styled(
                    format!("{:>6}  {} {:<26}", n, id.level().symbol(), id.as_str()),
                    theme.level(id.level()),
                ),
                Span::raw(id.title()),
            ])
        })
        .collect();
    if hidden > 0 {
        lines.push(Line::styled(format!("     +{hidden} more reasons"), theme.dim()));
    }
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(" Top reasons ")),
        parts[1],
    );
}

/// "3 guardrails: 1 FAIL 0 WARN 0 UNKNOWN 1 PASS", and the muted ones where there are any.
fn counts(t: &crate::report::Totals) -> String {
    let muted = if t.muted > 0 {
        format!(" {} MUTED", t.muted)
    } else {
        String::new()
    };
    format!(
        "{}: {} FAIL {} WARN {} UNKNOWN {} PASS{muted}",
        crate::report::plural(t.guardrails, "guardrail"),
        t.fail,
        t.warn,
        t.unknown,
        t.pass
    )
}
