//! The human-readable report: one line per guardrail, a summary per region, totals.

use std::fmt::Write;

use super::{ScanReport, Totals};

fn pad(s: &str, width: usize) -> String {
    let len = s.chars().count();
    if len >= width {
        s.to_string()
    } else {
        format!("{s}{}", " ".repeat(width - len))
    }
}

fn seconds(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

/// With --usage: who uses each guardrail, and those who cannot decrypt with its key now.
fn usage_section(report: &ScanReport, out: &mut String) {
    let read: Vec<_> = report
        .guardrails
        .iter()
        .filter_map(|g| Some((g, g.usage.as_deref()?)))
        .collect();
    if read.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "Who uses them (✓ ✗ ?: can decrypt with the guardrail's key now):"
    );
    let mut quiet = 0;
    for (g, u) in &read {
        if !u.worth_listing() {
            quiet += 1;
            continue;
        }
        let _ = writeln!(
            out,
            "  {} {}: {}",
            report.region_label(&g.account, &g.region),
            g.name,
            u.describe().join("; ")
        );
    }
    if quiet > 0 {
        let _ = writeln!(
            out,
            "  {} other {}: no agent, flow or principal uses {} but administrators",
            quiet,
            if quiet == 1 { "guardrail" } else { "guardrails" },
            if quiet == 1 { "it" } else { "them" }
        );
    }
    let locked: usize = read.iter().map(|(_, u)| u.locked_out()).sum();
    let unknown = read.iter().filter(|(_, u)| !u.unknown.is_empty()).count();
    if locked > 0 {
        let _ = writeln!(
            out,
            "  {} cannot decrypt the guardrail they use with its key today: their calls fail.",
            super::plural(locked, "user")
        );
    }
    if unknown > 0 {
        let _ = writeln!(
            out,
            "  For {} a source could not be read: who uses them is not fully known (see --format json).",
            super::plural(unknown, "guardrail")
        );
    }
    let _ = writeln!(out);
}

