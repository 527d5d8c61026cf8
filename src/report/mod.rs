//! Scan results written for people and machines (table, json, csv, sarif, ocsf), and saved
//! scans read back.
//!
//! (Over 500 lines for its tests: the fixtures every format's golden test shares and the
//! schema checks.)

pub mod asff;
pub mod diff;
mod html;
mod markdown;
mod ocsf;
mod sarif;
mod table;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::aws::CallerIdentity;
use crate::model::{Guardrail, Level};
use crate::scan::accounts::AccountOutcome;
use crate::scan::{RegionOutcome, ScanResult};

pub use asff::to_asff;
pub use html::{escape as escape_markup, to_html};
pub use markdown::to_markdown;
pub use ocsf::to_ocsf;
pub use sarif::to_sarif;
pub use table::to_table;

/// The schema id of guardkey's JSON report and saved scans. Bump on any breaking change.
pub const SCHEMA: &str = "guardkey.scan/v1";

/// Counts per posture level, and whether the scan saw everything it was asked to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub guardrails: usize,
    pub pass: usize,
    pub fail: usize,
    pub warn: usize,
    pub unknown: usize,
    /// Regions that could not be read (denied, timed out, throttled out, failing): their
    /// guardrails are not in the counts. A region that is not enabled is not one of them.
    #[serde(default)]
    pub unreadable_regions: usize,
    /// Regions not enabled for the account: the account's own choice, nothing to see there.
    #[serde(default)]
    pub not_enabled_regions: usize,
    /// False when a region could not be read or a guardrail's posture is UNKNOWN: the scan
    /// did not see the whole estate, and must not be taken for a pass.
    #[serde(default)]
    pub complete: bool,
    /// Accounts that could not be read at all (role not assumable, every region failed).
    /// A suspended account is not one of them: nothing runs there.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unreadable_accounts: usize,
    /// FAILs and WARNs muted by an accepted risk (`--exceptions`): counted here, not in
    /// `fail` or `warn`, and not by the exit code.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub muted: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Totals {
    /// The counts of these guardrails; complete unless one of them is UNKNOWN.
    pub fn of<'a>(guardrails: impl IntoIterator<Item = &'a Guardrail>) -> Self {
        let mut t = Totals::default();
        for g in guardrails {
            t.add_guardrail(g);
        }
        t.complete = t.unknown == 0;
        t
    }

    /// The totals of a scan: its guardrails and how each region ended.
    pub fn of_scan(guardrails: &[Guardrail], regions: &[RegionOutcome]) -> Self {
        let mut t = Totals::of(guardrails);
        for r in regions {
            match &r.error {
                None => {}
                Some(e) if e.hides_part_of_the_estate() => t.unreadable_regions += 1,
                Some(_) => t.not_enabled_regions += 1,
            }
        }
        t.complete = t.unknown == 0 && t.unreadable_regions == 0;
        t
    }

    /// The totals with the accounts of a scan of many: an unreadable one makes it incomplete.
    pub fn with_accounts(mut self, accounts: &[AccountOutcome]) -> Self {
        self.unreadable_accounts = accounts.iter().filter(|a| a.unreadable().is_some()).count();
        if self.unreadable_accounts > 0 {
            self.complete = false;
        }
        self
    }

    /// What the scan could not see, in one sentence; None when it saw everything.
    pub fn incompleteness(&self) -> Option<String> {
        if self.complete {
            return None;
        }
        let mut parts = Vec::new();
        if self.unreadable_accounts > 0 {
            parts.push(plural(self.unreadable_accounts, "account"));
        }
        if self.unreadable_regions > 0 {
            parts.push(plural(self.unreadable_regions, "region"));
        }
        if self.unknown > 0 {
            parts.push(format!("the posture of {}", plural(self.unknown, "guardrail")));
        }
        let whole = if self.unreadable_accounts > 0 {
            "organization"
        } else {
            "account"
        };
        Some(format!(
            "INCOMPLETE: {} could not be read; this is not the whole {whole}",
            parts.join(" and ")
        ))
    }

    /// A guardrail taken out of the counts, as `add_guardrail` counted it.
    pub fn remove_guardrail(&mut self, g: &Guardrail) {
        if g.is_muted() {
            self.guardrails = self.guardrails.saturating_sub(1);
            self.muted = self.muted.saturating_sub(1);
        } else {
            self.remove(g.posture.level);
        }
    }

    /// A guardrail taken out of the counts (its posture changed).
    pub fn remove(&mut self, level: Level) {
        self.guardrails = self.guardrails.saturating_sub(1);
        let count = match level {
            Level::Pass => &mut self.pass,
            Level::Fail => &mut self.fail,
            Level::Warn => &mut self.warn,
            Level::Unknown => &mut self.unknown,
        };
        *count = count.saturating_sub(1);
    }

    /// A guardrail counted: a muted one apart from the FAILs and WARNs.
    pub fn add_guardrail(&mut self, g: &Guardrail) {
        if g.is_muted() {
            self.guardrails += 1;
            self.muted += 1;
        } else {
            self.add(g.posture.level);
        }
    }

    pub fn add(&mut self, level: Level) {
        self.guardrails += 1;
        match level {
            Level::Pass => self.pass += 1,
            Level::Fail => self.fail += 1,
            Level::Warn => self.warn += 1,
            Level::Unknown => self.unknown += 1,
        }
    }
}

