//! A Markdown report for people who read findings in tickets and wikis.

use std::fmt::Write;

use super::{ScanReport, Totals};
use crate::model::{CallError, Level};

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// A region's counts as table cells: an unreadable region's are unknown ("?", or "≥ n"
/// when it failed part-way), never a reassuring 0; a region not enabled has none ("—").
fn region_counts(t: &Totals, error: Option<&CallError>) -> String {
    match error {
        None => format!(
            "{} | {} | {} | {} | {}",
            t.guardrails, t.fail, t.warn, t.unknown, t.pass
        ),
        Some(e) if !e.hides_part_of_the_estate() => "— | — | — | — | —".into(),
        Some(_) => {
            let at_least = |n: usize| {
                if n == 0 {
                    "?".to_string()
                } else {
                    format!("≥ {n}")
                }
            };
            format!(
                "{} | {} | {} | {} | {}",
                at_least(t.guardrails),
                at_least(t.fail),
                at_least(t.warn),
                at_least(t.unknown),
                at_least(t.pass)
            )
        }
    }
}

pub fn to_markdown(report: &ScanReport, filter: &str) -> String {
    let mut out = String::new();
    let t = report.totals;
    let _ = writeln!(out, "# Bedrock guardrail encryption (Bedrock-003)\n");
    if let Some(c) = &report.caller {
        let _ = writeln!(
            out,
            "Account {} — scanned as `{}` — {}\n",
            c.account, c.arn, report.generated_at
        );
    } else {
        let _ = writeln!(out, "{}\n", report.generated_at);
    }
    if !filter.is_empty() {
        let _ = writeln!(out, "Filter: `{}`\n", cell(filter));
    }
    let _ = writeln!(
        out,
        "**{}: {} FAIL, {} WARN, {} UNKNOWN, {} PASS**\n",
        super::plural(t.guardrails, "guardrail"),
        t.fail,
        t.warn,
        t.unknown,
        t.pass
    );
    if t.muted > 0 {
        let _ = writeln!(out, "**{} MUTED** (accepted risks, below)\n", t.muted);
    }
    if let Some(incomplete) = t.incompleteness() {
        let _ = writeln!(out, "> **{incomplete}.**\n");
    }
    let _ = writeln!(
        out,
        "## Regions\n\n| Region | Guardrails | FAIL | WARN | UNKNOWN | PASS | Note |\n|---|---:|---:|---:|---:|---:|---|"
    );
    for r in &report.regions {
        let rt = Totals::of(report.guardrails.iter().filter(|g| *g.region == r.region));
        let note = r.error.as_ref().map(|e| e.label()).unwrap_or_default();
        let counts = region_counts(&rt, r.error.as_ref());
        let _ = writeln!(out, "| {} | {counts} | {} |", r.region, cell(&note));
    }
    let _ = writeln!(
        out,
        "\n## Findings\n\n| Result | Guardrail | Region | Posture | Key | Reason | Fix |\n|---|---|---|---|---|---|---|"
    );
    for g in report
        .guardrails
        .iter()
        .filter(|g| g.posture.level != Level::Pass)
    {
        let _ = writeln!(
            out,
            "| {} | {} | {} | `{}` | {} | {} | {} |",
            super::result_label(g),
            cell(&g.name),
            g.region,
            g.posture.id.as_str(),
            cell(&g.key_label()),
            cell(&g.posture.reason),
            cell(&g.posture.hint)
        );
    }
    let risks = super::accepted_risks(report);
    if !risks.is_empty() {
        let _ = writeln!(
            out,
            "\n## Accepted risks\n\n| Expires | Owner | Reason | Ticket | Guardrails |\n|---|---|---|---|---|"
        );
        for (e, guardrails) in risks {
            let names: Vec<&str> = guardrails.iter().map(|g| g.name.as_str()).collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                e.expires,
                cell(&e.owner),
                cell(&e.reason),
                cell(e.ticket.as_deref().unwrap_or("")),
                cell(&names.join(", "))
            );
        }
    }
    for note in report.exceptions.iter().flat_map(|o| o.notes()) {
        let _ = writeln!(out, "\n> {}", cell(&note));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn markdown_golden() {
        insta::assert_snapshot!(super::to_markdown(
            &super::super::fixtures::report(),
            "status:fail"
        ));
    }
}
