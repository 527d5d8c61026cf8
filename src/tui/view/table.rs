//! The guardrails table: only the rows in the viewport are built.

use super::Theme;
use crate::model::{Guardrail, KeyLookup, Level, Rotation};
use crate::report::diff::ChangeKind;
use crate::tui::state::{Column, State};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
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

/// A column's width rule: its width when it is shown, whether it grows into spare room,
/// and its place in the order columns are dropped when the table is narrow (STATUS and
/// NAME never go: the drop order is UPDATED, ID, STATE, ROTATION, KEY STATE, REGION, KEY).
fn rule(c: Column) -> (u16, bool, Option<u8>) {
    match c {
        Column::Status => (9, false, None),
        Column::Name => (14, true, None),
        Column::Region => (14, false, Some(6)),
        Column::Id => (12, false, Some(2)),
        Column::State => (9, false, Some(3)),
        Column::Key => (14, true, Some(7)),
        Column::KeyState => (15, false, Some(5)),
        // Wide enough for its title and the sort arrow ("ROTATION↑").
        Column::Rotation => (9, false, Some(4)),
        Column::Updated => (16, false, Some(1)),
        Column::Users => (6, false, Some(0)),
    }
}

/// The columns that fit in `width` (the table's inner width, the mark column excluded),
/// with their widths: the least important dropped first, spare room to NAME and KEY.
pub fn columns_for(width: u16) -> Vec<(Column, u16)> {
    columns_with(width, true, REGION_WIDTH)
}

/// REGION's width for one account: a region name.
pub const REGION_WIDTH: u16 = 14;
/// REGION's width for an organization: `account/region` (`management/ap-southeast-2`).
pub const ACCOUNT_REGION_WIDTH: u16 = 25;

/// The same, USERS left out when no row knows who uses it, REGION `region_width` wide.
pub fn columns_with(width: u16, users: bool, region_width: u16) -> Vec<(Column, u16)> {
    let mut shown: Vec<Column> = Column::ALL.to_vec();
    if !users {
        shown.retain(|c| *c != Column::Users);
    }
    let base = |c: Column| match c {
        Column::Region => region_width,
        c => rule(c).0,
    };
    // One space between columns.
    let need = |cols: &[Column]| cols.iter().map(|c| base(*c) + 1).sum::<u16>();
    while need(&shown) > width {
        let Some(drop) = shown
            .iter()
            .filter_map(|c| rule(*c).2.map(|p| (p, *c)))
            .min_by_key(|(p, _)| *p)
            .map(|(_, c)| c)
        else {
            break;
        };
        shown.retain(|c| *c != drop);
    }
    let mut widths: Vec<(Column, u16)> = shown.iter().map(|c| (*c, base(*c))).collect();
    let used = need(&shown);
    if used < width {
        let growers: Vec<usize> = (0..widths.len()).filter(|i| rule(widths[*i].0).1).collect();
        let spare = width - used;
        for (n, i) in growers.iter().enumerate() {
            let share = spare / growers.len() as u16 + u16::from((n as u16) < spare % growers.len() as u16);
            widths[*i].1 += share;
        }
    } else if used > width {
        // Only STATUS and NAME are left: NAME takes what there is.
        if let Some(name) = widths.iter_mut().find(|(c, _)| *c == Column::Name) {
            name.1 = name.1.saturating_sub(used - width).max(4);
        }
    }
    widths
}

/// `text` in at most `width` characters, cut with `…` when it does not fit.
pub fn fit(text: &str, width: u16) -> String {
    let width = width as usize;
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

pub(super) fn render_table(state: &State, theme: &Theme, f: &mut Frame, area: Rect, page: usize) {
    // Borders (2) and the mark column with its space (2); with a baseline, the mark column
    // also holds the change since (↑ ↓ ~ +).
    let mark_width: u16 = if state.baseline.is_some() { 2 } else { 1 };
    let region_width = if state.account_names.is_empty() {
        REGION_WIDTH
    } else {
        ACCOUNT_REGION_WIDTH
    };
    let columns = columns_with(
        area.width.saturating_sub(3 + mark_width),
        state.has_usage,
        region_width,
    );
    let widths: Vec<Constraint> = std::iter::once(Constraint::Length(mark_width))
        .chain(columns.iter().map(|(_, w)| Constraint::Length(*w)))
        .collect();
    let header_cells = std::iter::once(Cell::from(" ")).chain(columns.iter().map(|(c, w)| {
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
        // The arrow always shows: the title gives way to it.
        let title = fit(c.title(), w.saturating_sub(arrow.chars().count() as u16));
        Cell::from(format!("{title}{arrow}")).style(style.add_modifier(Modifier::BOLD))
    }));
    let end = (state.offset + page).min(state.visible.len());
    let rows: Vec<Row> = state.visible[state.offset.min(end)..end]
        .iter()
        .enumerate()
        .map(|(n, &i)| {
            let g = &state.rows[i];
            let level = g.posture.level;
            let marked = if state.marks.contains(&g.arn) { "●" } else { " " };
            let change = state.change_of_row(i);
            let mark = Line::from(vec![
                Span::styled(marked, theme.fg(Color::Cyan)),
                match change {
                    Some(c @ ChangeKind::Fixed) => Span::styled(c.symbol(), theme.level(Level::Pass)),
                    Some(c @ ChangeKind::Regressed) => Span::styled(c.symbol(), theme.level(Level::Fail)),
                    Some(c) => Span::styled(c.symbol(), theme.fg(Color::Cyan)),
                    None => Span::raw(""),
                },
            ]);
            let cells = columns.iter().map(|(c, w)| {
                let (text, style) = match c {
                    // An accepted risk: its own mark and word, not colour alone.
                    Column::Status if g.is_muted() => ("◦ MUTED".to_string(), theme.dim()),
                    Column::Status => (
                        format!("{} {}", level.symbol(), level.as_str()),
                        theme.level(level),
                    ),
                    Column::Name => (g.name.clone(), Style::default()),
                    Column::Region => (state.region_label(g), Style::default()),
                    Column::Id => (g.id.clone(), Style::default()),
                    Column::State => (
                        g.status.clone(),
                        if g.status == "READY" {
                            Style::default()
                        } else {
                            theme.fg(Color::Yellow)
                        },
                    ),
                    Column::Key => (g.key_label(), Style::default()),
                    Column::KeyState => (key_state_label(g), Style::default()),
                    Column::Rotation => (rotation_label(g), Style::default()),
                    Column::Updated => (short_time(&g.updated_at), Style::default()),
                    Column::Users => match &g.usage {
                        None => (String::new(), Style::default()),
                        Some(u) => {
                            let marker = u.marker();
                            let style = if marker.ends_with('!') {
                                theme.fg(Color::Red)
                            } else {
                                Style::default()
                            };
                            (marker, style)
                        }
                    },
                };
                Cell::from(fit(&text, *w)).style(style)
            });
            let row = Row::new(std::iter::once(Cell::from(mark)).chain(cells));
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
    let since = match state.change_counts() {
        None => String::new(),
        Some(c) => {
            let gone = c.gone.map_or_else(String::new, |n| format!(" −{n} gone"));
            format!(
                "since baseline: ↑{} fixed ↓{} regressed ~{} +{} new{gone} ",
                c.fixed, c.regressed, c.changed, c.new
            )
        }
    };
    let title = format!(
        " Guardrails {}/{}{}{} {since}",
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
