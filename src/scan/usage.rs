//! Reads who uses an account's guardrails and attaches it to each: the account's IAM once
//! (GetAccountAuthorizationDetails, paged), each region's agents and flows once, and the
//! key policy of each customer managed key once. Every source that cannot be read is named
//! on the guardrails it could have told about: their usage is UNKNOWN there, never "none".

use std::collections::{BTreeSet, HashMap};

use futures::future::join_all;
use serde_json::Value;

use crate::aws::Session;
use crate::aws::usage::NamedUse;
use crate::model::{CallError, Guardrail};
use crate::usage::access::{DECRYPT, Route, decide, with_iam_answer};
use crate::usage::{
    Access, AccountIam, Checked, GuardrailUser, IamAnswer, IamIndex, KeyFacts, KeyGrant, UnknownSource,
    Usage, Via, decrypt_access, guardrail_id_of,
};

/// A region's agents' and flows' uses of guardrails, or why they could not be read.
pub type RegionUses = (Result<Vec<NamedUse>, CallError>, Result<Vec<NamedUse>, CallError>);

/// What the reads gave, before matching.
pub struct Sources {
    /// Shared: read once per account, whatever the regions asked later.
    pub iam: std::sync::Arc<Result<AccountIam, CallError>>,
    /// Per region: agents and flows.
    pub regions: HashMap<String, RegionUses>,
    /// Per key ARN: its policy document.
    pub key_policies: HashMap<String, Result<Value, CallError>>,
    /// Per key ARN: its grants (ListGrants).
    pub key_grants: HashMap<String, Result<Vec<KeyGrant>, CallError>>,
    /// IAM's policy simulator's answers, per (principal, key ARN), where it was asked
    /// (`consult_iam_simulator`).
    pub iam_answers: IamAnswers,
}

/// IAM's policy simulator's answers for kms:Decrypt, per (principal, key ARN).
pub type IamAnswers = HashMap<(String, String), IamAnswer>;

/// A key's policy and its grants, per key ARN.
type KeyReads = HashMap<String, (Result<Value, CallError>, Result<Vec<KeyGrant>, CallError>)>;

fn unknown(source: &str, e: &CallError) -> UnknownSource {
    let hint = match e {
        CallError::AccessDenied { .. } => "; `guardkey policy scan` grants what --usage reads",
        _ => "",
    };
    UnknownSource {
        source: source.into(),
        reason: format!("{}: {}{hint}", e.label(), e.detail()),
    }
}

/// Reads the sources for `guardrails` (all of one account), concurrently.
pub async fn read_sources(
    session: &Session,
    org: &Session,
    partition: &str,
    account: &str,
    guardrails: &[Guardrail],
) -> Sources {
    let (iam, (regions, keys)) = tokio::join!(
        account_iam(session, org, partition, account),
        read_regions_and_keys(session, guardrails)
    );
    Sources::of(std::sync::Arc::new(iam), regions, keys)
}

/// The account's IAM principals with the service control policies that cap them, read by
/// `org` (the organization's management account in an `--org` run, else the caller).
pub async fn account_iam(
    session: &Session,
    org: &Session,
    partition: &str,
    account: &str,
) -> Result<AccountIam, CallError> {
    let (iam, scps) = tokio::join!(
        session.account_iam(partition, account),
        org.account_scps(partition, account)
    );
    iam.map(|mut iam| {
        iam.set_scps(scps);
        iam
    })
}

/// The same, with the account's IAM already read (the explorer reads it once, and each
/// region's agents, flows and keys as the region comes in).
pub async fn read_sources_with(
    session: &Session,
    iam: std::sync::Arc<Result<AccountIam, CallError>>,
    guardrails: &[Guardrail],
) -> Sources {
    let (regions, keys) = read_regions_and_keys(session, guardrails).await;
    Sources::of(iam, regions, keys)
}

