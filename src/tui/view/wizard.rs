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
    // What must stay on screen however long the list: the cancel question, the outcome,
    // the journal and the undo command.
    let mut pinned: Vec<Line> = Vec::new();
    // The line the cursor is on, kept in view.
    let mut focus: Option<usize> = None;
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
                let skipped = match (&t.managed_by, &t.locks_out) {
                    (Some(m), _) if !t.included => format!("  ({m}: set KmsKeyArn in the template)"),
                    (Some(m), _) => format!("  ({m}: it will drift)"),
                    (None, Some(why)) if !t.included => {
                        format!("  (left out: no key keeps its users — {why})")
                    }
                    (None, Some(_)) => "  (a user will lose access: the confirm step asks)".into(),
                    (None, None) if t.level == Level::Pass && !t.included => "  (compliant: skipped)".into(),
                    (None, None) => String::new(),
                };
                let style = if i == w.cursor {
                    focus = Some(lines.len());
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
            if w.regions.len() > 1 {
                lines.push(Line::raw(format!(
                    "One multi-Region key for all the regions (m): {}",
                    if w.multi_region { "yes" } else { "no" }
                )));
            }
            lines.push(Line::raw(""));
            for (i, r) in w.regions.iter().enumerate() {
                let style = if i == w.cursor {
                    focus = Some(lines.len());
                    theme.selected()
                } else {
                    Style::default()
                };
                let choice = match (r.existing, &r.keys) {
                    (None, _) if w.multi_region && i == 0 => "new multi-Region key (primary)".to_string(),
                    (None, _) if w.multi_region => "its replica in this region".to_string(),
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
                // What an empty list means, rather than nothing at all.
                let empty = match *name {
                    "administrators" => {
                        "(none: only the account root, through IAM policies, administers the key)"
                    }
                    "managers" => "(none: guardrails can be encrypted only by whom IAM policies allow)",
                    "users" => "(none: inference callers need kms:Decrypt from IAM policies)",
                    _ => "",
                };
                let value = &w.settings.values[i];
                let mut spans = vec![
                    Span::styled(format!("  {name:<18}"), theme.fg(Color::Cyan)),
                    Span::styled(format!("{value}{cursor}"), style),
                ];
                if value.trim().is_empty() && !empty.is_empty() {
                    spans.push(Span::styled(format!(" {empty}"), theme.dim()));
                }
                lines.push(Line::from(spans));
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
                lines.push(Line::styled(
                    format!(
                        "Grant the guardrails' users kms:Decrypt in an existing key's policy (g): {}",
                        if w.grant_users { "yes" } else { "no" }
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
        Step::Confirm => match w.plan() {
            Ok(plan) => {
                let moving = plan.guardrail_count();
                lines.push(Line::raw(format!(
                    "Nothing has been written yet. {} will be moved to the chosen keys.",
                    crate::report::plural(moving, "guardrail")
                )));
                lines.push(Line::raw(format!(
                    "Each is then proved live: applied once to the word \"hello\" (ApplyGuardrail, one text unit each, {moving} in all)."
                )));
                // Per guardrail with users, who keeps access: the promise the apply then checks.
                if plan.usage.read {
                    lines.push(Line::raw(""));
                    let mut unused = 0;
                    for t in plan.regions.iter().flat_map(|r| &r.targets) {
                        let (keep, of) = plan.usage.keeping(&t.arn);
                        if of == 0 {
                            unused += 1;
                            continue;
                        }
                        let verb = if keep == 1 { "keeps" } else { "keep" };
                        let text = format!(
                            "  ✓ {}: {keep} of {} {verb} access",
                            t.name,
                            crate::report::plural(of, "user")
                        );
                        let level = if keep == of { Level::Pass } else { Level::Warn };
                        lines.push(Line::styled(text, theme.level(level)));
                    }
                    if unused > 0 {
                        lines.push(Line::styled(
                            format!(
                                "  · {} with no known user (administrators aside)",
                                crate::report::plural(unused, "other guardrail")
                            ),
                            theme.dim(),
                        ));
                    }
                }
                for (name, p) in plan.usage.unknown_users(&plan) {
                    lines.push(Line::styled(
                        format!(
                            "  ? {name}: {} may lose access (not known): {}",
                            p.user.label(),
                            p.with_key.reason()
                        ),
                        theme.level(Level::Warn),
                    ));
                }
                let held: Vec<_> = plan.held.iter().filter(|h| !h.moved_anyway).collect();
                let accepted: Vec<_> = plan.held.iter().filter(|h| h.moved_anyway).collect();
                if !held.is_empty() {
                    lines.push(Line::raw(""));
                    lines.push(Line::styled(
                        format!(
                            "✗ Held back, not moved: {} whose users would lose access. o moves them anyway (journaled).",
                            crate::report::plural(held.len(), "guardrail")
                        ),
                        theme.level(Level::Fail),
                    ));
                    for h in held {
                        let who: Vec<String> = h.losing.iter().map(|p| p.user.label()).collect();
                        lines.push(Line::raw(format!("    {}: {}", h.target.name, who.join(", "))));
                    }
                }
                if !accepted.is_empty() {
                    lines.push(Line::raw(""));
                    lines.push(Line::styled(
                        format!(
                            "⚠ Lock-out accepted (o): {} move although users lose access; the journal says so.",
                            crate::report::plural(accepted.len(), "guardrail")
                        ),
                        theme.level(Level::Fail),
                    ));
                }
                // The prompt stays on screen however long the list above it.
                if moving == 0 {
                    pinned.push(Line::raw("Nothing to apply: Esc goes back."));
                } else {
                    pinned.push(Line::raw(format!("Type {moving} and press Enter to apply:")));
                    pinned.push(Line::styled(
                        format!("  > {}▏", w.confirm_input),
                        theme.fg(Color::Cyan),
                    ));
                }
            }
            Err(e) => lines.push(Line::styled(format!("✗ {e}"), theme.level(Level::Fail))),
        },
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
                    Progress::Fixed(None) => Line::styled(format!("  ✓ {name}"), theme.level(Level::Pass)),
                    Progress::Fixed(Some(users)) => {
                        Line::styled(format!("  ✓ {name}: {users}"), theme.level(Level::Pass))
                    }
                    Progress::Skipped(why) => Line::styled(format!("  - {name}: {why}"), theme.dim()),
                    Progress::Failed(e) => Line::styled(format!("  ✗ {name}: {e}"), theme.level(Level::Fail)),
                };
                lines.push(line);
            }
            if w.asking_cancel {
                pinned.push(Line::styled(
                    "Cancel? Guardrails already written stay written (and journaled). y / n",
                    theme.fg(Color::Yellow),
                ));
            }
            if let (Some(journal), Some(summary)) = (&w.journal, &w.summary) {
                // The counts; each guardrail's line is in the list above.
                if let Some(counts) = summary.lines().next() {
                    pinned.push(Line::styled(
                        counts.to_string(),
                        Style::default().add_modifier(Modifier::BOLD),
                    ));
                }
                if !journal.is_empty() {
                    // The undo command names the journal too: it goes first.
                    pinned.push(Line::styled(
                        format!("To undo: guardkey restore {journal}"),
                        theme.fg(Color::Cyan),
                    ));
                    pinned.push(Line::raw(format!("Journal: {journal}")));
                }
                if w.progress.is_empty() {
                    // Nothing ran (the journal could not be created): the summary says why.
                    for l in summary.lines().skip(1) {
                        lines.push(Line::raw(l.to_string()));
                    }
                }
            }
        }
    }
    if let Some(e) = &w.error {
        lines.push(Line::raw(""));
        lines.push(Line::styled(format!("✗ {e}"), theme.level(Level::Fail)));
    }
    f.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(match state.account_names.get(&w.account) {
            // With many accounts, which one every step runs in.
            Some(name) => format!(" Fix: {} · account {name} ({}) ", w.step.title(), w.account),
            None => format!(" Fix: {} ", w.step.title()),
        });
    let inner = block.inner(area);
    f.render_widget(block, area);
    // Each pinned line as the rows it wraps to, and a rule above; at least three rows stay
    // for the list.
    let rows_of = |l: &Line| (l.width() as u16).div_ceil(inner.width.max(1)).max(1);
    let pinned_height = if pinned.is_empty() {
        0
    } else {
        (pinned.iter().map(rows_of).sum::<u16>() + 1).min(inner.height.saturating_sub(3))
    };
    let body = Rect::new(inner.x, inner.y, inner.width, inner.height - pinned_height);
    let height = body.height as usize;
    // Lists are cut, not wrapped, so that a line is a row and the cursor can be kept in
    // view; the review and the settings wrap, and scroll by hand.
    let list = matches!(w.step, Step::Targets | Step::Keys | Step::Apply | Step::Done);
    let max_scroll = lines.len().saturating_sub(height);
    let scroll = match (w.step, focus) {
        (Step::Targets | Step::Keys, Some(line)) => {
            line.saturating_sub(height.saturating_sub(1) / 2).min(max_scroll)
        }
        (Step::Review, _) => w.review_scroll as usize,
        (Step::Apply | Step::Done, _) => (w.review_scroll as usize).min(max_scroll),
        _ => 0,
    };
    let lines = if list {
        lines
    } else {
        super::wrap::wrap_all(lines, body.width as usize)
    };
    let mut paragraph = Paragraph::new(lines).scroll((scroll as u16, 0));
    if !list {
        paragraph = paragraph.wrap(Wrap { trim: false });
    }
    f.render_widget(paragraph, body);
    if pinned_height > 0 {
        let footer = Rect::new(inner.x, body.y + body.height, inner.width, pinned_height);
        let mut with_rule = vec![Line::styled("─".repeat(inner.width as usize), theme.dim())];
        with_rule.extend(pinned);
        f.render_widget(Paragraph::new(with_rule).wrap(Wrap { trim: false }), footer);
    }
}
