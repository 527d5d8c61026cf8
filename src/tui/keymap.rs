//! The one table of keys: the footer hints and the `?` help are both generated from it.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Context {
    Everywhere,
    Table,
    Detail,
    Filter,
    Errors,
    Export,
    Accept,
    Wizard,
}

impl Context {
    pub fn title(self) -> &'static str {
        match self {
            Context::Everywhere => "Everywhere",
            Context::Table => "Guardrail table",
            Context::Detail => "Detail pane",
            Context::Filter => "Typing a filter",
            Context::Errors => "Region errors panel",
            Context::Export => "Export",
            Context::Accept => "Accepting a risk (x)",
            Context::Wizard => "Remediation wizard (f)",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub context: Context,
    pub keys: &'static str,
    pub what: &'static str,
    /// Shown in the footer of its context (the short ones that matter most).
    pub footer: bool,
}

const fn b(context: Context, keys: &'static str, what: &'static str, footer: bool) -> Binding {
    Binding {
        context,
        keys,
        what,
        footer,
    }
}

pub const KEYMAP: &[Binding] = &[
    b(Context::Everywhere, "?", "help", true),
    b(Context::Everywhere, "q", "quit (Ctrl-c always quits)", true),
    b(
        Context::Everywhere,
        "Esc",
        "back out: close, clear the filter",
        false,
    ),
    b(Context::Everywhere, "Tab", "table / summary", true),
    b(Context::Everywhere, "r", "refresh: scan again", true),
    b(Context::Everywhere, "E", "region errors panel", true),
    b(Context::Table, "j/k ↓/↑", "move", false),
    b(Context::Table, "g/G", "first / last", false),
    b(
        Context::Table,
        "PgUp/PgDn Ctrl-u/Ctrl-d",
        "page / half page",
        false,
    ),
    b(Context::Table, "Enter", "detail (again: full screen)", true),
    b(Context::Table, "/", "filter", true),
    b(
        Context::Table,
        ":",
        "command: q, refresh, fix, summary, export json|csv|md, filter EXPR, sort COLUMN [desc]",
        false,
    ),
    b(Context::Table, "Space", "mark", true),
    b(Context::Table, "a / A", "mark all shown / none", false),
    b(Context::Table, "1-9", "sort by column 1-9 (again: reverse)", true),
    b(Context::Table, "y", "copy the ARN (OSC 52)", true),
    b(Context::Table, "e", "export the view to a file", true),
    b(
        Context::Table,
        "f",
        "fix: the remediation wizard on the marked (or selected) guardrails",
        true,
    ),
    b(
        Context::Table,
        "x",
        "accept the risk: an exception (reason, owner, expiry) for the marked or selected FAILs and WARNs",
        true,
    ),
    b(Context::Table, "mouse", "wheel scrolls, click selects", false),
    b(Context::Detail, "j/k", "scroll", true),
    b(Context::Detail, "Enter", "full screen / split", true),
    b(Context::Detail, "Esc", "close", true),
    b(Context::Filter, "text", "name, id, region, alias", false),
    b(
        Context::Filter,
        "status:fail",
        "also warn, unknown, pass, muted",
        true,
    ),
    b(Context::Filter, "region:eu-*", "regions, * is a wildcard", true),
    b(
        Context::Filter,
        "key:none",
        "AWS-owned key (key:ALIAS, key:cmk)",
        true,
    ),
    b(
        Context::Filter,
        "state: posture:",
        "guardrail status, posture id",
        false,
    ),
    b(
        Context::Filter,
        "account:",
        "account id (1111*); with many accounts, names (prod*)",
        false,
    ),
    b(Context::Filter, "!term", "negate", true),
    b(Context::Filter, "Enter / Esc", "keep / clear", true),
    b(Context::Errors, "j/k", "choose a region", true),
    b(Context::Errors, "R", "retry that region", true),
    b(Context::Errors, "Esc", "close", true),
    b(Context::Export, "j", "JSON (guardkey.scan/v1)", true),
    b(Context::Export, "c", "CSV", true),
    b(Context::Export, "m", "Markdown report", true),
    b(Context::Export, "Esc", "cancel", true),
    b(
        Context::Accept,
        "text",
        "reason, owner, expiry (YYYY-MM-DD), ticket",
        false,
    ),
    b(Context::Accept, "Tab ↑/↓", "next / previous field", true),
    b(
        Context::Accept,
        "Enter",
        "write the exception: the rows turn MUTED",
        true,
    ),
    b(Context::Accept, "Esc", "cancel", true),
    b(Context::Wizard, "Enter", "next step", false),
    b(
        Context::Wizard,
        "Esc",
        "back one step (before confirming); during apply: cancel safely",
        false,
    ),
    b(Context::Wizard, "Space", "targets: include / leave out", false),
    b(
        Context::Wizard,
        "n / h l / m",
        "keys: new key / cycle the region's existing keys / one multi-Region key for all regions",
        false,
    ),
    b(
        Context::Wizard,
        "Tab",
        "settings: next field (type to edit)",
        false,
    ),
    b(
        Context::Wizard,
        "v g s t",
        "review: publish a version / grant the users on existing keys / save CLI script / save Terraform",
        false,
    ),
    b(
        Context::Wizard,
        "digits",
        "confirm: the number of guardrails",
        false,
    ),
];

/// The footer hints of a context: its own, then the global ones.
pub fn footer(context: Context) -> Vec<(&'static str, &'static str)> {
    KEYMAP
        .iter()
        .filter(|k| {
            k.footer
                && (k.context == context || (k.context == Context::Everywhere && context != Context::Filter))
        })
        .map(|k| (k.keys, k.what))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_context_has_footer_hints_and_keys_are_unique_per_context() {
        for c in [
            Context::Table,
            Context::Detail,
            Context::Filter,
            Context::Errors,
            Context::Export,
            Context::Accept,
        ] {
            assert!(!footer(c).is_empty(), "{c:?}");
        }
        let mut seen = std::collections::HashSet::new();
        for k in KEYMAP {
            assert!(seen.insert((k.context, k.keys)), "{:?} twice", k.keys);
        }
    }
}
