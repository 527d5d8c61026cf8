//! The remediation wizard, one screen per step.

use super::{SPINNER, Theme, section};
use crate::fix::plan::KeyChoice;
use crate::model::Level;
use crate::tui::state::State;
use crate::tui::wizard::{FIELDS, KeyList, Progress, Step, Wizard};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

pub(super) fn render_wizard(state: &State, w: &Wizard, theme: &Theme, f: &mut Frame, area: Rect) {
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
