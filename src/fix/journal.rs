//! The journal of a fix: before each write, the guardrail's pre-image and the planned
//! request, appended as a JSON line and synced to disk. `guardkey restore` reads it back.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::model::config::GuardrailConfig;

pub const SCHEMA: &str = "guardkey.journal/v1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Entry {
    Started {
        schema: String,
        at: String,
        account: String,
        caller: String,
        guardkey_version: String,
    },
    KeyCreated {
        at: String,
        region: String,
        key_arn: String,
        alias: Option<String>,
    },
    /// Written before the guardrail is changed: what it was, and what is about to be sent.
    PreImage {
        at: String,
        region: String,
        arn: String,
        pre_image: Box<GuardrailConfig>,
        /// The key the write sets (None: the AWS-owned key).
        target_key: Option<String>,
        request: serde_json::Value,
    },
    Verified {
        at: String,
        arn: String,
        key: Option<String>,
        version: Option<String>,
    },
    Failed {
        at: String,
        arn: String,
        error: String,
    },
    Restored {
        at: String,
        arn: String,
    },
    /// The last line of a fix that ran to its end: how it ended and what it did. A journal
    /// without it was cut short (a crash, a kill): its last pre-images may not be verified.
    Ended {
        at: String,
        /// `completed`, or `cancelled` (stopped between calls when asked).
        outcome: String,
        fixed: usize,
        skipped: usize,
        failed: usize,
    },
}

pub fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Where journals go: `$GUARDKEY_STATE_DIR`, else the XDG state directory
/// (`$XDG_STATE_HOME/guardkey`, by default `~/.local/state/guardkey`).
pub fn default_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("GUARDKEY_STATE_DIR") {
        return PathBuf::from(d);
    }
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("guardkey")
}

pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
}

impl Journal {
    /// A new journal file named after the time, in `dir`.
    pub fn create(dir: &Path, kind: &str) -> Result<Self, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the journal directory {}: {e}", dir.display()))?;
        let stamp = time::OffsetDateTime::now_utc()
            .format(time::macros::format_description!(
                "[year][month][day]T[hour][minute][second]Z"
            ))
            .unwrap_or_default();
        let path = dir.join(format!("{kind}-{stamp}-{}.jsonl", std::process::id()));
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)
            .map_err(|e| format!("cannot create the journal {}: {e}", path.display()))?;
        Ok(Journal {
            path,
            file: Mutex::new(file),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one entry and waits until it is on disk.
    pub fn append(&self, entry: &Entry) -> Result<(), String> {
        let mut line = serde_json::to_string(entry).expect("a journal entry serializes");
        line.push('\n');
        let mut f = self.file.lock();
        f.write_all(line.as_bytes())
            .and_then(|()| f.sync_data())
            .map_err(|e| format!("cannot write the journal {}: {e}", self.path.display()))
    }

    /// Reads a journal. A last line cut short (a crash in the middle of a write) is
    /// ignored; anything else that is not a journal entry is an error.
    pub fn read(path: &Path) -> Result<Vec<Entry>, String> {
        let file = File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let lines: Vec<String> = BufReader::new(file)
            .lines()
            .collect::<Result<_, _>>()
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut entries = Vec::new();
        for (n, line) in lines.iter().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Entry>(line) {
                Ok(e) => entries.push(e),
                Err(e) if n + 1 == lines.len() && e.is_eof() => break,
                Err(e) => {
                    return Err(format!(
                        "{} is not a guardkey journal (line {}: {e})",
                        path.display(),
                        n + 1
                    ));
                }
            }
        }
        match entries.first() {
            Some(Entry::Started { schema, .. }) if schema == SCHEMA => Ok(entries),
            Some(Entry::Started { schema, .. }) => Err(format!(
                "{} has schema {schema}; this guardkey reads {SCHEMA}",
                path.display()
            )),
            _ => Err(format!(
                "{} is not a guardkey journal (it does not start with a started entry)",
                path.display()
            )),
        }
    }

    /// The first pre-image of each guardrail: what it was before the fix touched it.
    pub fn pre_images(entries: &[Entry]) -> Vec<(String, String, GuardrailConfig)> {
        let mut out: Vec<(String, String, GuardrailConfig)> = Vec::new();
        for e in entries {
            if let Entry::PreImage {
                region,
                arn,
                pre_image,
                ..
            } = e
                && !out.iter().any(|(_, a, _)| a == arn)
            {
                out.push((region.clone(), arn.clone(), (**pre_image).clone()));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> GuardrailConfig {
        serde_json::from_value(serde_json::json!({
            "name": "g", "blockedInputMessaging": "a", "blockedOutputsMessaging": "b",
            "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/old"
        }))
        .unwrap()
    }

    #[test]
    fn entries_round_trip_and_a_torn_last_line_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::create(dir.path(), "fix").unwrap();
        j.append(&Entry::Started {
            schema: SCHEMA.into(),
            at: now(),
            account: "1".into(),
            caller: "c".into(),
            guardkey_version: "x".into(),
        })
        .unwrap();
        for arn in ["a", "b", "a"] {
            j.append(&Entry::PreImage {
                at: now(),
                region: "us-east-1".into(),
                arn: arn.into(),
                pre_image: Box::new(config()),
                target_key: Some("k".into()),
                request: serde_json::json!({}),
            })
            .unwrap();
        }
        let entries = Journal::read(j.path()).unwrap();
        assert_eq!(entries.len(), 4);
        assert_eq!(
            Journal::pre_images(&entries).len(),
            2,
            "the first pre-image of each guardrail"
        );
        // A crash in the middle of a write leaves a torn line at the end.
        let mut f = OpenOptions::new().append(true).open(j.path()).unwrap();
        f.write_all(b"{\"event\":\"pre-image\",\"at\":\"2026").unwrap();
        assert_eq!(Journal::read(j.path()).unwrap().len(), 4);
    }

    #[test]
    fn foreign_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.jsonl");
        std::fs::write(&p, "{\"hello\": 1}\n{\"more\": 2}\n").unwrap();
        assert!(Journal::read(&p).unwrap_err().contains("not a guardkey journal"));
        std::fs::write(&p, "").unwrap();
        assert!(Journal::read(&p).is_err());
        assert!(
            Journal::read(&dir.path().join("missing"))
                .unwrap_err()
                .contains("cannot read")
        );
    }
}
