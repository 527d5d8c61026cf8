//! A scan of many accounts: each account reached its own way (the caller's credentials, a
//! profile, a role assumed from the caller), scanned as one account is, the accounts
//! concurrently. A bound on the accounts in flight keeps the work finite; tokio's semaphore
//! is first-come first-served, so no account starves. Each account's regions run as in a
//! single-account scan, against that account's own quotas.

use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use super::{ScanOptions, ScanResult, collect};
use crate::aws::{CallerIdentity, Session, SessionOptions};
use crate::model::CallError;

/// How an account is reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reach {
    /// The caller's own credentials (the management account of `--org`, a single account).
    Caller,
    /// A named profile (`--profiles`).
    Profile { name: String },
    /// A role assumed with the caller's credentials (`--org`, `--role-arns`).
    Role { arn: String },
}

impl Reach {
    /// "as role/OrganizationAccountAccessRole", "with profile prod", "as the caller".
    pub fn describe(&self) -> String {
        match self {
            Reach::Caller => "with the caller's credentials".into(),
            Reach::Profile { name } => format!("with profile {name}"),
            Reach::Role { arn } => format!("as {arn}"),
        }
    }
}

/// An account to scan, before it is reached.
#[derive(Debug, Clone)]
pub struct AccountTarget {
    /// Empty for a profile, until it is reached.
    pub id: String,
    pub name: String,
    pub reach: Reach,
    /// Suspended (or closing) in the organization: reported, never scanned.
    pub suspended: bool,
}

/// How one account's scan ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountOutcome {
    pub id: String,
    pub name: String,
    pub reach: Reach,
    pub guardrails: usize,
    pub elapsed_ms: u64,
    /// Why it could not be read at all (the role could not be assumed, the profile has no
    /// credentials, every region failed); None when it was.
    pub error: Option<CallError>,
    /// Suspended in the organization: nothing to scan, and no part of the estate hidden.
    #[serde(default)]
    pub suspended: bool,
}

impl AccountOutcome {
    /// A suspended account's outcome: listed, never scanned, nothing of the estate hidden.
    pub fn suspended(target: &AccountTarget) -> Self {
        AccountOutcome {
            id: target.id.clone(),
            name: target.name.clone(),
            reach: target.reach.clone(),
            guardrails: 0,
            elapsed_ms: 0,
            error: Some(CallError::Other {
                code: "AccountSuspended".into(),
                message: "the account is suspended in the organization: nothing runs there".into(),
            }),
            suspended: true,
        }
    }

    /// The error that kept this account's guardrails from being seen, if one did.
    pub fn unreadable(&self) -> Option<&CallError> {
        self.error.as_ref().filter(|_| !self.suspended)
    }
}

/// Reports as accounts end, for progress displays.
#[derive(Debug, Clone)]
pub enum AccountEvent {
    /// Rows of an account came in.
    Rows {
        account: String,
        rows: usize,
    },
    Done {
        outcome: AccountOutcome,
    },
}

/// The role session name guardkey's assumed sessions carry (CloudTrail shows it).
pub const SESSION_NAME: &str = "guardkey";

/// The session that reaches an account the way `reach` says, from the caller's session,
/// and who it is when reaching it already asked (a profile is proven by signing in).
pub async fn reach_session(
    base: &Session,
    reach: &Reach,
) -> Result<(Session, Option<CallerIdentity>), CallError> {
    match reach {
        Reach::Caller => Ok((base.clone(), None)),
        Reach::Role { arn } => Ok((base.assume(arn, SESSION_NAME).await?, None)),
        Reach::Profile { name } => {
            let session = Session::connect(SessionOptions {
                profile: Some(name.clone()),
                endpoint_url: base.endpoint_url.clone(),
                read_only: base.is_read_only(),
                attempt_timeout: None,
            })
            .await;
            // A profile that cannot sign in is this account's failure, said as for one account.
            let identity = session.identify().await.map_err(|message| CallError::Other {
                code: "ProfileCredentials".into(),
                message,
            })?;
            Ok((session, Some(identity)))
        }
    }
}

/// GetGuardrail calls in flight per account and region in a scan of many accounts (the
/// default of one account is 8): measured with `cargo bench --bench scan -- organization`
/// (200 accounts × 2 regions, 5/s quotas), 8 took 2.4× one account's quota limit, the
/// hundreds of regions in flight meeting their quotas in a storm of throttles; 4 took 1.35×.
pub const MANY_ACCOUNTS_CONCURRENCY: usize = 4;

/// Scans every target, `concurrency` accounts at a time; never stops at an account that fails.
pub async fn collect_accounts(
    base: &Session,
    targets: Vec<AccountTarget>,
    options: ScanOptions,
    concurrency: usize,
    on_event: impl Fn(&AccountEvent) + Send + Sync,
) -> (ScanResult, Vec<AccountOutcome>) {
    let started = Instant::now();
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let on_event = &on_event;
    let tasks = targets.into_iter().map(|target| {
        let permits = permits.clone();
        let options = options.clone();
        async move {
            let _permit = permits
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let began = Instant::now();
            let mut outcome = AccountOutcome {
                id: target.id.clone(),
                name: target.name.clone(),
                reach: target.reach.clone(),
                guardrails: 0,
                elapsed_ms: 0,
                error: None,
                suspended: target.suspended,
            };
            let mut result = ScanResult::default();
            if target.suspended {
                outcome = AccountOutcome::suspended(&target);
            } else {
                match reach_session(base, &target.reach).await {
                    Err(e) => outcome.error = Some(e),
                    Ok((session, identity)) => {
                        // A profile's account is known once it signed in.
                        if let Some(identity) = identity {
                            outcome.id = identity.account;
                        }
                        let id = outcome.id.clone();
                        let usage = options.usage;
                        result = collect(session.clone(), options, |e| {
                            if let super::ScanEvent::Rows { rows, .. } = e {
                                on_event(&AccountEvent::Rows {
                                    account: id.clone(),
                                    rows: rows.len(),
                                });
                            }
                        })
                        .await;
                        for r in &mut result.regions {
                            r.account = outcome.id.clone();
                        }
                        if usage {
                            super::usage::attach_usage(&session, base, &outcome.id, &mut result.guardrails)
                                .await;
                        }
                        // Every region failed: the account was not read, whatever the reason.
                        let read = result.regions.iter().any(|r| r.error.is_none());
                        if !read && let Some(e) = result.regions.iter().find_map(|r| r.unreadable()) {
                            outcome.error = Some(e.clone());
                        }
                    }
                }
            }
            outcome.guardrails = result.guardrails.len();
            outcome.elapsed_ms = began.elapsed().as_millis() as u64;
            on_event(&AccountEvent::Done {
                outcome: outcome.clone(),
            });
            (result, outcome)
        }
    });
    let done = futures::future::join_all(tasks).await;
    let mut all = ScanResult::default();
    let mut outcomes = Vec::with_capacity(done.len());
    for (result, outcome) in done {
        all.guardrails.extend(result.guardrails);
        all.regions.extend(result.regions);
        outcomes.push(outcome);
    }
    all.elapsed_ms = started.elapsed().as_millis() as u64;
    (all, outcomes)
}