/// A scan as written by `--format json` and `--save`, and read by `--load`.
///
/// Schema `guardkey.scan/v1`: `regions[]` (region, guardrails, elapsed_ms, error: null or
/// {kind, …}), `guardrails[]` (region, account, id, arn, name, status, kms_key_arn, key:
/// {lookup: found|failed, …}, posture: {level, id, reason, hint, more[]}), `totals`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanReport {
    pub schema: String,
    pub guardkey_version: String,
    /// RFC 3339.
    pub generated_at: String,
    pub caller: Option<CallerIdentity>,
    pub endpoint_url: Option<String>,
    pub totals: Totals,
    pub elapsed_ms: u64,
    pub regions: Vec<RegionOutcome>,
    pub guardrails: Vec<Guardrail>,
    /// A scan of many accounts (`--org`, `--profiles`, `--role-arns`): how each ended.
    /// Empty for a scan of one account.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<AccountOutcome>,
    /// The accepted risks applied (`--exceptions`): how many muted, which expired, which
    /// matched nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exceptions: Option<crate::model::exceptions::ExceptionsOutcome>,
}

/// A part of the estate a scan could not see (`ScanReport::unseen`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unseen<'a> {
    pub account: &'a str,
    pub account_name: Option<&'a str>,
    /// None: the whole account (its role could not be assumed, every region failed).
    pub region: Option<&'a str>,
    pub error: &'a crate::model::CallError,
}

impl Unseen<'_> {
    /// "Region eu-west-1 of account prod (111122223333)", "Account prod (111122223333)".
    pub fn what(&self) -> String {
        let account = match self.account_name.filter(|n| *n != self.account) {
            Some(name) => format!("account {name} ({})", self.account),
            None => format!("account {}", self.account),
        };
        match self.region {
            Some(region) => format!("Region {region} of {account}"),
            None => {
                let mut s = account;
                s[..1].make_ascii_uppercase();
                s
            }
        }
    }

    /// The rule or generator id: `region-unreadable` or `account-unreadable`.
    pub fn rule(&self) -> &'static str {
        if self.region.is_some() {
            "region-unreadable"
        } else {
            "account-unreadable"
        }
    }
}

impl ScanReport {
    /// A scan of many accounts: its accounts' outcomes counted in the totals.
    pub fn with_accounts(mut self, accounts: Vec<AccountOutcome>) -> Self {
        self.accounts = accounts;
        self.recount();
        self
    }

    /// The totals again, after guardrails, regions or accounts were narrowed.
    pub fn recount(&mut self) {
        self.totals = Totals::of_scan(&self.guardrails, &self.regions).with_accounts(&self.accounts);
    }

    /// "6 accounts (1 unreadable, 1 suspended)" for a scan of many accounts; None for one.
    pub fn accounts_summary(&self) -> Option<String> {
        if self.accounts.is_empty() {
            return None;
        }
        let suspended = self.accounts.iter().filter(|a| a.suspended).count();
        let mut notes = Vec::new();
        if self.totals.unreadable_accounts > 0 {
            notes.push(format!("{} unreadable", self.totals.unreadable_accounts));
        }
        if suspended > 0 {
            notes.push(format!("{suspended} suspended"));
        }
        Some(if notes.is_empty() {
            plural(self.accounts.len(), "account")
        } else {
            format!(
                "{} ({})",
                plural(self.accounts.len(), "account"),
                notes.join(", ")
            )
        })
    }

