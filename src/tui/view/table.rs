//! The guardrails table: only the rows in the viewport are built.

use super::Theme;
use crate::model::{Guardrail, KeyLookup, Rotation};
use crate::tui::state::{Column, State};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

pub(super) fn rotation_label(g: &Guardrail) -> String {
    match g.key_info().map(|k| &k.rotation) {
        None => String::new(),
        Some(Rotation::Enabled { period_days: Some(d) }) => format!("{d} days"),
        Some(Rotation::Enabled { period_days: None }) => "on".into(),
        Some(Rotation::Disabled) => "off".into(),
        Some(Rotation::Unknown { .. }) => "?".into(),
    }
}

pub(super) fn key_state_label(g: &Guardrail) -> String {
    match &g.key {
        Some(KeyLookup::Found(k)) => k.state.clone(),
        Some(KeyLookup::Failed { error, .. }) => error.label(),
        None => String::new(),
    }
}

pub(super) fn short_time(t: &Option<String>) -> String {
    t.as_deref()
        .map(|t| t.get(..16).unwrap_or(t).replace('T', " "))
        .unwrap_or_default()
}

pub(super) fn render_table(state: &State, theme: &Theme, f: &mut Frame, area: Rect, page: usize) {
    let widths = [
        Constraint::Length(1),
        Constraint::Length(9),
        Constraint::Min(16),
        Constraint::Length(14),
        Constraint::Length(12),
        Constraint::Length(9),
        Constraint::Min(14),
        Constraint::Length(15),
        Constraint::Length(8),
        Constraint::Length(16),
    ];
    let header_cells = std::iter::once(Cell::from(" ")).chain(Column::ALL.iter().map(|c| {
        let arrow = if state.sort == *c {
            if state.descending { "↓" } else { "↑" }
        } else {
            ""
        };
        let style = if state.sort == *c {
            theme.fg(Color::Cyan)
        } else {
            Style::default()
        };
        Cell::from(format!("{}{arrow}", c.title())).style(style.add_modifier(Modifier::BOLD))
    }));
    let end = (state.offset + page).min(state.visible.len());
    let rows: Vec<Row> = state.visible[state.offset.min(end)..end]
        .iter()
        .enumerate()
        .map(|(n, &i)| {
            let g = &state.rows[i];
            let level = g.posture.level;
            let mark = if state.marks.contains(&g.arn) { "●" } else { " " };
            let row = Row::new(vec![
                Cell::from(mark).style(theme.fg(Color::Cyan)),
                Cell::from(format!("{} {}", level.symbol(), level.as_str())).style(theme.level(level)),
                Cell::from(g.name.clone()),
                Cell::from(g.region.to_string()),
                Cell::from(g.id.clone()),
                Cell::from(g.status.clone()).style(if g.status == "READY" {
                    Style::default()
                } else {
                    theme.fg(Color::Yellow)
                }),
                Cell::from(g.key_label()),
                Cell::from(key_state_label(g)),
                Cell::from(rotation_label(g)),
                Cell::from(short_time(&g.updated_at)),
            ]);
            if state.offset + n == state.selected {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    let filter = if state.filter_input.is_empty() {
        String::new()
    } else {
        format!(" filter: {} ", state.filter_input)
    };
    let title = format!(
        " Guardrails {}/{}{}{} ",
        state.visible.len(),
        state.rows.len(),
        filter,
        if state.marks.is_empty() {
            String::new()
        } else {
            format!(" marked: {} ", state.marks.len())
        }
    );
    let empty = rows.is_empty();
    let table = Table::new(rows, widths)
        .header(Row::new(header_cells.collect::<Vec<_>>()))
        .block(Block::default().borders(Borders::ALL).title(title));
    f.render_widget(table, area);
    if empty {
        let msg = if state.rows.is_empty() && state.loading() {
            "scanning… the first guardrails appear here as soon as a region answers"
        } else if state.rows.is_empty() {
            "no guardrail in these regions"
        } else {
            "no guardrail matches the filter (Esc clears it)"
        };
        let inner = Rect::new(area.x + 2, area.y + 2, area.width.saturating_sub(4), 1);
        f.render_widget(Paragraph::new(msg).style(theme.dim()), inner);
    }
}
