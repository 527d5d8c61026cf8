//! `render`: draws the state, and nothing else. Pure: the same state draws the same frame.
//! Only the rows in the viewport are built.

use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::keymap::{Context, footer};
use super::state::{Detail, Overlay, Screen, State};
use crate::model::Level;

mod detail;
mod header;
mod panels;
mod summary;
mod table;
mod wizard;
mod wrap;

use detail::render_detail;
use header::{render_header, render_strip};
use panels::{render_errors, render_export, render_help};
use summary::render_summary;
use table::render_table;
pub use table::{columns_for as table_columns, fit};
use wizard::render_wizard;

pub const MIN_WIDTH: u16 = 60;

pub const MIN_HEIGHT: u16 = 12;

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// Where everything goes; `update` uses it too (page size, mouse clicks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]

pub struct Areas {
    pub header: Rect,
    pub strip: Rect,
    pub table: Rect,
    pub detail: Option<Rect>,
    pub footer: Rect,
    /// Table rows that fit in `table`.
    pub table_rows: usize,
}

pub fn layout(state: &State) -> Areas {
    let area = Rect::new(0, 0, state.width, state.height);
    // One line: the full list is in the E panel and the summary.
    let strip_height = u16::from(!state.regions.is_empty());
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(2),
            Constraint::Length(strip_height),
            Constraint::Min(3),
            Constraint::Length(1),
        ])
        .split(area);
    let main = rows[2];
    let (table, detail) = match state.detail {
        Detail::Closed => (main, None),
        Detail::Full => (Rect::new(main.x, main.y, main.width, 0), Some(main)),
        Detail::Split if main.width >= 140 => {
            let parts = Layout::default()
                .direction(Direction::Horizontal)
                .constraints([Constraint::Percentage(55), Constraint::Percentage(45)])
                .split(main);
            (parts[0], Some(parts[1]))
        }
        Detail::Split => {
            let parts = Layout::default()
                .direction(Direction::Vertical)
                .constraints([Constraint::Percentage(45), Constraint::Percentage(55)])
                .split(main);
            (parts[0], Some(parts[1]))
        }
    };
    Areas {
        header: rows[0],
        strip: rows[1],
        table,
        detail,
        footer: rows[3],
        table_rows: table.height.saturating_sub(3) as usize,
    }
}

struct Theme {
    color: bool,
}

impl Theme {
    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }

    fn level(&self, l: Level) -> Style {
        self.fg(match l {
            Level::Pass => Color::Green,
            Level::Warn => Color::Yellow,
            Level::Unknown => Color::Magenta,
            Level::Fail => Color::Red,
        })
    }

    fn dim(&self) -> Style {
        if self.color {
            Style::default().fg(Color::DarkGray)
        } else {
            Style::default()
        }
    }

    fn selected(&self) -> Style {
        if self.color {
            Style::default().bg(Color::DarkGray).add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::REVERSED)
        }
    }
}

pub fn render(state: &State, f: &mut Frame) {
    let area = f.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = format!(
            "guardkey needs a terminal of at least {MIN_WIDTH}×{MIN_HEIGHT}; this one is {}×{}.\nEnlarge it, or press q to quit.",
            area.width, area.height
        );
        f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: true }), area);
        return;
    }
    let theme = Theme { color: state.color };
    let l = layout(state);
    render_header(state, &theme, f, l.header);
    render_strip(state, &theme, f, l.strip);
    match state.screen {
        Screen::Table => {
            if l.table.height > 0 {
                render_table(state, &theme, f, l.table, l.table_rows);
            }
            if let (Some(area), Some(g)) = (l.detail, state.selected_row()) {
                render_detail(state, g, &theme, f, area);
            }
        }
        Screen::Summary => {
            let main = Rect::new(
                l.table.x,
                l.table.y,
                state.width,
                l.footer.y.saturating_sub(l.table.y),
            );
            render_summary(state, &theme, f, main);
        }
    }
    if let Some(w) = &state.wizard {
        let main = Rect::new(0, l.strip.y, state.width, l.footer.y.saturating_sub(l.strip.y));
        render_wizard(state, w, &theme, f, main);
    }
    render_footer(state, &theme, f, l.footer);
    match state.overlay {
        Overlay::None => {}
        Overlay::Help => render_help(state, &theme, f, area),
        Overlay::Errors => render_errors(state, &theme, f, area),
        Overlay::Export => render_export(state, f, area),
    }
    if let Some(form) = &state.accept {
        panels::render_accept(state, form, &theme, f, area);
    }
}