    /// The regions scanned, each once (a scan of many accounts scans a region in each).
    pub fn region_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for r in &self.regions {
            if !names.contains(&r.region.as_str()) {
                names.push(&r.region);
            }
        }
        names
    }

    /// A region as the reports name it: with many accounts, `account/region`.
    pub fn region_label(&self, account: &str, region: &str) -> String {
        match self.account_name(account) {
            Some(name) => format!("{name}/{region}"),
            None => region.to_string(),
        }
    }

    /// An account's name, when the scan covered many.
    pub fn account_name(&self, id: &str) -> Option<&str> {
        self.accounts.iter().find(|a| a.id == id).map(|a| a.name.as_str())
    }

    pub fn new(result: ScanResult, caller: Option<CallerIdentity>, endpoint_url: Option<String>) -> Self {
        let generated_at = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        ScanReport {
            schema: SCHEMA.into(),
            guardkey_version: env!("CARGO_PKG_VERSION").into(),
            generated_at,
            caller,
            endpoint_url,
            totals: Totals::of_scan(&result.guardrails, &result.regions),
            elapsed_ms: result.elapsed_ms,
            regions: result.regions,
            guardrails: result.guardrails,
            accounts: Vec::new(),
            exceptions: None,
        }
    }

    /// Mutes what the accepted risks in force match, and counts again: a muted FAIL or WARN
    /// is counted apart; what the scan could not see stays as it was.
    pub fn apply_exceptions(&mut self, exceptions: &crate::model::exceptions::Exceptions, today: time::Date) {
        let outcome = exceptions.apply(&mut self.guardrails, today);
        let unreadable_accounts = self.totals.unreadable_accounts;
        self.totals = Totals::of_scan(&self.guardrails, &self.regions);
        self.totals.unreadable_accounts = unreadable_accounts;
        self.totals.complete &= unreadable_accounts == 0;
        self.exceptions = Some(outcome);
    }

    /// The account scanned: the caller's, else (a scan saved without a caller) its guardrails'.
    pub fn account(&self) -> Option<&str> {
        self.caller
            .as_ref()
            .map(|c| c.account.as_str())
            .or_else(|| self.guardrails.first().map(|g| &*g.account))
    }

    /// What the scan could not see, each once: an account not reached at all (its region is
    /// None), then each region not read, in its own account (a scan of many accounts) or the
    /// caller's. The machine formats give each a finding of its own, so that a pipeline that
    /// reads only findings cannot take the unseen for clean.
    pub fn unseen(&self) -> Vec<Unseen<'_>> {
        let caller = self.account().unwrap_or_default();
        let accounts = self.accounts.iter().filter_map(|a| {
            Some(Unseen {
                account: &a.id,
                account_name: Some(a.name.as_str()),
                region: None,
                error: a.unreadable()?,
            })
        });
        let regions = self.regions.iter().filter_map(|r| {
            let account = if r.account.is_empty() { caller } else { &r.account };
            Some(Unseen {
                account,
                account_name: self.account_name(account),
                region: Some(r.region.as_str()),
                error: r.unreadable()?,
            })
        });
        accounts.chain(regions).collect()
    }

    /// The partition scanned: the caller's, "aws" where the scan does not say.
    pub fn partition(&self) -> &str {
        self.caller.as_ref().map_or("aws", |c| c.partition())
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a report serializes");
        s.push('\n');
        s
    }

    /// Reads a saved scan, refusing anything that is not one in a clear sentence.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{} is not a usable guardkey scan: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            if e.is_eof() {
                "the file ends early (truncated?)".to_string()
            } else {
                format!("not JSON ({e})")
            }
        })?;
        match value.get("schema").and_then(|s| s.as_str()) {
            Some(SCHEMA) => {}
            Some(other) => {
                return Err(format!("it has schema {other}, this guardkey reads {SCHEMA}"));
            }
            None => {
                return Err(format!(
                    "it has no \"schema\": \"{SCHEMA}\" field; save scans with `guardkey scan --save FILE`"
                ));
            }
        }
        let mut report: ScanReport =
            serde_json::from_value(value).map_err(|e| format!("it does not match {SCHEMA}: {e}"))?;
        report.totals = Totals::of_scan(&report.guardrails, &report.regions);
        Ok(report)
    }

    pub fn save(&self, path: &Path) -> Result<(), String> {
        write_atomically(path, |w| {
            serde_json::to_writer_pretty(&mut *w, self)?;
            w.write_all(b"\n")
        })
    }
}

/// A guardrail's result as the human formats say it: a muted one with its own mark, never
/// colour alone.
pub fn result_label(g: &Guardrail) -> String {
    if g.is_muted() {
        format!("◦ MUTED {}", g.posture.level.as_str())
    } else {
        format!("{} {}", g.posture.level.symbol(), g.posture.level.as_str())
    }
}

/// The accepted risks that muted guardrails of the report, each with its guardrails,
/// soonest expiry first.
pub fn accepted_risks(report: &ScanReport) -> Vec<(&crate::model::exceptions::Exception, Vec<&Guardrail>)> {
    let mut out: Vec<(&crate::model::exceptions::Exception, Vec<&Guardrail>)> = Vec::new();
    for g in &report.guardrails {
        let Some(e) = g.exception.as_deref() else { continue };
        match out.iter_mut().find(|(x, _)| *x == e) {
            Some((_, list)) => list.push(g),
            None => out.push((e, vec![g])),
        }
    }
    out.sort_by(|a, b| a.0.expires.cmp(&b.0.expires).then(a.0.line.cmp(&b.0.line)));
    out
}

