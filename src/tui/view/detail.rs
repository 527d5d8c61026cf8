//! The detail pane: posture, versions, the key in full, its policy, audit commands.

use super::{Theme, field, section};
use crate::model::{Guardrail, KeyLookup, Rotation, policy::summarize};
use crate::tui::state::{Loadable, State};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

pub(super) fn detail_lines<'a>(state: &State, g: &Guardrail, theme: &Theme) -> Vec<Line<'a>> {
    // The verdict and its reason first: a small split pane still shows them.
    let mut out = Vec::new();
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
    if let Some(e) = &g.exception {
        // Muted, not hidden: the verdict above stands, and who accepted it until when.
        out.push(field("MUTED", format!("accepted risk: {}", e.reason)));
        out.push(field("owner", e.owner.clone()));
        out.push(field("until", e.expires.clone()));
        if let Some(t) = &e.ticket {
            out.push(field("ticket", t.clone()));
        }
        out.push(field(
            "exceptions",
            format!("{} line {}", state.exceptions.path, e.line),
        ));
    }
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
    if let Some(b) = &state.baseline {
        let was = match state.baseline_posture(&g.arn) {
            Some((level, id)) => format!("was {} {} {}", level.symbol(), level.as_str(), id.as_str()),
            None => "not in it: new".into(),
        };
        out.push(field(
            "baseline",
            format!("{was} ({}, {})", b.generated_at, b.from),
        ));
    }
    out.push(Line::raw(""));
    out.push(section("Guardrail", theme));
    out.push(field("name", g.name.clone()));
    out.push(field("ARN", g.arn.clone()));
    if let Some(name) = state.account_names.get(&*g.account) {
        let how = state.account_how(&g.account).unwrap_or_default();
        out.push(field("account", format!("{name} ({}), {how}", g.account)));
    }
    out.push(field("status", g.status.clone()));
    let managed = match state.tags.get(&g.arn) {
        None if state.is_snapshot() => None,
        None | Some(Loadable::Loading) => Some("loading…".to_string()),
        Some(Loadable::Failed(e)) => Some(format!(
            "not known: its tags cannot be read ({}; bedrock:ListTagsForResource is in `guardkey policy fix`)",
            e.label()
        )),
        Some(Loadable::Ready(tags)) => Some(match crate::model::ManagedBy::of(tags) {
            Some(m) => format!(
                "{}: set KmsKeyArn in the template; fixing it here makes the stack drift",
                m.describe()
            ),
            None => "not CloudFormation (no aws:cloudformation tags)".into(),
        }),
    };
    if let Some(m) = managed {
        out.push(field("managed by", m));
    }
    if let Some(d) = &g.description {
        out.push(field("description", d.clone()));
    }
    out.push(field("created", g.created_at.clone().unwrap_or_default()));
    out.push(field("updated", g.updated_at.clone().unwrap_or_default()));
    out.push(Line::raw(""));
    used_by(state, g, theme, &mut out);
    out.push(Line::raw(""));
    out.push(section("Versions", theme));
    let versions = g
        .versions
        .as_ref()
        .map(|v| Loadable::Ready(v.clone()))
        .or_else(|| state.versions.get(&g.arn).cloned());
    match versions {
        // Loaded as soon as the pane opens; a saved scan has what it was saved with.
        None if state.is_snapshot() => out.push(Line::raw(
            "  not in this scan (scan with --versions to include them)",
        )),
        None => out.push(Line::raw("  loading…")),
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
            match &k.multi_region_key {
                // One key id, a key per region: the guardrails of each region use its own.
                Some(m) => {
                    out.push(field(
                        "multi-region",
                        format!("yes, this key is the {}", m.kind.to_lowercase()),
                    ));
                    out.push(field("primary", m.primary.clone()));
                    let regions: Vec<&str> = m.replicas.iter().filter_map(|r| r.split(':').nth(3)).collect();
                    out.push(field(
                        "replicas",
                        if regions.is_empty() {
                            "none".to_string()
                        } else {
                            regions.join(", ")
                        },
                    ));
                }
                None => out.push(field("multi-region", if k.multi_region { "yes" } else { "no" })),
            }
            if let Some(d) = &k.description {
                out.push(field("description", d.clone()));
            }
            out.push(Line::raw(""));
            out.push(section("Key policy", theme));
            match state.policies.get(&k.arn) {
                None if state.is_snapshot() => out.push(Line::raw("  not in this scan")),
                None => out.push(Line::raw("  loading…")),
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

/// Who uses the guardrail, and whether each can decrypt with its current key and with a
/// new key from the wizard (whose users statement names the account's users).
fn used_by<'a>(state: &State, g: &Guardrail, theme: &Theme, out: &mut Vec<Line<'a>>) {
    out.push(section("Used by", theme));
    let Some(usage) = &g.usage else {
        out.push(Line::raw(if state.is_snapshot() {
            "  not in this scan (scan with --usage to include it)"
        } else {
            "  loading… (agents, flows and IAM policies)"
        }));
        return;
    };
    let named: Vec<_> = usage.named_users().collect();
    if named.is_empty() && usage.unknown.is_empty() {
        out.push(Line::raw("  no agent, flow or IAM principal found using it"));
    }
    for u in &named {
        let same_account = u.principal.split(':').nth(4) == Some(&*g.account);
        let new_key = if let Some(capped) = &u.capped {
            // Its permissions boundary decides, whatever a key policy says.
            format!("new key: {} {}", capped.mark(), capped.reason())
        } else if same_account {
            "new key: ✓ named in its users statement".to_string()
        } else {
            format!(
                "new key: its account {} must grant kms:Decrypt",
                u.principal.split(':').nth(4).unwrap_or("?")
            )
        };
        out.push(Line::from(vec![
            Span::raw("  "),
            Span::styled(
                format!("{} ", u.current_key.mark()),
                match u.current_key {
                    crate::usage::Access::Denied { .. } => theme.level(crate::model::Level::Fail),
                    crate::usage::Access::Unknown { .. } => theme.level(crate::model::Level::Unknown),
                    crate::usage::Access::Allowed { .. } => theme.level(crate::model::Level::Pass),
                },
            ),
            Span::raw(u.label()),
        ]));
        // The principal without `arn:aws:iam::ACCOUNT:` (the account is the guardrail's, or said).
        let resource = u.principal.splitn(6, ':').nth(5).unwrap_or(&u.principal);
        let whose = if same_account {
            String::new()
        } else {
            format!(" (account {})", u.principal.split(':').nth(4).unwrap_or("?"))
        };
        out.push(Line::raw(format!("      {resource}{whose}")));
        out.push(Line::raw(format!("      now: {}", u.current_key.reason())));
        if let Some(own) = &u.disagreement {
            // Where guardkey's model of IAM and AWS's own answer part: said, never hidden.
            out.push(Line::from(vec![
                Span::raw("      "),
                Span::styled("≠ ", theme.level(crate::model::Level::Warn)),
                Span::raw(own.clone()),
            ]));
        }
        out.push(Line::raw(format!("      {new_key}")));
    }
    let broad = usage.broad_count();
    if broad > 0 {
        out.push(Line::raw(format!(
            "  + {broad} with broad rights (bedrock:* or * on every resource): administrators"
        )));
    }
    for s in &usage.unknown {
        out.push(Line::raw(format!("  ? {} not read: {}", s.source, s.reason)));
    }
}

pub(super) fn render_detail(state: &State, g: &Guardrail, theme: &Theme, f: &mut Frame, area: Rect) {
    // Wrapped here, each value under itself (the borders take two columns).
    let lines = super::wrap::wrap_all(
        detail_lines(state, g, theme),
        area.width.saturating_sub(2) as usize,
    );
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
