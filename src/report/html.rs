//! A self-contained HTML report for people who do not open a terminal: no external asset,
//! works offline, prints well. The account, date and scope, the totals, a bar per region
//! (inline SVG, to scale), the top reasons, every guardrail with its mark, reason and fix
//! (filterable in the page), and the regions that could not be read. Status is never colour
//! alone: every level has its mark (✓ ! ? ✗) and its word.

use std::fmt::Write;

use super::{ScanReport, Totals};
use crate::model::{Level, PostureId};

/// Text for HTML content and attribute values: every character that could end either.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(super) const STYLE: &str = "
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem;color:#1b1f24;max-width:80rem}
h1{font-size:1.5rem;margin-bottom:.25rem}h2{font-size:1.15rem;margin-top:2rem}
.scope{color:#57606a;margin-top:0}
.totals{display:flex;gap:1.5rem;list-style:none;padding:0;font-size:1.1rem}
.FAIL{color:#b42318}.WARN{color:#9a6700}.UNKNOWN{color:#6f42c1}.PASS{color:#1a7f37}
rect.FAIL{fill:#d1242f}rect.WARN{fill:#bf8700}rect.UNKNOWN{fill:#8250df}rect.PASS{fill:#2da44e}
.incomplete{border:2px solid #b42318;padding:.5rem 1rem;font-weight:600}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #d0d7de;vertical-align:top}
th{background:#f6f8fa}td.reach{word-break:break-all}td.mark{white-space:nowrap;font-weight:600}
input[type=search]{padding:.3rem .5rem;width:20rem;margin-bottom:.5rem}
svg text{font-size:12px;fill:#1b1f24}
@media print{input[type=search]{display:none}body{margin:0}a{color:inherit}}
";

/// The filter: one substring test per row, over its text.
const SCRIPT: &str = "
document.body.dataset.ready='1';
var input=document.getElementById('filter');
input.addEventListener('input',function(){var q=input.value.toLowerCase();var shown=0;
document.querySelectorAll('#rows tbody tr').forEach(function(r){var ok=r.textContent.toLowerCase().indexOf(q)>=0;r.hidden=!ok;if(ok)shown++;});
document.getElementById('shown').textContent=shown;});
";

pub(super) fn mark(level: Level) -> String {
    format!(
        "<span class=\"{0}\">{1} {0}</span>",
        level.as_str(),
        level.symbol()
    )
}

pub fn to_html(report: &ScanReport) -> String {
    let t = report.totals;
    let mut out = String::new();
    let account = match (&report.caller, report.accounts.len()) {
        (Some(c), n) if n > 0 => format!(
            "{n} accounts, from account {} as {}",
            escape(&c.account),
            escape(&c.arn)
        ),
        (Some(c), _) => format!("Account {} — scanned as {}", escape(&c.account), escape(&c.arn)),
        (None, _) => "Account unknown".into(),
    };
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Bedrock guardrail encryption — {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<header>\n\
         <h1>Bedrock guardrail encryption (Bedrock-003)</h1>\n<p class=\"scope\">{account} — {} — {}</p>\n</header>\n",
        escape(&report.generated_at),
        escape(&report.generated_at),
        super::plural(report.region_names().len(), "region")
    );
    if let Some(incomplete) = t.incompleteness() {
        let _ = writeln!(
            out,
            "<p class=\"incomplete\" role=\"alert\">{}.</p>",
            escape(&incomplete)
        );
    }
    let _ = writeln!(
        out,
        "<section id=\"totals\" aria-label=\"Totals\">\n<ul class=\"totals\">\n<li>{}</li>\n<li>{} {}</li>\n<li>{} {}</li>\n<li>{} {}</li>\n<li>{} {}</li>\n</ul>\n</section>",
        super::plural(t.guardrails, "guardrail"),
        mark(Level::Fail),
        t.fail,
        mark(Level::Warn),
        t.warn,
        mark(Level::Unknown),
        t.unknown,
        mark(Level::Pass),
        t.pass
    );
    regions_chart(report, &mut out);
    accounts_table(report, &mut out);
    top_reasons(report, &mut out);
    guardrails_table(report, &mut out);
    accepted_risks_table(report, &mut out);
    usage_table(report, &mut out);
    let unreadable: Vec<_> = report
        .regions
        .iter()
        .filter_map(|r| Some((r, r.unreadable()?)))
        .collect();
    if !unreadable.is_empty() {
        let _ = writeln!(
            out,
            "<section id=\"unreadable\">\n<h2>Regions that could not be read</h2>\n<ul>"
        );
        for (r, e) in unreadable {
            let _ = writeln!(
                out,
                "<li><strong>{}</strong>: {} — {}</li>",
                escape(&r.region),
                escape(&e.label()),
                escape(&e.detail())
            );
        }
        let _ = writeln!(out, "</ul>\n</section>");
    }
    let _ = write!(
        out,
        "<footer><p class=\"scope\">guardkey {} — {}</p></footer>\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
        escape(&report.guardkey_version),
        escape(&report.generated_at)
    );
    out
}

/// A stacked bar per region that was read, to scale, with its counts as text beside it.
fn regions_chart(report: &ScanReport, out: &mut String) {
    // One bar per region, every account's guardrails there together (the accounts have
    // their own table).
    let rows: Vec<(&str, Totals)> = report
        .region_names()
        .into_iter()
        .filter(|name| {
            report
                .regions
                .iter()
                .any(|r| r.region == *name && r.error.is_none())
        })
        .map(|region| {
            let t = Totals::of(report.guardrails.iter().filter(|g| *g.region == *region));
            (region, t)
        })
        .filter(|(_, t)| t.guardrails > 0)
        .collect();
    let max = rows.iter().map(|(_, t)| t.guardrails).max().unwrap_or(1).max(1);
    let (label_w, bar_w, row_h) = (130.0, 480.0, 22.0);
    let _ = writeln!(
        out,
        "<section id=\"regions\">\n<h2>By region</h2>\n<svg role=\"img\" aria-label=\"Guardrails per region by status\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\">",
        label_w + bar_w + 220.0,
        rows.len() as f64 * row_h + 4.0,
        label_w + bar_w + 220.0,
        rows.len() as f64 * row_h + 4.0
    );
    for (i, (region, t)) in rows.iter().enumerate() {
        let y = i as f64 * row_h + 2.0;
        let _ = write!(
            out,
            "<g class=\"bar\" data-region=\"{0}\"><title>{0}: {1} guardrails, {2} FAIL, {3} WARN, {4} UNKNOWN, {5} PASS</title><text x=\"0\" y=\"{6}\">{0}</text>",
            escape(region),
            t.guardrails,
            t.fail,
            t.warn,
            t.unknown,
            t.pass,
            y + 14.0
        );
        let mut x = label_w;
        for (level, n) in [
            (Level::Fail, t.fail),
            (Level::Unknown, t.unknown),
            (Level::Warn, t.warn),
            (Level::Pass, t.pass),
        ] {
            if n == 0 {
                continue;
            }
            let w = n as f64 * bar_w / max as f64;
            let _ = write!(
                out,
                "<rect class=\"{}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{}\"></rect>",
                level.as_str(),
                row_h - 6.0
            );
            x += w;
        }
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{}\">{} ✗{} !{} ?{} ✓{}</text></g>",
            x + 6.0,
            y + 14.0,
            t.guardrails,
            t.fail,
            t.warn,
            t.unknown,
            t.pass
        );
    }
    let _ = writeln!(out, "</svg>\n</section>");
}

fn top_reasons(report: &ScanReport, out: &mut String) {
    let mut reasons: Vec<(PostureId, usize)> = Vec::new();
    for g in report
        .guardrails
        .iter()
        .filter(|g| g.posture.level != Level::Pass)
    {
        match reasons.iter_mut().find(|(id, _)| *id == g.posture.id) {
            Some((_, n)) => *n += 1,
            None => reasons.push((g.posture.id, 1)),
        }
    }
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let _ = writeln!(
        out,
        "<section id=\"reasons\">\n<h2>Top reasons</h2>\n<table>\n<thead><tr><th scope=\"col\">Guardrails</th><th scope=\"col\">Status</th><th scope=\"col\">Finding</th><th scope=\"col\">What it means</th></tr></thead>\n<tbody>"
    );
    for (id, n) in reasons {
        let _ = writeln!(
            out,
            "<tr><td>{n}</td><td class=\"mark\">{}</td><td><code>{}</code></td><td>{}</td></tr>",
            mark(id.level()),
            id.as_str(),
            escape(id.title())
        );
    }
    let _ = writeln!(out, "</tbody>\n</table>\n</section>");
}

/// A scan of many accounts: a row per account, its counts or why it was not read.
fn accounts_table(report: &ScanReport, out: &mut String) {
    if report.accounts.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<section id=\"accounts\">\n<h2>Accounts ({})</h2>\n<table>\n<thead><tr><th scope=\"col\">Account</th><th scope=\"col\">Id</th><th scope=\"col\">Guardrails</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">Reached</th></tr></thead>\n<tbody>",
        report.accounts.len(),
        mark(Level::Fail),
        mark(Level::Warn),
        mark(Level::Unknown),
        mark(Level::Pass)
    );
    for a in &report.accounts {
        let counts = match &a.error {
            Some(_) if a.suspended => {
                "<td colspan=\"5\">suspended in the organization: not scanned</td>".to_string()
            }
            Some(e) => format!(
                "<td colspan=\"5\" class=\"FAIL\">not read — {}: {}</td>",
                escape(&e.label()),
                escape(&e.detail())
            ),
            None => {
                let t = Totals::of(report.guardrails.iter().filter(|g| *g.account == *a.id));
                format!(
                    "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
                    t.guardrails, t.fail, t.warn, t.unknown, t.pass
                )
            }
        };
        let _ = writeln!(
            out,
            "<tr data-account=\"{}\"><td>{}</td><td>{}</td>{counts}<td class=\"reach\">{}</td></tr>",
            escape(&a.id),
            escape(&a.name),
            escape(&a.id),
            escape(&a.reach.describe())
        );
    }
    let _ = writeln!(out, "</tbody>\n</table>\n</section>");
}

/// With --usage: who uses each guardrail (agents, flows, IAM principals).
fn usage_table(report: &ScanReport, out: &mut String) {
    let read: Vec<_> = report
        .guardrails
        .iter()
        .filter_map(|g| Some((g, g.usage.as_deref()?)))
        .filter(|(_, u)| u.worth_listing())
        .collect();
    if read.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<section id=\"usage\">\n<h2>Who uses them</h2>\n<p>✓ can decrypt with the guardrail's key now, ✗ cannot (its calls fail), ? not known.</p>\n\
         <table>\n<thead><tr><th scope=\"col\">Guardrail</th><th scope=\"col\">Region</th><th scope=\"col\">Used by</th></tr></thead>\n<tbody>"
    );
    for (g, u) in read {
        let users: Vec<String> = u.describe().iter().map(|l| escape(l)).collect();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&g.name),
            escape(&report.region_label(&g.account, &g.region)),
            users.join("<br>")
        );
    }
    let _ = writeln!(out, "</tbody>\n</table>\n</section>");
}

/// With --exceptions: the accepted risks that muted guardrails, soonest expiry first, and
/// those expired or matching nothing.
fn accepted_risks_table(report: &ScanReport, out: &mut String) {
    let risks = super::accepted_risks(report);
    let notes: Vec<String> = report.exceptions.iter().flat_map(|o| o.notes()).collect();
    if risks.is_empty() && notes.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<section id=\"accepted-risks\">\n<h2>Accepted risks ({} muted)</h2>\n<table>\n<thead><tr><th scope=\"col\">Expires</th><th scope=\"col\">Owner</th><th scope=\"col\">Reason</th><th scope=\"col\">Ticket</th><th scope=\"col\">Guardrails</th></tr></thead>\n<tbody>",
        report.totals.muted
    );
    for (e, guardrails) in risks {
        let names: Vec<String> = guardrails.iter().map(|g| escape(&g.name)).collect();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&e.expires),
            escape(&e.owner),
            escape(&e.reason),
            escape(e.ticket.as_deref().unwrap_or("")),
            names.join("<br>")
        );
    }
    let _ = writeln!(out, "</tbody>\n</table>");
    for note in notes {
        let _ = writeln!(out, "<p>{}</p>", escape(&note));
    }
    let _ = writeln!(out, "</section>");
}

