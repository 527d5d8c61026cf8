//! Everything the explorer shows, in one place. Changed only by `update`.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use crate::model::filter::{self, Filter};
use crate::model::{CallError, Guardrail, Level, PostureId, Rotation, VersionInfo};
use crate::report::Totals;
use crate::report::diff::{ChangeKind, classify};
use crate::scan::accounts::{AccountOutcome, Reach};

/// A saved scan the rows are compared with (`--baseline`), by guardrail ARN.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// Where it was read from, as the user gave it.
    pub from: String,
    pub generated_at: String,
    before: HashMap<String, (Level, PostureId)>,
    /// Its guardrails in the regions this explorer covers: those not seen are gone.
    in_scope: usize,
    /// Rows that are in the baseline (kept as rows come and go).
    seen: usize,
}

impl Baseline {
    /// A row's change since the baseline; counts it as seen there.
    fn change_of(&mut self, g: &Guardrail) -> ChangeKind {
        let before = self.before.get(&g.arn).copied();
        self.seen += usize::from(before.is_some());
        classify(before, (g.posture.level, g.posture.id))
    }
}

/// What changed since the baseline, for the table's title.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChangeCounts {
    pub fixed: usize,
    pub regressed: usize,
    pub changed: usize,
    pub new: usize,
    /// None while a scan runs: a guardrail not seen yet may still come.
    pub gone: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegionStatus {
    Pending,
    Loading { pages: u32, listed: usize, read: usize },
    Done { guardrails: usize, elapsed_ms: u64 },
    Failed { error: CallError, guardrails: usize },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionEntry {
    pub name: String,
    pub status: RegionStatus,
}

/// The table's columns, in order; their number is their sort key (1–9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Status,
    Name,
    Region,
    Id,
    State,
    Key,
    KeyState,
    Rotation,
    Updated,
    /// Who uses the guardrail (`--usage`, or read by the live explorer): a count, `!` when
    /// one cannot decrypt with its key, `?` when a source could not be read.
    Users,
}

impl Column {
    pub const ALL: [Column; 10] = [
        Column::Status,
        Column::Name,
        Column::Region,
        Column::Id,
        Column::State,
        Column::Key,
        Column::KeyState,
        Column::Rotation,
        Column::Updated,
        Column::Users,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Column::Status => "STATUS",
            Column::Name => "NAME",
            Column::Region => "REGION",
            Column::Id => "ID",
            Column::State => "STATE",
            Column::Key => "KEY",
            Column::KeyState => "KEY STATE",
            Column::Rotation => "ROTATION",
            Column::Updated => "UPDATED",
            Column::Users => "USERS",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Table,
    Summary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    Closed,
    Split,
    Full,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlay {
    None,
    Help,
    Errors,
    Export,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loadable<T> {
    Loading,
    Ready(T),
    Failed(CallError),
}

/// Who and where, for the header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    pub account: Option<String>,
    pub caller_arn: Option<String>,
    pub profile: Option<String>,
    /// Shown when calls do not go to AWS.
    pub endpoint: Option<String>,
    pub read_only: bool,
    /// Set when the rows come from a saved scan.
    pub loaded_from: Option<String>,
    /// How a new key's policy names the caller, as IAM said (None: not asked, read-only).
    pub caller_principal: Option<crate::fix::policy::CallerPrincipal>,
    /// A view of many accounts (`--org`, `--profiles`, `--role-arns`); None for one account.
    pub organization: Option<Organization>,
}

/// The accounts a view of many accounts covers (how each went is in the region strip).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Organization {
    pub accounts: usize,
    /// Suspended in the organization: listed, never scanned.
    pub suspended: usize,
}

/// Who the caller is in an account of a view of many accounts, for the wizard's key policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountCaller {
    pub caller_arn: String,
    /// How a new key's policy names it, as IAM said.
    pub principal: Option<crate::fix::policy::CallerPrincipal>,
    /// Why who the caller is there could not be asked (then the wizard does not open there).
    pub problem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub text: String,
    pub error: bool,
    /// The tick after which it disappears.
    pub until: u64,
}

