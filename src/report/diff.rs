//! Progress between two saved scans: what was fixed, what regressed, what changed
//! otherwise, what is new and what is gone, guardrail by guardrail (by ARN).

use std::collections::HashMap;
use std::fmt::Write;

use serde::Serialize;

use super::ScanReport;
use crate::model::{Guardrail, Level, PostureId};

/// One guardrail in both scans, or in one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub arn: String,
    pub name: String,
    pub region: String,
    /// Its posture in the old scan (None: it was not there).
    #[serde(serialize_with = "as_posture")]
    pub before: Option<(Level, PostureId)>,
    /// Its posture in the new scan (None: it is gone).
    #[serde(serialize_with = "as_posture")]
    pub after: Option<(Level, PostureId)>,
}

/// The difference between two scans.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ScanDiff {
    pub old_generated_at: String,
    pub new_generated_at: String,
    /// Failing or unknown before, passing now.
    pub fixed: Vec<Change>,
    /// Worse now than before (a PASS that fails, a WARN that fails, …).
    pub regressed: Vec<Change>,
    /// Another posture at the same level, or better but not yet passing.
    pub changed: Vec<Change>,
    pub new: Vec<Change>,
    pub gone: Vec<Change>,
    /// The same finding, muted now by an accepted risk (it was not before).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub newly_muted: Vec<Change>,
    /// The same finding, muted before and not now: its exception expired or was removed, and
    /// it counts against the gate again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exception_ended: Vec<Change>,
    pub unchanged: usize,
    /// Either scan could not see everything: the difference may be the scan's, not the estate's.
    pub incomplete: bool,
}

/// `{"level": "FAIL", "posture": "aws-owned-key"}`, or null.
fn as_posture<S: serde::Serializer>(p: &Option<(Level, PostureId)>, s: S) -> Result<S::Ok, S::Error> {
    match p {
        Some((level, id)) => serde_json::json!({"level": level, "posture": id}).serialize(s),
        None => s.serialize_none(),
    }
}

fn posture(g: &Guardrail) -> (Level, PostureId) {
    (g.posture.level, g.posture.id)
}

/// How a guardrail moved between two scans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Failing, warned or unknown before, passing now.
    Fixed,
    /// Worse now than before.
    Regressed,
    /// Another posture at the same level, or better but not yet passing.
    Changed,
    /// Not in the earlier scan.
    New,
    Unchanged,
}

impl ChangeKind {
    /// The explorer's one-character mark.
    pub fn symbol(self) -> &'static str {
        match self {
            ChangeKind::Fixed => "↑",
            ChangeKind::Regressed => "↓",
            ChangeKind::Changed => "~",
            ChangeKind::New => "+",
            ChangeKind::Unchanged => " ",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Fixed => "fixed",
            ChangeKind::Regressed => "regressed",
            ChangeKind::Changed => "changed",
            ChangeKind::New => "new",
            ChangeKind::Unchanged => "unchanged",
        }
    }
}

/// One rule for `guardkey diff` and the explorer's baseline marks.
pub fn classify(before: Option<(Level, PostureId)>, after: (Level, PostureId)) -> ChangeKind {
    let Some(before) = before else {
        return ChangeKind::New;
    };
    let (was, is) = (before.0, after.0);
    if was != Level::Pass && is == Level::Pass {
        ChangeKind::Fixed
    } else if is > was {
        ChangeKind::Regressed
    } else if before != after {
        ChangeKind::Changed
    } else {
        ChangeKind::Unchanged
    }
}

