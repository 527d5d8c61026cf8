//! The overlays: help (from the key table), failed regions, export.

use super::{Theme, popup, section};
use crate::tui::keymap::{Context, KEYMAP};
use crate::tui::state::{RegionStatus, State};
use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

pub(super) fn render_help(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
    let mut lines = Vec::new();
    for context in [
        Context::Everywhere,
        Context::Table,
        Context::Detail,
        Context::Filter,
        Context::Errors,
        Context::Export,
        Context::Accept,
        Context::Wizard,
    ] {
        lines.push(section(context.title(), theme));
        for k in KEYMAP.iter().filter(|k| k.context == context) {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<24}", k.keys), theme.fg(Color::Cyan)),
                Span::raw(k.what),
            ]));
        }
        lines.push(Line::raw(""));
    }
    lines.push(Line::from(Span::styled(
        "Status marks: ✓ PASS  ! WARN  ? UNKNOWN  ✗ FAIL  ◦ MUTED (an accepted risk). Columns 1-9: STATUS NAME REGION ID STATE KEY KEY-STATE ROTATION UPDATED.",
        theme.dim(),
    )));
    let rect = popup(area, 90, area.height.saturating_sub(4));
    // A long description wraps under itself, not under the keys.
    let lines = super::wrap::wrap_all(lines, rect.width.saturating_sub(2) as usize);
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines)
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(" Help (Esc closes, j/k scroll) "),
            )
            .scroll((state.help_scroll, 0))
            .wrap(Wrap { trim: false }),
        rect,
    );
}

pub(super) fn render_errors(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
    let mut lines = Vec::new();
    // Wide enough for the longest name (`account/region` with many accounts), and a space.
    let width = state
        .failed_regions()
        .iter()
        .map(|r| r.name.chars().count() + 1)
        .max()
        .unwrap_or(0)
        .max(16);
    for (i, r) in state.failed_regions().iter().enumerate() {
        let RegionStatus::Failed { error, guardrails } = &r.status else {
            continue;
        };
        let style = if i == state.error_selected {
            theme.selected()
        } else {
            Style::default()
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{:<width$}", r.name), style.add_modifier(Modifier::BOLD)),
            Span::styled(error.label(), style.patch(theme.fg(Color::Red))),
            Span::styled(
                if *guardrails > 0 {
                    format!("  (after {})", crate::report::plural(*guardrails, "guardrail"))
                } else {
                    String::new()
                },
                style,
            ),
        ]));
        lines.push(Line::from(Span::styled(
            format!("    {}", error.detail()),
            theme.dim(),
        )));
    }
    // A retry in flight stays in the panel until its result is in.
    for region in &state.retrying {
        lines.push(Line::from(vec![
            Span::styled(
                format!("{region:<16}"),
                Style::default().add_modifier(Modifier::BOLD),
            ),
            Span::styled(
                format!(
                    "{} retrying…",
                    super::SPINNER[state.tick as usize % super::SPINNER.len()]
                ),
                theme.fg(Color::Cyan),
            ),
        ]));
    }
    // Tall enough for the lines as they wrap, so that the last failure is not cut off.
    let inner = usize::from(area.width.min(110).saturating_sub(2)).max(1);
    let rows: usize = lines.iter().map(|l| l.width().max(1).div_ceil(inner)).sum();
    let rect = popup(area, 110, (rows as u16 + 2).max(6));
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines)
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(" Regions that failed (R retries, Esc closes) "),
            )
            .wrap(Wrap { trim: false }),
        rect,
    );
}

/// The accept-a-risk form: what it mutes, its four fields, and what is wrong with it.
pub(super) fn render_accept(
    state: &State,
    form: &crate::tui::accept::AcceptForm,
    theme: &Theme,
    f: &mut Frame,
    area: Rect,
) {
    let mut lines = vec![Line::raw(format!(
        "Accept the risk of {} (muted until the expiry, in {}):",
        crate::report::plural(form.targets.len(), "guardrail"),
        state
            .exceptions_file
            .as_ref()
            .map_or_else(|| "?".to_string(), |p| p.display().to_string())
    ))];
    for t in form.targets.iter().take(5) {
        lines.push(Line::styled(format!("  {} ({})", t.name, t.posture), theme.dim()));
    }
    if form.targets.len() > 5 {
        lines.push(Line::styled(
            format!("  … and {} more", form.targets.len() - 5),
            theme.dim(),
        ));
    }
    lines.push(Line::raw(""));
    for (i, name) in crate::tui::accept::FIELDS.iter().enumerate() {
        let focused = i == form.focus;
        lines.push(Line::from(vec![
            Span::styled(
                format!("{} {name:<8} ", if focused { "›" } else { " " }),
                if focused {
                    theme.fg(Color::Cyan)
                } else {
                    Style::default()
                },
            ),
            Span::raw(form.values[i].clone()),
            Span::styled(if focused { "▏" } else { "" }, theme.fg(Color::Cyan)),
        ]));
    }
    lines.push(Line::raw(""));
    match &form.error {
        Some(e) => lines.push(Line::styled(format!("✗ {e}"), theme.fg(Color::Red))),
        None => lines.push(Line::styled(
            "Enter writes it · Tab next field · Esc cancel",
            theme.dim(),
        )),
    }
    // Each line as the rows it wraps to, and the borders.
    let inner = 80u16.min(area.width.saturating_sub(2)).saturating_sub(2).max(1);
    let rows: u16 = lines
        .iter()
        .map(|l| (l.width() as u16).div_ceil(inner).max(1))
        .sum();
    let rect = popup(area, 80, (rows + 2).min(area.height));
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines)
            .block(Block::default().borders(Borders::ALL).title(" Accept a risk "))
            .wrap(Wrap { trim: false }),
        rect,
    );
}

pub(super) fn render_export(state: &State, f: &mut Frame, area: Rect) {
    let text = vec![
        Line::raw(format!(
            "Export the {} shown to a file in the current directory:",
            crate::report::plural(state.visible.len(), "guardrail")
        )),
        Line::raw(""),
        Line::raw("  j  JSON (guardkey.scan/v1, loadable with --load)"),
        Line::raw("  c  CSV"),
        Line::raw("  m  Markdown report"),
        Line::raw("  h  HTML report (one self-contained page)"),
        Line::raw(""),
        Line::raw("  Esc cancel"),
    ];
    let rect = popup(area, 72, 9);
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(text)
            .block(Block::default().borders(Borders::ALL).title(" Export "))
            .alignment(Alignment::Left),
        rect,
    );
}