#[derive(Debug, Clone)]
pub struct State {
    pub header: Header,
    pub regions: Vec<RegionEntry>,
    pub rows: Vec<Guardrail>,
    /// Each row's free-text search string (see `filter::search_text`).
    search: Vec<Box<str>>,
    /// Account names by id, for a scan of many accounts (empty for one).
    pub account_names: HashMap<String, String>,
    /// How each account went, by name (a view of many accounts): reached how, or why not.
    pub accounts: std::collections::BTreeMap<String, crate::scan::accounts::AccountOutcome>,
    /// Who the caller is in each account reached, by id (a live view of many accounts).
    pub account_callers: HashMap<String, AccountCaller>,
    /// The scan the rows are compared with, and each row's change since (parallel to rows).
    pub baseline: Option<Baseline>,
    /// The accepted risks (`--exceptions`) the rows are muted by, and the file a new one
    /// is written to (`x`).
    pub exceptions: crate::model::exceptions::Exceptions,
    pub exceptions_file: Option<std::path::PathBuf>,
    /// The day exceptions are judged on (UTC), set when the explorer starts.
    pub today: time::Date,
    changes: Vec<ChangeKind>,
    pub totals: Totals,
    pub generation: u64,
    /// Scans running (a refresh, a region retried).
    pub active_scans: usize,
    pub filter_input: String,
    pub filter: Filter,
    pub editing_filter: bool,
    /// The `:` command being typed, if any.
    pub command: Option<String>,
    pub sort: Column,
    pub descending: bool,
    /// Every row in sort order (indices into `rows`), but those still `pending`.
    order: Vec<usize>,
    /// The sort changed (or rows were removed): `order` is sorted again from scratch.
    order_stale: bool,
    /// Rows added (or whose sort key changed) since the last `prepare`: merged into `order`
    /// and `visible` there, so that a batch costs its own sort and one linear merge, never a
    /// sort of every row.
    pending: Vec<usize>,
    /// Each row's index by ARN: the followed guardrail and arriving usage are found without
    /// a scan of every row.
    by_arn: HashMap<String, usize>,
    /// The rows of each account's region, by (account, region).
    by_entry: HashMap<(std::sync::Arc<str>, std::sync::Arc<str>), Vec<usize>>,
    /// The rows shown: `order` filtered.
    pub visible: Vec<usize>,
    /// The filter changed: `visible` is filtered again from `order`.
    visible_stale: bool,
    /// Index into `visible`.
    pub selected: usize,
    /// First row of `visible` in the viewport.
    pub offset: usize,
    /// Marked guardrails, by ARN (they stay marked across refreshes).
    pub marks: HashSet<String>,
    pub screen: Screen,
    pub detail: Detail,
    pub detail_scroll: u16,
    pub overlay: Overlay,
    pub help_scroll: u16,
    pub error_selected: usize,
    pub versions: HashMap<String, Loadable<Vec<VersionInfo>>>,
    pub policies: HashMap<String, Loadable<String>>,
    /// Guardrails' tags, read when the detail pane opens (a CloudFormation stack's tags).
    pub tags: HashMap<String, Loadable<std::collections::BTreeMap<String, String>>>,
    pub toast: Option<Toast>,
    pub width: u16,
    pub height: u16,
    pub tick: u64,
    pub color: bool,
    /// The guardrail the user put the cursor on (by ARN): it stays selected across
    /// streaming inserts, sorts, filters and refreshes. None: the cursor stays on the first
    /// row, as the list fills.
    pub follow: Option<String>,
    /// Regions retried from the E panel, until their new result is in (said when it is).
    pub retrying: Vec<String>,
    pub quit: bool,
    /// Ctrl-C or q during a fix: quit once the fix has stopped between calls.
    pub quit_after_fix: bool,
    /// The process's exit code: 130 when a fix was interrupted by quitting.
    pub exit_code: u8,
    /// Something changed since the last frame.
    pub dirty: bool,
    /// The remediation wizard, while it is open.
    pub wizard: Option<super::wizard::Wizard>,
    /// The accept-a-risk form (`x`), while open.
    pub accept: Option<super::accept::AcceptForm>,
    /// Some row knows who uses it: the USERS column is shown.
    pub has_usage: bool,
}

fn rotation_rank(g: &Guardrail) -> i32 {
    match g.key_info().map(|k| &k.rotation) {
        None => -2,
        Some(Rotation::Disabled) => -1,
        Some(Rotation::Unknown { .. }) => 0,
        Some(Rotation::Enabled { period_days }) => period_days.unwrap_or(365),
    }
}