/// Compares `old` and `new` guardrail by guardrail.
pub fn diff(old: &ScanReport, new: &ScanReport) -> ScanDiff {
    let before: HashMap<&str, &Guardrail> = old.guardrails.iter().map(|g| (g.arn.as_str(), g)).collect();
    let mut out = ScanDiff {
        old_generated_at: old.generated_at.clone(),
        new_generated_at: new.generated_at.clone(),
        incomplete: !old.totals.complete || !new.totals.complete,
        ..ScanDiff::default()
    };
    let change = |g: &Guardrail, before: Option<&Guardrail>, after: Option<&Guardrail>| Change {
        arn: g.arn.clone(),
        name: g.name.clone(),
        region: g.region.to_string(),
        before: before.map(posture),
        after: after.map(posture),
    };
    for g in &new.guardrails {
        let b = before.get(g.arn.as_str()).copied();
        let c = change(g, b, Some(g));
        match classify(b.map(posture), posture(g)) {
            ChangeKind::New => out.new.push(c),
            ChangeKind::Fixed => out.fixed.push(c),
            ChangeKind::Regressed => out.regressed.push(c),
            // The same finding, its accepted risk begun or ended: neither fixed nor regressed.
            ChangeKind::Changed | ChangeKind::Unchanged
                if b.is_some_and(|b| b.is_muted() != g.is_muted()) =>
            {
                if g.is_muted() {
                    out.newly_muted.push(c)
                } else {
                    out.exception_ended.push(c)
                }
            }
            ChangeKind::Changed => out.changed.push(c),
            ChangeKind::Unchanged => out.unchanged += 1,
        }
    }
    let now: HashMap<&str, ()> = new.guardrails.iter().map(|g| (g.arn.as_str(), ())).collect();
    for g in old
        .guardrails
        .iter()
        .filter(|g| !now.contains_key(g.arn.as_str()))
    {
        out.gone.push(change(g, Some(g), None));
    }
    out
}

const INCOMPLETE: &str = "INCOMPLETE: one of the scans could not see everything; a difference may be the scan's, not the estate's.";

fn label(p: Option<(Level, PostureId)>) -> String {
    match p {
        Some((level, id)) => format!("{} {} {}", level.symbol(), level.as_str(), id.as_str()),
        None => "—".into(),
    }
}

impl ScanDiff {
    /// "3 fixed, 1 regressed, …".
    pub fn totals(&self) -> String {
        let mut muted = String::new();
        if !self.newly_muted.is_empty() || !self.exception_ended.is_empty() {
            muted = format!(
                ", {} newly muted, {} exception ended",
                self.newly_muted.len(),
                self.exception_ended.len()
            );
        }
        format!(
            "{} fixed, {} regressed, {} changed, {} new, {} gone{muted}, {} unchanged",
            self.fixed.len(),
            self.regressed.len(),
            self.changed.len(),
            self.new.len(),
            self.gone.len(),
            self.unchanged
        )
    }

    /// Whether a pipeline watching progress must fail: a regression, or a finding whose
    /// accepted risk ended (it counts against the gate again).
    pub fn worse(&self) -> bool {
        !self.regressed.is_empty() || !self.exception_ended.is_empty()
    }