fn section<'a>(title: &str, theme: &Theme) -> Line<'a> {
    Line::from(Span::styled(
        title.to_string(),
        theme.fg(Color::Cyan).add_modifier(Modifier::BOLD),
    ))
}

/// `name` and `value` in two columns, never run together: a long name keeps a space.
fn field<'a>(name: &str, value: impl Into<String>) -> Line<'a> {
    Line::from(vec![Span::raw(format!("  {name:<15} ")), Span::raw(value.into())])
}

fn context(state: &State) -> Context {
    if state.accept.is_some() {
        Context::Accept
    } else if state.editing_filter {
        Context::Filter
    } else {
        match state.overlay {
            Overlay::Errors => Context::Errors,
            Overlay::Export => Context::Export,
            _ if state.detail != Detail::Closed => Context::Detail,
            _ => Context::Table,
        }
    }
}

fn render_footer(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
    let line = if let Some(w) = &state.wizard {
        Line::from(Span::styled(w.hints().to_string(), theme.fg(Color::Cyan)))
    } else if let Some(input) = &state.command {
        Line::from(vec![
            Span::styled(":", theme.fg(Color::Cyan)),
            Span::raw(input.clone()),
            Span::styled("▏", theme.fg(Color::Cyan)),
            Span::styled(
                "   q · refresh · fix · summary · export json|csv|md · filter EXPR · sort COLUMN [desc]",
                theme.dim(),
            ),
        ])
    } else if state.editing_filter {
        // What is wrong with the expression, as `fix --filter` would say it, under the
        // input as it is typed; the examples while it is empty or fine.
        let problem = match state.filter_input.trim() {
            "" => None,
            input => crate::model::filter::Filter::check_in(input, state.filter_names()).err(),
        };
        let (hint, style) = match problem {
            Some(e) => (format!("   ✗ {e}"), theme.fg(Color::Red)),
            None => (
                "   status:fail region:eu-* key:none !term · Enter keep · Ctrl-u clear · Esc clear and close"
                    .to_string(),
                theme.dim(),
            ),
        };
        Line::from(vec![
            Span::styled("/", theme.fg(Color::Cyan)),
            Span::raw(state.filter_input.clone()),
            Span::styled("▏", theme.fg(Color::Cyan)),
            Span::styled(hint, style),
        ])
    } else if let Some(t) = &state.toast {
        Line::from(Span::styled(
            t.text.clone(),
            if t.error {
                theme.fg(Color::Red)
            } else {
                theme.fg(Color::Green)
            },
        ))
    } else {
        let mut spans = Vec::new();
        // Only what works here: a saved scan cannot be refreshed, retried or fixed, and a
        // read-only session cannot fix.
        let saved = state.header.loaded_from.is_some();
        let works = |keys: &str| match keys {
            "r" | "R" => !saved,
            "f" => !saved && !state.header.read_only,
            _ => true,
        };
        for (keys, what) in footer(context(state)).into_iter().filter(|(k, _)| works(k)) {
            spans.push(Span::styled(
                keys.to_string(),
                theme.fg(Color::Cyan).add_modifier(Modifier::BOLD),
            ));
            spans.push(Span::styled(format!(" {what}  "), theme.dim()));
        }
        Line::from(spans)
    };
    f.render_widget(Paragraph::new(line), area);
}

fn popup(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width.saturating_sub(2));
    let h = height.min(area.height.saturating_sub(2));
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}
