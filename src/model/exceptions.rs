//! Accepted risks: exceptions a security team writes down on purpose, each with what it
//! matches, a reason, an owner and an expiry date, so that a scan gating CI can stay green
//! about a risk the team chose to carry, and never about one it did not.
//!
//! ```toml
//! max_days = 365            # the furthest an expiry may be from today (default 365)
//!
//! [[exception]]
//! name = "sandbox-*"        # what it matches: guardrail (ARN or id), name (a glob), account,
//! region = "us-east-1"      # region, posture (ids); at least one of the first four
//! posture = ["aws-owned-key"]
//! reason = "Sandbox guardrails are deleted at the end of the quarter"
//! owner = "platform-security@example.com"
//! expires = 2027-03-31      # a date (or "2027-03-31")
//! ticket = "SEC-1234"       # optional
//! ```
//!
//! The rules, in one place for every view and format:
//! - A matched FAIL or WARN is *muted*: still shown, with its own mark and the exception's
//!   reason, owner and expiry, counted apart, and not counted by the exit code.
//! - Never UNKNOWN (what could not be checked is never accepted), never a guardrail whose
//!   read failed, never a PASS (nothing to accept).
//! - An expired exception stops applying and is said; one that matches nothing is stale.
//! - A malformed file, an unknown field, a missing reason, owner or expiry, an entry that
//!   matches everything, or an expiry beyond `max_days` is an error naming its line.

use std::path::Path;

use serde::{Deserialize, Serialize};
use time::Date;

use super::posture::PostureId;
use super::{Guardrail, Level};

/// The default furthest expiry, in days from today.
pub const DEFAULT_MAX_DAYS: i64 = 365;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    max_days: Option<i64>,
    #[serde(default, rename = "exception")]
    exceptions: Vec<toml::Spanned<RawEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    guardrail: Option<String>,
    name: Option<String>,
    account: Option<String>,
    region: Option<String>,
    #[serde(default)]
    posture: Vec<String>,
    reason: String,
    owner: String,
    expires: toml::Spanned<toml::Value>,
    ticket: Option<String>,
}

/// One accepted risk, as the file says it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exception {
    /// Its line in the file (the `[[exception]]` header).
    pub line: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub posture: Vec<String>,
    pub reason: String,
    pub owner: String,
    /// `YYYY-MM-DD`: the last day it applies.
    pub expires: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
}

/// The exceptions of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exceptions {
    pub path: String,
    pub entries: Vec<Exception>,
}

/// What applying them did, for the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExceptionsOutcome {
    pub file: String,
    /// Guardrails muted.
    pub muted: usize,
    /// Past their expiry: they apply no more (the guardrails they matched count again).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expired: Vec<Exception>,
    /// In force but matching no guardrail of the scan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stale: Vec<Exception>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Today, in UTC: an exception applies to the end of its expiry day.
pub fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

/// `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

pub fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