/// Locked-out users first (descending puts them on top), then unknown, then by count.
fn users_rank(g: &Guardrail) -> (u8, usize) {
    match &g.usage {
        None => (0, 0),
        Some(u) => (
            if u.locked_out() > 0 {
                3
            } else if u.unknown.is_empty() {
                1
            } else {
                2
            },
            u.named_users().count(),
        ),
    }
}

fn level_rank(l: Level) -> u8 {
    match l {
        Level::Fail => 0,
        Level::Unknown => 1,
        Level::Warn => 2,
        Level::Pass => 3,
    }
}

pub fn compare(a: &Guardrail, b: &Guardrail, column: Column) -> Ordering {
    let primary = match column {
        Column::Status => level_rank(a.posture.level).cmp(&level_rank(b.posture.level)),
        Column::Name => a.name.cmp(&b.name),
        Column::Region => a.region.cmp(&b.region),
        Column::Id => a.id.cmp(&b.id),
        Column::State => a.status.cmp(&b.status),
        Column::Key => a.key_label().cmp(&b.key_label()),
        Column::KeyState => a
            .key_info()
            .map(|k| k.state.as_str())
            .cmp(&b.key_info().map(|k| k.state.as_str())),
        Column::Rotation => rotation_rank(a).cmp(&rotation_rank(b)),
        Column::Updated => a.updated_at.cmp(&b.updated_at),
        Column::Users => users_rank(a).cmp(&users_rank(b)),
    };
    primary
        .then_with(|| a.name.cmp(&b.name))
        .then_with(|| a.arn.cmp(&b.arn))
}

impl State {
    pub fn new(header: Header, regions: &[String], color: bool) -> Self {
        State {
            header,
            regions: regions
                .iter()
                .map(|r| RegionEntry {
                    name: r.clone(),
                    status: RegionStatus::Pending,
                })
                .collect(),
            rows: Vec::new(),
            search: Vec::new(),
            account_names: HashMap::new(),
            accounts: Default::default(),
            account_callers: HashMap::new(),
            baseline: None,
            exceptions: Default::default(),
            exceptions_file: None,
            today: time::OffsetDateTime::now_utc().date(),
            changes: Vec::new(),
            totals: Totals::default(),
            generation: 0,
            active_scans: 0,
            filter_input: String::new(),
            filter: Filter::default(),
            editing_filter: false,
            command: None,
            sort: Column::Status,
            descending: false,
            order: Vec::new(),
            order_stale: false,
            pending: Vec::new(),
            by_arn: HashMap::new(),
            by_entry: HashMap::new(),
            visible: Vec::new(),
            visible_stale: false,
            selected: 0,
            offset: 0,
            marks: HashSet::new(),
            screen: Screen::Table,
            detail: Detail::Closed,
            detail_scroll: 0,
            overlay: Overlay::None,
            help_scroll: 0,
            error_selected: 0,
            versions: HashMap::new(),
            policies: HashMap::new(),
            tags: HashMap::new(),
            toast: None,
            width: 120,
            height: 40,
            tick: 0,
            color,
            follow: None,
            retrying: Vec::new(),
            quit: false,
            quit_after_fix: false,
            exit_code: 0,
            dirty: true,
            wizard: None,
            accept: None,
            has_usage: false,
        }
    }

    /// A row's region as the strip and the summary name it: with many accounts,
    /// `account/region`.
    pub fn region_label(&self, g: &Guardrail) -> String {
        match self.account_names.get(&*g.account) {
            Some(name) => format!("{name}/{}", g.region),
            None => g.region.to_string(),
        }
    }

    /// The strip's entry of an account's region: with many accounts, `name/region`.
    pub fn entry_label(&self, account: &str, region: &str) -> String {
        match self.account_names.get(account) {
            Some(name) => format!("{name}/{region}"),
            None => region.to_string(),
        }
    }

    /// Whether a row belongs to the strip's entry `label` (as `region_label`, without
    /// building the label).
    pub fn in_entry(&self, g: &Guardrail, label: &str) -> bool {
        match self.account_names.get(&*g.account) {
            None => *g.region == *label,
            Some(name) => label
                .strip_suffix(&*g.region)
                .and_then(|l| l.strip_suffix('/'))
                .is_some_and(|l| l == name),
        }
    }

