//! The guided remediation wizard: targets → key per region → key settings → review →
//! confirm → apply → done. The engine (`fix`) does the work; the wizard makes it guided.
//! Nothing is written before the confirm step, which wants the number of guardrails typed.
//!
//! (One file on purpose: one state machine, whose steps share the plan and the settings.)

use crossterm::event::{KeyCode, KeyEvent};

use std::collections::HashMap;

use crate::fix::apply::{FixEvent, OutcomeKind};
use crate::fix::plan::{FixPlan, Target, by_region};
use crate::fix::planner::{Candidate, KeyDecision, NewKeySettings, PlanRequest, RegionChoice, no_key_keeps};
use crate::fix::policy::{KeyPolicySpec, principal_of_caller, validate_alias};
use crate::model::{Guardrail, Level};
use crate::usage::PrincipalPolicies;

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
    /// Why no key the wizard can make keeps every known user of it (a permissions boundary,
    /// another account's principal): left out by default, as the planner would hold it back.
    pub locks_out: Option<String>,
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
    /// Its policy document, when it could be read: the planner says from it (and the users'
    /// IAM policies) whether the guardrails' users could decrypt.
    pub policy: Option<String>,
    /// Its grants (a user may decrypt through one; empty when none or not read).
    pub grants: Vec<crate::usage::KeyGrant>,
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
    /// With what its known users are left with ("2 users keep access").
    Fixed(Option<String>),
    Skipped(String),
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Wizard {
    pub step: Step,
    pub account: String,
    pub caller: String,
    /// The caller as IAM names it (a role with its path, a user), when it does: the plan
    /// checks that it may write guardrails with the key chosen.
    pub writer: Option<String>,
    pub targets: Vec<WizardTarget>,
    pub cursor: usize,
    pub regions: Vec<RegionKey>,
    pub settings: Settings,
    pub publish_version: bool,
    /// Add a statement naming the guardrails' users to an existing key's policy where it
    /// would lock them out (`g` in the review; `--grant-users` headless).
    pub grant_users: bool,
    /// One multi-Region key for all the regions (`m` in the key step; `--multi-region`
    /// headless): a primary in the first region and a replica in each other.
    pub multi_region: bool,
    /// Move guardrails whose users would lose access all the same (`o` at the confirm
    /// step; `--allow-lockout` headless).
    pub allow_lockout: bool,
    /// The IAM policies and boundaries of the guardrails' users, by principal, as read with
    /// the keys (absent when the account's IAM could not be read).
    pub iam: HashMap<String, PrincipalPolicies>,
    /// IAM's policy simulator's answers for those users on each existing key, as `fix`
    /// gets them (empty where it could not be asked).
    pub iam_answers: crate::scan::usage::IamAnswers,
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
    SaveScript(Box<FixPlan>),
    /// The Terraform: each guardrail's DRAFT is read first, for its resource.
    SaveTerraform(Box<FixPlan>),
    Apply(Box<FixPlan>),
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
            .map(|g| {
                // A guardrail no key can move without a lock-out is left out, with why.
                let locks_out = g
                    .usage
                    .as_deref()
                    .and_then(|u| no_key_keeps(u, &g.arn, account))
                    .map(|losing| {
                        losing
                            .iter()
                            .map(|p| {
                                format!(
                                    "{} as {}: {}",
                                    p.user.label(),
                                    crate::usage::principal_name(&p.user.principal),
                                    p.with_key.reason()
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("; ")
                    });
                WizardTarget {
                    arn: g.arn.clone(),
                    id: g.id.clone(),
                    name: g.name.clone(),
                    region: g.region.to_string(),
                    level: g.posture.level,
                    current_key: g.kms_key_arn.clone(),
                    included: g.posture.level != Level::Pass && locks_out.is_none(),
                    usage: g.usage.as_deref().cloned(),
                    managed_by: None,
                    locks_out,
                }
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
        // The caller checked to be able to write guardrails with the key chosen: only when
        // IAM names it exactly (a role pattern or a root user is not evaluated).
        let writer = match principal {
            Some(crate::fix::policy::CallerPrincipal::Arn(a)) => Some(a.clone()),
            _ => None,
        };
        let mut wizard = Wizard {
            step: Step::Targets,
            account: account.to_string(),
            caller: caller.to_string(),
            writer,
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
            multi_region: false,
            allow_lockout: false,
            iam: HashMap::new(),
            iam_answers: Default::default(),
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

    /// The new key's settings; the planner names each region's guardrail users in its policy.
    fn new_key_settings(&self) -> Result<NewKeySettings, String> {
        if let Some(e) = self.alias_error() {
            return Err(e);
        }
        Ok(NewKeySettings {
            alias: self.settings.values[0].clone(),
            description: self.settings.values[1].clone(),
            spec: KeyPolicySpec {
                account: self.account.clone(),
                partition: crate::regions::partition_of_arn(&self.caller).to_string(),
                administrators: split_list(&self.settings.values[3]),
                managers: split_list(&self.settings.values[4]),
                users: split_list(&self.settings.values[5]),
                external_accounts: Vec::new(),
            },
            tags: self.tags()?,
            rotation_days: self.rotation_days()?,
        })
    }

    /// The key chosen for a region, as the planner takes it.
    fn key_decision(&self, r: &RegionKey, new_key: &Option<NewKeySettings>) -> Result<KeyDecision, String> {
        let region = &r.region;
        match (r.existing, &r.keys) {
            (None, _) => Ok(KeyDecision::Create(new_key.clone().ok_or("no key settings")?)),
            (Some(i), KeyList::Ready(keys)) => {
                let k = keys.get(i).ok_or("no such key")?;
                k.suitable.clone().map_err(|why| {
                    format!(
                        "{region}: {} cannot be used: {why}",
                        k.alias.as_deref().unwrap_or(&k.arn)
                    )
                })?;
                Ok(KeyDecision::Existing {
                    arn: k.arn.clone(),
                    policy: k
                        .policy
                        .clone()
                        .ok_or_else(|| k.policy_warning.clone().unwrap_or_else(|| "not read".into())),
                    grants: k.grants.clone(),
                })
            }
            _ => Err(format!("{region}: the keys are still loading")),
        }
    }

    /// The included guardrails of each region, in the order regions first appear.
    fn candidates(&self) -> Vec<(String, Vec<Candidate>)> {
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
        grouped
            .into_iter()
            .map(|(region, targets)| {
                let candidates = targets
                    .into_iter()
                    .map(|target| Candidate {
                        usage: self
                            .targets
                            .iter()
                            .find(|x| x.arn == target.arn)
                            .and_then(|x| x.usage.clone()),
                        target,
                    })
                    .collect();
                (region, candidates)
            })
            .collect()
    }

    fn plan_regions(&self, regions: Vec<RegionChoice>, grant_users: bool) -> Result<FixPlan, String> {
        crate::fix::planner::plan(PlanRequest {
            account: self.account.clone(),
            regions,
            iam: &crate::fix::planner::AnsweredIam {
                iam: &self.iam,
                answers: &self.iam_answers,
            },
            writer: self.writer.clone(),
            grant_users,
            allow_lockout: self.allow_lockout,
            publish_version: self.publish_version,
        })
    }

    /// The plan the review shows and the apply carries out: the planner's, from the choices
    /// made (the same planner, and the same lock-out gate, as `guardkey fix`).
    pub fn plan(&self) -> Result<FixPlan, String> {
        let new_key = if self.creates_keys() {
            Some(self.new_key_settings()?)
        } else {
            None
        };
        let mut regions = Vec::new();
        for (region, candidates) in self.candidates() {
            let r = self
                .regions
                .iter()
                .find(|k| k.region == region)
                .ok_or("a region has no key choice")?;
            regions.push(RegionChoice {
                key: self.key_decision(r, &new_key)?,
                region,
                candidates,
            });
        }
        let mut plan = self.plan_regions(regions, self.grant_users)?;
        if self.multi_region {
            plan.make_multi_region(None)?;
        }
        Ok(plan)
    }

    /// What the existing key `i` of a region would do to the region's guardrails' users:
    /// the planner's verdict on that region alone, with or without the users statement.
    fn verdict_with(&self, region: &str, i: usize, grant_users: bool) -> Option<FixPlan> {
        let r = self.regions.iter().find(|k| k.region == region)?;
        let chosen = RegionKey {
            existing: Some(i),
            ..r.clone()
        };
        let key = self.key_decision(&chosen, &None).ok()?;
        let (_, candidates) = self.candidates().into_iter().find(|(rg, _)| rg == region)?;
        self.plan_regions(
            vec![RegionChoice {
                region: region.to_string(),
                key,
                candidates,
            }],
            grant_users,
        )
        .ok()
    }

    fn go_to_keys(&mut self) -> Vec<WizardEffect> {
        self.sync_regions();
        self.step = Step::Keys;
        self.cursor = 0;
        self.regions
            .iter()
            .filter(|r| r.keys == KeyList::Loading)
            .map(|r| {
                // The writer's IAM too: the plan checks it may use the key.
                let mut principals: Vec<String> = self.writer.iter().cloned().collect();
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
                // One multi-Region key for every region: new keys everywhere, one family.
                KeyCode::Char('m') if self.regions.len() > 1 => {
                    self.multi_region = !self.multi_region;
                    if self.multi_region {
                        for r in &mut self.regions {
                            r.existing = None;
                            r.note = None;
                        }
                    }
                }
                KeyCode::Char('l') | KeyCode::Right | KeyCode::Char('h') | KeyCode::Left => {
                    // An existing key is a region's own: no longer one multi-Region key.
                    self.multi_region = false;
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
                        return (vec![WizardEffect::SaveScript(Box::new(plan))], false);
                    }
                    Ok(plan) => return (vec![WizardEffect::SaveTerraform(Box::new(plan))], false),
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
                // The explicit, journaled choice to move guardrails whose users lose access.
                KeyCode::Char('o') => {
                    self.allow_lockout = !self.allow_lockout;
                    self.confirm_input.clear();
                }
                KeyCode::Enter => match self.plan() {
                    Ok(plan) if plan.guardrail_count() == 0 => {
                        self.error = Some(
                            "nothing can be moved without locking a user out: o moves them anyway, Esc goes back"
                                .into(),
                        );
                    }
                    Ok(plan) if self.confirm_input.trim() != plan.guardrail_count().to_string() => {
                        self.error = Some(format!(
                            "type {}, the number of guardrails, to apply",
                            plan.guardrail_count()
                        ));
                    }
                    Ok(plan) => {
                        self.step = Step::Apply;
                        self.review_scroll = 0;
                        self.progress = plan
                            .regions
                            .iter()
                            .flat_map(|r| &r.targets)
                            .map(|t| (t.arn.clone(), Progress::Pending))
                            .collect();
                        return (vec![WizardEffect::Apply(Box::new(plan))], false);
                    }
                    Err(e) => self.error = Some(e),
                },
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

    /// A region's keys are in, with the IAM policies of the guardrails' users. The default
    /// is the safest choice the planner finds: the key the guardrails are on already (a
    /// repair) or the one carrying the alias a new key would take, when it keeps every known
    /// user; that key with the users statement added to its policy, when it can be; else a
    /// new key, with a free alias. Said in a note; `n`, `h`/`l` and `g` change it.
    pub fn keys_loaded(
        &mut self,
        region: &str,
        keys: Result<Vec<ExistingKey>, String>,
        iam: HashMap<String, PrincipalPolicies>,
        answers: crate::scan::usage::IamAnswers,
    ) {
        self.iam.extend(iam);
        self.iam_answers.extend(answers);
        let alias = self.settings.values[0].clone();
        let on_keys: Vec<Option<String>> = self
            .included()
            .filter(|t| t.region == region)
            .map(|t| t.current_key.clone())
            .collect();
        let Some(r) = self.regions.iter_mut().find(|r| r.region == region) else {
            return;
        };
        r.keys = match keys {
            Ok(k) => KeyList::Ready(k),
            Err(e) => KeyList::Failed(e),
        };
        let KeyList::Ready(keys) = &r.keys else { return };
        if r.existing.is_some() {
            return;
        }
        // The guardrails' own key when they all share one (a key that locks its users out,
        // to repair), else the one that carries the alias.
        let shared = match on_keys.first() {
            Some(Some(k)) if on_keys.iter().all(|o| o.as_deref() == Some(k.as_str())) => Some(k.clone()),
            _ => None,
        };
        let Some(i) = keys
            .iter()
            .position(|k| k.suitable.is_ok() && shared.as_deref() == Some(k.arn.as_str()))
            .or_else(|| {
                keys.iter()
                    .position(|k| k.alias.as_deref() == Some(alias.as_str()) && k.suitable.is_ok())
            })
        else {
            return;
        };
        let name = keys[i].alias.clone().unwrap_or_else(|| keys[i].arn.clone());
        let keeps = |p: &FixPlan| p.held.is_empty() && p.guardrail_count() > 0;
        let plain = self.verdict_with(region, i, false);
        let granted = self.verdict_with(region, i, true);
        let r = self
            .regions
            .iter_mut()
            .find(|r| r.region == region)
            .expect("found above");
        match (plain, granted) {
            (Some(p), _) if keeps(&p) => {
                r.existing = Some(i);
                r.note = Some(format!(
                    "{name} chosen: keeps every known user, suits guardrails (n: a new key)"
                ));
            }
            (_, Some(p)) if keeps(&p) => {
                let who: Vec<String> = p.usage.grants.iter().flat_map(|g| g.principals.clone()).collect();
                r.existing = Some(i);
                r.note = Some(format!(
                    "{name} chosen: its policy will name {} (g in the review not to; n: a new key)",
                    who.iter()
                        .map(|p| crate::usage::principal_name(p))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                self.grant_users = true;
            }
            _ => {
                // A new key stays the default; the alias it would take is taken here.
                let free = self.free_alias(&alias);
                let r = self
                    .regions
                    .iter_mut()
                    .find(|r| r.region == region)
                    .expect("found above");
                r.note = Some(format!(
                    "a new key, alias {free}: {name} would lock users out (h/l to choose it anyway)"
                ));
                self.settings.values[0] = free;
            }
        }
    }

    /// `alias`, or `alias-2`, `-3`…: the first that no loaded region lists.
    fn free_alias(&self, alias: &str) -> String {
        let taken = |a: &str| {
            self.regions.iter().any(|r| match &r.keys {
                KeyList::Ready(keys) => keys.iter().any(|k| k.alias.as_deref() == Some(a)),
                _ => false,
            })
        };
        if !taken(alias) {
            return alias.to_string();
        }
        (2..)
            .map(|n| format!("{alias}-{n}"))
            .find(|a| !taken(a))
            .expect("an unused alias")
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
                    OutcomeKind::Fixed { users, .. } => Progress::Fixed(users.map(|u| u.describe())),
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
            Step::Keys => "j/k region · n new · h/l existing · m multi-Region · Enter next · Esc back",
            Step::Settings => "Tab next field · type to edit · Enter review · Esc back",
            Step::Review => {
                "j/k scroll · v publish version · g grant users on existing keys · s save CLI script · t save Terraform · Enter confirm · Esc back"
            }
            // `o` only where the gate held a guardrail back (or the lock-out was accepted).
            Step::Confirm if self.plan().is_ok_and(|p| !p.held.is_empty()) => {
                "type the number of guardrails, then Enter · o move lock-outs anyway · Esc back"
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
