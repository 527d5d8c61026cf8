//! The one planner of a fix, for the wizard, `guardkey fix` and `fix --org` alike: from the
//! guardrails selected, the key chosen per region and who uses each guardrail, the plan and
//! what may run.
//!
//! The lock-out rule lives here, once: a guardrail whose move would take `kms:Decrypt` from
//! a known user (an agent's or flow's role, a principal allowed `bedrock:ApplyGuardrail`) is
//! held back — left out of the plan, with why and the ways out — unless the lock-out is
//! accepted explicitly (`--allow-lockout`, `o` at the wizard's confirm step), which the plan,
//! the journal and the summary then say. No front end decides this on its own.
//!
//! Pure: what was read from AWS (key policies, the account's IAM) comes in as data.

use std::collections::HashMap;

use serde_json::Value;

use super::plan::{
    FixPlan, KeyChoice, NewKey, PlanUsage, PlannedUser, PolicyGrant, RegionPlan, Target, to_grant,
};
use super::policy::{KeyPolicySpec, USERS_SID, build};
use crate::usage::access::{DECRYPT, decide, decide_for, with_iam_answer};
use crate::usage::{
    Access, GuardrailUser, IamAnswer, IamIndex, KeyFacts, KeyGrant, PrincipalPolicies, Usage,
};

/// The IAM side of a principal's access: its identity policies and boundary, when its
/// account's IAM was read.
pub trait IamFacts {
    fn policies(&self, principal: &str) -> Option<&PrincipalPolicies>;
    /// IAM's policy simulator's answer for kms:Decrypt on `key`, where it was asked.
    fn answer(&self, _principal: &str, _key: &str) -> Option<&IamAnswer> {
        None
    }
}

/// An account's IAM with IAM's policy simulator's answers for the plan's keys.
pub struct AnsweredIam<'a> {
    pub iam: &'a dyn IamFacts,
    pub answers: &'a crate::scan::usage::IamAnswers,
}

impl IamFacts for AnsweredIam<'_> {
    fn policies(&self, principal: &str) -> Option<&PrincipalPolicies> {
        self.iam.policies(principal)
    }

    fn answer(&self, principal: &str, key: &str) -> Option<&IamAnswer> {
        self.answers.get(&(principal.to_string(), key.to_string()))
    }
}

impl IamFacts for IamIndex<'_> {
    fn policies(&self, principal: &str) -> Option<&PrincipalPolicies> {
        self.principal(principal)
    }
}

impl IamFacts for HashMap<String, PrincipalPolicies> {
    fn policies(&self, principal: &str) -> Option<&PrincipalPolicies> {
        self.get(principal)
    }
}

/// A guardrail a front end selected, and who uses it (None: not read).
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub target: Target,
    pub usage: Option<Usage>,
}

/// The settings of a new key; the planner adds the region's guardrail users to `spec.users`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKeySettings {
    pub alias: String,
    pub description: String,
    pub spec: KeyPolicySpec,
    pub tags: Vec<(String, String)>,
    pub rotation_days: Option<i32>,
}

/// The key a front end chose for a region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyDecision {
    Create(NewKeySettings),
    /// An existing key (its ARN, checked) and its policy as read (Err: why it could not be).
    Existing {
        arn: String,
        policy: Result<String, String>,
        /// Its grants (ListGrants; empty when none or not read).
        grants: Vec<KeyGrant>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct RegionChoice {
    pub region: String,
    pub key: KeyDecision,
    pub candidates: Vec<Candidate>,
}

/// What the front end asks for.
pub struct PlanRequest<'a> {
    pub account: String,
    pub regions: Vec<RegionChoice>,
    pub iam: &'a dyn IamFacts,
    /// The fixing caller as IAM names it (a role with its path, a user), checked to be able
    /// to write guardrails with each key; None: not known (a root user, an SSO pattern).
    pub writer: Option<String>,
    /// Add a statement naming the guardrails' users to an existing key's policy where it
    /// would lock them out (`--grant-users`, `g` in the wizard).
    pub grant_users: bool,
    /// Move guardrails even though a known user would lose access (`--allow-lockout`).
    pub allow_lockout: bool,
    pub publish_version: bool,
}