    /// "6 accounts (1 unreadable, 1 suspended)": an account is unreadable when none of its
    /// entries could be read (its role could not be assumed, or every region failed).
    pub fn organization_summary(&self) -> Option<String> {
        let org = self.header.organization?;
        let mut accounts: HashMap<&str, bool> = HashMap::new();
        for r in &self.regions {
            let Some((account, _)) = r.name.rsplit_once('/') else {
                continue;
            };
            let hidden =
                matches!(&r.status, RegionStatus::Failed { error, .. } if error.hides_part_of_the_estate());
            *accounts.entry(account).or_insert(true) &= hidden;
        }
        let unreadable = accounts.values().filter(|hidden| **hidden).count();
        let mut notes = Vec::new();
        if unreadable > 0 {
            notes.push(format!("{unreadable} unreadable"));
        }
        if org.suspended > 0 {
            notes.push(format!("{} suspended", org.suspended));
        }
        Some(if notes.is_empty() {
            crate::report::plural(org.accounts, "account")
        } else {
            format!(
                "{} ({})",
                crate::report::plural(org.accounts, "account"),
                notes.join(", ")
            )
        })
    }

    /// How an account was reached, or why it was not ("reached as arn:…").
    pub fn account_how(&self, id: &str) -> Option<String> {
        let o = self.accounts.get(self.account_names.get(id)?)?;
        Some(match &o.error {
            Some(_) if o.suspended => "suspended in the organization: not scanned".to_string(),
            Some(e) => format!("not read: {} ({})", e.label(), o.reach.describe()),
            None => format!("reached {}", o.reach.describe()),
        })
    }

    fn set_account(&mut self, id: &str, name: &str, reach: Reach, error: Option<CallError>) {
        if !id.is_empty() {
            self.account_names.insert(id.to_string(), name.to_string());
        }
        self.accounts.insert(
            name.to_string(),
            AccountOutcome {
                id: id.to_string(),
                name: name.to_string(),
                reach,
                guardrails: 0,
                elapsed_ms: 0,
                error,
                suspended: false,
            },
        );
    }

    /// An account of a view of many accounts was reached: its entries `name/region` are
    /// scanned now (an earlier `name/all regions` failure is replaced).
    pub fn account_reached(&mut self, id: &str, name: &str, reach: Reach, regions: &[String]) {
        let new_id = !self.account_names.contains_key(id);
        self.set_account(id, name, reach, None);
        // A profile's account id is known only now: `account:NAME` may name it.
        if new_id && !self.filter_input.is_empty() {
            self.set_filter(self.filter_input.clone());
        }
        let unreached = format!("{name}/all regions");
        if let Some(i) = self.regions.iter().position(|r| r.name == unreached) {
            self.regions.remove(i);
            if let Some(j) = self.retrying.iter().position(|r| *r == unreached) {
                self.retrying.remove(j);
                self.toast(format!("{name}: reached now, scanning its regions"), false);
            }
        }
        for region in regions {
            let label = format!("{name}/{region}");
            if self.region_mut(&label).is_none() {
                self.regions.push(RegionEntry {
                    name: label,
                    status: RegionStatus::Pending,
                });
            }
        }
        self.dirty = true;
    }

    /// An account of a view of many accounts could not be reached: its entries become one,
    /// `name/all regions`, failed with why (the strip, the E panel and INCOMPLETE say it).
    pub fn account_unreachable(&mut self, id: &str, name: &str, reach: Reach, error: CallError) {
        self.set_account(id, name, reach, Some(error.clone()));
        let prefix = format!("{name}/");
        let first = self.regions.iter().position(|r| r.name.starts_with(&prefix));
        self.regions.retain(|r| !r.name.starts_with(&prefix));
        let unreached = format!("{name}/all regions");
        let entry = RegionEntry {
            name: unreached.clone(),
            status: RegionStatus::Failed { error, guardrails: 0 },
        };
        match first {
            Some(i) => self.regions.insert(i.min(self.regions.len()), entry),
            None => self.regions.push(entry),
        }
        if let Some(j) = self.retrying.iter().position(|r| *r == unreached) {
            self.retrying.remove(j);
            self.toast(format!("{name}: still not reached (E for details)"), true);
        }
        self.dirty = true;
    }

