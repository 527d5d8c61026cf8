//! `render`: draws the state, and nothing else. Pure: the same state draws the same frame.
//! Only the rows in the viewport are built.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, Wrap};

use super::keymap::{Context, KEYMAP, footer};
use super::state::{Column, Detail, Loadable, Overlay, RegionStatus, Screen, State};
use super::wizard::{FIELDS, KeyList, Progress, Step, Wizard};
use crate::fix::plan::KeyChoice;
use crate::model::{Guardrail, KeyLookup, Level, Rotation, policy::summarize};
use crate::report::Totals;

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

fn strip_item(state: &State, i: usize) -> String {
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

fn strip_lines(state: &State, width: u16) -> Vec<Vec<usize>> {
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

pub fn layout(state: &State) -> Areas {
    let area = Rect::new(0, 0, state.width, state.height);
    let strip_height = if state.regions.is_empty() {
        0
    } else {
        strip_lines(state, state.width).len().min(4) as u16
    };
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
}

fn render_header(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
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

fn render_strip(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
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

fn rotation_label(g: &Guardrail) -> String {
    match g.key_info().map(|k| &k.rotation) {
        None => String::new(),
        Some(Rotation::Enabled { period_days: Some(d) }) => format!("{d} days"),
        Some(Rotation::Enabled { period_days: None }) => "on".into(),
        Some(Rotation::Disabled) => "off".into(),
        Some(Rotation::Unknown { .. }) => "?".into(),
    }
}

fn key_state_label(g: &Guardrail) -> String {
    match &g.key {
        Some(KeyLookup::Found(k)) => k.state.clone(),
        Some(KeyLookup::Failed { error, .. }) => error.label(),
        None => String::new(),
    }
}

fn short_time(t: &Option<String>) -> String {
    t.as_deref()
        .map(|t| t.get(..16).unwrap_or(t).replace('T', " "))
        .unwrap_or_default()
}

fn render_table(state: &State, theme: &Theme, f: &mut Frame, area: Rect, page: usize) {
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

fn section<'a>(title: &str, theme: &Theme) -> Line<'a> {
    Line::from(Span::styled(
        title.to_string(),
        theme.fg(Color::Cyan).add_modifier(Modifier::BOLD),
    ))
}

fn field<'a>(name: &str, value: impl Into<String>) -> Line<'a> {
    Line::from(vec![Span::raw(format!("  {name:<14}")), Span::raw(value.into())])
}

fn detail_lines<'a>(state: &State, g: &Guardrail, theme: &Theme) -> Vec<Line<'a>> {
    let mut out = vec![section("Guardrail", theme)];
    out.push(field("name", g.name.clone()));
    out.push(field("ARN", g.arn.clone()));
    out.push(field("status", g.status.clone()));
    if let Some(d) = &g.description {
        out.push(field("description", d.clone()));
    }
    out.push(field("created", g.created_at.clone().unwrap_or_default()));
    out.push(field("updated", g.updated_at.clone().unwrap_or_default()));
    out.push(Line::raw(""));
    out.push(section("Posture", theme));
    let p = &g.posture;
    out.push(Line::from(vec![
        Span::raw("  "),
        Span::styled(
            format!("{} {} {}", p.level.symbol(), p.level.as_str(), p.id.as_str()),
            theme.level(p.level),
        ),
    ]));
    out.push(field("why", p.reason.to_string()));
    out.push(field("fix", p.hint.to_string()));
    for m in &p.more {
        out.push(Line::from(vec![
            Span::raw("  also "),
            Span::styled(
                format!("{} {} ", m.level.symbol(), m.id.as_str()),
                theme.level(m.level),
            ),
            Span::raw(m.reason.to_string()),
        ]));
    }
    out.push(Line::raw(""));
    out.push(section("Versions", theme));
    let versions = g
        .versions
        .as_ref()
        .map(|v| Loadable::Ready(v.clone()))
        .or_else(|| state.versions.get(&g.arn).cloned());
    match versions {
        None => out.push(Line::raw("  (press Enter to load)")),
        Some(Loadable::Loading) => out.push(Line::raw("  loading…")),
        Some(Loadable::Failed(e)) => out.push(Line::raw(format!("  cannot list: {}", e.label()))),
        Some(Loadable::Ready(v)) if v.is_empty() => out.push(Line::raw("  no numbered version")),
        Some(Loadable::Ready(v)) => {
            for version in v {
                let key = match &version.kms_key_arn {
                    None => "AWS-owned key".to_string(),
                    Some(k) if Some(k) == g.kms_key_arn.as_ref() => "the DRAFT's key".to_string(),
                    Some(k) => k.clone(),
                };
                out.push(field(&format!("version {}", version.version), key));
            }
        }
    }
    out.push(Line::raw(""));
    out.push(section("Key", theme));
    match (&g.read_error, &g.kms_key_arn, &g.key) {
        (Some(e), _, _) => out.push(field("unknown", e.detail())),
        (None, None, _) => out.push(Line::raw(
            "  AWS-owned key: not visible, not controllable, not auditable in your account",
        )),
        (None, Some(_), Some(KeyLookup::Found(k))) => {
            out.push(field("ARN", k.arn.clone()));
            out.push(field(
                "aliases",
                if k.aliases.is_empty() {
                    "(none)".to_string()
                } else {
                    k.aliases.join(", ")
                },
            ));
            out.push(field("manager", k.manager.clone()));
            out.push(field("state", k.state.clone()));
            if let Some(d) = &k.deletion_date {
                out.push(field("deletion date", d.clone()));
            }
            out.push(field(
                "rotation",
                match &k.rotation {
                    Rotation::Enabled { period_days } => {
                        format!("on, every {} days", period_days.unwrap_or(365))
                    }
                    Rotation::Disabled => "off".into(),
                    Rotation::Unknown { error } => format!("unknown ({})", error.label()),
                },
            ));
            out.push(field("spec", format!("{} {}", k.spec, k.usage)));
            out.push(field("created", k.created_at.clone().unwrap_or_default()));
            out.push(field("multi-region", if k.multi_region { "yes" } else { "no" }));
            if let Some(d) = &k.description {
                out.push(field("description", d.clone()));
            }
            out.push(Line::raw(""));
            out.push(section("Key policy", theme));
            match state.policies.get(&k.arn) {
                None => out.push(Line::raw("  (press Enter to load)")),
                Some(Loadable::Loading) => out.push(Line::raw("  loading…")),
                Some(Loadable::Failed(e)) => out.push(Line::raw(format!(
                    "  unknown: cannot read it ({}), so who may Decrypt is not known",
                    e.label()
                ))),
                Some(Loadable::Ready(text)) => match summarize(text, &k.account) {
                    None => out.push(Line::raw("  not a JSON policy document")),
                    Some(s) => {
                        out.push(field(
                            "account root",
                            if s.root_statement {
                                "yes: the key cannot be locked out"
                            } else {
                                "NO: the key can be locked out"
                            },
                        ));
                        let who = |v: &Vec<String>| {
                            if v.is_empty() {
                                "nobody".to_string()
                            } else {
                                v.join(", ")
                            }
                        };
                        out.push(field("Decrypt", who(&s.decrypt)));
                        out.push(field("GenerateDataKey", who(&s.generate_data_key)));
                        out.push(field("CreateGrant", who(&s.create_grant)));
                        if s.conditional > 0 {
                            out.push(field(
                                "conditional",
                                format!("{} statements with conditions", s.conditional),
                            ));
                        }
                    }
                },
            }
        }
        (None, Some(arn), Some(KeyLookup::Failed { error, .. })) => {
            out.push(field("ARN", arn.clone()));
            out.push(field("lookup", error.detail()));
        }
        (None, Some(arn), None) => out.push(field("ARN", arn.clone())),
    }
    out.push(Line::raw(""));
    out.push(section("Audit by hand", theme));
    out.push(Line::raw(format!(
        "  aws bedrock get-guardrail --region {} --guardrail-identifier {} --query kmsKeyArn",
        g.region, g.arn
    )));
    if let Some(k) = &g.kms_key_arn {
        let region = k.split(':').nth(3).unwrap_or(&g.region);
        out.push(Line::raw(format!(
            "  aws kms describe-key --region {region} --key-id {k}"
        )));
        out.push(Line::raw(format!(
            "  aws kms get-key-rotation-status --region {region} --key-id {k}"
        )));
        out.push(Line::raw(format!(
            "  aws kms get-key-policy --region {region} --key-id {k} --policy-name default"
        )));
    }
    out
}

fn render_detail(state: &State, g: &Guardrail, theme: &Theme, f: &mut Frame, area: Rect) {
    let lines = detail_lines(state, g, theme);
    let title = format!(" {} ", g.name);
    f.render_widget(Clear, area);
    f.render_widget(
        Paragraph::new(lines)
            .block(Block::default().borders(Borders::ALL).title(title))
            .wrap(Wrap { trim: false })
            .scroll((state.detail_scroll, 0)),
        area,
    );
}

fn render_summary(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
    let parts = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Min(5), Constraint::Length(10)])
        .split(area);
    let name_width = state.regions.iter().map(|r| r.name.len()).max().unwrap_or(10);
    let bar_width = (parts[0].width as usize)
        .saturating_sub(name_width + 64)
        .clamp(10, 60);
    let per_region: Vec<(String, Totals, Option<String>)> = state
        .regions
        .iter()
        .map(|r| {
            let t = Totals::of(state.rows.iter().filter(|g| *g.region == r.name));
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
    for (name, t, note) in per_region
        .iter()
        .filter(|(_, t, note)| t.guardrails > 0 || note.is_some())
    {
        let mut spans = vec![Span::raw(format!("{name:<name_width$} "))];
        for (count, level, ch) in [
            (t.fail, Level::Fail, "✗"),
            (t.unknown, Level::Unknown, "?"),
            (t.warn, Level::Warn, "!"),
            (t.pass, Level::Pass, "✓"),
        ] {
            let cells = (count * bar_width).div_ceil(max);
            if cells > 0 {
                // The mark makes the bar readable without colour.
                let glyph = if state.color {
                    "█".to_string()
                } else {
                    ch.to_string()
                };
                spans.push(Span::styled(glyph.repeat(cells), theme.level(level)));
            }
        }
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
            Some(true) => format!(
                "  ≥ {} guardrails (read before it failed): {} FAIL {} WARN {} UNKNOWN {} PASS",
                t.guardrails, t.fail, t.warn, t.unknown, t.pass
            ),
            Some(false) => "  no guardrails".to_string(),
            None => format!(
                "  {} guardrails: {} FAIL {} WARN {} UNKNOWN {} PASS",
                t.guardrails, t.fail, t.warn, t.unknown, t.pass
            ),
        }));
        if let Some(n) = note {
            spans.push(Span::styled(format!("  {n}"), theme.dim()));
        }
        lines.push(Line::from(spans));
    }
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Summary by region (Tab: table) "),
        ),
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
    let lines: Vec<Line> = reasons
        .iter()
        .take(8)
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
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(" Top reasons ")),
        parts[1],
    );
}