/// A way out of a lock-out, said in the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WayOut {
    /// The existing key's policy can name them.
    GrantUsers,
    /// A new key, whose users statement names them.
    NewKey,
    /// No key helps: the boundary must let kms:Decrypt through.
    WidenBoundary { boundary: String },
    /// Another account's principal: the key policy must name it or its account, and its
    /// account's IAM must allow it.
    OtherAccount { account: String },
    /// Go ahead anyway, journaled.
    AllowLockout,
}

impl WayOut {
    pub fn describe(&self, region: &str) -> String {
        match self {
            WayOut::GrantUsers => {
                "add them to the key's policy: --grant-users (g in the wizard's review); journaled, undone by restore"
                    .into()
            }
            WayOut::NewKey => "use a new key, whose policy names them: --create-key (n in the wizard's key step)".into(),
            WayOut::WidenBoundary { boundary } => format!(
                "let kms:Decrypt (kms:ViaService bedrock.{region}.amazonaws.com) through {boundary}: no key policy lifts a permissions boundary"
            ),
            WayOut::OtherAccount { account } => format!(
                "name account {account} in the key policy (--external-account {account} with a new key) and allow kms:Decrypt on the key in an IAM policy of account {account}"
            ),
            WayOut::AllowLockout => {
                "move it anyway: --allow-lockout (o at the wizard's confirm step); said in the journal and the summary".into()
            }
        }
    }
}

/// A guardrail whose move would take kms:Decrypt from a known user.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldBack {
    pub region: String,
    pub target: Target,
    /// The users that would lose access, with why.
    pub losing: Vec<PlannedUser>,
    pub ways_out: Vec<WayOut>,
    /// The lock-out was accepted (`--allow-lockout`): it is in the plan all the same.
    pub moved_anyway: bool,
}

/// Whether a user could decrypt the guardrail with a key whose policy is `policy`, as KMS
/// decides, with what is known of the user: a principal IAM does not list cannot apply the
/// guardrail at all, and a permissions boundary that keeps kms:Decrypt out wins over any
/// key policy (IAM User Guide, "Policy evaluation logic").
pub fn access_with(
    key_arn: &str,
    policy: Result<&Value, &str>,
    grants: &[KeyGrant],
    user: &GuardrailUser,
    iam: &dyn IamFacts,
) -> Access {
    if user.missing {
        return Access::Denied {
            why: "IAM does not list it: it cannot apply the guardrail with any key".into(),
        };
    }
    if let Some(capped @ Access::Denied { .. }) = &user.capped {
        return capped.clone();
    }
    let facts = KeyFacts {
        arn: key_arn,
        state: "Enabled",
        policy,
        grants,
    };
    let own = decide(&facts, &user.principal, iam.policies(&user.principal));
    with_iam_answer(
        own,
        &user.principal,
        DECRYPT,
        iam.answer(&user.principal, key_arn),
    )
    .access
}

/// What Bedrock needs of whoever creates or updates a guardrail with a customer managed key
/// (AWS's guide, "Create a customer managed key for your guardrail"): a write without one of
/// them fails with AccessDeniedException.
pub const GUARDRAIL_WRITE: [&str; 4] = [
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "kms:DescribeKey",
    "kms:CreateGrant",
];

/// The statement a key's policy lacks for `writer` to write guardrails with it.
pub fn writer_statement(writer: &str) -> String {
    serde_json::to_string_pretty(&serde_json::json!({
        "Sid": "AllowGuardrailWriter", "Effect": "Allow",
        "Principal": {"AWS": writer}, "Action": GUARDRAIL_WRITE, "Resource": "*"
    }))
    .unwrap_or_default()
}

/// Whether `writer` (the fixing caller, as IAM names it) may do what Bedrock needs with the
/// key: Err(the actions it may not, with why) refuses the plan; Ok(notes) for actions whose
/// answer is not known (said, not refused).
pub fn writer_may_use(
    key_arn: &str,
    policy: Result<&Value, &str>,
    grants: &[KeyGrant],
    writer: &str,
    iam: &dyn IamFacts,
) -> Result<Vec<String>, Vec<String>> {
    let facts = KeyFacts {
        arn: key_arn,
        state: "Enabled",
        policy,
        grants,
    };
    let (mut denied, mut unknown) = (Vec::new(), Vec::new());
    for action in GUARDRAIL_WRITE {
        match decide_for(&facts, writer, iam.policies(writer), action).0 {
            Access::Allowed { .. } => {}
            Access::Denied { why } => denied.push(format!("{action}: {why}")),
            Access::Unknown { why } => unknown.push(format!("{action}: {why}")),
        }
    }
    if denied.is_empty() {
        Ok(unknown)
    } else {
        Err(denied)
    }
}