impl Exceptions {
    /// Reads and checks a file; `today` bounds the expiries.
    pub fn load(path: &Path, today: Date) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::parse(&text, &path.display().to_string(), today)
    }

    pub fn parse(text: &str, path: &str, today: Date) -> Result<Self, String> {
        let file: File = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start));
            let message = e.message().trim().to_string();
            match line {
                Some(l) => format!("{path}:{l}: {message}"),
                None => format!("{path}: {message}"),
            }
        })?;
        let max_days = file.max_days.unwrap_or(DEFAULT_MAX_DAYS);
        if max_days < 1 {
            return Err(format!("{path}: max_days must be at least 1 (it is {max_days})"));
        }
        let mut entries = Vec::new();
        for spanned in file.exceptions {
            let line = line_of(text, spanned.span().start);
            let raw = spanned.into_inner();
            let at = |what: String| format!("{path}:{line}: {what}");
            if raw.guardrail.is_none() && raw.name.is_none() && raw.account.is_none() && raw.region.is_none()
            {
                return Err(at(
                    "this exception matches every guardrail: give it a guardrail, name, account or region"
                        .into(),
                ));
            }
            for (field, value) in [("reason", &raw.reason), ("owner", &raw.owner)] {
                if value.trim().is_empty() {
                    return Err(at(format!("`{field}` is empty: say it")));
                }
            }
            for p in &raw.posture {
                if !PostureId::ALL.iter().any(|id| id.as_str() == p) {
                    return Err(at(format!(
                        "`posture` has {p:?}, not a posture id (see `guardkey scan --help`)"
                    )));
                }
            }
            let expires_line = line_of(text, raw.expires.span().start);
            let expires = match raw.expires.get_ref() {
                toml::Value::Datetime(d) => d.date.and_then(|d| {
                    Date::from_calendar_date(d.year as i32, time::Month::try_from(d.month).ok()?, d.day).ok()
                }),
                toml::Value::String(s) => parse_date(s),
                _ => None,
            }
            .ok_or_else(|| format!("{path}:{expires_line}: `expires` must be a date, YYYY-MM-DD"))?;
            let furthest = today + time::Duration::days(max_days);
            if expires > furthest {
                return Err(format!(
                    "{path}:{expires_line}: `expires` {} is further than {max_days} days from today (at most {}): \
                     accepted risks are looked at again, set a nearer date (or raise max_days)",
                    format_date(expires),
                    format_date(furthest)
                ));
            }
            entries.push(Exception {
                line,
                guardrail: raw.guardrail,
                name: raw.name,
                account: raw.account,
                region: raw.region,
                posture: raw.posture,
                reason: raw.reason,
                owner: raw.owner,
                expires: format_date(expires),
                ticket: raw.ticket,
            });
        }
        Ok(Exceptions {
            path: path.to_string(),
            entries,
        })
    }

    /// Mutes what the exceptions in force match (a FAIL or WARN read whole), and says which
    /// expired and which matched nothing.
    pub fn apply(&self, guardrails: &mut [Guardrail], today: Date) -> ExceptionsOutcome {
        let mut outcome = ExceptionsOutcome {
            file: self.path.clone(),
            ..Default::default()
        };
        let mut used = vec![false; self.entries.len()];
        for g in guardrails.iter_mut() {
            g.exception = self.exception_for(g, today).map(|(i, e)| {
                used[i] = true;
                outcome.muted += 1;
                Box::new(e.clone())
            });
        }
        for (e, used) in self.entries.iter().zip(used) {
            if e.expired(today) {
                outcome.expired.push(e.clone());
            } else if !used {
                outcome.stale.push(e.clone());
            }
        }
        outcome
    }
}

impl Exceptions {
    /// The first exception in force that mutes this guardrail (and its index): a FAIL or
    /// WARN read whole, never an UNKNOWN or a PASS.
    pub fn exception_for(&self, g: &Guardrail, today: Date) -> Option<(usize, &Exception)> {
        if !matches!(g.posture.level, Level::Fail | Level::Warn) || g.read_error.is_some() {
            return None;
        }
        self.entries
            .iter()
            .enumerate()
            .find(|(_, e)| e.matches(g) && !e.expired(today))
    }
}

impl Exception {
    pub fn expired(&self, today: Date) -> bool {
        parse_date(&self.expires).is_none_or(|d| d < today)
    }

    /// Whether it names this guardrail: every matcher it has holds.
    pub fn matches(&self, g: &Guardrail) -> bool {
        let glob = |p: &str, t: &str| crate::model::policy::wildcard(p, t);
        self.guardrail.as_ref().is_none_or(|x| *x == g.arn || *x == g.id)
            && self.name.as_ref().is_none_or(|p| glob(p, &g.name))
            && self.account.as_ref().is_none_or(|a| **a == *g.account)
            && self.region.as_ref().is_none_or(|r| **r == *g.region)
            && (self.posture.is_empty() || {
                let ids = g.posture.finding_ids();
                self.posture.iter().any(|p| ids.iter().any(|id| id.as_str() == p))
            })
    }

    /// One line for people: the reason, who owns it, until when.
    pub fn describe(&self) -> String {
        let ticket = self.ticket.as_ref().map(|t| format!(", {t}")).unwrap_or_default();
        format!(
            "accepted risk: {} ({}, until {}{ticket})",
            self.reason, self.owner, self.expires
        )
    }
}