    fn sections(&self) -> [(&'static str, &Vec<Change>); 7] {
        [
            ("Regressed", &self.regressed),
            ("Exception expired or removed", &self.exception_ended),
            ("Fixed", &self.fixed),
            ("Newly muted (accepted risk)", &self.newly_muted),
            ("Changed", &self.changed),
            ("New", &self.new),
            ("Gone", &self.gone),
        ]
    }

    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "guardkey diff — {} → {}: {}",
            self.old_generated_at,
            self.new_generated_at,
            self.totals()
        );
        if self.incomplete {
            let _ = writeln!(out, "{INCOMPLETE}");
        }
        for (title, list) in self.sections() {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n{title} ({})", list.len());
            for c in list {
                let _ = writeln!(
                    out,
                    "  {:<14} {:<32} {} → {}",
                    c.region,
                    c.name,
                    label(c.before),
                    label(c.after)
                );
            }
        }
        out
    }

    pub fn to_markdown(&self) -> String {
        let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
        let mut out = String::new();
        let _ = writeln!(out, "# Bedrock guardrail encryption: progress\n");
        let _ = writeln!(
            out,
            "{} → {}\n\n**{}**\n",
            self.old_generated_at,
            self.new_generated_at,
            self.totals()
        );
        if self.incomplete {
            let _ = writeln!(out, "> **{INCOMPLETE}**\n");
        }
        for (title, list) in self.sections() {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(
                out,
                "## {title} ({})\n\n| Guardrail | Region | Before | After |\n|---|---|---|---|",
                list.len()
            );
            for c in list {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    cell(&c.name),
                    c.region,
                    label(c.before),
                    label(c.after)
                );
            }
            let _ = writeln!(out);
        }
        out
    }

    /// One self-contained page, in the scan report's style: the two dates, the totals, and
    /// a table per kind of change with each guardrail's posture before and after (marks and
    /// words, never colour alone).
    pub fn to_html(&self) -> String {
        use super::html::{STYLE, escape, mark};
        let cell = |p: Option<(Level, PostureId)>| match p {
            Some((level, id)) => format!("{} {}", mark(level), escape(id.as_str())),
            None => "—".into(),
        };
        let mut out = String::new();
        let _ = write!(
            out,
            "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>Bedrock guardrail encryption — progress {} → {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<header>\n\
             <h1>Bedrock guardrail encryption (Bedrock-003): progress</h1>\n<p class=\"scope\">{} → {}</p>\n</header>\n",
            escape(&self.old_generated_at),
            escape(&self.new_generated_at),
            escape(&self.old_generated_at),
            escape(&self.new_generated_at),
        );
        if self.incomplete {
            let _ = writeln!(
                out,
                "<p class=\"incomplete\" role=\"alert\">{}</p>",
                escape(INCOMPLETE)
            );
        }
        let _ = writeln!(
            out,
            "<section id=\"totals\" aria-label=\"Totals\">\n<ul class=\"totals\">"
        );
        for (title, list) in self.sections() {
            let id = title.to_lowercase();
            let _ = match list.len() {
                0 => writeln!(out, "<li>0 {id}</li>"),
                n => writeln!(out, "<li><a href=\"#{id}\">{n} {id}</a></li>"),
            };
        }
        let _ = writeln!(out, "<li>{} unchanged</li>\n</ul>\n</section>", self.unchanged);
        for (title, list) in self.sections() {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(
                out,
                "<section id=\"{}\">\n<h2>{title} ({})</h2>\n<table>\n<thead><tr><th scope=\"col\">Guardrail</th><th scope=\"col\">Region</th><th scope=\"col\">Before</th><th scope=\"col\">After</th></tr></thead>\n<tbody>",
                title.to_lowercase(),
                list.len()
            );
            for c in list {
                let _ = writeln!(
                    out,
                    "<tr data-change=\"{}\"><td title=\"{}\">{}</td><td>{}</td><td class=\"mark\">{}</td><td class=\"mark\">{}</td></tr>",
                    title.to_lowercase(),
                    escape(&c.arn),
                    escape(&c.name),
                    escape(&c.region),
                    cell(c.before),
                    cell(c.after)
                );
            }
            let _ = writeln!(out, "</tbody>\n</table>\n</section>");
        }
        let _ = write!(
            out,
            "<footer><p class=\"scope\">guardkey diff</p></footer>\n<script>document.body.dataset.ready='1';</script>\n</body>\n</html>\n"
        );
        out
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(&serde_json::json!({
            "schema": "guardkey.diff/v1",
            "old_generated_at": self.old_generated_at,
            "new_generated_at": self.new_generated_at,
            "incomplete": self.incomplete,
            "totals": {
                "fixed": self.fixed.len(),
                "regressed": self.regressed.len(),
                "changed": self.changed.len(),
                "new": self.new.len(),
                "gone": self.gone.len(),
                "newly_muted": self.newly_muted.len(),
                "exception_ended": self.exception_ended.len(),
                "unchanged": self.unchanged,
            },
            "fixed": self.fixed,
            "regressed": self.regressed,
            "changed": self.changed,
            "new": self.new,
            "gone": self.gone,
            "newly_muted": self.newly_muted,
            "exception_ended": self.exception_ended,
        }))
        .expect("a diff serializes");
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Rotation;
    use crate::report::fixtures::{guardrail, key, report};

    #[test]
    fn fixed_regressed_changed_new_and_gone_are_told_apart() {
        let old = report();
        let mut new = old.clone();
        let on = Rotation::Enabled {
            period_days: Some(365),
        };
        // support-bot (AWS-owned, FAIL) is fixed; claims-bot (PASS) regresses; legacy-bot
        // is gone; a new guardrail appears.
        for g in &mut new.guardrails {
            match g.name.as_str() {
                "support-bot" => {
                    *g = guardrail(
                        "us-east-1",
                        "support-bot",
                        Some(key("us-east-1", "Enabled", on.clone())),
                    )
                }
                "claims-bot" => {
                    *g = guardrail(
                        "us-east-1",
                        "claims-bot",
                        Some(key("us-east-1", "Disabled", on.clone())),
                    )
                }
                _ => {}
            }
        }
        new.guardrails.retain(|g| g.name != "legacy-bot");
        new.guardrails.push(guardrail("eu-west-1", "fresh-bot", None));
        let d = diff(&old, &new);
        let names = |l: &Vec<Change>| l.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&d.fixed), ["support-bot"]);
        assert_eq!(names(&d.regressed), ["claims-bot"]);
        assert_eq!(names(&d.new), ["fresh-bot"]);
        assert_eq!(names(&d.gone), ["legacy-bot"]);
        assert_eq!(d.unchanged, 1, "denied-bot");
        assert!(d.incomplete, "the fixture cannot see ap-south-1");
        assert!(
            d.to_table()
                .contains("1 fixed, 1 regressed, 0 changed, 1 new, 1 gone, 1 unchanged")
        );
        let md = d.to_markdown();
        assert!(
            md.contains("## Regressed (1)")
                && md.contains(
                    "| claims-bot | us-east-1 | ✓ PASS customer-managed-key | ✗ FAIL key-disabled |"
                ),
            "{md}"
        );
        let html = d.to_html();
        assert!(html.contains("<h2>Regressed (1)</h2>"), "{html}");
        assert_eq!(html.matches("<tr data-change=").count(), 4);
        assert!(html.contains("<span class=\"FAIL\">✗ FAIL</span> key-disabled"));
        assert!(html.contains("role=\"alert\""), "incomplete is said");
        let json: serde_json::Value = serde_json::from_str(&d.to_json()).unwrap();
        assert_eq!(json["totals"]["regressed"], 1);
        assert_eq!(json["regressed"][0]["name"], "claims-bot");
        assert_eq!(json["regressed"][0]["after"]["posture"], "key-disabled");
        assert_eq!(json["new"][0]["before"], serde_json::Value::Null);
        // The same scan twice: nothing moved.
        let same = diff(&old, &old);
        assert!(
            same.fixed.is_empty() && same.regressed.is_empty() && same.new.is_empty() && same.gone.is_empty()
        );
        assert_eq!(same.unchanged, old.guardrails.len());
    }

    #[test]
    fn newly_muted_and_an_ended_exception_are_told_apart_from_fixed_and_regressed() {
        let today = time::macros::date!(2026 - 12 - 04);
        let risks = |name: &str| {
            crate::model::exceptions::Exceptions::parse(
                &format!(
                    "[[exception]]\nname = \"{name}\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2027-01-01\n"
                ),
                "risks.toml",
                today,
            )
            .unwrap()
        };
        let mut old = report();
        old.apply_exceptions(&risks("legacy-bot"), today);
        let mut new = report();
        new.apply_exceptions(&risks("support-bot"), today);
        let d = diff(&old, &new);
        let names = |l: &Vec<Change>| l.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&d.newly_muted), ["support-bot"]);
        assert_eq!(names(&d.exception_ended), ["legacy-bot"]);
        assert!(d.fixed.is_empty() && d.regressed.is_empty());
        assert!(d.worse(), "an ended exception counts against the gate again");
        let table = d.to_table();
        assert!(
            table.contains("Newly muted (accepted risk) (1)")
                && table.contains("Exception expired or removed (1)"),
            "{table}"
        );
        let json: serde_json::Value = serde_json::from_str(&d.to_json()).unwrap();
        assert_eq!(json["totals"]["newly_muted"], 1);
        assert_eq!(json["exception_ended"][0]["name"], "legacy-bot");
    }

    #[test]
    fn hostile_names_stay_text_in_the_html() {
        let old = report();
        let mut new = old.clone();
        new.guardrails
            .push(guardrail("eu-west-1", "<script>alert(1)</script>", None));
        new.generated_at = "\"><img src=x onerror=alert(1)>".into();
        let html = diff(&old, &new).to_html();
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert_eq!(html.matches("<script>").count(), 1, "only the page's own");
    }
}