pub use crate::model::plural;

/// Refuses output files that exist already (unless `force`) and a path given twice, before
/// any work: an earlier report or script is never lost to a rerun.
pub fn check_new_files(outputs: &[(&str, Option<&Path>)], force: bool) -> Result<(), String> {
    let outputs: Vec<(&str, &Path)> = outputs
        .iter()
        .filter_map(|(flag, p)| Some((*flag, (*p)?)))
        .collect();
    for (i, (flag, path)) in outputs.iter().enumerate() {
        if let Some((other, _)) = outputs[..i].iter().find(|(_, p)| same_file(p, path)) {
            return Err(format!(
                "{other} and {flag} name the same file {}: one would overwrite the other",
                path.display()
            ));
        }
        // A device or a pipe (/dev/null, /dev/stdout, a FIFO) is a destination, not a file to lose.
        if !force && path.is_file() {
            return Err(format!(
                "{flag} {} exists already: choose another name, or pass --force to overwrite it",
                path.display()
            ));
        }
    }
    Ok(())
}

fn same_file(a: &Path, b: &Path) -> bool {
    let canonical = |p: &Path| {
        let dir = p
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::canonicalize(dir)
            .ok()
            .map(|d| d.join(p.file_name().unwrap_or_default()))
    };
    a == b || matches!((canonical(a), canonical(b)), (Some(x), Some(y)) if x == y)
}

/// Writes to `path` through a temporary file in the same directory, renamed into place
/// when complete: a failure never leaves half a report behind.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<(), String> {
    use std::io::Write;
    let fail = |e: &dyn std::fmt::Display| format!("cannot write {}: {e}", path.display());
    // A device or a pipe is written to as it is: there is nothing to replace atomically.
    if path.exists() && !path.is_file() {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| fail(&e))?;
        let mut w = std::io::BufWriter::new(file);
        return write(&mut w).and_then(|()| w.flush()).map_err(|e| fail(&e));
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .prefix(".guardkey-")
        .tempfile_in(dir)
        .map_err(|e| fail(&e))?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file());
        write(&mut w).and_then(|()| w.flush()).map_err(|e| fail(&e))?;
    }
    // Overwriting (--force) keeps the file's permissions, as an editor would.
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(tmp.path(), meta.permissions());
    }
    tmp.persist(path).map_err(|e| fail(&e.error))?;
    Ok(())
}

/// One row per guardrail.
pub fn to_csv(report: &ScanReport) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "region",
        "account",
        "id",
        "name",
        "arn",
        "status",
        "level",
        "posture",
        "reason",
        "kms_key_arn",
        "key_alias",
        "key_state",
        "key_manager",
        "key_rotation",
        "hint",
        // Last, so that scripts reading the columns before keep working.
        "account_name",
        // With --usage (empty without): who uses it, and how many cannot decrypt now.
        "used_by",
        "users_locked_out",
        // With --exceptions (empty without): the accepted risk that mutes it.
        "exception",
    ];
    w.write_record(header).expect("in-memory write");
    for g in &report.guardrails {
        let key = g.key_info();
        let rotation = key.map(|k| match &k.rotation {
            crate::model::Rotation::Enabled { period_days: Some(d) } => format!("enabled ({d} days)"),
            crate::model::Rotation::Enabled { period_days: None } => "enabled".into(),
            crate::model::Rotation::Disabled => "disabled".into(),
            crate::model::Rotation::Unknown { error } => format!("unknown ({})", error.label()),
        });
        w.write_record([
            &*g.region,
            &g.account,
            &g.id,
            &g.name,
            &g.arn,
            &g.status,
            g.posture.level.as_str(),
            g.posture.id.as_str(),
            &g.posture.reason,
            g.kms_key_arn.as_deref().unwrap_or(""),
            key.and_then(|k| k.aliases.first()).map_or("", String::as_str),
            key.map_or("", |k| k.state.as_str()),
            key.map_or("", |k| k.manager.as_str()),
            rotation.as_deref().unwrap_or(""),
            &g.posture.hint,
            report.account_name(&g.account).unwrap_or(""),
            &g.usage
                .as_ref()
                .map(|u| u.describe().join("; "))
                .unwrap_or_default(),
            &g.usage
                .as_ref()
                .map(|u| u.locked_out().to_string())
                .unwrap_or_default(),
            &g.exception.as_ref().map(|e| e.describe()).unwrap_or_default(),
        ])
        .expect("in-memory write");
    }
    String::from_utf8(w.into_inner().expect("in-memory flush")).expect("CSV of UTF-8 fields is UTF-8")
}

