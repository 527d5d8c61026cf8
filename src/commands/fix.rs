//! `guardkey fix` and `guardkey restore`: headless remediation.

use std::collections::HashSet;

use super::{CommandError, Target, connect};
use crate::cli::{FixArgs, GlobalArgs};
use crate::fix::apply::{ApplyOptions, FixEvent, Outcome, OutcomeKind, apply, check_existing_key};
use crate::fix::journal::{self, Journal};
use crate::fix::plan::{FixPlan, KeyChoice, NewKey, RegionPlan, Target as PlanTarget, by_region};
use crate::fix::policy::{KeyPolicySpec, build, validate_alias};
use crate::fix::principals::{check_principals, resolve_caller};
use crate::model::filter::{Filter, search_text};
use crate::report::write_atomically;
use crate::scan::usage::{Sources, read_sources};
use crate::scan::{ScanOptions, collect};

pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

fn region_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| !r.is_empty())
}

/// KMS's tag rules, checked before anything is created: a key once, not `managed-by`
/// (guardkey's own), keys of 1–128 and values of 0–256 characters from letters, digits,
/// spaces and `_ . : / = + - @`, at most 50 tags with guardkey's.
fn check_tags(tags: &[(String, String)]) -> Result<(), CommandError> {
    let allowed = |s: &str| {
        s.chars()
            .all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c))
    };
    let mut seen: Vec<&str> = Vec::new();
    for (k, v) in tags {
        if k == "managed-by" {
            return Err(CommandError(
                "--tag managed-by: guardkey sets managed-by=guardkey itself; choose another key".into(),
            ));
        }
        if seen.contains(&k.as_str()) {
            return Err(CommandError(format!(
                "--tag {k} is given twice: a key has one value per tag"
            )));
        }
        seen.push(k);
        if k.chars().count() > 128 || v.chars().count() > 256 {
            return Err(CommandError(format!(
                "--tag {k}: tag keys are at most 128 characters and values 256"
            )));
        }
        if !allowed(k) || !allowed(v) {
            return Err(CommandError(format!(
                "--tag {k}={v}: KMS allows letters, digits, spaces and _ . : / = + - @ only"
            )));
        }
    }
    if tags.len() + 1 > 50 {
        return Err(CommandError(format!(
            "{} tags and managed-by=guardkey: KMS allows 50 per key",
            tags.len()
        )));
    }
    Ok(())
}

/// Files the fix writes: never one that exists (unless --force), never the same twice.
fn check_outputs(args: &FixArgs) -> Result<(), CommandError> {
    let outputs = [
        ("--emit-cli", args.emit_cli.as_deref()),
        ("--emit-terraform", args.emit_terraform.as_deref()),
    ];
    crate::report::check_new_files(&outputs, args.force).map_err(CommandError)
}