    /// Compares the rows with `report` from now on (`--baseline`).
    pub fn set_baseline(&mut self, report: &crate::report::ScanReport, from: String) {
        let in_scope = report
            .guardrails
            .iter()
            .filter(|g| {
                // With many accounts the strip's entries are `account/region`.
                let label = self.entry_label(&g.account, &g.region);
                self.regions.iter().any(|r| r.name == label)
            })
            .count();
        self.baseline = Some(Baseline {
            from,
            generated_at: report.generated_at.clone(),
            before: report
                .guardrails
                .iter()
                .map(|g| (g.arn.clone(), (g.posture.level, g.posture.id)))
                .collect(),
            in_scope,
            seen: 0,
        });
        self.recompute_changes();
        self.dirty = true;
    }

    fn recompute_changes(&mut self) {
        self.changes.clear();
        let Some(b) = &mut self.baseline else {
            return;
        };
        b.seen = 0;
        for g in &self.rows {
            self.changes.push(b.change_of(g));
        }
    }

    /// The change of `rows[i]` since the baseline; None without one.
    pub fn change_of_row(&self, i: usize) -> Option<ChangeKind> {
        self.baseline.as_ref()?;
        self.changes.get(i).copied()
    }

    /// A guardrail's posture in the baseline.
    pub fn baseline_posture(&self, arn: &str) -> Option<(Level, PostureId)> {
        self.baseline.as_ref()?.before.get(arn).copied()
    }

    pub fn change_counts(&self) -> Option<ChangeCounts> {
        let b = self.baseline.as_ref()?;
        let mut c = ChangeCounts::default();
        for k in &self.changes {
            match k {
                ChangeKind::Fixed => c.fixed += 1,
                ChangeKind::Regressed => c.regressed += 1,
                ChangeKind::Changed => c.changed += 1,
                ChangeKind::New => c.new += 1,
                ChangeKind::Unchanged => {}
            }
        }
        c.gone = (!self.loading()).then(|| b.in_scope.saturating_sub(b.seen));
        Some(c)
    }

    /// What `f` and `x` act on: the marked rows, or else the selected one.
    pub fn marked_or_selected(&self) -> Vec<&Guardrail> {
        if self.marks.is_empty() {
            self.selected_row().into_iter().collect()
        } else {
            self.rows.iter().filter(|g| self.marks.contains(&g.arn)).collect()
        }
    }

    /// The accepted risk that mutes a row, if one does.
    fn exception_of(&self, g: &Guardrail) -> Option<Box<crate::model::exceptions::Exception>> {
        self.exceptions
            .exception_for(g, self.today)
            .map(|(_, e)| Box::new(e.clone()))
    }

    fn mute(&self, g: &mut Guardrail) {
        g.exception = self.exception_of(g);
    }

    /// New accepted risks (the file as `x` wrote it): every row muted again, counted again,
    /// and re-placed in the views where that changed it.
    pub fn set_exceptions(&mut self, exceptions: crate::model::exceptions::Exceptions) {
        self.exceptions = exceptions;
        let mut moved = HashSet::new();
        for i in 0..self.rows.len() {
            let now = self.exception_of(&self.rows[i]);
            if now != self.rows[i].exception {
                self.totals.remove_guardrail(&self.rows[i]);
                self.rows[i].exception = now;
                self.totals.add_guardrail(&self.rows[i]);
                moved.insert(i);
            }
        }
        self.requeue(&moved);
        self.dirty = true;
    }

    /// Rows as they stream in: counted, indexed and queued for `prepare` to merge into the
    /// sorted and filtered views; the cost is the batch's, not the table's.
    pub fn add_rows(&mut self, mut rows: Vec<Guardrail>) {
        for g in &mut rows {
            self.mute(g);
        }
        for g in &rows {
            let i = self.search.len();
            self.has_usage |= g.usage.is_some();
            self.totals.add_guardrail(g);
            self.search.push(filter::search_text(g));
            if let Some(b) = &mut self.baseline {
                self.changes.push(b.change_of(g));
            }
            self.by_arn.insert(g.arn.clone(), i);
            self.by_entry
                .entry((g.account.clone(), g.region.clone()))
                .or_default()
                .push(i);
            self.pending.push(i);
        }
        self.rows.extend(rows);
    }

    /// The rows of the strip's entry `label` (a region, or `account/region`).
    pub fn rows_of_entry(&self, label: &str) -> Vec<&Guardrail> {
        let mut out: Vec<&Guardrail> = Vec::new();
        for ((account, region), rows) in &self.by_entry {
            let matches = match self.account_names.get(&**account) {
                None => **region == *label,
                Some(name) => label
                    .strip_suffix(&**region)
                    .and_then(|l| l.strip_suffix('/'))
                    .is_some_and(|l| l == name),
            };
            if matches {
                out.extend(rows.iter().map(|&i| &self.rows[i]));
            }
        }
        out
    }