/// The gate: whether the move takes kms:Decrypt from a user that has it now (or may have
/// it). One already locked out loses nothing, nor does a principal IAM does not list (it
/// cannot apply the guardrail with any key).
pub fn loses_access(p: &PlannedUser) -> bool {
    matches!(p.with_key, Access::Denied { .. })
        && !matches!(p.user.current_key, Access::Denied { .. })
        && !p.user.missing
}

/// The users a new key's policy names for these guardrails: the account's own principals
/// that IAM lists (KMS refuses one that does not exist), administrators left to the
/// account-root statement, each once.
pub fn users_to_name<'a>(usages: impl IntoIterator<Item = &'a Usage>, account: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for u in usages.into_iter().flat_map(|u| u.named_users()) {
        if u.nameable_in(account) && !out.contains(&u.principal) {
            out.push(u.principal.clone());
        }
    }
    out
}

/// Why no key guardkey can create would keep a guardrail's users (a boundary, another
/// account's principal): the users and why, or None when a new key keeps them all. The
/// wizard leaves such a guardrail out of its first step.
pub fn no_key_keeps(usage: &Usage, arn: &str, account: &str) -> Option<Vec<PlannedUser>> {
    let (partition, region) = {
        let parts: Vec<&str> = arn.split(':').collect();
        (
            parts.get(1).copied().unwrap_or("aws"),
            parts.get(3).copied().unwrap_or_default(),
        )
    };
    let named = users_to_name([usage], account);
    let mut statements = vec![serde_json::json!({"Effect": "Allow",
        "Principal": {"AWS": format!("arn:{partition}:iam::{account}:root")}, "Action": "kms:*", "Resource": "*"})];
    if !named.is_empty() {
        statements.push(serde_json::json!({"Effect": "Allow", "Principal": {"AWS": named},
            "Action": "kms:Decrypt", "Resource": "*"}));
    }
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": statements});
    let key = format!("arn:{partition}:kms:{region}:{account}:key/new");
    let none: HashMap<String, PrincipalPolicies> = HashMap::new();
    let losing: Vec<PlannedUser> = usage
        .named_users()
        .map(|u| PlannedUser {
            user: u.clone(),
            with_key: access_with(&key, Ok(&policy), &[], u, &none),
        })
        .filter(loses_access)
        .collect();
    (!losing.is_empty()).then_some(losing)
}

fn ways_out(losing: &[PlannedUser], key: &KeyChoice, account: &str, grant_possible: bool) -> Vec<WayOut> {
    let mut out = Vec::new();
    let mut push = |w: WayOut| {
        if !out.contains(&w) {
            out.push(w);
        }
    };
    for p in losing {
        if let Some(Access::Denied { why }) = &p.user.capped {
            let boundary = why
                .split_whitespace()
                .find(|w| w.starts_with("arn:"))
                .unwrap_or("its permissions boundary")
                .to_string();
            push(WayOut::WidenBoundary { boundary });
            continue;
        }
        let whose = p.user.principal.split(':').nth(4).unwrap_or_default();
        if whose != account {
            push(WayOut::OtherAccount {
                account: whose.to_string(),
            });
            continue;
        }
        if p.user.missing {
            continue;
        }
        if let KeyChoice::Existing(_) = key {
            if grant_possible {
                push(WayOut::GrantUsers);
            }
            push(WayOut::NewKey);
        }
    }
    push(WayOut::AllowLockout);
    out
}

/// The statement an existing key's policy lacks for `principals`, for a person to add.
pub fn users_statement(principals: &[String]) -> String {
    serde_json::to_string_pretty(&serde_json::json!({
        "Sid": USERS_SID, "Effect": "Allow",
        "Principal": {"AWS": principals}, "Action": "kms:Decrypt", "Resource": "*"
    }))
    .unwrap_or_default()
}

