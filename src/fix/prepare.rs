//! What a headless fix of one account reads before the planner decides: the guardrails the
//! request selects (a scan of the regions they can be in), who uses each (agents, flows, the
//! account's IAM), the guardrails a CloudFormation stack manages, and per region the key —
//! a new key's principals checked with IAM, an existing key checked as Bedrock checks it and
//! its policy read. Nothing is written. `planner::plan` then decides what may run.

use std::collections::{HashMap, HashSet};

use super::apply::check_existing_key;
use super::plan::{FixPlan, Target};
use super::planner::{Candidate, KeyDecision, NewKeySettings, PlanRequest, RegionChoice};
use super::policy::KeyPolicySpec;
use super::principals::{check_principals, resolve_caller};
use crate::aws::{CallerIdentity, Session};
use crate::model::filter::{Filter, search_text};
use crate::model::{Guardrail, Level};
use crate::scan::usage::{Sources, attach_checked, read_sources};
use crate::scan::{ScanOptions, collect};

/// The key a fix asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRequest {
    /// A new key in each region.
    Create {
        alias: String,
        description: String,
        admins: Vec<String>,
        managers: Vec<String>,
        users: Vec<String>,
        external_accounts: Vec<String>,
        tags: Vec<(String, String)>,
        rotation_days: Option<i32>,
    },
    /// An existing key (key id, ARN, alias name or alias ARN).
    Existing(String),
}

/// A headless fix, as the command line asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixRequest {
    pub filter: Option<String>,
    pub guardrails: Vec<String>,
    pub key: KeyRequest,
    pub include_compliant: bool,
    /// Accepted risks: the guardrails they mute are left out unless `include_muted`.
    pub exceptions: Option<crate::model::exceptions::Exceptions>,
    pub include_muted: bool,
    /// One multi-Region key for every region (`--multi-region`), its primary in
    /// `primary_region` (default: the plan's first region).
    pub multi_region: bool,
    pub primary_region: Option<String>,
    pub include_failed: bool,
    pub include_managed: bool,
    pub grant_users: bool,
    pub allow_lockout: bool,
    pub publish_version: bool,
}

/// An account's fix, planned (None: nothing to do), and what preparing it had to say.
pub struct Prepared {
    pub plan: Option<FixPlan>,
    /// For standard output: notes, the summary and the diff.
    pub out: Vec<String>,
    /// For standard error: guardrails left out before planning, and why.
    pub remarks: Vec<String>,
}

impl Prepared {
    /// Whether guardrails were asked for but the gate let none of them move.
    pub fn all_held_back(&self) -> bool {
        self.plan
            .as_ref()
            .is_some_and(|p| p.guardrail_count() == 0 && !p.held.is_empty())
    }
}

fn region_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| !r.is_empty())
}

