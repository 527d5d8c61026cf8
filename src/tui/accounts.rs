//! The explorer over many accounts (`--org`, `--profiles`, `--role-arns`): each account
//! reached its own way, its regions scanned as one account's are and streamed in as the
//! strip's `account/region` entries. Accounts are scanned `concurrency` at a time behind a
//! first-come first-served semaphore, so none starves; each account's session is kept for
//! the detail pane, who-uses-it and the wizard (aws-config's provider refreshes an assumed
//! role's credentials before they expire).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{Semaphore, mpsc};

use super::state::AccountCaller;
use super::update::{AccountUpdate, Action};
use crate::aws::{CallerIdentity, Session};
use crate::scan::accounts::{AccountTarget, Reach, reach_session};
use crate::scan::{ScanEvent, ScanHandle, ScanOptions};

/// The strip's name of an account's entry: `name/region`.
pub fn label(account: &str, region: &str) -> String {
    format!("{account}/{region}")
}

/// The entry that stands for an account not reached: `name/all regions`.
pub const ALL_REGIONS: &str = "all regions";

/// An account's scan event, its regions renamed to the strip's `name/region` entries.
pub fn relabel(mut event: ScanEvent, account: &str) -> ScanEvent {
    match &mut event {
        ScanEvent::Started { regions, .. } => {
            for r in regions.iter_mut() {
                *r = label(account, r);
            }
        }
        ScanEvent::Rows { region, .. }
        | ScanEvent::RegionProgress { region, .. }
        | ScanEvent::RegionDone { region, .. }
        | ScanEvent::RegionFailed { region, .. } => *region = label(account, region),
        ScanEvent::Finished { .. } => {}
    }
    event
}

/// Which regions of which accounts the entries `labels` name (`name/all regions`: every
/// region), in the targets' order; suspended accounts are never scanned.
pub fn regions_by_account<'a>(
    targets: &'a [AccountTarget],
    regions: &[String],
    labels: &[String],
) -> Vec<(&'a AccountTarget, Vec<String>)> {
    let mut out = Vec::new();
    for target in targets.iter().filter(|t| !t.suspended) {
        let mut chosen: Vec<String> = Vec::new();
        for l in labels {
            match l.rsplit_once('/') {
                Some((name, ALL_REGIONS)) if name == target.name => chosen = regions.to_vec(),
                Some((name, region)) if name == target.name && !chosen.iter().any(|c| c == region) => {
                    chosen.push(region.to_string())
                }
                _ => {}
            }
        }
        if !chosen.is_empty() {
            out.push((target, chosen));
        }
    }
    out
}

/// Gives accounts that share a name (Organizations allows it) distinct names, the id added,
/// so that each has its own entries.
pub fn distinct_names(targets: &mut [AccountTarget]) {
    let mut count: HashMap<String, usize> = HashMap::new();
    for t in targets.iter() {
        *count.entry(t.name.clone()).or_default() += 1;
    }
    for t in targets.iter_mut() {
        if count[&t.name] > 1 && !t.id.is_empty() {
            t.name = format!("{} ({})", t.name, t.id);
        }
    }
}

/// An account reached: its id and session.
#[derive(Clone)]
struct Reached {
    id: String,
    session: Session,
}

/// The accounts of the explorer and what it learnt of them.
pub struct Accounts {
    base: Session,
    identity: CallerIdentity,
    targets: Vec<AccountTarget>,
    regions: Vec<String>,
    /// Accounts scanned at a time.
    concurrency: usize,
    /// GetGuardrail calls in flight per account and region.
    per_region: usize,
    /// Each account reached, by name.
    reached: Arc<Mutex<HashMap<String, Reached>>>,
    /// The caller's ARN in each account, by id, once asked (for the wizard).
    callers: Arc<Mutex<HashMap<String, String>>>,
}

impl Accounts {
    pub fn new(
        base: Session,
        identity: CallerIdentity,
        mut targets: Vec<AccountTarget>,
        regions: Vec<String>,
        concurrency: usize,
        per_region: usize,
    ) -> Self {
        distinct_names(&mut targets);
        Accounts {
            base,
            identity,
            targets,
            regions,
            concurrency: concurrency.max(1),
            per_region,
            reached: Default::default(),
            callers: Default::default(),
        }
    }