impl ExceptionsOutcome {
    /// What a person is told besides the muted rows: the expired and the stale ones.
    pub fn notes(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.expired.is_empty() {
            let mut dates: Vec<&str> = self.expired.iter().map(|e| e.expires.as_str()).collect();
            dates.sort();
            dates.dedup();
            out.push(format!(
                "{} expired on {} and no longer {} ({}: {}): renew or delete {}",
                super::plural(self.expired.len(), "exception"),
                dates.join(", "),
                if self.expired.len() == 1 {
                    "applies"
                } else {
                    "apply"
                },
                self.file,
                lines(&self.expired),
                if self.expired.len() == 1 { "it" } else { "them" }
            ));
        }
        if !self.stale.is_empty() {
            out.push(format!(
                "{} {} nothing in this scan ({}: {}): stale, or for guardrails not scanned",
                super::plural(self.stale.len(), "exception"),
                if self.stale.len() == 1 { "matches" } else { "match" },
                self.file,
                lines(&self.stale)
            ));
        }
        out
    }
}

/// `text` (an exceptions file, possibly empty) with `entries` appended as `[[exception]]`
/// tables at its end; every byte of it kept (comments, order, formatting). TOML lets the
/// tables of an array sit anywhere after the keys of the root.
pub fn append_entries(text: &str, entries: &[Exception]) -> Result<String, String> {
    // The file must be TOML already: appending to a broken file would hide where it broke.
    let _: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| e.to_string())?;
    let mut list = toml_edit::ArrayOfTables::new();
    for e in entries {
        let mut t = toml_edit::Table::new();
        let put = |t: &mut toml_edit::Table, k: &str, v: Option<&String>| {
            if let Some(v) = v {
                t.insert(k, toml_edit::value(v.as_str()));
            }
        };
        put(&mut t, "guardrail", e.guardrail.as_ref());
        put(&mut t, "name", e.name.as_ref());
        put(&mut t, "account", e.account.as_ref());
        put(&mut t, "region", e.region.as_ref());
        if !e.posture.is_empty() {
            let mut a = toml_edit::Array::new();
            for p in &e.posture {
                a.push(p.as_str());
            }
            t.insert("posture", toml_edit::value(a));
        }
        put(&mut t, "reason", Some(&e.reason));
        put(&mut t, "owner", Some(&e.owner));
        let date = parse_date(&e.expires).ok_or_else(|| format!("{} is not a date", e.expires))?;
        let d = toml_edit::Date {
            year: date.year() as u16,
            month: u8::from(date.month()),
            day: date.day(),
        };
        t.insert(
            "expires",
            toml_edit::value(toml_edit::Datetime {
                date: Some(d),
                time: None,
                offset: None,
            }),
        );
        put(&mut t, "ticket", e.ticket.as_ref());
        list.push(t);
    }
    let mut added = toml_edit::DocumentMut::new();
    added.insert("exception", toml_edit::Item::ArrayOfTables(list));
    let mut out = text.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&added.to_string());
    Ok(out)
}

/// Adds `entries` to the exceptions file at `path` (created if missing): the result is
/// checked as `load` would, then written atomically (a file beside it, renamed over it), so
/// a failure leaves the file as it was. Returns the file's exceptions as now written.
pub fn write_entries(path: &Path, entries: &[Exception], today: Date) -> Result<Exceptions, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let updated = append_entries(&text, entries).map_err(|e| format!("{}: {e}", path.display()))?;
    let checked = Exceptions::parse(&updated, &path.display().to_string(), today)?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::io::Write::write_all(&mut tmp, updated.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(checked)
}