/// Reads what the fix of one account needs and plans it; `per_region` GetGuardrail calls in
/// flight per region for the selection's scan; `org` reads the account's service control
/// policies (the organization's management session in `--org`). Nothing is written.
pub async fn prepare(
    session: &Session,
    org: &Session,
    identity: &CallerIdentity,
    regions: &[String],
    request: &FixRequest,
    per_region: usize,
) -> Result<Prepared, String> {
    let mut remarks = Vec::new();
    let filter = request
        .filter
        .as_deref()
        .map(|f| Filter::check(f).map_err(|e| format!("--filter: {e}")))
        .transpose()?;
    let mut guardrails = select(session, regions, request, per_region).await?;
    // Who uses them: the plan keeps them able to decrypt, or holds the guardrail back. Read
    // before the filter and before compliant ones are left out: a key that locks its users
    // out is a finding (`key-locks-out-users`), which `status:fail` selects.
    let mut sources = read_sources(session, org, identity.partition(), &identity.account, &guardrails).await;
    attach_checked(session, &mut sources, &mut guardrails).await;
    let index = sources.iam_index();
    if let Some(f) = &filter {
        guardrails.retain(|g| f.matches(g, &search_text(g)));
    }
    if guardrails.is_empty() {
        return Ok(Prepared {
            plan: None,
            out: vec!["Nothing to fix: no guardrail matches.".into()],
            remarks,
        });
    }
    if let Some(exceptions) = &request.exceptions {
        exceptions.apply(&mut guardrails, crate::model::exceptions::today());
        let before = guardrails.len();
        if !request.include_muted {
            guardrails.retain(|g| !g.is_muted());
        }
        let left_out = before - guardrails.len();
        if left_out > 0 {
            remarks.push(format!(
                "guardkey: {} muted by an accepted risk ({}): left out (--include-muted moves {} too)",
                crate::report::plural(left_out, "guardrail"),
                exceptions.path,
                if left_out == 1 { "it" } else { "them" }
            ));
        }
    }
    guardrails.retain(|g| {
        // As in the wizard: a guardrail that passes already is left alone unless asked.
        let keep = g.posture.level != Level::Pass || request.include_compliant;
        if !keep {
            remarks.push(format!(
                "guardkey: {} ({}) passes already: left out (--include-compliant moves it too)",
                g.name, g.region
            ));
        }
        keep
    });
    let guardrails = leave_out_managed(session, request, guardrails, &mut remarks).await;
    if guardrails.is_empty() {
        return Ok(Prepared {
            plan: None,
            out: vec!["Nothing to fix: every guardrail selected is left out (see above).".into()],
            remarks,
        });
    }
    let mut guardrails = guardrails;
    let mut notes = check_users_exist(session, identity, &mut guardrails, &sources).await;
    let choices = key_choices(session, identity, request, guardrails, &mut notes).await?;
    // The fixing caller, checked to be able to write guardrails with each key.
    let writer = match resolve_caller(session, &identity.arn).await {
        crate::fix::policy::CallerPrincipal::Arn(a) => Some(a),
        _ => None,
    };
    // IAM's policy simulator on each existing key the plan moves guardrails to, for their users.
    let mut uses = Vec::new();
    for choice in &choices {
        let super::planner::KeyDecision::Existing { arn, .. } = &choice.key else {
            continue;
        };
        for c in &choice.candidates {
            for u in c.usage.iter().flat_map(|u| u.users.iter()).filter(|u| !u.missing) {
                uses.push((u.principal.clone(), choice.region.clone(), arn.clone()));
            }
        }
    }
    let answers = match sources.iam.as_ref() {
        Ok(iam) => crate::scan::usage::ask_iam_simulator_for(session, iam, uses).await,
        Err(_) => Default::default(),
    };
    let answered = super::planner::AnsweredIam {
        iam: &index,
        answers: &answers,
    };
    let mut plan = super::planner::plan(PlanRequest {
        account: identity.account.clone(),
        regions: choices,
        iam: &answered,
        writer,
        grant_users: request.grant_users,
        allow_lockout: request.allow_lockout,
        publish_version: request.publish_version,
    })?;
    if request.multi_region {
        plan.make_multi_region(request.primary_region.as_deref())?;
    }
    notes.extend(plan.notes.iter().cloned());
    if plan.guardrail_count() == 0 && plan.held.is_empty() {
        notes.push("Nothing to fix: every selected guardrail is on the target key already.".into());
        return Ok(Prepared {
            plan: None,
            out: notes,
            remarks,
        });
    }
    notes.push(plan.summary());
    if plan.guardrail_count() > 0 {
        notes.push(plan.diff());
    }
    Ok(Prepared {
        plan: Some(plan),
        out: notes,
        remarks,
    })
}

/// The guardrails the request names (with a filter: every guardrail of the regions, for
/// the filter to match once their users are known), from a scan of the regions they can be
/// in. A region that could not be read is an error: "nothing to fix there" would be a guess.
async fn select(
    session: &Session,
    regions: &[String],
    request: &FixRequest,
    per_region: usize,
) -> Result<Vec<Guardrail>, String> {
    let regions: Vec<String> =
        if request.guardrails.iter().all(|g| g.starts_with("arn:")) && request.filter.is_none() {
            let mut r: Vec<String> = Vec::new();
            for arn in &request.guardrails {
                let region = region_of(arn).ok_or_else(|| format!("'{arn}' is not a guardrail ARN"))?;
                if !r.iter().any(|x| x == region) {
                    r.push(region.to_string());
                }
            }
            r
        } else {
            regions.to_vec()
        };
    let result = collect(
        session.clone(),
        ScanOptions {
            regions,
            concurrency_per_region: per_region,
            ..ScanOptions::default()
        },
        |_| {},
    )
    .await;
    let unreadable: Vec<String> = result
        .regions
        .iter()
        .filter_map(|r| {
            let e = r.unreadable()?;
            Some(format!("{} ({}: {})", r.region, e.label(), e.detail()))
        })
        .collect();
    if !unreadable.is_empty() {
        return Err(format!(
            "could not read {}: guardkey cannot tell what to fix there. Grant what is missing, or leave \
             those regions out with --regions",
            unreadable.join("; ")
        ));
    }
    let mut wanted: HashSet<&str> = request.guardrails.iter().map(String::as_str).collect();
    let picked: Vec<Guardrail> = result
        .guardrails
        .into_iter()
        .filter(|g| request.filter.is_some() || wanted.remove(g.arn.as_str()) | wanted.remove(g.id.as_str()))
        .collect();
    if !wanted.is_empty() {
        let mut missing: Vec<&str> = wanted.into_iter().collect();
        missing.sort();
        return Err(format!(
            "not found in the regions scanned: {} (give the ARN, or --regions)",
            missing.join(", ")
        ));
    }
    Ok(picked)
}