    pub fn targets(&self) -> &[AccountTarget] {
        &self.targets
    }

    /// The session of an account reached, by id.
    pub fn session(&self, account: &str) -> Option<Session> {
        let reached = self.reached.lock().unwrap_or_else(|p| p.into_inner());
        reached
            .values()
            .find(|r| r.id == account)
            .map(|r| r.session.clone())
    }

    /// The caller's ARN in an account, once asked.
    pub fn caller(&self, account: &str) -> Option<String> {
        let callers = self.callers.lock().unwrap_or_else(|p| p.into_inner());
        callers.get(account).cloned()
    }

    /// A reached account's target, by id (a profile's id is known once it is reached).
    pub fn target(&self, account: &str) -> Option<AccountTarget> {
        let reached = self.reached.lock().unwrap_or_else(|p| p.into_inner());
        let (name, _) = reached.iter().find(|(_, r)| r.id == account)?;
        let mut target = self.targets.iter().find(|t| t.name == *name)?.clone();
        target.id = account.to_string();
        Some(target)
    }

    /// Scans the entries `labels` (`name/region`, or `name/all regions`), sending the
    /// explorer its actions; the handle stops it.
    pub fn start(&self, generation: u64, labels: &[String], tx: mpsc::UnboundedSender<Action>) -> ScanHandle {
        let permits = Arc::new(Semaphore::new(self.concurrency));
        let work: Vec<_> = regions_by_account(&self.targets, &self.regions, labels)
            .into_iter()
            .map(|(target, regions)| AccountScan {
                base: self.base.clone(),
                identity: self.identity.clone(),
                target: target.clone(),
                regions,
                generation,
                per_region: self.per_region,
                reached: self.reached.clone(),
                callers: self.callers.clone(),
                tx: tx.clone(),
            })
            .collect();
        ScanHandle::spawn(generation, async move {
            let tasks = work.into_iter().map(|scan| {
                let permits = permits.clone();
                async move {
                    let _permit = permits.acquire_owned().await;
                    scan.run().await;
                }
            });
            futures::future::join_all(tasks).await;
        })
    }
}

/// One account's part of a scan.
struct AccountScan {
    base: Session,
    identity: CallerIdentity,
    target: AccountTarget,
    regions: Vec<String>,
    generation: u64,
    per_region: usize,
    reached: Arc<Mutex<HashMap<String, Reached>>>,
    callers: Arc<Mutex<HashMap<String, String>>>,
    tx: mpsc::UnboundedSender<Action>,
}

impl AccountScan {
    async fn run(self) {
        let name = self.target.name.clone();
        let known = {
            let reached = self.reached.lock().unwrap_or_else(|p| p.into_inner());
            reached.get(&name).cloned()
        };
        let reached = match known {
            Some(r) => r,
            None => match reach_session(&self.base, &self.target.reach).await {
                Ok((session, identity)) => {
                    let r = Reached {
                        // A profile's account is known once it signed in.
                        id: identity.map_or(self.target.id.clone(), |i| i.account),
                        session,
                    };
                    self.reached
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(name.clone(), r.clone());
                    r
                }
                Err(error) => {
                    let _ = self.tx.send(Action::Account(AccountUpdate::Unreachable {
                        generation: self.generation,
                        id: self.target.id.clone(),
                        name,
                        reach: self.target.reach.clone(),
                        error,
                    }));
                    return;
                }
            },
        };
        let _ = self.tx.send(Action::Account(AccountUpdate::Reached {
            generation: self.generation,
            id: reached.id.clone(),
            name: name.clone(),
            reach: self.target.reach.clone(),
            regions: self.regions.clone(),
        }));
        self.ask_caller(&reached);
        let (scan_tx, mut scan_rx) = mpsc::channel::<ScanEvent>(64);
        let options = ScanOptions {
            regions: self.regions.clone(),
            concurrency_per_region: self.per_region,
            ..ScanOptions::default()
        };
        let _scan = crate::scan::start(reached.session.clone(), options, self.generation, scan_tx);
        while let Some(event) = scan_rx.recv().await {
            if self.tx.send(Action::Scan(relabel(event, &name))).is_err() {
                break;
            }
        }
    }