fn partition_of(candidates: &[Candidate]) -> &str {
    candidates
        .first()
        .and_then(|c| c.target.arn.split(':').nth(1))
        .unwrap_or("aws")
}

/// Plans the fix: per region the key (a new key's policy naming the region's users), each
/// guardrail's users with that key, the users statement `grant_users` adds, and the gate.
pub fn plan(req: PlanRequest) -> Result<FixPlan, String> {
    let account = req.account.clone();
    let mut plan = FixPlan {
        account: account.clone(),
        publish_version: req.publish_version,
        allow_lockout: req.allow_lockout,
        usage: PlanUsage {
            read: req
                .regions
                .iter()
                .flat_map(|r| &r.candidates)
                .any(|c| c.usage.is_some()),
            ..Default::default()
        },
        ..Default::default()
    };
    for choice in req.regions {
        let region = choice.region.clone();
        let partition = partition_of(&choice.candidates).to_string();
        let mut key_grants = Vec::new();
        let (key, key_arn, policy_text) = match choice.key {
            KeyDecision::Create(settings) => {
                let mut spec = settings.spec.clone();
                for u in users_to_name(
                    choice.candidates.iter().filter_map(|c| c.usage.as_ref()),
                    &account,
                ) {
                    if !spec.users.contains(&u) {
                        spec.users.push(u);
                    }
                }
                let policy = build(&spec)?;
                (
                    KeyChoice::Create(NewKey {
                        alias: settings.alias,
                        description: settings.description,
                        policy: policy.clone(),
                        tags: settings.tags,
                        rotation_days: settings.rotation_days,
                        multi_region: Default::default(),
                    }),
                    format!("arn:{partition}:kms:{region}:{account}:key/new"),
                    Ok(policy),
                )
            }
            KeyDecision::Existing { arn, policy, grants } => {
                key_grants = grants;
                (KeyChoice::Existing(arn.clone()), arn, policy)
            }
        };
        let parse = |text: &Result<String, String>| -> Result<Value, String> {
            let text = text.as_ref().map_err(Clone::clone)?;
            serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))
        };
        let mut policy = parse(&policy_text);
        let evaluate = |policy: &Result<Value, String>, user: &GuardrailUser| {
            access_with(
                &key_arn,
                policy.as_ref().map_err(String::as_str),
                &key_grants,
                user,
                req.iam,
            )
        };
        let mut lines: Vec<Vec<PlannedUser>> = choice
            .candidates
            .iter()
            .map(|c| {
                c.usage
                    .iter()
                    .flat_map(|u| u.named_users())
                    .map(|user| PlannedUser {
                        user: user.clone(),
                        with_key: evaluate(&policy, user),
                    })
                    .collect()
            })
            .collect();
        // An existing key that would lock users out: the statement to add, added if asked.
        let mut grant_possible = false;
        let mut granted: Vec<String> = Vec::new();
        if let KeyChoice::Existing(arn) = &key {
            // A user no key policy can help (its boundary) is not added.
            let locked = to_grant(
                lines
                    .iter()
                    .flatten()
                    .filter(|p| !matches!(p.user.capped, Some(Access::Denied { .. }))),
                &account,
            );
            if !locked.is_empty() {
                let grant = policy_text
                    .clone()
                    .and_then(|old| PolicyGrant::new(&region, arn, old, locked.clone()));
                grant_possible = grant.is_ok();
                match (req.grant_users, grant) {
                    (true, Ok(grant)) => {
                        policy = parse(&Ok(grant.new_policy.clone()));
                        plan.usage.grants.push(grant);
                        granted = locked;
                        for p in lines.iter_mut().flatten() {
                            p.with_key = evaluate(&policy, &p.user);
                        }
                    }
                    (true, Err(e)) => {
                        return Err(format!(
                            "--grant-users: the users statement cannot be added to the policy of {arn} ({region}): {e}"
                        ));
                    }
                    // Not asked to write the key policy: what the users need is said, whether
                    // or not guardkey could write it.
                    (false, grant) => {
                        let statement = users_statement(&locked);
                        let who = locked.join(", ");
                        let note = match (&policy_text, grant) {
                            (Err(e), _) => format!(
                                "warning: with {arn} ({region}), its policy cannot be read ({e}): whether {who} can decrypt the guardrails they use is not known. If they cannot, add this statement to the key policy:\n{statement}"
                            ),
                            (Ok(_), Err(e)) => format!(
                                "warning: with {arn} ({region}), {who} could not decrypt the guardrails they use. --grant-users cannot add it as is ({e}); give them access another way, e.g. this statement in a shorter policy:\n{statement}"
                            ),
                            (Ok(_), Ok(_)) => format!(
                                "warning: with {arn} ({region}), {who} could not decrypt the guardrails they use. Pass --grant-users to add this statement to the key policy (journaled, undone by restore):\n{statement}"
                            ),
                        };
                        plan.notes.push(note);
                    }
                }
            }
        }
        // Bedrock refuses the write itself when the fixing caller may not use the key: said
        // before anything is written, with the statement that lets it.
        if let Some(writer) = &req.writer {
            let key_name = match &key {
                KeyChoice::Existing(arn) => arn.clone(),
                KeyChoice::Create(k) => format!("the new key {}", k.alias),
            };
            match writer_may_use(
                &key_arn,
                policy.as_ref().map_err(String::as_str),
                &key_grants,
                writer,
                req.iam,
            ) {
                Err(denied) => {
                    return Err(format!(
                        "{writer} may not write guardrails with {key_name} ({region}): Bedrock needs kms:Decrypt, \
                         kms:GenerateDataKey, kms:DescribeKey and kms:CreateGrant on it from whoever creates or \
                         updates a guardrail with it ({}). Nothing was written. Add this statement to the key's \
                         policy, or run the fix as a principal the key allows:\n{}",
                        denied.join("; "),
                        writer_statement(writer)
                    ));
                }
                Ok(unknown)
                    if !unknown.is_empty()
                        && choice
                            .candidates
                            .iter()
                            .any(|c| c.target.current_key.as_deref() != Some(key_arn.as_str())) =>
                {
                    plan.notes.push(format!(
                        "warning: whether {writer} may write guardrails with {key_name} ({region}) is not known ({}): \
                         if it may not, Bedrock refuses the update and the guardrail is left as it was",
                        unknown.join("; ")
                    ));
                }
                Ok(_) => {}
            }
        }
        let mut targets = Vec::new();
        for (c, planned) in choice.candidates.into_iter().zip(lines) {
            if let KeyChoice::Existing(k) = &key
                && c.target.current_key.as_deref() == Some(k.as_str())
            {
                // On the key already: kept only when its users gain access through the
                // statement added (a repair: only the key policy changes).
                let repaired = planned.iter().any(|p| granted.contains(&p.user.principal));
                if !repaired {
                    plan.notes
                        .push(format!("{} ({region}) is already on {k}: skipped", c.target.name));
                    continue;
                }
            }
            if let Some(u) = &c.usage {
                if !u.unknown.is_empty() {
                    plan.usage.unknown.insert(c.target.arn.clone(), u.unknown.clone());
                }
                for p in u.named_users() {
                    if let Some(iam) = req.iam.policies(&p.principal) {
                        plan.usage
                            .iam
                            .entry(p.principal.clone())
                            .or_insert_with(|| iam.clone());
                    }
                }
            }
            for p in &planned {
                let whose = p.user.principal.split(':').nth(4).unwrap_or_default();
                if whose != account && matches!(p.with_key, Access::Unknown { .. }) {
                    let note = format!(
                        "warning: {} ({}) is in account {whose}: account {whose} must allow it kms:Decrypt on the key in an IAM policy",
                        p.user.label(),
                        p.user.principal
                    );
                    if !plan.notes.contains(&note) {
                        plan.notes.push(note);
                    }
                }
            }
            let losing: Vec<PlannedUser> = planned.iter().filter(|p| loses_access(p)).cloned().collect();
            plan.usage.users.insert(c.target.arn.clone(), planned);
            if !losing.is_empty() {
                plan.held.push(HeldBack {
                    region: region.clone(),
                    ways_out: ways_out(&losing, &key, &account, grant_possible),
                    target: c.target.clone(),
                    losing,
                    moved_anyway: req.allow_lockout,
                });
                if !req.allow_lockout {
                    continue;
                }
            }
            targets.push(c.target);
        }
        if !targets.is_empty() {
            plan.regions.push(RegionPlan { region, key, targets });
        } else {
            // Nothing moves here: no key is created and no policy written for it.
            plan.usage.grants.retain(|g| g.region != region);
        }
    }
    Ok(plan)
}