/// A `--guardrail` value as Bedrock would take it: an id, or an ARN of the caller's
/// partition and account in a Bedrock region. Checked before any call.
fn check_guardrail_ref(given: &str, account: &str, partition: &str) -> Result<(), CommandError> {
    let is_id = |s: &str| {
        !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    if given.trim().is_empty() {
        return Err(CommandError(
            "--guardrail is empty: give a guardrail id or ARN".into(),
        ));
    }
    if !given.starts_with("arn:") {
        return if is_id(given) {
            Ok(())
        } else {
            Err(CommandError(format!(
                "--guardrail '{given}' is neither a guardrail id (lowercase letters and digits) nor an ARN"
            )))
        };
    }
    let parts: Vec<&str> = given.splitn(6, ':').collect();
    let malformed = || {
        CommandError(format!(
            "--guardrail '{given}' is not a guardrail ARN (arn:{partition}:bedrock:REGION:ACCOUNT:guardrail/ID)"
        ))
    };
    let ["arn", part, "bedrock", region, acct, resource] = parts.as_slice() else {
        return Err(malformed());
    };
    let id = resource.strip_prefix("guardrail/").ok_or_else(malformed)?;
    if !is_id(id) {
        return Err(malformed());
    }
    if *part != partition {
        return Err(CommandError(format!(
            "--guardrail '{given}' is in partition {part}; the credentials are in {partition}"
        )));
    }
    crate::aws::resolve_regions(&[region.to_string()], partition)
        .map_err(|e| CommandError(format!("--guardrail '{given}': {e}")))?;
    if *acct != account {
        return Err(CommandError(format!(
            "--guardrail '{given}' is in account {acct}, not the caller's {account}: run guardkey with credentials of that account"
        )));
    }
    Ok(())
}

/// The guardrails the arguments select, from a scan of the regions they can be in.
async fn select(
    target: &Target,
    args: &FixArgs,
    per_region: usize,
    remarks: &mut Vec<String>,
) -> Result<(Vec<(String, PlanTarget)>, Vec<crate::model::Guardrail>), CommandError> {
    // Everything that can be wrong with the selection is said before the scan.
    let filter = args
        .filter
        .as_deref()
        .map(|f| Filter::check(f).map_err(|e| CommandError(format!("--filter: {e}"))))
        .transpose()?;
    for g in &args.guardrails {
        check_guardrail_ref(g, &target.identity.account, target.identity.partition())?;
    }
    let regions: Vec<String> =
        if args.guardrails.iter().all(|g| g.starts_with("arn:")) && args.filter.is_none() {
            let mut r: Vec<String> = Vec::new();
            for arn in &args.guardrails {
                let region =
                    region_of(arn).ok_or_else(|| CommandError(format!("'{arn}' is not a guardrail ARN")))?;
                if !r.iter().any(|x| x == region) {
                    r.push(region.to_string());
                }
            }
            r
        } else {
            target.regions.clone()
        };
    let result = collect(
        target.session.clone(),
        ScanOptions {
            regions,
            concurrency_per_region: per_region,
            ..ScanOptions::default()
        },
        |_| {},
    )
    .await;
    // A region that could not be read may hold guardrails the selection would take:
    // "nothing to fix" there would be a guess.
    let unreadable: Vec<String> = result
        .regions
        .iter()
        .filter_map(|r| {
            let e = r.unreadable()?;
            Some(format!("{} ({}: {})", r.region, e.label(), e.detail()))
        })
        .collect();
    if !unreadable.is_empty() {
        return Err(CommandError(format!(
            "could not read {}: guardkey cannot tell what to fix there. Grant what is missing, or leave \
             those regions out with --regions",
            unreadable.join("; ")
        )));
    }
    let mut wanted: HashSet<&str> = args.guardrails.iter().map(String::as_str).collect();
    let mut out = Vec::new();
    let mut picked_guardrails = Vec::new();
    for g in result.guardrails {
        let picked = match &filter {
            Some(f) => f.matches(&g, &search_text(&g)),
            None => wanted.remove(g.arn.as_str()) || wanted.remove(g.id.as_str()),
        };
        // As in the wizard: a guardrail that passes already is left alone unless asked.
        if picked && g.posture.level == crate::model::Level::Pass && !args.include_compliant {
            remarks.push(format!(
                "guardkey: {} ({}) passes already: left out (--include-compliant moves it too)",
                g.name, g.region
            ));
            continue;
        }
        if picked {
            out.push((
                g.region.to_string(),
                PlanTarget {
                    arn: g.arn.clone(),
                    id: g.id.clone(),
                    name: g.name.clone(),
                    current_key: g.kms_key_arn.clone(),
                    config: None,
                },
            ));
            picked_guardrails.push(g);
        }
    }
    if !wanted.is_empty() {
        let mut missing: Vec<&str> = wanted.into_iter().collect();
        missing.sort();
        return Err(CommandError(format!(
            "not found in the regions scanned: {} (give the ARN, or --regions)",
            missing.join(", ")
        )));
    }
    Ok((
        leave_out_managed(target, args, out, remarks).await,
        picked_guardrails,
    ))
}

/// Guardrails a CloudFormation stack manages (its `aws:cloudformation:stack-name` and
/// `logical-id` tags): fixed through the API, the stack drifts and its next update may put
/// the AWS-owned key back. They are left out, with the template property to set, unless
/// `--include-managed`.
async fn leave_out_managed(
    target: &Target,
    args: &FixArgs,
    selected: Vec<(String, PlanTarget)>,
    remarks: &mut Vec<String>,
) -> Vec<(String, PlanTarget)> {
    let mut out = Vec::with_capacity(selected.len());
    for (region, t) in selected {
        let bedrock = target.session.bedrock(&region);
        match target.session.guardrail_tags(&bedrock, &t.arn).await {
            Ok(tags) => match crate::model::ManagedBy::of(&tags) {
                Some(managed) => {
                    let (stack, logical) = (
                        managed.stack.clone(),
                        managed
                            .logical_id
                            .as_ref()
                            .map_or(String::new(), |l| format!(" (resource {l})")),
                    );
                    if args.include_managed {
                        remarks.push(format!(
                            "guardkey: {} ({region}) is managed by CloudFormation stack {stack}{logical}: \
                             moved as asked (--include-managed); set KmsKeyArn on it in the template too, \
                             or the next stack update may put the AWS-owned key back",
                            t.name
                        ));
                        out.push((region, t));
                    } else {
                        remarks.push(format!(
                            "guardkey: {} ({region}) is managed by CloudFormation stack {stack}{logical}: \
                             left out. Set KmsKeyArn on the AWS::Bedrock::Guardrail in the template \
                             (fixing it here makes the stack drift), or pass --include-managed",
                            t.name
                        ));
                    }
                }
                None => out.push((region, t)),
            },
            Err(e) => {
                remarks.push(format!(
                    "guardkey: {} ({region}): its tags could not be read ({}: {}), so whether a \
                     CloudFormation stack manages it is not known",
                    t.name,
                    e.label(),
                    e.detail()
                ));
                out.push((region, t));
            }
        }
    }
    out
}

/// Who the new keys' policies name: the flags' principals checked with IAM (a session
/// becomes its role, with its path), the caller by default, as IAM says it is named.
pub struct KeyPeople {
    pub admins: Vec<String>,
    pub managers: Vec<String>,
    pub users: Vec<String>,
}

async fn key_people(
    target: &Target,
    args: &FixArgs,
    notes: &mut Vec<String>,
) -> Result<KeyPeople, CommandError> {
    let (account, partition) = (&target.identity.account, target.identity.partition());
    let mut check = async |flag: &str, list: &[String]| {
        let (ok, more) = check_principals(&target.session, account, partition, flag, list)
            .await
            .map_err(CommandError)?;
        notes.extend(more);
        Ok::<_, CommandError>(ok)
    };
    let admins = check("--admin", &args.admins).await?;
    let managers = check("--manager", &args.managers).await?;
    let users = check("--user", &args.users).await?;
    let caller = if admins.is_empty() || managers.is_empty() {
        let caller = resolve_caller(&target.session, &target.identity.arn).await;
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
    Ok(KeyPeople {
        admins: or_caller(admins),
        managers: or_caller(managers),
        users,
    })
}

async fn build_plan(
    target: &Target,
    args: &FixArgs,
    selected: Vec<(String, PlanTarget)>,
    guardrails: &[crate::model::Guardrail],
) -> Result<(FixPlan, Vec<String>), CommandError> {
    let mut notes = Vec::new();
    // Checked before anything is written: KMS refuses a policy naming one that does not exist.
    let people = if args.create_key {
        Some(key_people(target, args, &mut notes).await?)
    } else {
        None
    };
    // The guardrails' users, by region: a new key's users statement names them.
    let users_by_region = users_by_region(guardrails, &target.identity.account);
    let mut regions = Vec::new();
    for (region, targets) in by_region(selected) {
        let key = if args.create_key {
            // An alias that exists already is said before anything is created.
            if let Ok(existing) = target
                .session
                .describe_key(&target.session.kms(&region), args.alias())
                .await
            {
                return Err(CommandError(format!(
                    "{} already exists in {region} and points to {} ({}): use it with --key {}, or choose another --alias",
                    args.alias(),
                    existing.arn,
                    existing.state,
                    args.alias()
                )));
            }
            let people = people.as_ref().expect("resolved for --create-key");
            let spec = KeyPolicySpec {
                account: target.identity.account.clone(),
                partition: target.identity.partition().to_string(),
                administrators: people.admins.clone(),
                managers: people.managers.clone(),
                users: {
                    let mut users = people.users.clone();
                    for u in users_by_region.get(&region).into_iter().flatten() {
                        if !users.contains(u) {
                            users.push(u.clone());
                        }
                    }
                    users
                },
                external_accounts: args.external_accounts.clone(),
            };
            let mut tags = vec![("managed-by".to_string(), "guardkey".to_string())];
            tags.extend(args.tags.iter().cloned());
            KeyChoice::Create(NewKey {
                alias: args.alias().to_string(),
                description: args.description().to_string(),
                policy: build(&spec).map_err(CommandError)?,
                tags,
                rotation_days: (!args.no_rotation).then_some(args.rotation()),
            })
        } else {
            let given = args.key.clone().unwrap_or_default();
            let arn = check_existing_key(&target.session, &region, &target.identity.account, &given)
                .await
                .map_err(CommandError)?;
            // Rotation off is a WARN after the fix: say so before it.
            match target.session.key_rotation(&target.session.kms(&region), &arn).await {
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
            KeyChoice::Existing(arn)
        };
        let mut kept = Vec::new();
        for mut t in targets {
            if let KeyChoice::Existing(k) = &key
                && t.current_key.as_deref() == Some(k.as_str())
            {
                notes.push(format!("{} ({region}) is already on {k}: skipped", t.name));
                continue;
            }
            // The whole DRAFT, for the AWS CLI script (the fix reads it again before writing).
            let bedrock = target.session.bedrock(&region);
            let draft = target.session.read_guardrail(&bedrock, &t.arn, None).await.ok();
            let failed_before = draft.as_ref().is_some_and(|d| d.status == "FAILED");
            if let Some(d) = draft.as_ref().filter(|d| d.status == "FAILED") {
                notes.push(format!(
                    "{} ({region}): {} before the fix; {}",
                    t.name,
                    d.failure(),
                    if args.include_failed {
                        "it is rewritten as --include-failed asks"
                    } else {
                        "it is left out (pass --include-failed to rewrite it)"
                    }
                ));
            }
            t.config = draft.map(|d| d.config);
            // Out of the plan (and its AWS CLI script) unless asked; the apply checks again.
            if !failed_before || args.include_failed {
                kept.push(t);
            }
        }
        if !kept.is_empty() {
            regions.push(RegionPlan {
                region,
                key,
                targets: kept,
            });
        }
    }
    Ok((
        FixPlan {
            account: target.identity.account.clone(),
            regions,
            publish_version: args.publish_version,
            usage: Default::default(),
        },
        notes,
    ))
}

/// Marks the users no key policy can name: a role or user IAM does not list (KMS refuses a
/// principal that does not exist). `attach` marked them where IAM's list was read; where it
/// could not be, each of the account's users is looked up with iam:GetRole or GetUser. Each
/// is said once.
async fn check_users_exist(
    target: &Target,
    guardrails: &mut [crate::model::Guardrail],
    sources: &Sources,
) -> Vec<String> {
    let account = target.identity.account.clone();
    let mut checked: std::collections::HashMap<String, bool> = Default::default();
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
                            target
                                .session
                                .role_arn(target.identity.partition(), role_or_user)
                                .await
                        } else {
                            target
                                .session
                                .user_arn(target.identity.partition(), role_or_user)
                                .await
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

/// Per region, the users of the selected guardrails a new key's users statement names: the
/// account's own that a key policy can name. Administrators are left out: the account-root
/// statement lets their IAM policies grant them the key.
fn users_by_region(
    guardrails: &[crate::model::Guardrail],
    account: &str,
) -> std::collections::HashMap<String, Vec<String>> {
    let mut out: std::collections::HashMap<String, Vec<String>> = Default::default();
    for g in guardrails {
        for u in g.usage.iter().flat_map(|u| u.named_users()) {
            let list = out.entry(g.region.to_string()).or_default();
            if u.nameable_in(account) && !list.contains(&u.principal) {
                list.push(u.principal.clone());
            }
        }
    }
    out
}

/// Fills the plan's usage: each guardrail's users with whether the planned key lets them
/// decrypt; with `--grant-users`, the statement to add to an existing key's policy. Says
/// who would lose access.
async fn plan_usage(
    target: &Target,
    args: &FixArgs,
    plan: &mut FixPlan,
    guardrails: &[crate::model::Guardrail],
    index: &crate::usage::IamIndex<'_>,
    notes: &mut Vec<String>,
) -> Result<(), CommandError> {
    use crate::fix::plan::{PlannedUser, PolicyGrant, to_grant};
    use crate::usage::{Access, KeyFacts, decrypt_access};
    let account = target.identity.account.clone();
    let partition = target.identity.partition().to_string();
    let mut usage = crate::fix::plan::PlanUsage {
        read: true,
        ..Default::default()
    };
    for r in &plan.regions {
        // The key's policy: the one guardkey will create, or the existing key's.
        let (key_arn, policy_text) = match &r.key {
            KeyChoice::Create(k) => (
                format!("arn:{partition}:kms:{}:{account}:key/new", r.region),
                Ok(k.policy.clone()),
            ),
            KeyChoice::Existing(arn) => (
                arn.clone(),
                target
                    .session
                    .key_policy(&target.session.kms(&r.region), arn)
                    .await
                    .map_err(|e| format!("{}: {}", e.label(), e.detail())),
            ),
        };
        let evaluate = |policy: &Result<serde_json::Value, String>, principal: &str| {
            let facts = KeyFacts {
                arn: &key_arn,
                state: "Enabled",
                policy: policy.as_ref().map_err(String::as_str),
            };
            decrypt_access(&facts, principal, index.principal(principal))
        };
        let parse = |text: &Result<String, String>| -> Result<serde_json::Value, String> {
            let text = text.as_ref().map_err(Clone::clone)?;
            serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))
        };
        let mut policy = parse(&policy_text);
        let mut lines: Vec<(String, Vec<PlannedUser>)> = Vec::new();
        for t in &r.targets {
            let Some(g) = guardrails.iter().find(|g| g.arn == t.arn) else {
                continue;
            };
            let Some(u) = &g.usage else { continue };
            if !u.unknown.is_empty() {
                usage.unknown.insert(t.arn.clone(), u.unknown.clone());
            }
            let planned: Vec<PlannedUser> = u
                .named_users()
                .map(|user| PlannedUser {
                    user: user.clone(),
                    with_key: evaluate(&policy, &user.principal),
                })
                .collect();
            lines.push((t.arn.clone(), planned));
        }
        // An existing key that would lock users out: the statement to add, added if asked.
        if let KeyChoice::Existing(arn) = &r.key {
            let locked = to_grant(lines.iter().flat_map(|(_, planned)| planned), &account);
            if !locked.is_empty() {
                // The statement to add: from the policy as it reads now, within KMS's quota.
                let grant = policy_text
                    .clone()
                    .and_then(|old| PolicyGrant::new(&r.region, arn, old, locked.clone()));
                match (args.grant_users, grant) {
                    (true, Ok(grant)) => {
                        policy = parse(&Ok(grant.new_policy.clone()));
                        usage.grants.push(grant);
                        for (_, planned) in &mut lines {
                            for p in planned.iter_mut() {
                                p.with_key = evaluate(&policy, &p.user.principal);
                            }
                        }
                    }
                    (true, Err(e)) => {
                        return Err(CommandError(format!(
                            "--grant-users: the users statement cannot be added to the policy of {arn} ({}): {e}",
                            r.region
                        )));
                    }
                    // Without --grant-users the key policy is not written: what the users
                    // need is said, whether or not guardkey could write it.
                    (false, grant) => {
                        let statement = serde_json::to_string_pretty(&serde_json::json!({
                            "Sid": crate::fix::policy::USERS_SID, "Effect": "Allow",
                            "Principal": {"AWS": locked}, "Action": "kms:Decrypt", "Resource": "*"
                        }))
                        .unwrap_or_default();
                        let (who, next) = match (&policy_text, grant) {
                            (Err(e), _) => (
                                format!(
                                    "its policy cannot be read ({e}): whether {} can decrypt the guardrails they use is not known",
                                    locked.join(", ")
                                ),
                                "If they cannot, add this statement to the key policy".to_string(),
                            ),
                            (Ok(_), Err(e)) => (
                                format!("{} could not decrypt the guardrails they use", locked.join(", ")),
                                format!("--grant-users cannot add it as is ({e}); give them access another way, e.g. this statement in a shorter policy"),
                            ),
                            (Ok(_), Ok(_)) => (
                                format!("{} could not decrypt the guardrails they use", locked.join(", ")),
                                "Pass --grant-users to add this statement to the key policy (journaled, undone by restore)"
                                    .to_string(),
                            ),
                        };
                        notes.push(format!(
                            "warning: with {arn} ({}), {who}. {next}:\n{statement}",
                            r.region
                        ));
                    }
                }
            }
        }
        for (arn, planned) in lines {
            for p in &planned {
                // A permissions boundary keeps it out whatever the key: said once, with the way out.
                if let Some(Access::Denied { why }) = &p.user.capped {
                    let note = format!(
                        "warning: {} ({}): {why}, so no key policy can let it decrypt: let kms:Decrypt \
                         (kms:ViaService bedrock.{}.amazonaws.com) through that boundary before applying, \
                         or it loses the guardrail",
                        p.user.label(),
                        p.user.principal,
                        r.region
                    );
                    if !notes.contains(&note) {
                        notes.push(note);
                    }
                }
                let whose = p.user.principal.split(':').nth(4).unwrap_or_default();
                if whose != account && !matches!(p.with_key, Access::Allowed { .. }) {
                    notes.push(format!(
                        "warning: {} ({}) is in account {whose}: the key policy must name it or its account \
                         (--external-account {whose} for a new key), and account {whose} must allow it kms:Decrypt \
                         on the key in an IAM policy",
                        p.user.label(),
                        p.user.principal
                    ));
                }
            }
            usage.users.insert(arn, planned);
        }
    }
    plan.usage = usage;
    Ok(())
}

/// A fix's progress, on standard error; with many accounts each line names its account.
fn print_event(account: &str, e: FixEvent) {
    let at = |region: &str| {
        if account.is_empty() {
            format!("  {region}")
        } else {
            format!("  {account}/{region}")
        }
    };
    match &e {
        FixEvent::KeyReady {
            region,
            key_arn,
            created: true,
        } => eprintln!("{}: created {key_arn}", at(region)),
        FixEvent::KeyReady {
            region,
            key_arn,
            created: false,
        } => eprintln!("{}: using {key_arn}", at(region)),
        FixEvent::KeyWarning { region, warning } => {
            eprintln!("{}: warning: the key policy: {warning}", at(region))
        }
        FixEvent::KeyFailed { region, error } => eprintln!("{}: ✗ {error}", at(region)),
        FixEvent::Writing { .. } => {}
        FixEvent::Changed { region, name, what } => eprintln!("{}: ! {name}: {what}", at(region)),
        FixEvent::Done(Outcome {
            region, name, kind, ..
        }) => match kind {
            OutcomeKind::Fixed { .. } => eprintln!("{}: ✓ {name}", at(region)),
            OutcomeKind::Skipped { reason } => eprintln!("{}: - {name}: {reason}", at(region)),
            OutcomeKind::Failed { error, .. } => eprintln!("{}: ✗ {name}: {error}", at(region)),
        },
    }
}

pub async fn run(global: &GlobalArgs, args: &FixArgs) -> Result<u8, CommandError> {
    super::refuse_unless_writable(global, "fix")?;
    if args.create_key {
        validate_alias(args.alias()).map_err(CommandError)?;
        check_tags(&args.tags)?;
    }
    check_outputs(args)?;
    if super::accounts::many(global) {
        return fix_accounts(global, args).await;
    }
    let target = connect(global, false).await?;
    let planned = plan_account(&target, args, ScanOptions::default().concurrency_per_region).await?;
    planned.print();
    let Some(plan) = planned.plan else {
        return Ok(EXIT_OK);
    };
    if let Some(path) = &args.emit_cli {
        write_atomically(path, |w| w.write_all(plan.cli_script().as_bytes())).map_err(CommandError)?;
        println!("AWS CLI script written to {}", path.display());
    }
    if let Some(path) = &args.emit_terraform {
        let (terraform, gaps) = plan.terraform_with_gaps();
        write_atomically(path, |w| w.write_all(terraform.as_bytes())).map_err(CommandError)?;
        println!("Terraform written to {}", path.display());
        say_terraform_gaps(&gaps);
    }
    if !go_ahead(args)? {
        return Ok(EXIT_OK);
    }
    let (code, journal, summary) = apply_plan(&target, args, &plan, None, "").await?;
    println!("{summary}");
    println!(
        "Journal: {}\nTo undo: guardkey restore {}",
        journal.display(),
        journal.display()
    );
    Ok(code)
}

/// Whether to apply: yes with --yes; a dry run says it changed nothing; neither is an error.
fn go_ahead(args: &FixArgs) -> Result<bool, CommandError> {
    if args.dry_run {
        println!("Dry run: nothing was changed. Run again with --yes to apply.");
        return Ok(false);
    }
    if !args.yes {
        return Err(CommandError(
            "nothing was changed: add --yes to apply the plan shown above, or --dry-run to only show it"
                .into(),
        ));
    }
    Ok(true)
}

/// An account's plan (None: nothing to fix), and what planning it had to say, held so that
/// accounts planned at once are printed one after the other.
struct Planned {
    plan: Option<FixPlan>,
    /// For standard output: notes, the summary and the diff.
    out: Vec<String>,
    /// For standard error: guardrails left out, and why.
    remarks: Vec<String>,
}

impl Planned {
    fn print(&self) {
        for r in &self.remarks {
            eprintln!("{r}");
        }
        for line in &self.out {
            println!("{line}");
        }
    }
}

/// The fix of one account, planned: select (its regions scanned with `per_region`
/// GetGuardrail calls in flight each), who uses them, keys, the plan. Nothing written.
async fn plan_account(target: &Target, args: &FixArgs, per_region: usize) -> Result<Planned, CommandError> {
    let mut remarks = Vec::new();
    let (selected, mut guardrails) = select(target, args, per_region, &mut remarks).await?;
    if selected.is_empty() {
        return Ok(Planned {
            plan: None,
            out: vec!["Nothing to fix: no guardrail matches.".into()],
            remarks,
        });
    }
    // Who uses them: the plan keeps them able to decrypt, or says who would lose access.
    guardrails.retain(|g| selected.iter().any(|(_, t)| t.arn == g.arn));
    let sources = read_sources(
        &target.session,
        target.identity.partition(),
        &target.identity.account,
        &guardrails,
    )
    .await;
    let index = sources.iam_index();
    crate::scan::usage::attach_indexed(&sources, &index, &mut guardrails);
    let missing = check_users_exist(target, &mut guardrails, &sources).await;
    let (mut plan, mut notes) = build_plan(target, args, selected, &guardrails).await?;
    notes.splice(0..0, missing);
    plan_usage(target, args, &mut plan, &guardrails, &index, &mut notes).await?;
    if plan.guardrail_count() == 0 {
        notes.push("Nothing to fix: every selected guardrail is on the target key already.".into());
        return Ok(Planned {
            plan: None,
            out: notes,
            remarks,
        });
    }
    notes.push(plan.summary());
    notes.push(plan.diff());
    Ok(Planned {
        plan: Some(plan),
        out: notes,
        remarks,
    })
}

/// Applies an account's plan, journaled; `account` names it on the progress lines (empty for
/// one account). Returns the exit code, the journal and the summary.
async fn apply_plan(
    target: &Target,
    args: &FixArgs,
    plan: &FixPlan,
    reach: Option<crate::scan::accounts::Reach>,
    account: &str,
) -> Result<(u8, std::path::PathBuf, String), CommandError> {
    let dir = args.journal_dir.clone().unwrap_or_else(journal::default_dir);
    let journal = Journal::create(&dir, "fix").map_err(CommandError)?;
    match account {
        "" => eprintln!("guardkey: journal {}", journal.path().display()),
        name => eprintln!("guardkey: {name}: journal {}", journal.path().display()),
    }
    let options = ApplyOptions {
        caller_arn: target.identity.arn.clone(),
        include_failed: args.include_failed,
        probe: args.probe,
        reach,
        ..ApplyOptions::default()
    };
    let name = account.to_string();
    let on_event = move |e: FixEvent| print_event(&name, e);
    let report = apply(&target.session, plan, &journal, &options, &on_event).await;
    let code = if report.failed() > 0 { EXIT_FAILED } else { EXIT_OK };
    Ok((code, journal.path().to_path_buf(), report.summary()))
}

/// A fix across the accounts of `--org`, `--profiles` or `--role-arns`. Every account is
/// planned first, `--account-concurrency` at a time (each against its own quotas), its plan
/// printed in the accounts' order as soon as those before it are; then the plans are
/// applied, the accounts at once, each with its own journal, which records how the account
/// was reached so that `restore` reaches it the same way.
async fn fix_accounts(global: &GlobalArgs, args: &FixArgs) -> Result<u8, CommandError> {
    use crate::scan::accounts::{AccountTarget, Reach};
    use futures::StreamExt;
    super::accounts::check_flags(global)?;
    let base = super::accounts::connect_base_for(global, false).await?;
    let accounts = super::accounts::targets(global, &base).await?;
    let concurrency = (global.account_concurrency as usize).max(1);
    let mut code = EXIT_OK;
    // Each account with a plan, reached, for the files and the apply.
    let mut planned: Vec<(AccountTarget, Target, FixPlan)> = Vec::new();
    let mut plans = futures::stream::iter(accounts.into_iter().map(|account| {
        let base = &base;
        async move {
            if account.suspended {
                return (
                    account,
                    Err("suspended in the organization: skipped".to_string()),
                    false,
                );
            }
            let target = match super::accounts::reached(base, &account.reach).await {
                Ok(t) => t,
                Err(e) => {
                    return (
                        account,
                        Err(format!("✗ not reached: {}: {}", e.label(), e.detail())),
                        true,
                    );
                }
            };
            // Many accounts' regions at once: fewer calls in flight each (see MANY_ACCOUNTS_CONCURRENCY).
            match plan_account(&target, args, crate::scan::accounts::MANY_ACCOUNTS_CONCURRENCY).await {
                Ok(p) => (account, Ok((target, p)), false),
                Err(e) => (account, Err(format!("✗ {e}")), true),
            }
        }
    }))
    .buffered(concurrency);
    while let Some((account, result, failed)) = plans.next().await {
        println!(
            "\n== account {} ({}), {}",
            account.name,
            account.id,
            account.reach.describe()
        );
        match result {
            Err(why) => {
                println!("{why}");
                if failed {
                    code = code.max(EXIT_FAILED);
                }
            }
            Ok((target, p)) => {
                p.print();
                if let Some(plan) = p.plan {
                    planned.push((account, target, plan));
                }
            }
        }
    }
    let files: Vec<(&AccountTarget, &FixPlan)> = planned.iter().map(|(a, _, p)| (a, p)).collect();
    // As for one account: no plan, no file (an empty script would look like a fix).
    if files.is_empty() && (args.emit_cli.is_some() || args.emit_terraform.is_some()) {
        println!("\nNo account has a plan: no --emit-cli or --emit-terraform file is written.");
    }
    if let Some(path) = args.emit_cli.as_ref().filter(|_| !files.is_empty()) {
        write_atomically(path, |w| {
            w.write_all(crate::fix::accounts::script(&files).as_bytes())
        })
        .map_err(CommandError)?;
        println!(
            "AWS CLI script for {} accounts written to {}",
            files.len(),
            path.display()
        );
    }
    if let Some(path) = args.emit_terraform.as_ref().filter(|_| !files.is_empty()) {
        let (terraform, gaps) = crate::fix::accounts::terraform(&files);
        write_atomically(path, |w| w.write_all(terraform.as_bytes())).map_err(CommandError)?;
        println!(
            "Terraform for {} accounts written to {}",
            files.len(),
            path.display()
        );
        say_terraform_gaps(&gaps);
    }
    if planned.is_empty() {
        return Ok(code);
    }
    println!();
    if !go_ahead(args)? {
        return Ok(code);
    }
    // Each account's own quotas: the accounts' fixes run at once, their progress named;
    // the summaries come in the accounts' order.
    let applied: Vec<_> = futures::stream::iter(planned.iter().map(|(account, target, plan)| async move {
        let reach = (account.reach != Reach::Caller).then(|| account.reach.clone());
        apply_plan(target, args, plan, reach, &account.name).await
    }))
    .buffered(concurrency)
    .collect()
    .await;
    let mut journals = Vec::new();
    for ((account, _, _), result) in planned.iter().zip(applied) {
        println!("\n== account {} ({}): applied", account.name, account.id);
        match result {
            Ok((c, journal, summary)) => {
                code = code.max(c);
                println!("{summary}\nJournal: {}", journal.display());
                journals.push(journal);
            }
            Err(e) => {
                code = code.max(EXIT_FAILED);
                println!("✗ {e}");
            }
        }
    }
    if !journals.is_empty() {
        let list: Vec<String> = journals.iter().map(|j| j.display().to_string()).collect();
        println!("\nTo undo every account: guardkey restore {}", list.join(" "));
    }
    Ok(code)
}

/// What the Terraform of a fix cannot express, said on standard error.
fn say_terraform_gaps(gaps: &[(String, Vec<String>)]) {
    for (name, missing) in gaps {
        eprintln!(
            "guardkey: Terraform: {name} holds settings aws_bedrock_guardrail cannot express ({}); \
             applying its resource would wipe them: fix it with guardkey, not Terraform",
            missing.join("; ")
        );
    }
}