/// The agents and flows of the guardrails' regions, and the policies and grants of their keys.
async fn read_regions_and_keys(
    session: &Session,
    guardrails: &[Guardrail],
) -> (HashMap<String, RegionUses>, KeyReads) {
    let regions: BTreeSet<&str> = guardrails.iter().map(|g| &*g.region).collect();
    let keys: BTreeSet<&str> = guardrails
        .iter()
        .filter_map(|g| g.key_info().map(|k| k.arn.as_str()))
        .collect();
    let per_region = join_all(regions.iter().map(|r| async move {
        let (agents, flows) = tokio::join!(session.agent_uses(r), session.flow_uses(r));
        (r.to_string(), (agents, flows))
    }));
    let policies = join_all(keys.iter().map(|k| async move {
        let region = k.split(':').nth(3).unwrap_or_default();
        let kms = session.kms(region);
        let (policy, grants) = tokio::join!(session.key_policy(&kms, k), session.list_grants(&kms, k));
        let policy = policy.and_then(|text| {
            serde_json::from_str(&text).map_err(|e| CallError::Other {
                code: "MalformedPolicyDocument".into(),
                message: e.to_string(),
            })
        });
        (k.to_string(), (policy, grants))
    }));
    let (regions, keys) = tokio::join!(per_region, policies);
    (regions.into_iter().collect(), keys.into_iter().collect())
}

/// Who uses each guardrail, from what was read: matched in one pass per source.
pub fn attach(sources: &Sources, guardrails: &mut [Guardrail]) {
    attach_indexed(sources, &sources.iam_index(), guardrails);
}

/// The same, with the account's IAM index already built (a fix uses it again to plan).
pub fn attach_indexed(sources: &Sources, index: &IamIndex, guardrails: &mut [Guardrail]) {
    // Named uses by (region, guardrail id).
    let mut named: HashMap<(&str, &str), Vec<&NamedUse>> = HashMap::new();
    for (region, (agents, flows)) in &sources.regions {
        for u in agents.iter().flatten().chain(flows.iter().flatten()) {
            named
                .entry((region.as_str(), guardrail_id_of(&u.guardrail)))
                .or_default()
                .push(u);
        }
    }
    let mut decided: HashMap<(String, String), Checked> = HashMap::new();
    for g in guardrails.iter_mut() {
        if g.read_error.is_some() {
            continue;
        }
        let mut usage = Usage::default();
        if let Err(e) = sources.iam.as_ref() {
            usage.unknown.push(unknown("IAM policies", e));
        }
        if let Some((agents, flows)) = sources.regions.get(&*g.region) {
            if let Err(e) = agents {
                usage.unknown.push(unknown("agents", e));
            }
            if let Err(e) = flows {
                usage.unknown.push(unknown("flows", e));
            }
        }
        // Many guardrails share a key and many principals share a grant: each (principal,
        // key) pair is evaluated once.
        let mut access = |principal: &str| {
            let key = (principal.to_string(), g.kms_key_arn.clone().unwrap_or_default());
            if let Some(a) = decided.get(&key) {
                return a.clone();
            }
            let a = current_access(sources, index, g, principal);
            decided.insert(key, a.clone());
            a
        };
        // Whatever key a fix gives the guardrail, a permissions boundary that keeps kms:Decrypt
        // from a user keeps it (a key of this account and region stands for any).
        let any_key = format!(
            "arn:{}:kms:{}:{}:key/*",
            crate::regions::partition_of_arn(&g.arn),
            g.region,
            g.account
        );
        let capped = |principal: &str| {
            index
                .principal(principal)
                .and_then(|p| crate::usage::boundary_limit(p, &any_key))
        };
        for u in named.get(&(&*g.region, g.id.as_str())).into_iter().flatten() {
            // Only a role of this account can be missing from this account's IAM.
            let ours = u.role_arn.split(':').nth(4) == Some(&*g.account);
            let missing = ours && sources.iam.is_ok() && index.principal(&u.role_arn).is_none();
            let checked = if missing {
                Checked {
                    access: Access::Denied {
                        why: "IAM does not list this role: it cannot apply the guardrail".into(),
                    },
                    disagreement: None,
                }
            } else {
                access(&u.role_arn)
            };
            usage.users.push(GuardrailUser {
                principal: u.role_arn.clone(),
                via: u.via.clone(),
                guardrail_version: Some(u.guardrail_version.clone()),
                current_key: checked.access,
                missing,
                capped: capped(&u.role_arn),
                disagreement: checked.disagreement,
            });
        }
        for (p, grant) in index.users_of(&g.arn) {
            // An agent's or flow's role is listed once, as what it runs.
            if usage.users.iter().any(|u| u.principal == p.arn) {
                continue;
            }
            let checked = access(&p.arn);
            usage.users.push(GuardrailUser {
                principal: p.arn.clone(),
                via: Via::Policy {
                    conditional: grant.conditional,
                    broad: grant.broad,
                },
                guardrail_version: None,
                current_key: checked.access,
                missing: false,
                capped: capped(&p.arn),
                disagreement: checked.disagreement,
            });
        }
        g.set_usage(usage);
    }
}

