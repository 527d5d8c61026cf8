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
        /// How the account was reached when it was not with the caller's own credentials
        /// (a role assumed, a profile): `restore` reaches it the same way.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reach: Option<crate::scan::accounts::Reach>,
    },
    KeyCreated {
        at: String,
        region: String,
        key_arn: String,
        alias: Option<String>,
    },
    /// Written before the guardrail is changed: what it was, and what is about to be sent.
    /// Build it with `Entry::pre_image`, which seals it with its digest.
    PreImage {
        at: String,
        region: String,
        arn: String,
        pre_image: Box<GuardrailConfig>,
        /// The key the write sets (None: the AWS-owned key).
        target_key: Option<String>,
        request: serde_json::Value,
        /// SHA-256 of the entry's region, ARN, pre-image, target key and request: an entry
        /// edited or corrupted since (one that names another guardrail) is refused. It
        /// guards against accidents and careless edits, not against a forger.
        #[serde(default)]
        digest: Option<String>,
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
    /// Written before an existing key's policy is replaced (`--grant-users`): `restore`
    /// puts `old_policy` back.
    KeyPolicyReplaced {
        at: String,
        region: String,
        key_arn: String,
        old_policy: String,
        new_policy: String,
    },
    Restored {
        at: String,
        arn: String,
    },
    /// Written before a guardrail is moved although known users lose kms:Decrypt with its
    /// new key: the lock-out was accepted explicitly (`--allow-lockout`).
    LockoutAccepted {
        at: String,
        arn: String,
        users: Vec<String>,
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

impl Entry {
    /// A sealed pre-image entry.
    pub fn pre_image(
        region: &str,
        arn: &str,
        pre_image: &GuardrailConfig,
        target_key: Option<&str>,
        request: serde_json::Value,
    ) -> Entry {
        let digest = Some(digest_of(region, arn, pre_image, target_key, &request));
        Entry::PreImage {
            at: now(),
            region: region.into(),
            arn: arn.into(),
            pre_image: Box::new(pre_image.clone()),
            target_key: target_key.map(str::to_string),
            request,
            digest,
        }
    }
}

fn digest_of(
    region: &str,
    arn: &str,
    pre_image: &GuardrailConfig,
    target_key: Option<&str>,
    request: &serde_json::Value,
) -> String {
    use sha2::{Digest, Sha256};
    let sealed = serde_json::json!([region, arn, pre_image, target_key, request]);
    hex::encode(Sha256::digest(sealed.to_string().as_bytes()))
}

/// What a journal says of one guardrail: its last pre-image (the DRAFT just before
/// guardkey's write, another writer's change included) and the key that write set.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub region: String,
    pub arn: String,
    pub pre_image: GuardrailConfig,
    pub target_key: Option<String>,
}

/// How the account of a journal was reached (None: the caller's own credentials).
pub fn reach_of(entries: &[Entry]) -> Option<crate::scan::accounts::Reach> {
    entries.iter().find_map(|e| match e {
        Entry::Started { reach, .. } => reach.clone(),
        _ => None,
    })
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
        // A fix of many accounts writes a journal per account within the same second: the
        // second one gets `-2`, and so on. An existing file is never opened.
        let mut n = 1;
        let (path, file) = loop {
            let suffix = if n == 1 { String::new() } else { format!("-{n}") };
            let path = dir.join(format!("{kind}-{stamp}-{}{suffix}.jsonl", std::process::id()));
            // Pre-images hold whole guardrail configurations: readable by their owner only.
            use std::os::unix::fs::OpenOptionsExt;
            match OpenOptions::new()
                .create_new(true)
                .append(true)
                .mode(0o600)
                .open(&path)
            {
                Ok(file) => break (path, file),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
                Err(e) => return Err(format!("cannot create the journal {}: {e}", path.display())),
            }
        };
        // The new file's name is on disk too, not only its lines: a crash keeps the journal.
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| format!("cannot sync the journal directory {}: {e}", dir.display()))?;
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
                Ok(Entry::PreImage {
                    region,
                    arn,
                    pre_image,
                    target_key,
                    request,
                    digest: Some(digest),
                    ..
                }) if digest != digest_of(&region, &arn, &pre_image, target_key.as_deref(), &request) => {
                    return Err(format!(
                        "{} line {}: the entry for {arn} does not match its digest: it was edited or corrupted \
                         since guardkey wrote it, so it is not restored from",
                        path.display(),
                        n + 1
                    ));
                }
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

    /// Each guardrail's last pre-image, in the order they were first written: the DRAFT
    /// just before guardkey's own write (a fix that met another writer's update journals
    /// again; that change is kept, not undone).
    pub fn pre_images(entries: &[Entry]) -> Vec<Recorded> {
        let mut out: Vec<Recorded> = Vec::new();
        for e in entries {
            if let Entry::PreImage {
                region,
                arn,
                pre_image,
                target_key,
                ..
            } = e
            {
                let recorded = Recorded {
                    region: region.clone(),
                    arn: arn.clone(),
                    pre_image: (**pre_image).clone(),
                    target_key: target_key.clone(),
                };
                match out.iter_mut().find(|r| r.arn == *arn) {
                    Some(r) => *r = recorded,
                    None => out.push(recorded),
                }
            }
        }
        out
    }

    /// The fix journals in `dir` that never ended (the process was killed, the machine
    /// stopped) and hold a pre-image of one of `arns`: their last writes may or may not have
    /// been sent. Journals that cannot be read are left out.
    pub fn unfinished(dir: &Path, arns: &[&str]) -> Vec<(PathBuf, Vec<String>)> {
        let Ok(listing) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for path in listing.flatten().map(|e| e.path()) {
            let is_fix = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("fix-") && n.ends_with(".jsonl"));
            let Some(entries) = is_fix.then(|| Journal::read(&path).ok()).flatten() else {
                continue;
            };
            if entries.iter().any(|e| matches!(e, Entry::Ended { .. })) {
                continue;
            }
            let touched: Vec<String> = Journal::pre_images(&entries)
                .into_iter()
                .filter(|r| arns.contains(&r.arn.as_str()))
                .map(|r| r.pre_image.name)
                .collect();
            if !touched.is_empty() {
                out.push((path, touched));
            }
        }
        out.sort();
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
            reach: None,
        })
        .unwrap();
        for (arn, message) in [("a", "first"), ("b", "b"), ("a", "second")] {
            let mut c = config();
            c.blocked_input_messaging = message.into();
            j.append(&Entry::pre_image(
                "us-east-1",
                arn,
                &c,
                Some("k"),
                serde_json::json!({}),
            ))
            .unwrap();
        }
        let entries = Journal::read(j.path()).unwrap();
        assert_eq!(entries.len(), 4);
        let recorded = Journal::pre_images(&entries);
        assert_eq!(recorded.len(), 2, "one per guardrail");
        assert_eq!(
            (
                recorded[0].arn.as_str(),
                recorded[0].pre_image.blocked_input_messaging.as_str()
            ),
            ("a", "second"),
            "the last pre-image of each guardrail, in first-seen order"
        );
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(j.path()).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // An entry edited to name another guardrail is refused, whole file.
        let text = std::fs::read_to_string(j.path()).unwrap();
        let edited = dir.path().join("edited.jsonl");
        std::fs::write(&edited, text.replacen("\"arn\":\"b\"", "\"arn\":\"c\"", 1)).unwrap();
        let e = Journal::read(&edited).unwrap_err();
        assert!(e.contains("does not match its digest"), "{e}");
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