    /// Rebuilds the indexes after rows were removed (their indices moved).
    fn reindex(&mut self) {
        self.by_arn = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, g)| (g.arn.clone(), i))
            .collect();
        self.by_entry.clear();
        for (i, g) in self.rows.iter().enumerate() {
            self.by_entry
                .entry((g.account.clone(), g.region.clone()))
                .or_default()
                .push(i);
        }
        self.pending.clear();
        self.order.clear();
        self.order_stale = true;
        self.visible_stale = true;
    }

    /// A view with nothing to ask AWS: a saved scan. What it lacks is said, never "loading…".
    pub fn is_snapshot(&self) -> bool {
        self.header.loaded_from.is_some()
    }

    /// Who uses the guardrails of a region, as read after the region came in. Only those
    /// rows are touched: a posture that changes (a key that locks its users out) moves its
    /// row in the counts and, like a Users sort, in the order.
    pub fn set_usage(&mut self, usage: HashMap<String, crate::usage::Usage>) {
        self.has_usage |= !usage.is_empty();
        let mut moved: HashSet<usize> = HashSet::new();
        for (arn, u) in usage {
            let Some(&i) = self.by_arn.get(&arn) else {
                continue;
            };
            let before = (self.rows[i].posture.level, self.rows[i].posture.id);
            self.totals.remove_guardrail(&self.rows[i]);
            self.rows[i].set_usage(u);
            // A posture that changed may be muted now, or no more.
            self.rows[i].exception = self.exception_of(&self.rows[i]);
            self.totals.add_guardrail(&self.rows[i]);
            let after = (self.rows[i].posture.level, self.rows[i].posture.id);
            if before != after {
                if let Some(b) = &self.baseline
                    && let Some(c) = self.changes.get_mut(i)
                {
                    *c = classify(b.before.get(&arn).copied(), after);
                }
                moved.insert(i);
            } else if self.sort == Column::Users {
                moved.insert(i);
            }
        }
        self.requeue(&moved);
    }

    /// Takes rows whose sort key or filter match may have changed out of the views, to be
    /// merged in again by `prepare`.
    fn requeue(&mut self, rows: &HashSet<usize>) {
        if rows.is_empty() {
            return;
        }
        self.order.retain(|i| !rows.contains(i));
        self.visible.retain(|i| !rows.contains(i));
        self.pending.retain(|i| !rows.contains(i));
        self.pending.extend(rows.iter().copied());
    }

    /// Drops the rows of the strip's entry `label` (a region, or `account/region`).
    pub fn remove_rows_of(&mut self, label: &str) {
        let rows = std::mem::take(&mut self.rows);
        self.rows = rows.into_iter().filter(|g| !self.in_entry(g, label)).collect();
        self.search = self.rows.iter().map(filter::search_text).collect();
        self.recompute_changes();
        self.totals = Totals::of(&self.rows);
        self.selected = 0;
        self.offset = 0;
        self.reindex();
    }

    pub fn clear_rows(&mut self) {
        self.rows.clear();
        self.search.clear();
        self.recompute_changes();
        self.totals = Totals::default();
        self.selected = 0;
        self.offset = 0;
        self.reindex();
    }

    pub fn set_sort(&mut self, column: Column, descending: bool) {
        self.sort = column;
        self.descending = descending;
        self.order_stale = true;
        self.visible_stale = true;
    }

    /// The account names `account:` takes: with many accounts, id → name.
    pub fn filter_names(&self) -> Option<&HashMap<String, String>> {
        (!self.account_names.is_empty()).then_some(&self.account_names)
    }

    pub fn set_filter(&mut self, input: String) {
        self.filter = match self.filter_names() {
            Some(names) => Filter::parse(&input).with_account_names(names),
            None => Filter::parse(&input),
        };
        self.filter_input = input;
        self.visible_stale = true;
    }

    pub fn is_prepared(&self) -> bool {
        !self.order_stale && !self.visible_stale && self.pending.is_empty()
    }

    /// The table's order of two rows: the sort column, then name and ARN (a total order,
    /// so that a row's place can be found by binary search).
    fn ordering(&self, a: usize, b: usize) -> Ordering {
        let o = compare(&self.rows[a], &self.rows[b], self.sort);
        if self.descending { o.reverse() } else { o }
    }

    /// Brings the sorted and filtered views up to date, keeping the same guardrail selected.
    /// A new sort sorts every row; streamed rows are sorted among themselves and merged into
    /// both views (linear); a new filter is one pass over the sorted rows. The followed
    /// guardrail is found by binary search.
    pub fn prepare(&mut self) {
        if self.is_prepared() {
            return;
        }
        // Where the cursor was, to stay near it if its guardrail is filtered out or gone.
        let previous = self.selected;
        if self.order_stale {
            let mut order: Vec<usize> = (0..self.rows.len()).collect();
            order.sort_unstable_by(|&a, &b| self.ordering(a, b));
            self.order = order;
            self.pending.clear();
            self.order_stale = false;
            self.visible_stale = true;
        } else if !self.pending.is_empty() {
            let mut new = std::mem::take(&mut self.pending);
            new.sort_unstable_by(|&a, &b| self.ordering(a, b));
            let order = std::mem::take(&mut self.order);
            self.order = self.merged(order, &new);
            if !self.visible_stale && self.filter.is_empty() {
                self.visible.clone_from(&self.order);
            } else if !self.visible_stale {
                let shown: Vec<usize> = new
                    .iter()
                    .copied()
                    .filter(|&i| self.filter.matches(&self.rows[i], &self.search[i]))
                    .collect();
                let visible = std::mem::take(&mut self.visible);
                self.visible = self.merged(visible, &shown);
            }
        }
        if self.visible_stale {
            let (rows, search) = (&self.rows, &self.search);
            self.visible = if self.filter.is_empty() {
                self.order.clone()
            } else {
                self.order
                    .iter()
                    .copied()
                    .filter(|&i| self.filter.matches(&rows[i], &search[i]))
                    .collect()
            };
            self.visible_stale = false;
        }
        let last = self.visible.len().saturating_sub(1);
        self.selected = match self.follow.as_ref().and_then(|arn| self.by_arn.get(arn)) {
            // The user's guardrail, wherever sorting or streaming put it; if it is gone or
            // filtered out, the nearest row.
            Some(&i) => self
                .visible
                .binary_search_by(|&x| self.ordering(x, i))
                .unwrap_or(previous.min(last)),
            None if self.follow.is_some() => previous.min(last),
            None => 0,
        };
        self.dirty = true;
    }

    /// Two sorted runs of row indices as one: each new row's place found by binary search,
    /// the old run copied between them, so a batch costs its own rows' comparisons (k log n),
    /// not one per row of the table.
    fn merged(&self, old: Vec<usize>, new: &[usize]) -> Vec<usize> {
        if new.is_empty() {
            return old;
        }
        let mut out = Vec::with_capacity(old.len() + new.len());
        let mut start = 0;
        for &y in new {
            let at = start + old[start..].partition_point(|&x| self.ordering(x, y) != Ordering::Greater);
            out.extend_from_slice(&old[start..at]);
            out.push(y);
            start = at;
        }
        out.extend_from_slice(&old[start..]);
        out
    }

    pub fn selected_row(&self) -> Option<&Guardrail> {
        self.visible.get(self.selected).and_then(|&i| self.rows.get(i))
    }

    pub fn visible_rows(&self) -> impl Iterator<Item = &Guardrail> {
        self.visible.iter().filter_map(|&i| self.rows.get(i))
    }

    pub fn failed_regions(&self) -> Vec<&RegionEntry> {
        self.regions
            .iter()
            .filter(|r| matches!(r.status, RegionStatus::Failed { .. }))
            .collect()
    }

    pub fn loading(&self) -> bool {
        self.active_scans > 0
            || self
                .regions
                .iter()
                .any(|r| matches!(r.status, RegionStatus::Pending | RegionStatus::Loading { .. }))
    }

    pub fn region_mut(&mut self, name: &str) -> Option<&mut RegionEntry> {
        self.regions.iter_mut().find(|r| r.name == name)
    }

    pub fn toast(&mut self, text: impl Into<String>, error: bool) {
        // About four seconds at the 100 ms tick.
        self.toast = Some(Toast {
            text: text.into(),
            error,
            until: self.tick + 40,
        });
        self.dirty = true;
    }
}