/// Guardrails a CloudFormation stack manages (its `aws:cloudformation:stack-name` and
/// `logical-id` tags): fixed through the API, the stack drifts and its next update may put
/// the AWS-owned key back. They are left out, with the template property to set, unless
/// `include_managed`.
async fn leave_out_managed(
    session: &Session,
    request: &FixRequest,
    selected: Vec<Guardrail>,
    remarks: &mut Vec<String>,
) -> Vec<Guardrail> {
    let mut out = Vec::with_capacity(selected.len());
    for g in selected {
        let region = g.region.to_string();
        let bedrock = session.bedrock(&region);
        match session.guardrail_tags(&bedrock, &g.arn).await {
            Ok(tags) => match crate::model::ManagedBy::of(&tags) {
                Some(managed) => {
                    let (stack, logical) = (
                        managed.stack.clone(),
                        managed
                            .logical_id
                            .as_ref()
                            .map_or(String::new(), |l| format!(" (resource {l})")),
                    );
                    if request.include_managed {
                        remarks.push(format!(
                            "guardkey: {} ({region}) is managed by CloudFormation stack {stack}{logical}: \
                             moved as asked (--include-managed); set KmsKeyArn on it in the template too, \
                             or the next stack update may put the AWS-owned key back",
                            g.name
                        ));
                        out.push(g);
                    } else {
                        remarks.push(format!(
                            "guardkey: {} ({region}) is managed by CloudFormation stack {stack}{logical}: \
                             left out. Set KmsKeyArn on the AWS::Bedrock::Guardrail in the template \
                             (fixing it here makes the stack drift), or pass --include-managed",
                            g.name
                        ));
                    }
                }
                None => out.push(g),
            },
            Err(e) => {
                remarks.push(format!(
                    "guardkey: {} ({region}): its tags could not be read ({}: {}), so whether a \
                     CloudFormation stack manages it is not known",
                    g.name,
                    e.label(),
                    e.detail()
                ));
                out.push(g);
            }
        }
    }
    out
}

/// Who the new keys' policies name: the request's principals checked with IAM (a session
/// becomes its role, with its path), the caller by default, as IAM says it is named.
async fn key_people(
    session: &Session,
    identity: &CallerIdentity,
    admins: &[String],
    managers: &[String],
    users: &[String],
    notes: &mut Vec<String>,
) -> Result<(Vec<String>, Vec<String>, Vec<String>), String> {
    let (account, partition) = (&identity.account, identity.partition());
    let mut check = async |flag: &str, list: &[String]| {
        let (ok, more) = check_principals(session, account, partition, flag, list).await?;
        notes.extend(more);
        Ok::<_, String>(ok)
    };
    let admins = check("--admin", admins).await?;
    let managers = check("--manager", managers).await?;
    let users = check("--user", users).await?;
    let caller = if admins.is_empty() || managers.is_empty() {
        let caller = resolve_caller(session, &identity.arn).await;
        if let Some(w) = caller.warning() {
            notes.push(format!("warning: {w}"));
        }
        caller.default_entry()
    } else {
        None
    };
    let or_caller = |list: Vec<String>| {
        if list.is_empty() {
            caller.iter().cloned().collect()
        } else {
            list
        }
    };
    Ok((or_caller(admins), or_caller(managers), users))
}