#[cfg(test)]
pub(crate) mod fixtures {
    use crate::model::{CallError, Guardrail, KeyInfo, KeyLookup, Rotation, assess};
    use crate::scan::{RegionOutcome, ScanResult};

    use super::ScanReport;

    pub fn guardrail(region: &str, name: &str, key: Option<KeyInfo>) -> Guardrail {
        let id = format!("{name}id").replace('-', "");
        let arn = format!("arn:aws:bedrock:{region}:123456789012:guardrail/{id}");
        let kms_key_arn = key.as_ref().map(|k| k.arn.clone());
        let lookup = key.map(|k| KeyLookup::Found(std::sync::Arc::new(k)));
        let posture = assess(
            "123456789012",
            region,
            None,
            kms_key_arn.as_deref(),
            lookup.as_ref(),
        );
        Guardrail {
            region: region.into(),
            account: "123456789012".into(),
            id,
            arn,
            name: name.into(),
            description: None,
            status: "READY".into(),
            created_at: Some("2026-01-02T03:04:05Z".into()),
            updated_at: Some("2026-02-03T04:05:06Z".into()),
            kms_key_arn,
            key: lookup,
            read_error: None,
            versions: None,
            posture,
            usage: None,
            exception: None,
        }
    }

    pub fn key(region: &str, state: &str, rotation: Rotation) -> KeyInfo {
        KeyInfo {
            arn: format!("arn:aws:kms:{region}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
            key_id: "1234abcd-12ab-34cd-56ef-1234567890ab".into(),
            account: "123456789012".into(),
            region: region.into(),
            aliases: vec!["alias/bedrock-guardrails".into()],
            manager: "CUSTOMER".into(),
            state: state.into(),
            spec: "SYMMETRIC_DEFAULT".into(),
            usage: "ENCRYPT_DECRYPT".into(),
            multi_region: false,
            multi_region_key: None,
            created_at: Some("2025-01-01T00:00:00Z".into()),
            deletion_date: None,
            rotation,
            description: None,
            aliases_error: None,
        }
    }

    /// A small report with each level, a failed region and a denied read.
    pub fn report() -> ScanReport {
        let on = Rotation::Enabled {
            period_days: Some(365),
        };
        let mut denied = guardrail("eu-west-1", "denied-bot", None);
        denied.read_error = Some(Box::new(CallError::AccessDenied {
            action: Some("kms:Decrypt".into()),
            message: "denied".into(),
        }));
        denied.posture = assess(
            "123456789012",
            "eu-west-1",
            denied.read_error.as_deref(),
            None,
            None,
        );
        let result = ScanResult {
            regions: vec![
                RegionOutcome {
                    account: String::new(),
                    region: "us-east-1".into(),
                    guardrails: 2,
                    elapsed_ms: 120,
                    error: None,
                },
                RegionOutcome {
                    account: String::new(),
                    region: "eu-west-1".into(),
                    guardrails: 2,
                    elapsed_ms: 340,
                    error: None,
                },
                RegionOutcome {
                    account: String::new(),
                    region: "me-central-1".into(),
                    guardrails: 0,
                    elapsed_ms: 15,
                    error: Some(CallError::NotEnabled),
                },
                RegionOutcome {
                    account: String::new(),
                    region: "ap-south-1".into(),
                    guardrails: 0,
                    elapsed_ms: 22,
                    error: Some(CallError::AccessDenied {
                        action: Some("bedrock:ListGuardrails".into()),
                        message: "User: arn:aws:iam::123456789012:user/audit is not authorized to perform: bedrock:ListGuardrails".into(),
                    }),
                },
            ],
            guardrails: vec![
                guardrail("us-east-1", "support-bot", None),
                guardrail(
                    "us-east-1",
                    "claims-bot",
                    Some(key("us-east-1", "Enabled", on.clone())),
                ),
                guardrail(
                    "eu-west-1",
                    "legacy-bot",
                    Some(key("eu-west-1", "Enabled", Rotation::Disabled)),
                ),
                denied,
            ],
            elapsed_ms: 400,
        };
        let mut r = ScanReport::new(result, None, None);
        r.generated_at = "2026-11-30T12:00:00Z".into();
        r.guardkey_version = "0.0.0-test".into();
        r
    }

    /// An organization: the report's account as its management account, a member (prod)
    /// whose us-east-1 holds `prod-bot` (or failed with `member_error`), and an account whose
    /// role could not be assumed.
    pub fn organization(member_error: Option<crate::model::CallError>) -> ScanReport {
        use crate::model::CallError;
        use crate::scan::accounts::{AccountOutcome, Reach};
        let mut report = report();
        let mut prod = guardrail("us-east-1", "prod-bot", None);
        prod.account = "111122223333".into();
        prod.arn = "arn:aws:bedrock:us-east-1:111122223333:guardrail/prodbotid".into();
        let mut region = report.regions[0].clone();
        region.account = "111122223333".into();
        if member_error.is_none() {
            report.guardrails.push(prod);
        }
        region.error = member_error;
        for r in &mut report.regions {
            r.account = "123456789012".into();
        }
        report.regions.push(region);
        let outcome = |id: &str, name: &str, error: Option<CallError>| AccountOutcome {
            id: id.into(),
            name: name.into(),
            reach: Reach::Role {
                arn: format!("arn:aws:iam::{id}:role/OrganizationAccountAccessRole"),
            },
            guardrails: 0,
            elapsed_ms: 10,
            error,
            suspended: false,
        };
        let denied = CallError::AccessDenied {
            action: Some("sts:AssumeRole".into()),
            message: "User: x is not authorized to perform: sts:AssumeRole".into(),
        };
        report.with_accounts(vec![
            outcome("123456789012", "management", None),
            outcome("111122223333", "prod", None),
            outcome("246813579135", "acquired", Some(denied)),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CallError;

    #[test]
    fn what_an_organization_scan_could_not_see_is_a_finding_in_every_machine_format() {
        let report = fixtures::organization(Some(CallError::Timeout));
        let unseen = report.unseen();
        let said: Vec<String> = unseen.iter().map(|u| u.what()).collect();
        assert_eq!(
            said,
            [
                "Account acquired (246813579135)",
                "Region ap-south-1 of account management (123456789012)",
                "Region us-east-1 of account prod (111122223333)",
            ]
        );
        // SARIF: a notification each, in its own account.
        let sarif: serde_json::Value = serde_json::from_str(&to_sarif(&report)).unwrap();
        let notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
            .as_array()
            .unwrap();
        let accounts: Vec<&str> = notes
            .iter()
            .map(|n| n["properties"]["account"].as_str().unwrap())
            .collect();
        assert_eq!(accounts, ["246813579135", "123456789012", "111122223333"]);
        assert_eq!(notes[0]["descriptor"]["id"], "account-unreadable");
        // OCSF: a finding each, the member's region in the member's account.
        let ocsf: serde_json::Value = serde_json::from_str(&to_ocsf(&report)).unwrap();
        let unread: Vec<(&str, &str)> = ocsf
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| {
                f["status_code"] == "MANUAL" && f["resources"][0]["uid"].as_str().unwrap().ends_with("/*")
            })
            .map(|f| {
                (
                    f["cloud"]["account"]["uid"].as_str().unwrap(),
                    f["finding_info"]["uid"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            unread,
            [
                (
                    "246813579135",
                    "guardkey-account-unreadable-246813579135-all-regions"
                ),
                (
                    "123456789012",
                    "guardkey-region-unreadable-123456789012-ap-south-1"
                ),
                (
                    "111122223333",
                    "guardkey-region-unreadable-111122223333-us-east-1"
                ),
            ]
        );
        // ASFF: the same, each in its own account, the account's in the scan's first region.
        let asff: serde_json::Value = serde_json::from_str(&to_asff(&report)).unwrap();
        let ids: Vec<(&str, &str)> = asff
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["Resources"][0]["Type"] == "AwsAccount")
            .map(|f| (f["AwsAccountId"].as_str().unwrap(), f["Id"].as_str().unwrap()))
            .collect();
        assert_eq!(
            ids,
            [
                (
                    "246813579135",
                    "guardkey/account-unreadable/246813579135/all-regions"
                ),
                (
                    "123456789012",
                    "guardkey/region-unreadable/123456789012/ap-south-1"
                ),
                (
                    "111122223333",
                    "guardkey/region-unreadable/111122223333/us-east-1"
                ),
            ]
        );
        let account = asff
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["Id"].as_str().unwrap().contains("account-unreadable"))
            .unwrap();
        assert_eq!(account["AwsAccountName"], "acquired");
        assert!(
            account["ProductArn"]
                .as_str()
                .unwrap()
                .contains(":us-east-1:246813579135:"),
            "{account}"
        );
    }

    #[test]
    fn json_round_trips_and_foreign_files_are_refused() {
        let report = fixtures::report();
        let text = report.to_json();
        assert_eq!(ScanReport::parse(&text).unwrap(), report);
        let truncated = &text[..text.len() / 2];
        assert!(ScanReport::parse(truncated).unwrap_err().contains("truncated"));
        assert!(
            ScanReport::parse("{\"hello\": 1}")
                .unwrap_err()
                .contains("no \"schema\"")
        );
        assert!(
            ScanReport::parse("{\"schema\": \"guardkey.scan/v9\"}")
                .unwrap_err()
                .contains("v9")
        );
        assert!(ScanReport::parse("[1,2]").is_err());
    }

    #[test]
    fn csv_has_a_row_per_guardrail() {
        let csv = to_csv(&fixtures::report());
        insta::assert_snapshot!(csv);
    }

    #[test]
    fn an_unreadable_region_or_guardrail_is_said_in_every_format() {
        let report = fixtures::report();
        let t = report.totals;
        assert_eq!(
            (t.unreadable_regions, t.not_enabled_regions, t.complete),
            (1, 1, false)
        );
        let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(json["totals"]["complete"], false);
        assert_eq!(json["totals"]["unreadable_regions"], 1);
        let table = to_table(&report);
        assert!(
            table
                .lines()
                .nth(1)
                .unwrap()
                .starts_with("INCOMPLETE: 1 region and the posture of 1 guardrail"),
            "{table}"
        );
        let sarif: serde_json::Value = serde_json::from_str(&to_sarif(&report)).unwrap();
        let invocation = &sarif["runs"][0]["invocations"][0];
        assert_eq!(invocation["executionSuccessful"], false);
        let notes = invocation["toolExecutionNotifications"].as_array().unwrap();
        assert_eq!(
            notes.len(),
            1,
            "the denied region, not the one that is not enabled"
        );
        assert!(
            notes[0]["message"]["text"]
                .as_str()
                .unwrap()
                .contains("ap-south-1")
        );
        let ocsf: serde_json::Value = serde_json::from_str(&to_ocsf(&report)).unwrap();
        let region_findings: Vec<_> = ocsf
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["metadata"]["event_code"] == "region-unreadable")
            .collect();
        assert_eq!(region_findings.len(), 1);
        assert_eq!(region_findings[0]["cloud"]["region"], "ap-south-1");
        let md = to_markdown(&report, "");
        assert!(md.contains("| ap-south-1 | ? |"), "{md}");
        assert!(md.contains("INCOMPLETE"), "{md}");

        // Seen whole (a region that is not enabled holds nothing): complete, and SARIF says so.
        let mut whole = report.clone();
        whole.regions.retain(|r| r.region != "ap-south-1");
        whole.guardrails.retain(|g| g.posture.level != Level::Unknown);
        whole.totals = Totals::of_scan(&whole.guardrails, &whole.regions);
        assert!(whole.totals.complete);
        assert!(whole.totals.incompleteness().is_none());
        let sarif: serde_json::Value = serde_json::from_str(&to_sarif(&whole)).unwrap();
        assert_eq!(sarif["runs"][0]["invocations"][0]["executionSuccessful"], true);
        assert!(!to_table(&whole).contains("INCOMPLETE"));
    }

    #[test]
    fn no_failed_verdict_input_passes_in_sarif_or_ocsf() {
        use crate::model::{CallError, Rotation};
        let errors = [
            CallError::AccessDenied {
                action: Some("kms:GetKeyRotationStatus".into()),
                message: String::new(),
            },
            CallError::Throttled,
            CallError::Timeout,
            CallError::Network {
                message: "reset".into(),
            },
            CallError::Other {
                code: "InternalServerException".into(),
                message: String::new(),
            },
        ];
        let mut report = fixtures::report();
        report.guardrails = errors
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let key = fixtures::key("us-east-1", "Enabled", Rotation::Unknown { error: e.clone() });
                fixtures::guardrail("us-east-1", &format!("g{i}"), Some(key))
            })
            .collect();
        report.totals = Totals::of_scan(&report.guardrails, &report.regions);
        assert_eq!(report.totals.unknown, errors.len());
        let sarif: serde_json::Value = serde_json::from_str(&to_sarif(&report)).unwrap();
        let results = sarif["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), errors.len(), "every one is a result");
        assert!(
            results
                .iter()
                .all(|r| r["level"] == "note" && r["ruleId"] != "customer-managed-key")
        );
        let ocsf: serde_json::Value = serde_json::from_str(&to_ocsf(&report)).unwrap();
        let statuses: Vec<&str> = ocsf
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["status_code"].as_str())
            .collect();
        assert!(!statuses.contains(&"PASS"), "{statuses:?}");
    }

    #[test]
    fn devices_are_destinations_and_files_are_never_lost() {
        let null = Path::new("/dev/null");
        assert!(check_new_files(&[("--output", Some(null))], false).is_ok());
        write_atomically(null, |w| w.write_all(b"x")).unwrap();
        assert!(null.exists() && !null.is_file(), "/dev/null is still the device");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("scan.json");
        std::fs::write(&file, "keep").unwrap();
        assert!(
            check_new_files(&[("--output", Some(file.as_path())), ("--save", None)], false)
                .unwrap_err()
                .contains("exists already")
        );
    }

    #[test]
    fn json_report_golden() {
        insta::assert_snapshot!(fixtures::report().to_json());
    }
}

#[cfg(test)]
mod schema_tests {
    use super::*;