impl Sources {
    fn of(
        iam: std::sync::Arc<Result<AccountIam, CallError>>,
        regions: HashMap<String, RegionUses>,
        keys: KeyReads,
    ) -> Self {
        let (mut key_policies, mut key_grants) = (HashMap::new(), HashMap::new());
        for (arn, (policy, grants)) in keys {
            key_policies.insert(arn.clone(), policy);
            key_grants.insert(arn, grants);
        }
        Sources {
            iam,
            regions,
            key_policies,
            key_grants,
            iam_answers: HashMap::new(),
        }
    }

    pub fn iam_index(&self) -> IamIndex<'_> {
        match self.iam.as_ref() {
            Ok(iam) => IamIndex::build(iam),
            Err(_) => IamIndex::default(),
        }
    }
}

/// Whether `principal` can decrypt with the guardrail's current key, with IAM's policy
/// simulator's word where it was asked.
fn current_access(sources: &Sources, index: &IamIndex, g: &Guardrail, principal: &str) -> Checked {
    let answer = g
        .kms_key_arn
        .as_ref()
        .and_then(|k| sources.iam_answers.get(&(principal.to_string(), k.clone())));
    let own = own_access(sources, index, g, principal);
    with_iam_answer(own, principal, DECRYPT, answer)
}

/// guardkey's own evaluation of `principal`'s access to the guardrail's current key, and how
/// it comes about.
fn own_access(sources: &Sources, index: &IamIndex, g: &Guardrail, principal: &str) -> (Access, Route) {
    let Some(key_arn) = &g.kms_key_arn else {
        return (
            Access::Allowed {
                how: "the AWS-owned key needs no grant".into(),
            },
            Route::Settled,
        );
    };
    let Some(info) = g.key_info() else {
        return (
            Access::Unknown {
                why: "the key could not be described".into(),
            },
            Route::Settled,
        );
    };
    let reason;
    let policy = match sources.key_policies.get(key_arn.as_str()) {
        Some(Ok(p)) => Ok(p),
        Some(Err(e)) => {
            reason = format!("{}: {}", e.label(), e.detail());
            Err(reason.as_str())
        }
        None => Err("not read"),
    };
    let (grants, unread) = match sources.key_grants.get(key_arn.as_str()) {
        Some(Ok(g)) => (g.as_slice(), None),
        Some(Err(e)) => (&[][..], Some(format!("{}: {}", e.label(), e.detail()))),
        None => (&[][..], None),
    };
    let facts = KeyFacts {
        arn: key_arn,
        state: &info.state,
        policy,
        grants,
    };
    let iam = index.principal(principal);
    match (decide(&facts, principal, iam), unread) {
        // Denied, but a grant it may have would allow it: not a verdict guardkey can give.
        ((Access::Denied { why }, route), Some(e)) => {
            let supposed = [KeyGrant {
                id: "supposed".into(),
                grantee: principal.to_string(),
                operations: vec!["Decrypt".into()],
                constrained: false,
            }];
            let with_grant = KeyFacts {
                grants: &supposed,
                ..facts
            };
            match decrypt_access(&with_grant, principal, iam) {
                Access::Denied { .. } => (Access::Denied { why }, route),
                _ => (
                    Access::Unknown {
                        why: format!(
                            "{why}, and the key's grants could not be read ({e}): a grant may allow it"
                        ),
                    },
                    Route::Unknown,
                ),
            }
        }
        (decided, _) => decided,
    }
}

/// How many SimulatePrincipalPolicy calls are in flight at once, per account: IAM's
/// control-plane quotas are per account, and the SDK's standard retry backs off on a throttle.
const SIMULATIONS_IN_FLIGHT: usize = 8;