fn context(state: &State) -> Context {
    if state.editing_filter {
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
        Line::from(vec![
            Span::styled("/", theme.fg(Color::Cyan)),
            Span::raw(state.filter_input.clone()),
            Span::styled("▏", theme.fg(Color::Cyan)),
            Span::styled(
                "   status:fail region:eu-* key:none !term · Enter keep · Esc clear",
                theme.dim(),
            ),
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
        for (keys, what) in footer(context(state)) {
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

fn render_help(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
    let mut lines = Vec::new();
    for context in [
        Context::Everywhere,
        Context::Table,
        Context::Detail,
        Context::Filter,
        Context::Errors,
        Context::Export,
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
        "Status marks: ✓ PASS  ! WARN  ? UNKNOWN  ✗ FAIL. Columns 1-9: STATUS NAME REGION ID STATE KEY KEY-STATE ROTATION UPDATED.",
        theme.dim(),
    )));
    let rect = popup(area, 90, area.height.saturating_sub(4));
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

fn render_errors(state: &State, theme: &Theme, f: &mut Frame, area: Rect) {
    let mut lines = Vec::new();
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
            Span::styled(format!("{:<16}", r.name), style.add_modifier(Modifier::BOLD)),
            Span::styled(error.label(), style.patch(theme.fg(Color::Red))),
            Span::styled(
                if *guardrails > 0 {
                    format!("  (after {guardrails} guardrails)")
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
    let rect = popup(area, 110, (lines.len() as u16 + 2).max(6));
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

fn render_export(state: &State, f: &mut Frame, area: Rect) {
    let text = vec![
        Line::raw(format!(
            "Export the {} guardrails shown to a file in the current directory:",
            state.visible.len()
        )),
        Line::raw(""),
        Line::raw("  j  JSON (guardkey.scan/v1, loadable with --load)"),
        Line::raw("  c  CSV"),
        Line::raw("  m  Markdown report"),
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

fn render_wizard(state: &State, w: &Wizard, theme: &Theme, f: &mut Frame, area: Rect) {
    let mut lines: Vec<Line> = Vec::new();
    let n = w.included().count();
    match w.step {
        Step::Targets => {
            lines.push(Line::raw(format!("Guardrails to move to a customer managed key ({n} included). Compliant ones are left out unless you include them.")));
            lines.push(Line::raw(""));
            let mut region = "";
            for (i, t) in w.targets.iter().enumerate() {
                if t.region != region {
                    region = &t.region;
                    lines.push(section(region, theme));
                }
                let mark = if t.included { "[x]" } else { "[ ]" };
                let skipped = if t.level == Level::Pass && !t.included {
                    "  (compliant: skipped)"
                } else {
                    ""
                };
                let style = if i == w.cursor {
                    theme.selected()
                } else {
                    Style::default()
                };
                lines.push(Line::from(vec![
                    Span::styled(format!("  {mark} "), style),
                    Span::styled(
                        format!("{} {} ", t.level.symbol(), t.level.as_str()),
                        theme.level(t.level),
                    ),
                    Span::styled(
                        format!(
                            "{}  {}{skipped}",
                            t.name,
                            t.current_key.as_deref().unwrap_or("AWS-owned key")
                        ),
                        style,
                    ),
                ]));
            }
        }
        Step::Keys => {
            lines.push(Line::raw(
                "KMS keys are regional: choose, per region, a new key (recommended) or an existing one.",
            ));
            lines.push(Line::raw(""));
            for (i, r) in w.regions.iter().enumerate() {
                let style = if i == w.cursor {
                    theme.selected()
                } else {
                    Style::default()
                };
                let choice = match (r.existing, &r.keys) {
                    (None, _) => "new customer managed key".to_string(),
                    (Some(k), KeyList::Ready(keys)) => keys
                        .get(k)
                        .map(|k| k.alias.clone().unwrap_or(k.arn.clone()))
                        .unwrap_or_default(),
                    _ => String::new(),
                };
                lines.push(Line::styled(
                    format!("{:<16} → {choice}", r.region),
                    style.add_modifier(Modifier::BOLD),
                ));
                if let Some(note) = &r.note {
                    lines.push(Line::styled(format!("    {note}"), theme.fg(Color::Cyan)));
                }
                match &r.keys {
                    KeyList::Loading => lines.push(Line::styled("    existing keys: loading…", theme.dim())),
                    KeyList::Failed(e) => lines.push(Line::styled(
                        format!("    existing keys: cannot list ({e})"),
                        theme.dim(),
                    )),
                    KeyList::Ready(keys) if keys.is_empty() => {
                        lines.push(Line::styled("    no existing customer key", theme.dim()))
                    }
                    KeyList::Ready(keys) => {
                        for (j, k) in keys.iter().enumerate() {
                            let chosen = if r.existing == Some(j) { "●" } else { " " };
                            let verdict = match &k.suitable {
                                Ok(()) => Span::styled("✓ suits guardrails", theme.level(Level::Pass)),
                                Err(why) => Span::styled(format!("✗ {why}"), theme.level(Level::Fail)),
                            };
                            lines.push(Line::from(vec![
                                Span::raw(format!(
                                    "    {chosen} {:<28} {:<16} rotation {:<9} ",
                                    k.alias.as_deref().unwrap_or(&k.arn),
                                    k.state,
                                    k.rotation
                                )),
                                verdict,
                            ]));
                        }
                    }
                }
            }
        }
        Step::Settings => {
            lines.push(Line::raw(
                "The new key, created in each region that chose one. Lists are separated by commas.",
            ));
            lines.push(Line::raw(""));
            for (i, name) in FIELDS.iter().enumerate() {
                let focused = i == w.settings.focus;
                let style = if focused {
                    theme.selected()
                } else {
                    Style::default()
                };
                let cursor = if focused { "▏" } else { "" };
                lines.push(Line::from(vec![
                    Span::styled(format!("  {name:<18}"), theme.fg(Color::Cyan)),
                    Span::styled(format!("{}{cursor}", w.settings.values[i]), style),
                ]));
            }
            lines.push(Line::raw(""));
            match w.alias_error() {
                Some(e) => lines.push(Line::styled(format!("  ✗ {e}"), theme.level(Level::Fail))),
                None => lines.push(Line::styled(
                    "  ✓ the alias is free in every region checked",
                    theme.level(Level::Pass),
                )),
            }
        }
        Step::Review => match w.plan() {
            Ok(plan) => {
                lines.push(Line::styled(
                    format!(
                        "Publish a new version after the key is applied (v): {}",
                        if w.publish_version { "yes" } else { "no" }
                    ),
                    theme.fg(Color::Cyan),
                ));
                if let Some(path) = &w.saved {
                    lines.push(Line::styled(format!("Saved: {path}"), theme.level(Level::Pass)));
                }
                lines.push(Line::raw(""));
                for l in plan.summary().lines() {
                    lines.push(Line::raw(l.to_string()));
                }
                for l in plan.diff().lines() {
                    let style = if l.starts_with('+') {
                        theme.level(Level::Pass)
                    } else if l.starts_with('-') {
                        theme.level(Level::Fail)
                    } else {
                        Style::default()
                    };
                    lines.push(Line::styled(l.to_string(), style));
                }
                for r in &plan.regions {
                    if let KeyChoice::Create(k) = &r.key {
                        lines.push(section(&format!("Key policy ({})", r.region), theme));
                        for l in k.policy.lines() {
                            let style = if l.contains("\"Sid\"") {
                                theme.fg(Color::Yellow)
                            } else {
                                Style::default()
                            };
                            lines.push(Line::styled(l.to_string(), style));
                        }
                        break;
                    }
                }
            }
            Err(e) => lines.push(Line::styled(format!("✗ {e}"), theme.level(Level::Fail))),
        },
        Step::Confirm => {
            lines.push(Line::raw(format!(
                "Nothing has been written yet. {n} guardrails will be moved to the chosen keys."
            )));
            lines.push(Line::raw(""));
            lines.push(Line::raw(format!("Type {n} and press Enter to apply:")));
            lines.push(Line::styled(
                format!("  > {}▏", w.confirm_input),
                theme.fg(Color::Cyan),
            ));
        }
        Step::Apply | Step::Done => {
            for (region, key) in &w.key_progress {
                match key {
                    Ok(arn) => lines.push(Line::styled(
                        format!("✓ {region}: key {arn}"),
                        theme.level(Level::Pass),
                    )),
                    Err(e) => lines.push(Line::styled(format!("✗ {region}: {e}"), theme.level(Level::Fail))),
                }
            }
            for note in &w.notes {
                lines.push(Line::styled(format!("! {note}"), theme.level(Level::Warn)));
            }
            for (arn, p) in &w.progress {
                let name = w
                    .targets
                    .iter()
                    .find(|t| &t.arn == arn)
                    .map_or(arn.as_str(), |t| t.name.as_str());
                let spin = SPINNER[state.tick as usize % SPINNER.len()];
                let line = match p {
                    Progress::Pending => Line::styled(format!("  · {name}"), theme.dim()),
                    Progress::Writing => {
                        Line::raw(format!("  {spin} {name}: writing, waiting for READY, verifying"))
                    }
                    Progress::Fixed => Line::styled(format!("  ✓ {name}"), theme.level(Level::Pass)),
                    Progress::Skipped(why) => Line::styled(format!("  - {name}: {why}"), theme.dim()),
                    Progress::Failed(e) => Line::styled(format!("  ✗ {name}: {e}"), theme.level(Level::Fail)),
                };
                lines.push(line);
            }
            if w.asking_cancel {
                lines.push(Line::raw(""));
                lines.push(Line::styled(
                    "Cancel? Guardrails already written stay written (and journaled). y / n",
                    theme.fg(Color::Yellow),
                ));
            }
            if let (Some(journal), Some(summary)) = (&w.journal, &w.summary) {
                lines.push(Line::raw(""));
                for l in summary.lines() {
                    lines.push(Line::raw(l.to_string()));
                }
                if !journal.is_empty() {
                    lines.push(Line::raw(format!("Journal: {journal}")));
                    lines.push(Line::styled(
                        format!("To undo: guardkey restore {journal}"),
                        theme.fg(Color::Cyan),
                    ));
                }
            }
        }
    }
    if let Some(e) = &w.error {
        lines.push(Line::raw(""));
        lines.push(Line::styled(format!("✗ {e}"), theme.level(Level::Fail)));
    }
    let scroll = if w.step == Step::Review {
        w.review_scroll
    } else {
        0
    };
    f.render_widget(Clear, area);
    f.render_widget(
        Paragraph::new(lines)
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(format!(" Fix: {} ", w.step.title())),
            )
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        area,
    );
}
