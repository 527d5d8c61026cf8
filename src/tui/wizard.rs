//! The guided remediation wizard: targets → key per region → key settings → review →
//! confirm → apply → done. The engine (`fix`) does the work; the wizard makes it guided.
//! Nothing is written before the confirm step, which wants the number of guardrails typed.
//!
//! (One file on purpose: one state machine, whose steps share the plan and the settings.)

use crossterm::event::{KeyCode, KeyEvent};

use crate::fix::apply::{FixEvent, OutcomeKind};
use crate::fix::plan::{FixPlan, KeyChoice, NewKey, RegionPlan, Target, by_region};
use crate::fix::policy::{KeyPolicySpec, build, principal_of_caller, validate_alias};
use crate::model::{Guardrail, Level};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Targets,
    Keys,
    Settings,
    Review,
    Confirm,
    Apply,
    Done,
}

impl Step {
    pub fn title(self) -> &'static str {
        match self {
            Step::Targets => "1/7 Targets",
            Step::Keys => "2/7 Key per region",
            Step::Settings => "3/7 Key settings",
            Step::Review => "4/7 Review",
            Step::Confirm => "5/7 Confirm",
            Step::Apply => "6/7 Apply",
            Step::Done => "7/7 Done",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WizardTarget {
    pub arn: String,
    pub id: String,
    pub name: String,
    pub region: String,
    pub level: Level,
    pub current_key: Option<String>,
    pub included: bool,
    /// Who uses it, when it was read (the explorer reads it in the background).
    pub usage: Option<crate::usage::Usage>,
    /// The CloudFormation stack that manages it, when its tags were read: left out by
    /// default (the stack would drift; set KmsKeyArn in the template).
    pub managed_by: Option<String>,
}

/// A key that exists in a region, and whether it can encrypt guardrails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingKey {
    pub arn: String,
    pub alias: Option<String>,
    pub state: String,
    pub rotation: String,
    /// Ok, or why the key cannot be used.
    pub suitable: Result<(), String>,
    /// What its key policy lacks for guardrails, if anything (a warning, not a veto: IAM
    /// policies may grant it through the account-root statement).
    pub policy_warning: Option<String>,
    /// Its policy document, when it could be read: the review says from it whether the
    /// guardrails' users could decrypt.
    pub policy: Option<String>,
    /// Whether each of the guardrails' users could decrypt with it, by principal, evaluated
    /// as KMS does with the account's IAM policies read too (empty when they could not be).
    pub access: std::collections::HashMap<String, crate::usage::Access>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyList {
    Loading,
    Ready(Vec<ExistingKey>),
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionKey {
    pub region: String,
    /// None: create a new key (the default); Some(i): the i-th existing key.
    pub existing: Option<usize>,
    pub keys: KeyList,
    /// Set when the alias is taken in this region: the key it points to.
    pub alias_taken: Option<String>,
    /// Why the choice was made for the user (a key that carries the default alias).
    pub note: Option<String>,
}

pub const FIELDS: [&str; 7] = [
    "alias",
    "description",
    "rotation (days)",
    "administrators",
    "managers",
    "users",
    "tags",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The values of `FIELDS`.
    pub values: [String; 7],
    pub focus: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    Pending,
    Writing,
    Fixed,
    Skipped(String),
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Wizard {
    pub step: Step,
    pub account: String,
    pub caller: String,
    pub targets: Vec<WizardTarget>,
    pub cursor: usize,
    pub regions: Vec<RegionKey>,
    pub settings: Settings,
    pub publish_version: bool,
    /// Add a statement naming the guardrails' users to an existing key's policy where it
    /// would lock them out (`g` in the review; `--grant-users` headless).
    pub grant_users: bool,
    pub review_scroll: u16,
    pub confirm_input: String,
    pub error: Option<String>,
    pub key_progress: Vec<(String, Result<String, String>)>,
    /// What the apply noticed on the way (a guardrail changed since the plan).
    pub notes: Vec<String>,
    /// The full path of the script or Terraform last saved from the review.
    pub saved: Option<String>,
    pub progress: Vec<(String, Progress)>,
    pub asking_cancel: bool,
    pub cancelled: bool,
    pub journal: Option<String>,
    pub summary: Option<String>,
}

/// What the wizard asks the outside world for.
#[derive(Debug, Clone, PartialEq)]
pub enum WizardEffect {
    LoadKeys {
        region: String,
        /// The guardrails' users there, whose access with each key is evaluated.
        principals: Vec<String>,
    },
    CheckAlias {
        region: String,
        alias: String,
    },
    Save {
        extension: &'static str,
        content: String,
    },
    /// The AWS CLI script: each guardrail's whole DRAFT is read first, as `fix --emit-cli` does.
    SaveScript(FixPlan),
    /// The Terraform: each guardrail's DRAFT is read first, for its resource.
    SaveTerraform(FixPlan),
    Apply(FixPlan),
    Cancel,
    /// The fix is over: re-read these regions so the rows show the new keys.
    Reread {
        regions: Vec<String>,
    },
}

fn split_list(s: &str) -> Vec<String> {
    s.split([',', ' '])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

impl Wizard {
    /// Opens on the marked guardrails (or the selected one). Compliant ones are listed but
    /// left out, to be put back in by hand.
    pub fn new(
        rows: Vec<&Guardrail>,
        account: &str,
        caller: &str,
        principal: Option<&crate::fix::policy::CallerPrincipal>,
    ) -> Self {
        // The caller as IAM names it (a role with its path, an SSO role pattern), else the
        // role its session ARN names.
        let me = match principal {
            Some(p) => p.default_entry().unwrap_or_default(),
            None => principal_of_caller(caller),
        };
        let mut targets: Vec<WizardTarget> = rows
            .into_iter()
            .map(|g| WizardTarget {
                arn: g.arn.clone(),
                id: g.id.clone(),
                name: g.name.clone(),
                region: g.region.to_string(),
                level: g.posture.level,
                current_key: g.kms_key_arn.clone(),
                included: g.posture.level != Level::Pass,
                usage: g.usage.as_deref().cloned(),
                managed_by: None,
            })
            .collect();
        // Grouped by region (in the order regions first appear), each region under one
        // heading, whatever order the table was sorted in.
        let mut order: Vec<String> = Vec::new();
        for t in &targets {
            if !order.contains(&t.region) {
                order.push(t.region.clone());
            }
        }
        targets.sort_by_key(|t| order.iter().position(|r| *r == t.region));
        let mut wizard = Wizard {
            step: Step::Targets,
            account: account.to_string(),
            caller: caller.to_string(),
            targets,
            cursor: 0,
            regions: Vec::new(),
            settings: Settings {
                values: [
                    "alias/bedrock-guardrails".into(),
                    "Encrypts Amazon Bedrock guardrails (created by guardkey)".into(),
                    "365".into(),
                    me.clone(),
                    me,
                    String::new(),
                    "managed-by=guardkey".into(),
                ],
                focus: 0,
            },
            publish_version: false,
            grant_users: false,
            review_scroll: 0,
            confirm_input: String::new(),
            error: None,
            key_progress: Vec::new(),
            notes: Vec::new(),
            saved: None,
            progress: Vec::new(),
            asking_cancel: false,
            cancelled: false,
            journal: None,
            summary: None,
        };
        wizard.sync_regions();
        wizard
    }

    pub fn included(&self) -> impl Iterator<Item = &WizardTarget> {
        self.targets.iter().filter(|t| t.included)
    }

    fn sync_regions(&mut self) {
        let mut regions: Vec<String> = Vec::new();
        for t in self.included() {
            if !regions.contains(&t.region) {
                regions.push(t.region.clone());
            }
        }
        self.regions.retain(|r| regions.contains(&r.region));
        for r in regions {
            if !self.regions.iter().any(|k| k.region == r) {
                self.regions.push(RegionKey {
                    region: r,
                    existing: None,
                    keys: KeyList::Loading,
                    alias_taken: None,
                    note: None,
                });
            }
        }
    }

    fn creates_keys(&self) -> bool {
        self.regions.iter().any(|r| r.existing.is_none())
    }

    /// The alias problem, if any: its form, or a region where it is taken.
    pub fn alias_error(&self) -> Option<String> {
        let alias = &self.settings.values[0];
        if let Err(e) = validate_alias(alias) {
            return Some(e);
        }
        self.regions
            .iter()
            .filter(|r| r.existing.is_none())
            .find_map(|r| r.alias_taken.as_ref().map(|k| format!("{alias} already exists in {} and points to {k}: choose that key in step 2, or another alias", r.region)))
    }

    fn rotation_days(&self) -> Result<Option<i32>, String> {
        let v = self.settings.values[2].trim();
        if v.is_empty() || v == "off" {
            return Ok(None);
        }
        match v.parse::<i32>() {
            Ok(d) if (90..=2560).contains(&d) => Ok(Some(d)),
            _ => Err(format!(
                "rotation '{v}': a number of days from 90 to 2560, or off"
            )),
        }
    }

    fn tags(&self) -> Result<Vec<(String, String)>, String> {
        split_list(&self.settings.values[6])
            .into_iter()
            .map(|t| match t.split_once('=') {
                Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
                _ => Err(format!("tag '{t}' is not KEY=VALUE")),
            })
            .collect()
    }

    fn policy(&self) -> Result<String, String> {
        build(&KeyPolicySpec {
            account: self.account.clone(),
            partition: crate::regions::partition_of_arn(&self.caller).to_string(),
            administrators: split_list(&self.settings.values[3]),
            managers: split_list(&self.settings.values[4]),
            users: {
                let mut users = split_list(&self.settings.values[5]);
                for u in self.users_to_name() {
                    if !users.contains(&u) {
                        users.push(u);
                    }
                }
                users
            },
            external_accounts: Vec::new(),
        })
    }

    /// The users of the included guardrails a new key's policy names: the account's own
    /// principals that IAM lists (KMS refuses one that does not exist), administrators left
    /// to the account-root statement.
    fn users_to_name(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for u in self
            .included()
            .filter_map(|t| t.usage.as_ref())
            .flat_map(|u| u.named_users())
        {
            if u.nameable_in(&self.account) && !out.contains(&u.principal) {
                out.push(u.principal.clone());
            }
        }
        out
    }

    /// Who uses the planned guardrails and whether the planned key lets them decrypt: a new
    /// key names them; an existing key's policy and the account's IAM policies are read with
    /// the keys (when IAM cannot be read, it says so, and `guardkey fix --key … --dry-run`
    /// names what is missing). With `g`, the account's users an existing key would lock out
    /// are added to its policy, as `--grant-users` does.
    fn plan_usage(&self, regions: &[RegionPlan]) -> crate::fix::plan::PlanUsage {
        use crate::fix::plan::{PlannedUser, PolicyGrant, to_grant};
        use crate::usage::{Access, GuardrailUser, KeyFacts, decrypt_access};
        let mut usage = crate::fix::plan::PlanUsage {
            read: self.included().any(|t| t.usage.is_some()),
            ..Default::default()
        };
        let named = self.users_to_name();
        let parse = |p: &str| serde_json::from_str::<serde_json::Value>(p).ok();
        for r in regions {
            let existing = match &r.key {
                KeyChoice::Existing(arn) => {
                    self.regions
                        .iter()
                        .find(|k| k.region == r.region)
                        .and_then(|k| match &k.keys {
                            KeyList::Ready(keys) => keys.iter().find(|e| e.arn == *arn),
                            _ => None,
                        })
                }
                KeyChoice::Create(_) => None,
            };
            let policy_text = existing.and_then(|e| e.policy.clone());
            let mut policy = policy_text.as_deref().and_then(parse);
            let evaluate = |policy: Option<&serde_json::Value>, user: &GuardrailUser| match &r.key {
                // A permissions boundary that keeps kms:Decrypt from it wins over any policy.
                KeyChoice::Create(_) => match &user.capped {
                    Some(capped) => capped.clone(),
                    None if named.contains(&user.principal) => Access::Allowed {
                        how: "the new key's users statement names it".into(),
                    },
                    None => Access::Unknown {
                        why: "another account's (or unlisted) principal: the new key does not name it".into(),
                    },
                },
                KeyChoice::Existing(arn) => {
                    let facts = KeyFacts {
                        arn,
                        state: "Enabled",
                        policy: policy.ok_or("not read"),
                    };
                    // The policy as planned (with `g`, the users statement) names it; else
                    // what KMS would say with the account's IAM policies, read with the keys.
                    match decrypt_access(&facts, &user.principal, None) {
                        allowed @ Access::Allowed { .. } => allowed,
                        other => match existing.and_then(|e| e.access.get(&user.principal)) {
                            Some(read) => read.clone(),
                            None => match other {
                                Access::Unknown { why } => Access::Unknown {
                                    why: format!("{why}; `guardkey fix --key {arn} --dry-run` reads them"),
                                },
                                other => other,
                            },
                        },
                    }
                }
            };
            let mut lines: Vec<(String, Vec<PlannedUser>)> = Vec::new();
            for t in &r.targets {
                let Some(u) = self
                    .targets
                    .iter()
                    .find(|x| x.arn == t.arn)
                    .and_then(|x| x.usage.as_ref())
                else {
                    continue;
                };
                if !u.unknown.is_empty() {
                    usage.unknown.insert(t.arn.clone(), u.unknown.clone());
                }
                let planned = u
                    .named_users()
                    .map(|user| PlannedUser {
                        user: user.clone(),
                        with_key: evaluate(policy.as_ref(), user),
                    })
                    .collect();
                lines.push((t.arn.clone(), planned));
            }
            if let (KeyChoice::Existing(arn), Some(old), true) = (&r.key, policy_text, self.grant_users) {
                let locked = to_grant(lines.iter().flat_map(|(_, planned)| planned), &self.account);
                if !locked.is_empty()
                    && let Ok(grant) = PolicyGrant::new(&r.region, arn, old, locked)
                {
                    policy = parse(&grant.new_policy);
                    usage.grants.push(grant);
                    for p in lines.iter_mut().flat_map(|(_, planned)| planned.iter_mut()) {
                        p.with_key = evaluate(policy.as_ref(), &p.user);
                    }
                }
            }
            usage.users.extend(lines);
        }
        usage
    }

    /// The plan the review shows and the apply carries out.
    pub fn plan(&self) -> Result<FixPlan, String> {
        let mut regions = Vec::new();
        let new_key = if self.creates_keys() {
            if let Some(e) = self.alias_error() {
                return Err(e);
            }
            Some(NewKey {
                alias: self.settings.values[0].clone(),
                description: self.settings.values[1].clone(),
                policy: self.policy()?,
                tags: self.tags()?,
                rotation_days: self.rotation_days()?,
            })
        } else {
            None
        };
        let grouped = by_region(
            self.included()
                .map(|t| {
                    (
                        t.region.clone(),
                        Target {
                            arn: t.arn.clone(),
                            id: t.id.clone(),
                            name: t.name.clone(),
                            current_key: t.current_key.clone(),
                            config: None,
                        },
                    )
                })
                .collect(),
        );
        for (region, targets) in grouped {
            let r = self
                .regions
                .iter()
                .find(|k| k.region == region)
                .ok_or("a region has no key choice")?;
            let key = match (r.existing, &r.keys) {
                (None, _) => KeyChoice::Create(new_key.clone().ok_or("no key settings")?),
                (Some(i), KeyList::Ready(keys)) => {
                    let k = keys.get(i).ok_or("no such key")?;
                    k.suitable.clone().map_err(|why| {
                        format!(
                            "{region}: {} cannot be used: {why}",
                            k.alias.as_deref().unwrap_or(&k.arn)
                        )
                    })?;
                    KeyChoice::Existing(k.arn.clone())
                }
                _ => return Err(format!("{region}: the keys are still loading")),
            };
            regions.push(RegionPlan { region, key, targets });
        }
        let usage = self.plan_usage(&regions);
        Ok(FixPlan {
            account: self.account.clone(),
            regions,
            publish_version: self.publish_version,
            usage,
        })
    }

    fn go_to_keys(&mut self) -> Vec<WizardEffect> {
        self.sync_regions();
        self.step = Step::Keys;
        self.cursor = 0;
        self.regions
            .iter()
            .filter(|r| r.keys == KeyList::Loading)
            .map(|r| {
                let mut principals: Vec<String> = Vec::new();
                let users = self
                    .included()
                    .filter(|t| t.region == r.region)
                    .filter_map(|t| t.usage.as_ref())
                    .flat_map(|u| u.named_users());
                for u in users {
                    if !principals.contains(&u.principal) {
                        principals.push(u.principal.clone());
                    }
                }
                WizardEffect::LoadKeys {
                    region: r.region.clone(),
                    principals,
                }
            })
            .collect()
    }

    fn alias_checks(&self) -> Vec<WizardEffect> {
        let alias = self.settings.values[0].clone();
        if validate_alias(&alias).is_err() {
            return Vec::new();
        }
        self.regions
            .iter()
            .filter(|r| r.existing.is_none())
            .map(|r| WizardEffect::CheckAlias {
                region: r.region.clone(),
                alias: alias.clone(),
            })
            .collect()
    }

    /// Handles a key. Returns what to do outside, and whether the wizard is closed.
    pub fn on_key(&mut self, key: KeyEvent) -> (Vec<WizardEffect>, bool) {
        self.error = None;
        match self.step {
            Step::Targets => match key.code {
                KeyCode::Esc => return (Vec::new(), true),
                KeyCode::Char('j') | KeyCode::Down => {
                    self.cursor = (self.cursor + 1).min(self.targets.len().saturating_sub(1))
                }
                KeyCode::Char('k') | KeyCode::Up => self.cursor = self.cursor.saturating_sub(1),
                KeyCode::Char(' ') => {
                    if let Some(t) = self.targets.get_mut(self.cursor) {
                        t.included = !t.included;
                    }
                }
                KeyCode::Enter => {
                    if self.included().count() == 0 {
                        self.error = Some("no guardrail is included: Space includes one".into());
                    } else {
                        return (self.go_to_keys(), false);
                    }
                }
                _ => {}
            },
            Step::Keys => match key.code {
                KeyCode::Esc => {
                    self.step = Step::Targets;
                    self.cursor = 0;
                }
                KeyCode::Char('j') | KeyCode::Down => {
                    self.cursor = (self.cursor + 1).min(self.regions.len().saturating_sub(1))
                }
                KeyCode::Char('k') | KeyCode::Up => self.cursor = self.cursor.saturating_sub(1),
                KeyCode::Char('n') => {
                    if let Some(r) = self.regions.get_mut(self.cursor) {
                        r.existing = None;
                        r.note = None;
                    }
                }
                KeyCode::Char('l') | KeyCode::Right | KeyCode::Char('h') | KeyCode::Left => {
                    let forward = matches!(key.code, KeyCode::Char('l') | KeyCode::Right);
                    if let Some(r) = self.regions.get_mut(self.cursor)
                        && let KeyList::Ready(keys) = &r.keys
                        && !keys.is_empty()
                    {
                        // Only keys that suit guardrails can be chosen; the others show why.
                        let n = keys.len();
                        let mut at = r.existing;
                        for _ in 0..n {
                            let next = match (at, forward) {
                                (None, true) => 0,
                                (None, false) => n - 1,
                                (Some(i), true) => (i + 1) % n,
                                (Some(i), false) => (i + n - 1) % n,
                            };
                            at = Some(next);
                            if keys[next].suitable.is_ok() {
                                r.existing = Some(next);
                                r.note = None;
                                break;
                            }
                        }
                    }
                }
                KeyCode::Enter => {
                    if let Some(bad) = self.regions.iter().find_map(|r| match (r.existing, &r.keys) {
                        (Some(i), KeyList::Ready(keys)) => keys
                            .get(i)
                            .and_then(|k| k.suitable.clone().err())
                            .map(|why| format!("{}: {why}", r.region)),
                        _ => None,
                    }) {
                        self.error = Some(bad);
                    } else if self.creates_keys() {
                        self.step = Step::Settings;
                        return (self.alias_checks(), false);
                    } else {
                        self.step = Step::Review;
                    }
                }
                _ => {}
            },
            Step::Settings => match key.code {
                KeyCode::Esc => self.step = Step::Keys,
                KeyCode::Tab | KeyCode::Down => {
                    self.settings.focus = (self.settings.focus + 1) % FIELDS.len()
                }
                KeyCode::BackTab | KeyCode::Up => {
                    self.settings.focus = (self.settings.focus + FIELDS.len() - 1) % FIELDS.len()
                }
                KeyCode::Backspace => {
                    self.settings.values[self.settings.focus].pop();
                    if self.settings.focus == 0 {
                        for r in &mut self.regions {
                            r.alias_taken = None;
                        }
                        return (self.alias_checks(), false);
                    }
                }
                KeyCode::Char(c) => {
                    self.settings.values[self.settings.focus].push(c);
                    if self.settings.focus == 0 {
                        for r in &mut self.regions {
                            r.alias_taken = None;
                        }
                        return (self.alias_checks(), false);
                    }
                }
                KeyCode::Enter => match self.plan() {
                    Ok(_) => {
                        self.step = Step::Review;
                        self.review_scroll = 0;
                    }
                    Err(e) => self.error = Some(e),
                },
                _ => {}
            },
            Step::Review => match key.code {
                KeyCode::Esc => {
                    self.step = if self.creates_keys() {
                        Step::Settings
                    } else {
                        Step::Keys
                    }
                }
                KeyCode::Char('j') | KeyCode::Down => {
                    self.review_scroll = self.review_scroll.saturating_add(1)
                }
                KeyCode::Char('k') | KeyCode::Up => self.review_scroll = self.review_scroll.saturating_sub(1),
                KeyCode::Char('v') => self.publish_version = !self.publish_version,
                KeyCode::Char('g') => self.grant_users = !self.grant_users,
                KeyCode::Char('s') | KeyCode::Char('t') => match self.plan() {
                    Ok(plan) if key.code == KeyCode::Char('s') => {
                        return (vec![WizardEffect::SaveScript(plan)], false);
                    }
                    Ok(plan) => return (vec![WizardEffect::SaveTerraform(plan)], false),
                    Err(e) => self.error = Some(e),
                },
                KeyCode::Enter => {
                    self.step = Step::Confirm;
                    self.confirm_input.clear();
                }
                _ => {}
            },
            Step::Confirm => match key.code {
                KeyCode::Esc => self.step = Step::Review,
                KeyCode::Backspace => {
                    self.confirm_input.pop();
                }
                KeyCode::Char(c) if c.is_ascii_digit() => self.confirm_input.push(c),
                KeyCode::Enter => {
                    let n = self.included().count();
                    if self.confirm_input.trim() != n.to_string() {
                        self.error = Some(format!("type {n}, the number of guardrails, to apply"));
                    } else {
                        match self.plan() {
                            Ok(plan) => {
                                self.step = Step::Apply;
                                self.review_scroll = 0;
                                self.progress = self
                                    .included()
                                    .map(|t| (t.arn.clone(), Progress::Pending))
                                    .collect();
                                return (vec![WizardEffect::Apply(plan)], false);
                            }
                            Err(e) => self.error = Some(e),
                        }
                    }
                }
                _ => {}
            },
            Step::Apply => match (self.asking_cancel, key.code) {
                (false, KeyCode::Esc) => self.asking_cancel = true,
                (true, KeyCode::Char('y')) => {
                    self.asking_cancel = false;
                    self.cancelled = true;
                    return (vec![WizardEffect::Cancel], false);
                }
                (true, KeyCode::Char('n') | KeyCode::Esc) => self.asking_cancel = false,
                // Ctrl-C and q ask too (handled before the wizard sees them).
                (false, code) => self.scroll_list(code),
                _ => {}
            },
            Step::Done => {
                self.scroll_list(key.code);
                if matches!(key.code, KeyCode::Enter | KeyCode::Esc | KeyCode::Char('q')) {
                    let mut regions: Vec<String> = Vec::new();
                    for t in self.included() {
                        if !regions.contains(&t.region) {
                            regions.push(t.region.clone());
                        }
                    }
                    return (vec![WizardEffect::Reread { regions }], true);
                }
            }
        }
        (Vec::new(), false)
    }

    pub fn keys_loaded(&mut self, region: &str, keys: Result<Vec<ExistingKey>, String>) {
        let alias = self.settings.values[0].clone();
        if let Some(r) = self.regions.iter_mut().find(|r| r.region == region) {
            r.keys = match keys {
                Ok(k) => KeyList::Ready(k),
                Err(e) => KeyList::Failed(e),
            };
            // A suitable key that already carries the alias a new key would take: that key
            // is the one meant (a new key could not have the alias anyway). Preselected, and
            // said; `n` still chooses a new key.
            if r.existing.is_none()
                && let KeyList::Ready(keys) = &r.keys
                && let Some(i) = keys
                    .iter()
                    .position(|k| k.alias.as_deref() == Some(alias.as_str()) && k.suitable.is_ok())
            {
                r.existing = Some(i);
                r.note = Some(format!(
                    "{alias} exists here and suits guardrails: its key is chosen (n for a new key with another alias)"
                ));
            }
        }
    }

    pub fn alias_checked(&mut self, region: &str, alias: &str, taken_by: Option<String>) {
        if self.settings.values[0] != alias {
            return;
        }
        if let Some(r) = self.regions.iter_mut().find(|r| r.region == region) {
            r.alias_taken = taken_by;
        }
    }

    pub fn on_fix_event(&mut self, event: FixEvent) {
        let set = |w: &mut Wizard, arn: &str, p: Progress| {
            if let Some(entry) = w.progress.iter_mut().find(|(a, _)| a == arn) {
                entry.1 = p;
            }
        };
        match event {
            FixEvent::KeyReady { region, key_arn, .. } => self.key_progress.push((region, Ok(key_arn))),
            FixEvent::KeyFailed { region, error } => self.key_progress.push((region, Err(error))),
            FixEvent::KeyWarning { .. } => {}
            FixEvent::Changed { region, name, what } => self.notes.push(format!("{region} {name}: {what}")),
            FixEvent::Writing { arn, .. } => set(self, &arn, Progress::Writing),
            FixEvent::Done(o) => {
                let p = match o.kind {
                    OutcomeKind::Fixed { .. } => Progress::Fixed,
                    OutcomeKind::Skipped { reason } => Progress::Skipped(reason),
                    OutcomeKind::Failed { error, .. } => Progress::Failed(error),
                };
                set(self, &o.arn, p);
            }
        }
    }

    /// j/k, PgDn/PgUp, g/G over the apply's list of guardrails (the outcome is pinned below
    /// it). The view clamps the offset to the list.
    fn scroll_list(&mut self, code: KeyCode) {
        let end = self.progress.len() as u16 + self.key_progress.len() as u16 + self.notes.len() as u16;
        self.review_scroll = match code {
            KeyCode::Char('j') | KeyCode::Down => self.review_scroll.saturating_add(1).min(end),
            KeyCode::Char('k') | KeyCode::Up => self.review_scroll.saturating_sub(1),
            KeyCode::PageDown => self.review_scroll.saturating_add(10).min(end),
            KeyCode::PageUp => self.review_scroll.saturating_sub(10),
            KeyCode::Char('G') | KeyCode::End => end,
            KeyCode::Char('g') | KeyCode::Home => 0,
            _ => return,
        };
    }

    /// Whether a fix is being applied right now (its writes not all done).
    pub fn applying(&self) -> bool {
        self.step == Step::Apply
    }

    pub fn finished(&mut self, journal: String, summary: String) {
        self.step = Step::Done;
        self.asking_cancel = false;
        self.journal = Some(journal);
        self.summary = Some(summary);
    }

    /// The keys the footer shows for the current step.
    pub fn hints(&self) -> &'static str {
        match self.step {
            Step::Targets => "j/k move · Space include/leave out · Enter next · Esc close",
            Step::Keys => "j/k region · n new key · h/l existing keys · Enter next · Esc back",
            Step::Settings => "Tab next field · type to edit · Enter review · Esc back",
            Step::Review => {
                "j/k scroll · v publish version · g grant users on existing keys · s save CLI script · t save Terraform · Enter confirm · Esc back"
            }
            Step::Confirm => "type the number of guardrails, then Enter · Esc back",
            Step::Apply if self.asking_cancel => "cancel? y stops between calls · n goes on",
            Step::Apply => {
                "applying… j/k PgDn/PgUp g/G scroll · Esc, q or Ctrl-c cancel safely between calls"
            }
            Step::Done => "j/k PgDn/PgUp g/G scroll · Enter or Esc: back to the table",
        }
    }
}