    /// The published SARIF 2.1.0 schema has one malformed regex (run.language, an unbalanced
    /// `]`) that the validator refuses to compile; it is replaced by its evident intent.
    fn schema(text: &str) -> serde_json::Value {
        let fixed = text.replace(
            r#"^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$"#,
            r#"^[a-zA-Z]{2}(-[a-zA-Z]{2})?$"#,
        );
        serde_json::from_str(&fixed).expect("schema is JSON")
    }

    fn assert_valid(schema_text: &str, document: &serde_json::Value, what: &str) {
        let schema = schema(schema_text);
        let validator = jsonschema::validator_for(&schema).expect("schema compiles");
        let errors: Vec<String> = validator
            .iter_errors(document)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{what} does not follow its schema:\n{}",
            errors.join("\n")
        );
    }

    #[test]
    fn sarif_follows_the_published_sarif_2_1_0_schema() {
        let sarif: serde_json::Value = serde_json::from_str(&to_sarif(&fixtures::report())).unwrap();
        assert_valid(
            include_str!("../../tests/schemas/sarif-schema-2.1.0.json"),
            &sarif,
            "SARIF",
        );
        // And the schema is not a rubber stamp: a result without a message is refused.
        let mut broken = sarif.clone();
        broken["runs"][0]["results"][0]
            .as_object_mut()
            .unwrap()
            .remove("message");
        let schema = schema(include_str!("../../tests/schemas/sarif-schema-2.1.0.json"));
        assert!(!jsonschema::validator_for(&schema).unwrap().is_valid(&broken));
    }