pub fn to_table(report: &ScanReport) -> String {
    let mut out = String::new();
    let t = report.totals;
    let account = if report.accounts.is_empty() {
        report
            .caller
            .as_ref()
            .map(|c| format!("account {} — ", c.account))
            .unwrap_or_default()
    } else {
        format!("{} — ", report.accounts_summary().unwrap_or_default())
    };
    let mut unseen = Vec::new();
    if t.unreadable_regions > 0 {
        unseen.push(format!("{} unreadable", t.unreadable_regions));
    }
    if t.not_enabled_regions > 0 {
        unseen.push(format!("{} not enabled", t.not_enabled_regions));
    }
    let unseen = if unseen.is_empty() {
        String::new()
    } else {
        format!(" ({})", unseen.join(", "))
    };
    let names = report.region_names();
    let _ = writeln!(
        out,
        "guardkey scan — {account}{} in {}{unseen} — {}",
        super::plural(t.guardrails, "guardrail"),
        super::plural(names.len(), "region"),
        seconds(report.elapsed_ms)
    );
    if let Some(incomplete) = t.incompleteness() {
        let _ = writeln!(out, "{incomplete}.");
    }
    let _ = writeln!(out);
    if !report.guardrails.is_empty() {
        let first = if report.accounts.is_empty() {
            "REGION"
        } else {
            "ACCOUNT/REGION"
        };
        let headers = [first, "RESULT", "NAME", "STATE", "POSTURE", "KEY", "REASON"];
        let rows: Vec<[String; 7]> = report
            .guardrails
            .iter()
            .map(|g| {
                [
                    // Many accounts: each row says whose it is.
                    report.region_label(&g.account, &g.region),
                    super::result_label(g),
                    g.name.clone(),
                    g.status.clone(),
                    g.posture.id.as_str().to_string(),
                    g.key_label(),
                    match &g.exception {
                        Some(e) => format!("{} — {}", e.describe(), g.posture.reason),
                        None => g.posture.reason.to_string(),
                    },
                ]
            })
            .collect();
        let widths: Vec<usize> = (0..6)
            .map(|i| {
                rows.iter()
                    .map(|r| r[i].chars().count())
                    .chain([headers[i].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: [&str; 7]| {
            let mut l = String::new();
            for (i, c) in cells.iter().enumerate() {
                if i < 6 {
                    l.push_str(&pad(c, widths[i]));
                    l.push_str("  ");
                } else {
                    l.push_str(c);
                }
            }
            l
        };
        let _ = writeln!(out, "{}", line(headers));
        for r in &rows {
            let _ = writeln!(out, "{}", line([&r[0], &r[1], &r[2], &r[3], &r[4], &r[5], &r[6]]));
        }
        let _ = writeln!(out);
    }
    // With --versions: the numbered versions that are not on their DRAFT's key.
    let off_key: Vec<String> = report
        .guardrails
        .iter()
        .flat_map(|g| {
            g.versions
                .iter()
                .flatten()
                .filter(|v| v.kms_key_arn != g.kms_key_arn)
                .map(move |v| {
                    let key = v.kms_key_arn.as_deref().unwrap_or("the AWS-owned key");
                    format!("  {} {} version {}: {key}", g.region, g.name, v.version)
                })
        })
        .collect();
    if !off_key.is_empty() {
        let _ = writeln!(
            out,
            "Versions on another key than their DRAFT ({}):",
            off_key.len()
        );
        for line in off_key {
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(out);
    }
    let risks = super::accepted_risks(report);
    if !risks.is_empty() || report.exceptions.as_ref().is_some_and(|o| !o.notes().is_empty()) {
        let _ = writeln!(out, "Accepted risks (soonest expiry first)");
        for (e, guardrails) in &risks {
            let _ = writeln!(
                out,
                "  until {}  {} — {} ({}{}): {}",
                e.expires,
                e.owner,
                e.reason,
                super::plural(guardrails.len(), "guardrail"),
                e.ticket.as_ref().map(|t| format!(", {t}")).unwrap_or_default(),
                guardrails
                    .iter()
                    .map(|g| g.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        for note in report.exceptions.iter().flat_map(|o| o.notes()) {
            let _ = writeln!(out, "  {note}");
        }
        let _ = writeln!(out);
    }
    usage_section(report, &mut out);
    if !report.accounts.is_empty() {
        accounts_section(report, &mut out);
    } else {
        regions_section(report, &mut out);
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Totals: {}: {} FAIL, {} WARN, {} UNKNOWN, {} PASS{}",
        super::plural(t.guardrails, "guardrail"),
        t.fail,
        t.warn,
        t.unknown,
        t.pass,
        if t.muted > 0 {
            format!(
                ", {} MUTED (accepted risks){}",
                t.muted,
                if t.complete { "" } else { " (incomplete)" }
            )
        } else if t.complete {
            String::new()
        } else {
            " (incomplete)".into()
        }
    );
    out
}

/// A scan of many accounts: a line per account (its counts, or why it was not read) and its
/// regions that could not be read.
fn accounts_section(report: &ScanReport, out: &mut String) {
    let _ = writeln!(out, "Accounts");
    let width = report
        .accounts
        .iter()
        .map(|a| a.name.chars().count())
        .max()
        .unwrap_or(0);
    for a in &report.accounts {
        let head = format!("  {}  {:<12}", pad(&a.name, width), a.id);
        match &a.error {
            Some(_) if a.suspended => {
                let _ = writeln!(out, "{head}  suspended in the organization: not scanned");
            }
            Some(e) => {
                let _ = writeln!(
                    out,
                    "{head}  {}: {} ({})",
                    e.label(),
                    e.detail(),
                    a.reach.describe()
                );
            }
            None => {
                let t = Totals::of(report.guardrails.iter().filter(|g| *g.account == *a.id));
                let _ = writeln!(
                    out,
                    "{head}  {:>4} guardrails  {} FAIL  {} WARN  {} UNKNOWN  {} PASS{}  {}  {}",
                    t.guardrails,
                    t.fail,
                    t.warn,
                    t.unknown,
                    t.pass,
                    muted(&t),
                    seconds(a.elapsed_ms),
                    a.reach.describe()
                );
                for r in report.regions.iter().filter(|r| r.account == a.id) {
                    if let Some(e) = r.unreadable() {
                        let _ = writeln!(out, "    {}: {}: {}", r.region, e.label(), e.detail());
                    }
                }
            }
        }
    }
}

/// "  2 MUTED" where accepted risks muted some, else nothing.
fn muted(t: &Totals) -> String {
    if t.muted > 0 {
        format!("  {} MUTED", t.muted)
    } else {
        String::new()
    }
}

/// A scan of one account: a line per region with guardrails or a failure.
fn regions_section(report: &ScanReport, out: &mut String) {
    let _ = writeln!(out, "Regions");
    let width = report.regions.iter().map(|r| r.region.len()).max().unwrap_or(0);
    // Most of the 33 regions of an account hold nothing: one line for all of them.
    let empty: Vec<&str> = report
        .regions
        .iter()
        .filter(|r| r.error.is_none() && !report.guardrails.iter().any(|g| *g.region == *r.region))
        .map(|r| r.region.as_str())
        .collect();
    for r in &report.regions {
        let t = Totals::of(report.guardrails.iter().filter(|g| *g.region == *r.region));
        match &r.error {
            None if t.guardrails == 0 => {}
            None => {
                let _ = writeln!(
                    out,
                    "  {}  {:>4} guardrails  {} FAIL  {} WARN  {} UNKNOWN  {} PASS{}  {}",
                    pad(&r.region, width),
                    t.guardrails,
                    t.fail,
                    t.warn,
                    t.unknown,
                    t.pass,
                    muted(&t),
                    seconds(r.elapsed_ms)
                );
            }
            Some(e) => {
                let partial = if t.guardrails > 0 {
                    format!(" (after {})", super::plural(t.guardrails, "guardrail"))
                } else {
                    String::new()
                };
                let _ = writeln!(
                    out,
                    "  {}  {}{partial}: {}",
                    pad(&r.region, width),
                    e.label(),
                    e.detail()
                );
            }
        }
    }
    match empty.len() {
        0 => {}
        1 => {
            let _ = writeln!(out, "  {}     0 guardrails", pad(empty[0], width));
        }
        n => {
            let _ = writeln!(out, "  {n} regions with no guardrail: {}", empty.join(", "));
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn table_golden() {
        insta::assert_snapshot!(super::to_table(&super::super::fixtures::report()));
    }

    #[test]
    fn who_uses_them_goes_in_every_human_format_and_the_csv() {
        use crate::usage::{Access, UnknownSource, Usage};
        let mut report = super::super::fixtures::report();
        report.guardrails[0].usage = Some(Box::new(Usage {
            users: vec![crate::usage::claims_agent(
                "arn:aws:iam::123456789012:role/service-role/<Agent>",
                Access::Denied {
                    why: "the key is Disabled".into(),
                },
            )],
            unknown: vec![UnknownSource {
                source: "flows".into(),
                reason: "denied".into(),
            }],
        }));
        report.guardrails[1].usage = Some(Box::default());
        let table = super::to_table(&report);
        assert!(
            table.contains("✗ agent claims-agent as role/service-role/<Agent>; ? flows not read"),
            "{table}"
        );
        assert!(table.contains("1 user cannot decrypt"), "{table}");
        assert!(table.contains("1 other guardrail:"), "{table}");
        let csv = crate::report::to_csv(&report);
        let mut rows = csv::Reader::from_reader(csv.as_bytes());
        let headers = rows.headers().unwrap().clone();
        let first = rows.records().next().unwrap().unwrap();
        let field = |name: &str| first[headers.iter().position(|h| h == name).unwrap()].to_string();
        assert_eq!(field("users_locked_out"), "1");
        assert!(field("used_by").contains("agent claims-agent"));
        let sarif = crate::report::sarif::to_sarif(&report);
        assert!(sarif.contains("\"usersLockedOut\": 1"), "{sarif}");
        let asff = crate::report::asff::findings(&report);
        assert_eq!(asff[0]["ProductFields"]["guardkey/usersLockedOut"], "1");
        assert!(
            asff[0]["ProductFields"]["guardkey/usedBy"]
                .as_str()
                .unwrap()
                .contains("agent claims-agent")
        );
        let ocsf: serde_json::Value = serde_json::from_str(&crate::report::ocsf::to_ocsf(&report)).unwrap();
        let data = &ocsf[0]["resources"][0]["data"];
        assert_eq!(data["users_locked_out"], 1, "{data}");
        assert!(
            data["used_by"][0]
                .as_str()
                .unwrap()
                .contains("agent claims-agent"),
            "{data}"
        );
        let html = crate::report::html::to_html(&report);
        assert!(html.contains("<h2>Who uses them</h2>"), "{html}");
        assert!(
            html.contains("&lt;Agent&gt;") && !html.contains("<Agent>"),
            "escaped"
        );
    }
}