/// "line 3", "lines 3, 9".
fn lines(entries: &[Exception]) -> String {
    let numbers: Vec<String> = entries.iter().map(|e| e.line.to_string()).collect();
    match numbers.len() {
        1 => format!("line {}", numbers[0]),
        _ => format!("lines {}", numbers.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 12 - 04);

    fn parse(text: &str) -> Result<Exceptions, String> {
        Exceptions::parse(text, "risks.toml", TODAY)
    }

    const GOOD: &str = r#"
[[exception]]
name = "sandbox-*"
posture = ["aws-owned-key"]
reason = "Deleted at the end of the quarter"
owner = "secops@example.com"
expires = 2027-03-31
ticket = "SEC-1"

[[exception]]
guardrail = "abc123"
reason = "r"
owner = "o"
expires = "2026-12-01"
"#;

    #[test]
    fn a_file_reads_with_each_entry_and_its_line() {
        let e = parse(GOOD).unwrap();
        assert_eq!(e.entries.len(), 2);
        assert_eq!(e.entries[0].line, 2);
        assert_eq!(e.entries[0].expires, "2027-03-31");
        assert_eq!(e.entries[1].line, 10);
        assert!(e.entries[1].expired(TODAY));
        assert!(!e.entries[0].expired(TODAY));
    }

    #[test]
    fn entries_are_appended_with_the_files_comments_kept_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("risks.toml");
        std::fs::write(&path, format!("# ours, kept\n{GOOD}")).unwrap();
        let new = Exception {
            line: 0,
            guardrail: Some("arn:aws:bedrock:us-east-1:123456789012:guardrail/x1".into()),
            name: None,
            account: None,
            region: None,
            posture: vec!["aws-owned-key".into()],
            reason: "Sandbox \"until\" Q2".into(),
            owner: "me".into(),
            expires: "2027-03-01".into(),
            ticket: None,
        };
        let read = write_entries(&path, std::slice::from_ref(&new), TODAY).unwrap();
        assert_eq!(read.entries.len(), 3);
        let last = read.entries.last().unwrap();
        assert_eq!(last.guardrail, new.guardrail);
        assert_eq!(last.reason, new.reason);
        assert_eq!(last.expires, "2027-03-01");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# ours, kept\n"), "{text}");
        assert!(text.contains("expires = 2027-03-01"), "{text}");
        // A file that would not load is not written.
        let past = Exception {
            expires: "2030-01-01".into(),
            ..new
        };
        assert!(write_entries(&path, &[past], TODAY).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        // A new file is created.
        let fresh = dir.path().join("new/exceptions.toml");
        assert_eq!(
            write_entries(&fresh, &read.entries[2..], TODAY)
                .unwrap()
                .entries
                .len(),
            1
        );
    }

    #[test]
    fn bad_files_name_their_line() {
        let cases = [
            (
                "[[exception]]\nname = \"x\"\nowner = \"o\"\nexpires = 2027-01-01\n",
                "risks.toml:1:",
                "reason",
            ),
            (
                "[[exception]]\nname = \"x\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2027-01-01\nteam = \"t\"\n",
                "risks.toml:6:",
                "team",
            ),
            (
                "[[exception]]\nname = \"x\"\nreason = \"r\"\nowner = \"o\"\n",
                "risks.toml:1:",
                "expires",
            ),
            (
                "[[exception]]\nreason = \"r\"\nowner = \"o\"\nexpires = 2027-01-01\n",
                "risks.toml:1:",
                "every guardrail",
            ),
            (
                "\n[[exception]]\nname = \"x\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2029-01-01\n",
                "risks.toml:6:",
                "further than 365 days",
            ),
            (
                "[[exception]]\nname = \"x\"\nreason = \"r\"\nowner = \"o\"\nexpires = \"soon\"\n",
                "risks.toml:5:",
                "must be a date",
            ),
            (
                "[[exception]]\nname = \"x\"\nposture = [\"bad\"]\nreason = \"r\"\nowner = \"o\"\nexpires = 2027-01-01\n",
                "risks.toml:1:",
                "not a posture id",
            ),
            ("[[exception]\n", "risks.toml:1:", ""),
        ];
        for (text, at, what) in cases {
            let err = parse(text).unwrap_err();
            assert!(err.starts_with(at) && err.contains(what), "{text:?}: {err}");
        }
        // A longer limit, said in the file, allows it.
        let ok = "max_days = 1000\n[[exception]]\nname = \"x\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2029-01-01\n";
        assert!(parse(ok).is_ok());
    }
}
