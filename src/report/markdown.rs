//! A Markdown report for people who read findings in tickets and wikis.

use std::fmt::Write;

use super::{ScanReport, Totals};
use crate::model::Level;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
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
        "**{} guardrails: {} FAIL, {} WARN, {} UNKNOWN, {} PASS**\n",
        t.guardrails, t.fail, t.warn, t.unknown, t.pass
    );
    let _ = writeln!(
        out,
        "## Regions\n\n| Region | Guardrails | FAIL | WARN | UNKNOWN | PASS | Note |\n|---|---:|---:|---:|---:|---:|---|"
    );
    for r in &report.regions {
        let rt = Totals::of(report.guardrails.iter().filter(|g| *g.region == r.region));
        let note = r.error.as_ref().map(|e| e.label()).unwrap_or_default();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.region,
            rt.guardrails,
            rt.fail,
            rt.warn,
            rt.unknown,
            rt.pass,
            cell(&note)
        );
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
            "| {} {} | {} | {} | `{}` | {} | {} | {} |",
            g.posture.level.symbol(),
            g.posture.level.as_str(),
            cell(&g.name),
            g.region,
            g.posture.id.as_str(),
            cell(&g.key_label()),
            cell(&g.posture.reason),
            cell(&g.posture.hint)
        );
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