    /// The fixture's report with its us-east-1 FAIL muted by an accepted risk.
    fn muted_report() -> ScanReport {
        let mut report = fixtures::report();
        let today = time::macros::date!(2026 - 12 - 04);
        let exceptions = crate::model::exceptions::Exceptions::parse(
            "[[exception]]\nname = \"support-*\"\nreason = \"Retired next quarter\"\nowner = \"secops@example.com\"\nexpires = 2027-01-31\nticket = \"RISK-1\"\n",
            "risks.toml",
            today,
        )
        .unwrap();
        report.apply_exceptions(&exceptions, today);
        assert_eq!(report.totals.muted, 1);
        report
    }

    #[test]
    fn muted_findings_follow_the_sarif_and_ocsf_schemas() {
        let report = muted_report();
        let sarif: serde_json::Value = serde_json::from_str(&to_sarif(&report)).unwrap();
        assert_valid(
            include_str!("../../tests/schemas/sarif-schema-2.1.0.json"),
            &sarif,
            "SARIF",
        );
        let suppressed: Vec<&serde_json::Value> = sarif["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r.get("suppressions").is_some())
            .collect();
        assert_eq!(suppressed.len(), 1);
        assert_eq!(suppressed[0]["suppressions"][0]["status"], "accepted");
        let findings: serde_json::Value = serde_json::from_str(&to_ocsf(&report)).unwrap();
        for f in findings.as_array().unwrap() {
            assert_valid(
                include_str!("../../tests/schemas/ocsf-detection-finding.schema.json"),
                f,
                "OCSF finding",
            );
        }
        assert_eq!(
            findings
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["status_id"] == 3)
                .count(),
            1
        );
    }

    #[test]
    fn ocsf_follows_the_detection_finding_schema() {
        let findings: serde_json::Value = serde_json::from_str(&to_ocsf(&fixtures::report())).unwrap();
        let list = findings.as_array().expect("a JSON array of findings");
        assert_eq!(list.len(), 5, "four guardrails and the unreadable region");
        for f in list {
            assert_valid(
                include_str!("../../tests/schemas/ocsf-detection-finding.schema.json"),
                f,
                "OCSF finding",
            );
            assert_eq!(f["class_uid"], 2004);
        }
        let mut broken = list[0].clone();
        broken.as_object_mut().unwrap().remove("finding_info");
        let schema = schema(include_str!(
            "../../tests/schemas/ocsf-detection-finding.schema.json"
        ));
        assert!(!jsonschema::validator_for(&schema).unwrap().is_valid(&broken));
    }
}