/// Per region, the key the request chose (a new key's alias checked free, an existing key
/// checked and its policy read) and the guardrails with their DRAFTs, for the planner.
async fn key_choices(
    session: &Session,
    identity: &CallerIdentity,
    request: &FixRequest,
    guardrails: Vec<Guardrail>,
    notes: &mut Vec<String>,
) -> Result<Vec<RegionChoice>, String> {
    // Checked before anything is written: KMS refuses a policy naming one that does not exist.
    let new_key = match &request.key {
        KeyRequest::Create {
            alias,
            description,
            admins,
            managers,
            users,
            external_accounts,
            tags,
            rotation_days,
        } => {
            let (admins, managers, users) =
                key_people(session, identity, admins, managers, users, notes).await?;
            let mut all_tags = vec![("managed-by".to_string(), "guardkey".to_string())];
            all_tags.extend(tags.iter().cloned());
            Some(NewKeySettings {
                alias: alias.clone(),
                description: description.clone(),
                spec: KeyPolicySpec {
                    account: identity.account.clone(),
                    partition: identity.partition().to_string(),
                    administrators: admins,
                    managers,
                    users,
                    external_accounts: external_accounts.clone(),
                },
                tags: all_tags,
                rotation_days: *rotation_days,
            })
        }
        KeyRequest::Existing(_) => None,
    };
    let mut by_region: Vec<(String, Vec<Guardrail>)> = Vec::new();
    for g in guardrails {
        match by_region.iter_mut().find(|(r, _)| *r == *g.region) {
            Some((_, list)) => list.push(g),
            None => by_region.push((g.region.to_string(), vec![g])),
        }
    }
    let mut out = Vec::new();
    for (region, guardrails) in by_region {
        let kms = session.kms(&region);
        let key = match (&new_key, &request.key) {
            (Some(settings), _) => {
                // An alias that exists already is said before anything is created.
                if let Ok(existing) = session.describe_key(&kms, &settings.alias).await {
                    return Err(format!(
                        "{} already exists in {region} and points to {} ({}): use it with --key {}, or choose another --alias",
                        settings.alias, existing.arn, existing.state, settings.alias
                    ));
                }
                KeyDecision::Create(settings.clone())
            }
            (None, KeyRequest::Existing(given)) => {
                let arn = check_existing_key(session, &region, &identity.account, given).await?;
                // Rotation off is a WARN after the fix: say so before it.
                match session.key_rotation(&kms, &arn).await {
                    Ok(crate::model::Rotation::Disabled) => notes.push(format!(
                        "warning: {given} ({region}) has automatic rotation off: the guardrails will report WARN \
                         key-rotation-disabled. Turn it on with: aws kms enable-key-rotation --region {region} --key-id {arn}"
                    )),
                    Ok(_) => {}
                    Err(e) => notes.push(format!(
                        "warning: whether {given} ({region}) rotates could not be read ({}): the scan after the fix will say UNKNOWN",
                        e.label()
                    )),
                }
                let policy = session
                    .key_policy(&kms, &arn)
                    .await
                    .map_err(|e| format!("{}: {}", e.label(), e.detail()));
                // Its grants: a user may decrypt through one (none when they cannot be read).
                let grants = session.list_grants(&kms, &arn).await.unwrap_or_default();
                KeyDecision::Existing { arn, policy, grants }
            }
            (None, KeyRequest::Create { .. }) => unreachable!("settings are built for a new key"),
        };
        let mut candidates = Vec::new();
        let bedrock = session.bedrock(&region);
        for g in guardrails {
            // The whole DRAFT, for the AWS CLI script (the fix reads it again before writing).
            let draft = session.read_guardrail(&bedrock, &g.arn, None).await.ok();
            if let Some(d) = draft.as_ref().filter(|d| d.status == "FAILED") {
                notes.push(format!(
                    "{} ({region}): {} before the fix; {}",
                    g.name,
                    d.failure(),
                    if request.include_failed {
                        "it is rewritten as --include-failed asks"
                    } else {
                        "it is left out (pass --include-failed to rewrite it)"
                    }
                ));
                if !request.include_failed {
                    continue;
                }
            }
            candidates.push(Candidate {
                target: Target {
                    arn: g.arn.clone(),
                    id: g.id.clone(),
                    name: g.name.clone(),
                    current_key: g.kms_key_arn.clone(),
                    config: draft.map(|d| d.config),
                },
                usage: g.usage.map(|u| *u),
            });
        }
        if !candidates.is_empty() {
            out.push(RegionChoice {
                region,
                key,
                candidates,
            });
        }
    }
    Ok(out)
}

/// Marks the users no key policy can name: a role or user IAM does not list (KMS refuses a
/// principal that does not exist). `attach` marked them where IAM's list was read; where it
/// could not be, each of the account's users is looked up with iam:GetRole or GetUser. Each
/// is said once.
async fn check_users_exist(
    session: &Session,
    identity: &CallerIdentity,
    guardrails: &mut [Guardrail],
    sources: &Sources,
) -> Vec<String> {
    let account = identity.account.clone();
    let mut checked: HashMap<String, bool> = HashMap::new();
    let mut notes = Vec::new();
    for g in guardrails.iter_mut() {
        let name = g.name.clone();
        for u in g.usage.iter_mut().flat_map(|u| u.users.iter_mut()) {
            if u.is_broad() || u.principal.split(':').nth(4) != Some(account.as_str()) {
                continue;
            }
            let p = u.principal.clone();
            let exists = match checked.get(&p) {
                Some(e) => *e,
                None => {
                    let e = if sources.iam.is_ok() {
                        !u.missing
                    } else {
                        let role_or_user = p.rsplit('/').next().unwrap_or_default();
                        let found = if p.contains(":role/") {
                            session.role_arn(identity.partition(), role_or_user).await
                        } else {
                            session.user_arn(identity.partition(), role_or_user).await
                        };
                        found.is_ok_and(|arn| arn == p)
                    };
                    checked.insert(p.clone(), e);
                    if !e {
                        notes.push(format!(
                            "warning: {} uses {name} as {p}, which IAM does not list: it cannot be named in a key policy \
                             (KMS refuses a principal that does not exist), and cannot apply the guardrail today either",
                            u.label(),
                        ));
                    }
                    e
                }
            };
            u.missing |= !exists;
        }
    }
    notes
}