/// Asks IAM's policy simulator, for every user of these guardrails (of `account`, as IAM
/// lists it) and each customer managed key they decrypt the guardrails with, whether its
/// identity policies, boundary and SCPs allow kms:Decrypt via Bedrock: one call per user and
/// region, every key of the region in it. The permission is optional: a first call denied
/// (or failing) leaves guardkey's own evaluation standing, and nothing more is asked.
pub async fn ask_iam_simulator(session: &Session, sources: &Sources, guardrails: &[Guardrail]) -> IamAnswers {
    let mut uses = Vec::new();
    for g in guardrails {
        let (Some(key), Some(usage)) = (&g.kms_key_arn, g.usage.as_ref()) else {
            continue;
        };
        for u in usage.users.iter().filter(|u| !u.missing) {
            uses.push((u.principal.clone(), g.region.to_string(), key.clone()));
        }
    }
    match sources.iam.as_ref() {
        Ok(iam) => ask_iam_simulator_for(session, iam, uses).await,
        Err(_) => IamAnswers::new(),
    }
}

/// Asks IAM's policy simulator about each (principal, region, key ARN) given whose principal
/// `iam` lists (the account's own: another account's principals are not its to simulate).
pub async fn ask_iam_simulator_for(
    session: &Session,
    iam: &AccountIam,
    uses: Vec<(String, String, String)>,
) -> IamAnswers {
    use futures::StreamExt;
    let listed: std::collections::HashSet<&str> = iam.principals.iter().map(|p| p.arn.as_str()).collect();
    let mut asks: std::collections::BTreeMap<(String, String), BTreeSet<String>> = Default::default();
    for (principal, region, key) in uses {
        if listed.contains(principal.as_str()) && key.split(':').nth(4) == Some(&*iam.account) {
            asks.entry((principal, region)).or_default().insert(key);
        }
    }
    let Some(partition) = iam
        .principals
        .first()
        .map(|p| crate::regions::partition_of_arn(&p.arn))
    else {
        return IamAnswers::new();
    };
    let ask = |(principal, region): (String, String), keys: BTreeSet<String>| async move {
        let keys: Vec<String> = keys.into_iter().collect();
        let answers = session
            .simulate_key_use(partition, &principal, &region, DECRYPT, &keys)
            .await;
        (principal, answers)
    };
    let mut asks = asks.into_iter();
    let mut out = IamAnswers::new();
    // The first alone: without the permission, one denied call, not one per user.
    let Some((first, keys)) = asks.next() else {
        return out;
    };
    let mut record =
        |(principal, answers): (String, Result<Vec<(String, IamAnswer)>, CallError>)| match answers {
            Ok(list) => {
                for (key, answer) in list {
                    out.insert((principal.clone(), key), answer);
                }
                true
            }
            Err(_) => false,
        };
    if !record(ask(first, keys).await) {
        return IamAnswers::new();
    }
    let mut rest =
        futures::stream::iter(asks.map(|(who, keys)| ask(who, keys))).buffer_unordered(SIMULATIONS_IN_FLIGHT);
    while let Some(answered) = rest.next().await {
        record(answered);
    }
    out
}

/// Attaches usage from what was read, then with IAM's policy simulator's answers where it
/// could be asked (they replace guardkey's own where they speak, a disagreement said).
pub async fn attach_checked(session: &Session, sources: &mut Sources, guardrails: &mut [Guardrail]) {
    attach(sources, guardrails);
    let answers = ask_iam_simulator(session, sources, guardrails).await;
    if !answers.is_empty() {
        sources.iam_answers = answers;
        attach(sources, guardrails);
    }
}

/// Reads and attaches usage for one account's guardrails (nothing to read without any);
/// `org` reads the account's SCPs.
pub async fn attach_usage(session: &Session, org: &Session, account: &str, guardrails: &mut [Guardrail]) {
    let Some(first) = guardrails.first() else {
        return;
    };
    let partition = crate::regions::partition_of_arn(&first.arn).to_string();
    let mut sources = read_sources(session, org, &partition, account, guardrails).await;
    attach_checked(session, &mut sources, guardrails).await;
}