/// What the users of a guardrail are left with, with the key's policy as read back: how
/// many keep access, who would lose it, how many are not known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsersAfter {
    pub keep: usize,
    pub lost: Vec<String>,
    pub unknown: usize,
}

impl UsersAfter {
    /// "3 users keep access", "claims-agent … lost access", for summaries.
    pub fn describe(&self) -> String {
        if self.keep == 0 && self.unknown == 0 && self.lost.is_empty() {
            return "no known user (administrators aside)".into();
        }
        let mut parts = vec![format!(
            "{} keep{} access",
            crate::report::plural(self.keep, "user"),
            if self.keep == 1 { "s" } else { "" }
        )];
        if self.unknown > 0 {
            parts.push(format!("{} not known", self.unknown));
        }
        if !self.lost.is_empty() {
            parts.push(format!("LOST ACCESS: {}", self.lost.join("; ")));
        }
        parts.join(", ")
    }
}

/// Every known user evaluated again with the key as it is (its policy read back from KMS),
/// the same evaluation as the plan's.
pub fn users_after(
    key_arn: &str,
    policy: Result<&Value, &str>,
    grants: &[KeyGrant],
    planned: &[PlannedUser],
    iam: &HashMap<String, PrincipalPolicies>,
) -> UsersAfter {
    let mut out = UsersAfter::default();
    // A user is a principal: an agent's DRAFT and its versions run as one role.
    let mut seen: Vec<&str> = Vec::new();
    for p in planned {
        if seen.contains(&p.user.principal.as_str()) {
            continue;
        }
        seen.push(&p.user.principal);
        let now = PlannedUser {
            user: p.user.clone(),
            with_key: access_with(key_arn, policy, grants, &p.user, iam),
        };
        match &now.with_key {
            Access::Allowed { .. } => out.keep += 1,
            Access::Unknown { .. } => out.unknown += 1,
            Access::Denied { why } if loses_access(&now) => {
                out.lost
                    .push(format!("{} ({}): {why}", p.user.label(), p.user.principal))
            }
            Access::Denied { .. } => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::claims_agent;

    const ACCOUNT: &str = "123456789012";
    const ROLE: &str = "arn:aws:iam::123456789012:role/service-role/ClaimsRole";
    const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/k-1";

    fn candidate(name: &str, current_key: Option<&str>) -> Candidate {
        Candidate {
            target: Target {
                arn: format!("arn:aws:bedrock:us-east-1:{ACCOUNT}:guardrail/{name}"),
                id: name.into(),
                name: name.into(),
                current_key: current_key.map(str::to_string),
                config: None,
            },
            usage: Some(Usage {
                users: vec![claims_agent(
                    ROLE,
                    Access::Allowed {
                        how: "AWS-owned key".into(),
                    },
                )],
                unknown: Vec::new(),
            }),
        }
    }

    fn root_only() -> String {
        serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"}]})
        .to_string()
    }

    fn request(key: KeyDecision, candidates: Vec<Candidate>, grant: bool, allow: bool) -> FixPlan {
        let iam: HashMap<String, PrincipalPolicies> = [(
            ROLE.to_string(),
            PrincipalPolicies {
                arn: ROLE.into(),
                ..Default::default()
            },
        )]
        .into();
        plan(PlanRequest {
            account: ACCOUNT.into(),
            regions: vec![RegionChoice {
                region: "us-east-1".into(),
                key,
                candidates,
            }],
            iam: &iam,
            writer: None,
            grant_users: grant,
            allow_lockout: allow,
            publish_version: false,
        })
        .unwrap()
    }

    fn existing() -> KeyDecision {
        KeyDecision::Existing {
            arn: KEY.into(),
            policy: Ok(root_only()),
            grants: vec![],
        }
    }

    #[test]
    fn a_move_that_locks_a_user_out_is_held_back_with_the_ways_out() {
        let plan = request(
            existing(),
            vec![candidate("claims", None), candidate("other", None)],
            false,
            false,
        );
        assert_eq!(plan.guardrail_count(), 0, "both would lock the agent out");
        assert_eq!(plan.held.len(), 2);
        let held = &plan.held[0];
        assert!(!held.moved_anyway);
        assert_eq!(
            held.ways_out,
            vec![WayOut::GrantUsers, WayOut::NewKey, WayOut::AllowLockout]
        );
        assert!(
            plan.notes.iter().any(|n| n.contains("--grant-users")),
            "{:?}",
            plan.notes
        );
        // Granting names the role: nothing is held back, and the agent keeps access.
        let granted = request(existing(), vec![candidate("claims", None)], true, false);
        assert!(granted.held.is_empty());
        assert_eq!(granted.guardrail_count(), 1);
        assert_eq!(granted.usage.grants[0].principals, vec![ROLE.to_string()]);
        // Accepted: moved, and said.
        let accepted = request(existing(), vec![candidate("claims", None)], false, true);
        assert_eq!(accepted.guardrail_count(), 1);
        assert!(accepted.held[0].moved_anyway);
    }

    #[test]
    fn a_new_key_names_the_users_and_a_boundary_is_no_keys_to_lift() {
        let spec = KeyPolicySpec {
            account: ACCOUNT.into(),
            partition: "aws".into(),
            administrators: vec![format!("arn:aws:iam::{ACCOUNT}:role/Admin")],
            managers: vec![format!("arn:aws:iam::{ACCOUNT}:role/Admin")],
            users: Vec::new(),
            external_accounts: Vec::new(),
        };
        let new_key = || {
            KeyDecision::Create(NewKeySettings {
                alias: "alias/g".into(),
                description: "d".into(),
                spec: spec.clone(),
                tags: Vec::new(),
                rotation_days: Some(365),
            })
        };
        let plan = request(new_key(), vec![candidate("claims", None)], false, false);
        assert!(plan.held.is_empty(), "{:?}", plan.held);
        let KeyChoice::Create(k) = &plan.regions[0].key else {
            panic!()
        };
        assert!(k.policy.contains(ROLE), "{}", k.policy);
        // A boundary keeps kms:Decrypt out whatever the key: held, and the way out is the boundary.
        let mut capped = candidate("capped", None);
        capped.usage.as_mut().unwrap().users[0].capped = Some(Access::Denied {
            why: "its permissions boundary arn:aws:iam::123456789012:policy/B does not let kms:Decrypt on the key through".into(),
        });
        assert!(no_key_keeps(capped.usage.as_ref().unwrap(), &capped.target.arn, ACCOUNT).is_some());
        assert!(
            no_key_keeps(
                candidate("x", None).usage.as_ref().unwrap(),
                "arn:aws:bedrock:us-east-1:123456789012:guardrail/x",
                ACCOUNT
            )
            .is_none()
        );
        let plan = request(new_key(), vec![capped], false, false);
        assert_eq!(
            plan.held[0].ways_out,
            vec![
                WayOut::WidenBoundary {
                    boundary: "arn:aws:iam::123456789012:policy/B".into()
                },
                WayOut::AllowLockout
            ]
        );
    }

    #[test]
    fn a_guardrail_on_a_key_that_locks_its_users_out_is_repaired_by_granting() {
        let mut on_key = candidate("claims", Some(KEY));
        on_key.usage.as_mut().unwrap().users[0].current_key = Access::Denied {
            why: "the key policy does not allow it".into(),
        };
        let plan = request(existing(), vec![on_key.clone()], false, false);
        assert_eq!(
            plan.guardrail_count(),
            0,
            "already on it, nothing granted: skipped"
        );
        assert!(plan.held.is_empty(), "already locked out: the move takes nothing");
        let plan = request(existing(), vec![on_key], true, false);
        assert_eq!(plan.guardrail_count(), 1, "repaired: kept for the policy change");
        assert_eq!(plan.usage.grants.len(), 1);
    }

    #[test]
    fn users_after_says_who_keeps_and_who_lost_access() {
        let c = candidate("claims", None);
        let planned: Vec<PlannedUser> = c
            .usage
            .unwrap()
            .users
            .into_iter()
            .map(|user| PlannedUser {
                user,
                with_key: Access::Allowed {
                    how: "planned".into(),
                },
            })
            .collect();
        let root: Value = serde_json::from_str(&root_only()).unwrap();
        let iam: HashMap<String, PrincipalPolicies> = [(
            ROLE.to_string(),
            PrincipalPolicies {
                arn: ROLE.into(),
                ..Default::default()
            },
        )]
        .into();
        let after = users_after(KEY, Ok(&root), &[], &planned, &iam);
        assert_eq!(after.keep, 0);
        assert_eq!(after.lost.len(), 1, "{after:?}");
        let named: Value =
            serde_json::from_str(&crate::fix::policy::with_users(&root_only(), &[ROLE.to_string()]).unwrap())
                .unwrap();
        let after = users_after(KEY, Ok(&named), &[], &planned, &iam);
        assert_eq!((after.keep, after.lost.len()), (1, 0));
        assert_eq!(users_after(KEY, Err("denied"), &[], &planned, &iam).unknown, 1);
    }

    #[test]
    fn a_grant_for_decrypt_keeps_the_agent_and_one_for_another_operation_or_grantee_does_not() {
        let with_grant = |operations: &[&str], grantee: &str, constrained| KeyDecision::Existing {
            arn: KEY.into(),
            policy: Ok(root_only()),
            grants: vec![KeyGrant {
                id: "g-1".into(),
                grantee: grantee.into(),
                operations: operations.iter().map(|o| o.to_string()).collect(),
                constrained,
            }],
        };
        let plan = request(
            with_grant(&["Decrypt"], ROLE, false),
            vec![candidate("claims", None)],
            false,
            false,
        );
        assert!(plan.held.is_empty(), "{:?}", plan.held);
        assert_eq!(plan.guardrail_count(), 1);
        let how = &plan.usage.users[&plan.regions[0].targets[0].arn][0].with_key;
        assert!(how.reason().contains("g-1"), "{how:?}");
        // Another operation, another grantee: no access, held back as without a grant.
        for other in [
            with_grant(&["Encrypt"], ROLE, false),
            with_grant(&["Decrypt"], "arn:aws:iam::123456789012:role/Other", false),
        ] {
            let plan = request(other, vec![candidate("claims", None)], false, false);
            assert_eq!(plan.held.len(), 1);
        }
    }

    #[test]
    fn a_key_the_fixing_caller_may_not_use_is_refused_before_any_write() {
        const WRITER: &str = "arn:aws:iam::123456789012:role/GuardrailAdmin";
        let writer_iam = PrincipalPolicies {
            arn: WRITER.into(),
            documents: vec![serde_json::json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]})],
            ..Default::default()
        };
        let iam: HashMap<String, PrincipalPolicies> = [
            (
                ROLE.to_string(),
                PrincipalPolicies {
                    arn: ROLE.into(),
                    ..Default::default()
                },
            ),
            (WRITER.to_string(), writer_iam),
        ]
        .into();
        let attempt = |policy: String, writer: Option<&str>| {
            plan(PlanRequest {
                account: ACCOUNT.into(),
                regions: vec![RegionChoice {
                    region: "us-east-1".into(),
                    key: KeyDecision::Existing {
                        arn: KEY.into(),
                        policy: Ok(policy),
                        grants: vec![],
                    },
                    candidates: vec![candidate("claims", None)],
                }],
                iam: &iam,
                writer: writer.map(str::to_string),
                grant_users: true,
                allow_lockout: false,
                publish_version: false,
            })
        };
        // The account-root statement lets IAM allow it: the writer's kms:* does.
        assert!(attempt(root_only(), Some(WRITER)).is_ok());
        // A policy naming only the agent: KMS refuses the writer whatever its IAM says.
        let agent_only = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": ROLE}, "Action": "kms:*", "Resource": "*"}]})
        .to_string();
        let refused = attempt(agent_only.clone(), Some(WRITER)).unwrap_err();
        assert!(
            refused.contains("kms:CreateGrant") && refused.contains("Nothing was written"),
            "{refused}"
        );
        assert!(
            refused.contains("\"AllowGuardrailWriter\"") && refused.contains(WRITER),
            "{refused}"
        );
        // Not evaluated when the caller is not named exactly (a root user, an SSO pattern).
        assert!(attempt(agent_only, None).is_ok());
    }
}