fn guardrails_table(report: &ScanReport, out: &mut String) {
    let _ = writeln!(
        out,
        "<section id=\"guardrails\">\n<h2>Guardrails (<span id=\"shown\">{}</span> shown)</h2>\n\
         <label for=\"filter\">Filter </label><input id=\"filter\" type=\"search\" placeholder=\"name, region, FAIL, key…\">\n\
         <table id=\"rows\">\n<thead><tr><th scope=\"col\">Status</th><th scope=\"col\">Guardrail</th><th scope=\"col\">Region</th><th scope=\"col\">Key</th><th scope=\"col\">Reason</th><th scope=\"col\">Fix</th></tr></thead>\n<tbody>",
        report.guardrails.len()
    );
    for g in &report.guardrails {
        let _ = writeln!(
            out,
            "<tr data-level=\"{}\"><td class=\"mark\">{}</td><td><strong>{}</strong><br><small>{}</small></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            g.posture.level.as_str(),
            match &g.exception {
                Some(_) => format!(
                    "<span class=\"MUTED\">◦ MUTED {}</span>",
                    g.posture.level.as_str()
                ),
                None => mark(g.posture.level),
            },
            escape(&g.name),
            escape(&g.arn),
            escape(&report.region_label(&g.account, &g.region)),
            escape(&g.key_label()),
            escape(&g.posture.reason),
            escape(&g.posture.hint)
        );
    }
    let _ = writeln!(out, "</tbody>\n</table>\n</section>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_and_descriptions_stay_text() {
        let mut report = super::super::fixtures::report();
        report.guardrails[0].name = "<script>alert(1)</script>".into();
        report.guardrails[0].posture.reason = "\" onmouseover=\"alert(2)\" & 'x' </td></table>".into();
        let html = to_html(&report);
        assert!(!html.contains("<script>alert(1)"), "a name became markup");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(
            html.contains(
                "&quot; onmouseover=&quot;alert(2)&quot; &amp; &#39;x&#39; &lt;/td&gt;&lt;/table&gt;"
            )
        );
        // Exactly one script element: guardkey's own.
        assert_eq!(html.matches("<script>").count(), 1);
    }

    #[test]
    fn the_report_is_self_contained_and_complete() {
        let report = super::super::fixtures::report();
        let html = to_html(&report);
        for external in ["src=\"http", "href=\"http", "@import", "url("] {
            assert!(!html.contains(external), "an external asset: {external}");
        }
        assert_eq!(html.matches("<tr data-level=").count(), report.guardrails.len());
        assert_eq!(
            html.matches("<g class=\"bar\"").count(),
            2,
            "us-east-1 and eu-west-1"
        );
        assert!(html.contains("INCOMPLETE") && html.contains("Regions that could not be read"));
        assert!(
            html.contains("✗ FAIL") && html.contains("✓ PASS"),
            "marks, not colour alone"
        );
    }
}
