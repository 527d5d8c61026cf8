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
use crate::usage::{
    Access, AccountIam, GuardrailUser, IamIndex, KeyFacts, UnknownSource, Usage, Via, decrypt_access,
    guardrail_id_of,
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
}

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
    partition: &str,
    account: &str,
    guardrails: &[Guardrail],
) -> Sources {
    let (iam, (regions, key_policies)) = tokio::join!(
        session.account_iam(partition, account),
        read_regions_and_keys(session, guardrails)
    );
    Sources {
        iam: std::sync::Arc::new(iam),
        regions,
        key_policies,
    }
}

/// The same, with the account's IAM already read (the explorer reads it once, and each
/// region's agents, flows and keys as the region comes in).
pub async fn read_sources_with(
    session: &Session,
    iam: std::sync::Arc<Result<AccountIam, CallError>>,
    guardrails: &[Guardrail],
) -> Sources {
    let (regions, key_policies) = read_regions_and_keys(session, guardrails).await;
    Sources {
        iam,
        regions,
        key_policies,
    }
}

/// The agents and flows of the guardrails' regions, and the policies of their keys.
async fn read_regions_and_keys(
    session: &Session,
    guardrails: &[Guardrail],
) -> (
    HashMap<String, RegionUses>,
    HashMap<String, Result<Value, CallError>>,
) {
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
        let policy = session
            .key_policy(&session.kms(region), k)
            .await
            .and_then(|text| {
                serde_json::from_str(&text).map_err(|e| CallError::Other {
                    code: "MalformedPolicyDocument".into(),
                    message: e.to_string(),
                })
            });
        (k.to_string(), policy)
    }));
    let (regions, key_policies) = tokio::join!(per_region, policies);
    (regions.into_iter().collect(), key_policies.into_iter().collect())
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
    let mut decided: HashMap<(String, String), Access> = HashMap::new();
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
            usage.users.push(GuardrailUser {
                principal: u.role_arn.clone(),
                via: u.via.clone(),
                guardrail_version: Some(u.guardrail_version.clone()),
                current_key: if missing {
                    Access::Denied {
                        why: "IAM does not list this role: it cannot apply the guardrail".into(),
                    }
                } else {
                    access(&u.role_arn)
                },
                missing,
                capped: capped(&u.role_arn),
            });
        }
        for (p, grant) in index.users_of(&g.arn) {
            // An agent's or flow's role is listed once, as what it runs.
            if usage.users.iter().any(|u| u.principal == p.arn) {
                continue;
            }
            usage.users.push(GuardrailUser {
                principal: p.arn.clone(),
                via: Via::Policy {
                    conditional: grant.conditional,
                    broad: grant.broad,
                },
                guardrail_version: None,
                current_key: access(&p.arn),
                missing: false,
                capped: capped(&p.arn),
            });
        }
        g.set_usage(usage);
    }
}

impl Sources {
    pub fn iam_index(&self) -> IamIndex<'_> {
        match self.iam.as_ref() {
            Ok(iam) => IamIndex::build(iam),
            Err(_) => IamIndex::default(),
        }
    }
}

/// Whether `principal` can decrypt with the guardrail's current key.
fn current_access(sources: &Sources, index: &IamIndex, g: &Guardrail, principal: &str) -> Access {
    let Some(key_arn) = &g.kms_key_arn else {
        return Access::Allowed {
            how: "the AWS-owned key needs no grant".into(),
        };
    };
    let Some(info) = g.key_info() else {
        return Access::Unknown {
            why: "the key could not be described".into(),
        };
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
    let facts = KeyFacts {
        arn: key_arn,
        state: &info.state,
        policy,
    };
    decrypt_access(&facts, principal, index.principal(principal))
}

/// Reads and attaches usage for one account's guardrails (nothing to read without any).
pub async fn attach_usage(session: &Session, account: &str, guardrails: &mut [Guardrail]) {
    let Some(first) = guardrails.first() else {
        return;
    };
    let partition = crate::regions::partition_of_arn(&first.arn).to_string();
    let sources = read_sources(session, &partition, account, guardrails).await;
    attach(&sources, guardrails);
}
