//! The docs stay true: every guardkey flag the README and docs/ name exists in some
//! command's `--help`, and every guardkey command of the README's quick start runs (exit 0,
//! or 1 for findings: never an error).

use std::collections::BTreeSet;
use std::process::Command;

const COMMANDS: &[&str] = &[
    "",
    "scan",
    "fix",
    "restore",
    "sim",
    "diff",
    "completions",
    "man",
    "policy",
];

/// Flags of other programs the docs show beside guardkey's (the AWS CLI, cargo, Terraform).
const NOT_OURS: &[&str] = &[
    "--release",
    "--locked",
    "--path",
    "--bench",
    "--all-targets",
    "--policy-name",
    "--policy-document",
    "--query",
    "--output",
    "--region",
    "--guardrail-identifier",
    "--kms-key-id",
    "--key-id",
    "--alias-name",
    "--target-key-id",
    "--policy",
    "--description",
    "--name",
    "--blocked-input-messaging",
    "--blocked-outputs-messaging",
    "--bypass-policy-lockout-safety-check",
    "--findings",
    "--filters",
    "--role-arn",
    "--role-session-name",
    "--profile",
    "--endpoint-url",
    "--cli-input-json",
    "--help",
];

fn help_flags() -> BTreeSet<String> {
    let mut flags = BTreeSet::new();
    for c in COMMANDS {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_guardkey"));
        if !c.is_empty() {
            cmd.arg(c);
        }
        let out = cmd.arg("--help").output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        flags.extend(flag_tokens(&text));
    }
    flags
}

fn flag_tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i + 2 < bytes.len() {
        let boundary = i == 0 || !(bytes[i - 1].is_alphanumeric() || bytes[i - 1] == '-');
        if boundary && bytes[i] == '-' && bytes[i + 1] == '-' && bytes[i + 2].is_ascii_lowercase() {
            let mut j = i + 2;
            while j < bytes.len()
                && (bytes[j].is_ascii_lowercase() || bytes[j].is_ascii_digit() || bytes[j] == '-')
            {
                j += 1;
            }
            out.push(
                bytes[i..j]
                    .iter()
                    .collect::<String>()
                    .trim_end_matches('-')
                    .to_string(),
            );
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

fn pages() -> Vec<(String, String)> {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut out = vec![(
        "README.md".to_string(),
        std::fs::read_to_string(format!("{root}/README.md")).unwrap(),
    )];
    for entry in std::fs::read_dir(format!("{root}/docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            out.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            ));
        }
    }
    out
}

#[test]
fn every_flag_the_docs_name_exists_in_help() {
    let known = help_flags();
    assert!(
        known.contains("--exceptions") && known.contains("--create-key"),
        "{known:?}"
    );
    let mut missing = Vec::new();
    for (page, text) in pages() {
        for line in text.lines() {
            // A line of another program's command: its flags are its own.
            let t = line.trim_start_matches(['`', ' ', '$', '|']);
            if t.starts_with("aws ")
                || t.starts_with("cargo ")
                || t.starts_with("terraform ")
                || t.starts_with("python")
            {
                continue;
            }
            for flag in flag_tokens(line) {
                if !known.contains(&flag) && !NOT_OURS.contains(&flag.as_str()) {
                    missing.push(format!("{page}: {flag} ({line})"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "flags the docs name that no --help has:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_guardkey_command_of_the_quick_start_runs() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find("## Quick start").expect("a quick start");
    let end = readme[start + 3..]
        .find("\n## ")
        .map_or(readme.len(), |e| start + 3 + e);
    let mut ran = 0;
    let mut in_block = false;
    for line in readme[start..end].lines() {
        if line.starts_with("```") {
            in_block = !in_block;
            continue;
        }
        let Some(rest) = line.strip_prefix("guardkey ").filter(|_| in_block) else {
            continue;
        };
        let words: Vec<String> = shell_words(rest.split(" #").next().unwrap());
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_guardkey"))
            .args(&words)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("GUARDKEY_STATE_DIR", dir.path())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "`guardkey {rest}` exited {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        ran += 1;
    }
    assert!(ran >= 3, "the quick start's headless commands: {ran}");
}

/// Words as a POSIX shell splits a simple command line (single quotes only).
fn shell_words(line: &str) -> Vec<String> {
    let (mut out, mut word, mut quoted, mut any) = (Vec::new(), String::new(), false, false);
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    out.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            c => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(word);
    }
    out
}

#[test]
fn fix_help_reads_in_the_order_a_user_decides() {
    let out = Command::new(env!("CARGO_BIN_EXE_guardkey"))
        .args(["fix", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    let at = |h: &str| {
        help.find(&format!("\n{h}"))
            .unwrap_or_else(|| panic!("no {h} heading:\n{help}"))
    };
    let order = [
        "Selection: which guardrails:",
        "Key: which key, and a new one's settings:",
        "Safety and what is written:",
        "Apply:",
        "Output:",
        "Account and regions:",
        "Many accounts:",
    ];
    let positions: Vec<usize> = order.iter().map(|h| at(h)).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{help}");
    // Each option under its heading: --filter with the selection, --yes to apply.
    let option = |o: &str| {
        help.find(&format!("\n      {o}"))
            .unwrap_or_else(|| panic!("no {o}"))
    };
    assert!(
        at("Selection") < option("--filter") && option("--filter") < at("Key"),
        "{help}"
    );
    assert!(
        at("Apply:") < option("--yes") && option("--yes") < at("Output:"),
        "{help}"
    );
    // The global --demo says what it is for every command, not only the explorer.
    assert!(help.contains("instead of AWS"), "{help}");
}