    /// Who the caller is in the account, asked once beside the scan, for the wizard's key
    /// policy (a role's ARN carries its path): not in a read-only view.
    fn ask_caller(&self, reached: &Reached) {
        if reached.session.is_read_only() {
            return;
        }
        {
            let mut callers = self.callers.lock().unwrap_or_else(|p| p.into_inner());
            if callers.contains_key(&reached.id) {
                return;
            }
            // Claimed now, so that a retry does not ask again; filled in when answered.
            callers.insert(reached.id.clone(), String::new());
        }
        let (session, id, reach) = (
            reached.session.clone(),
            reached.id.clone(),
            self.target.reach.clone(),
        );
        let (own_arn, callers, tx) = (self.identity.arn.clone(), self.callers.clone(), self.tx.clone());
        tokio::spawn(async move {
            let caller_arn = match reach {
                Reach::Caller => Ok(own_arn),
                _ => session.caller_identity().await.map(|i| i.arn),
            };
            let caller = match caller_arn {
                Ok(arn) => AccountCaller {
                    principal: Some(crate::fix::principals::resolve_caller(&session, &arn).await),
                    caller_arn: arn,
                    problem: None,
                },
                Err(e) => AccountCaller {
                    caller_arn: String::new(),
                    principal: None,
                    problem: Some(format!("sts:GetCallerIdentity: {}", e.label())),
                },
            };
            callers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(id.clone(), caller.caller_arn.clone());
            let _ = tx.send(Action::Account(AccountUpdate::Caller { id, caller }));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(id: &str, name: &str, suspended: bool) -> AccountTarget {
        AccountTarget {
            id: id.into(),
            name: name.into(),
            reach: Reach::Role {
                arn: format!("arn:aws:iam::{id}:role/Audit"),
            },
            suspended,
        }
    }

    #[test]
    fn entries_name_the_regions_of_each_account() {
        let targets = vec![
            target("111111111111", "prod", false),
            target("222222222222", "prod/eu", false),
            target("333333333333", "gone", true),
        ];
        let regions = vec!["us-east-1".to_string(), "eu-west-1".to_string()];
        let all: Vec<String> = ["prod", "prod/eu", "gone"]
            .iter()
            .map(|n| label(n, ALL_REGIONS))
            .collect();
        let chosen = regions_by_account(&targets, &regions, &all);
        // The suspended account is never scanned; a name with a slash is still one account.
        assert_eq!(chosen.len(), 2);
        assert_eq!(chosen[1].0.name, "prod/eu");
        assert_eq!(chosen[1].1, regions);
        let one = regions_by_account(&targets, &regions, &[label("prod/eu", "eu-west-1")]);
        assert_eq!(one.len(), 1);
        assert_eq!(
            (one[0].0.id.as_str(), one[0].1.clone()),
            ("222222222222", vec!["eu-west-1".to_string()])
        );
    }

    #[test]
    fn accounts_that_share_a_name_get_their_id() {
        let mut targets = vec![
            target("111111111111", "dev", false),
            target("222222222222", "dev", false),
            target("333333333333", "prod", false),
        ];
        distinct_names(&mut targets);
        let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["dev (111111111111)", "dev (222222222222)", "prod"]);
    }

    #[test]
    fn scan_events_are_relabelled_to_the_accounts_entries() {
        let e = relabel(
            ScanEvent::Started {
                generation: 3,
                regions: vec!["us-east-1".into()],
            },
            "prod",
        );
        assert_eq!(
            e,
            ScanEvent::Started {
                generation: 3,
                regions: vec!["prod/us-east-1".into()]
            }
        );
        let e = relabel(
            ScanEvent::RegionFailed {
                generation: 3,
                region: "eu-west-1".into(),
                error: crate::model::CallError::Timeout,
                guardrails: 2,
                elapsed_ms: 9,
            },
            "prod",
        );
        assert!(matches!(e, ScanEvent::RegionFailed { region, .. } if region == "prod/eu-west-1"));
    }
}
