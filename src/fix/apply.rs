//! Carries a `FixPlan` out: per region the key, then each guardrail: a fresh read of the
//! DRAFT, the journal, the whole-DRAFT UpdateGuardrail with the new key, READY, a read
//! back, and the proof that nothing but the key changed (or a restore).
//!
//! (One file on purpose: the order of journal, write, READY, proof and restore is the safety
//! argument, and reads top to bottom.)

use std::time::{Duration, Instant};

use futures::StreamExt;

use super::journal::{Entry, Journal, now};
use super::plan::{FixPlan, KeyChoice, MultiRegion, PolicyGrant, RegionPlan, Target};
use super::policy::missing_for_guardrails;
use crate::aws::{GuardrailDraft, Session};
use crate::model::CallError;
use crate::model::config::GuardrailConfig;

#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Guardrails written at once per region.
    pub concurrency: usize,
    /// How long to wait for a guardrail to become READY.
    pub ready_timeout: Duration,
    pub caller_arn: String,
    /// Set to stop between calls: guardrails not started yet are skipped.
    pub cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// Rewrite guardrails that are FAILED before the fix too (their failure is not ours,
    /// and rewriting may or may not clear it): the user's decision, off by default.
    pub include_failed: bool,
    /// How the account was reached, for the journal (None: the caller's own credentials).
    pub reach: Option<crate::scan::accounts::Reach>,
    /// After each guardrail moved, apply it once to a one-word text (Bedrock Runtime
    /// ApplyGuardrail, one text unit): it must decrypt with the new key and answer.
    pub probe: bool,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            concurrency: 8,
            ready_timeout: Duration::from_secs(300),
            caller_arn: String::new(),
            cancel: None,
            include_failed: false,
            reach: None,
            probe: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutcomeKind {
    Fixed {
        key_arn: String,
        version: Option<String>,
        /// Its known users with the key as it reads back (None: who uses it was not read).
        users: Option<super::planner::UsersAfter>,
    },
    Skipped {
        reason: String,
    },
    Failed {
        error: String,
        restored: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub region: String,
    pub arn: String,
    pub name: String,
    pub kind: OutcomeKind,
}

/// What happens, as it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FixEvent {
    KeyReady {
        region: String,
        key_arn: String,
        created: bool,
    },
    KeyWarning {
        region: String,
        warning: String,
    },
    KeyFailed {
        region: String,
        error: String,
    },
    Writing {
        region: String,
        arn: String,
    },
    /// The DRAFT is not what the plan saw (or another writer changed it while the fix ran):
    /// the current one was journaled and is what the fix keeps.
    Changed {
        region: String,
        name: String,
        what: String,
    },
    Done(Outcome),
}

#[derive(Debug, Clone, Default)]
pub struct FixReport {
    pub outcomes: Vec<Outcome>,
    pub keys: Vec<(String, String)>,
}

impl FixReport {
    pub fn failed(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| matches!(o.kind, OutcomeKind::Failed { .. }))
            .count()
    }

    pub fn summary(&self) -> String {
        let count = |f: fn(&OutcomeKind) -> bool| self.outcomes.iter().filter(|o| f(&o.kind)).count();
        let mut out = format!(
            "{} fixed, {} skipped, {} failed\n",
            count(|k| matches!(k, OutcomeKind::Fixed { .. })),
            count(|k| matches!(k, OutcomeKind::Skipped { .. })),
            count(|k| matches!(k, OutcomeKind::Failed { .. }))
        );
        for o in &self.outcomes {
            let line = match &o.kind {
                OutcomeKind::Fixed {
                    key_arn,
                    version,
                    users,
                } => format!(
                    "✓ {} → {key_arn}{}{}",
                    o.name,
                    version
                        .as_ref()
                        .map(|v| format!(" (version {v} published)"))
                        .unwrap_or_default(),
                    users
                        .as_ref()
                        .map(|u| format!("; {}", u.describe()))
                        .unwrap_or_default()
                ),
                OutcomeKind::Skipped { reason } => format!("- {} skipped: {reason}", o.name),
                OutcomeKind::Failed {
                    error,
                    restored: true,
                } => format!("✗ {} failed and was put back: {error}", o.name),
                OutcomeKind::Failed {
                    error,
                    restored: false,
                } => format!("✗ {} failed: {error}", o.name),
            };
            out.push_str(&format!("  {} {line}\n", o.region));
        }
        out
    }
}

fn region_of(arn: &str) -> &str {
    arn.split(':').nth(3).unwrap_or_default()
}

/// Waits until the guardrail is READY or FAILED (both can be updated; the caller decides
/// what FAILED means), with backoff.
pub async fn wait_ready(
    session: &Session,
    bedrock: &crate::aws::Bedrock,
    arn: &str,
    timeout: Duration,
) -> Result<GuardrailDraft, String> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(100);
    loop {
        let draft = session
            .read_guardrail(bedrock, arn, None)
            .await
            .map_err(|e| e.detail())?;
        match draft.status.as_str() {
            "READY" | "FAILED" => return Ok(draft),
            "DELETING" => return Err("the guardrail is being deleted".into()),
            other if Instant::now() >= deadline => {
                return Err(format!("still {other} after {} s", timeout.as_secs()));
            }
            _ => {}
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

fn is_conflict(e: &CallError) -> bool {
    matches!(e, CallError::Other { code, .. } if code == "ConflictException")
}

/// Proves a write: READY again (FAILED after our write is a failure, with Bedrock's
/// reasons), nothing but the key differs from `config`, and the key is `key`.
async fn verify_written(
    session: &Session,
    bedrock: &crate::aws::Bedrock,
    arn: &str,
    config: &GuardrailConfig,
    key: Option<&str>,
    timeout: Duration,
) -> Result<(), String> {
    let after = wait_ready(session, bedrock, arn, timeout).await?;
    if after.status == "FAILED" {
        return Err(format!("after the write {}", after.failure()));
    }
    let differences = after.config.differences_besides_key(config);
    if !differences.is_empty() {
        return Err(format!(
            "after the write these settings differ: {}",
            differences.join(", ")
        ));
    }
    if after.config.kms_key_arn.as_deref() != key {
        return Err(format!(
            "the key read back is {} instead of {}",
            after.config.kms_key_arn.as_deref().unwrap_or("the AWS-owned key"),
            key.unwrap_or("the AWS-owned key")
        ));
    }
    Ok(())
}

/// Writes a pre-image back and proves it. A restore puts back what guardkey itself
/// changed, so a conflict (its own update still settling) is waited out and written again.
async fn write_back(
    session: &Session,
    bedrock: &crate::aws::Bedrock,
    arn: &str,
    config: &GuardrailConfig,
    key: Option<&str>,
    timeout: Duration,
) -> Result<(), String> {
    let mut attempts = 0;
    loop {
        match session.write_guardrail(bedrock, arn, config, key).await {
            Ok(()) => break,
            Err(e) if is_conflict(&e) && attempts < 3 => {
                attempts += 1;
                wait_ready(session, bedrock, arn, timeout).await?;
            }
            Err(e) => return Err(format!("UpdateGuardrail: {}", e.detail())),
        }
    }
    verify_written(session, bedrock, arn, config, key, timeout).await
}

/// The plan with every target's DRAFT as it is now, for the AWS CLI script (which resends
/// each whole DRAFT): the wizard's plan names its guardrails only.
pub async fn with_drafts(session: &Session, mut plan: FixPlan) -> Result<FixPlan, String> {
    for r in &mut plan.regions {
        let bedrock = session.bedrock(&r.region);
        for t in r.targets.iter_mut().filter(|t| t.config.is_none()) {
            let draft = session
                .read_guardrail(&bedrock, &t.arn, None)
                .await
                .map_err(|e| format!("cannot read {} for the script: {}", t.name, e.detail()))?;
            t.config = Some(draft.config);
        }
    }
    Ok(plan)
}

/// How often another writer's update is waited out before the guardrail is given up.
const MAX_CONFLICTS: u32 = 3;

/// Puts one guardrail on `key_arn`. Journals before writing; restores what it cannot prove.
/// The known users of a guardrail and its key's policy as read back from KMS once the key is
/// ready (with any users statement added): the plan's evaluation, made again with what KMS
/// holds, before the write and for the summary.
pub struct UsersCheck<'a> {
    pub planned: &'a [super::plan::PlannedUser],
    pub key_policy: Result<&'a serde_json::Value, &'a str>,
    /// The key's grants as read back (empty when none or not read).
    pub grants: &'a [crate::usage::KeyGrant],
    pub iam: &'a std::collections::HashMap<String, crate::usage::PrincipalPolicies>,
    /// The lock-out was accepted (`--allow-lockout`): a loss is said, not refused.
    pub allow_lockout: bool,
}

#[allow(clippy::too_many_arguments)]
pub async fn fix_guardrail(
    session: &Session,
    journal: &Journal,
    target: &Target,
    key_arn: &str,
    publish_version: bool,
    users: Option<&UsersCheck<'_>>,
    options: &ApplyOptions,
    on_event: &(dyn Fn(FixEvent) + Send + Sync),
) -> Outcome {
    let region = region_of(&target.arn).to_string();
    let outcome = |kind| Outcome {
        region: region.clone(),
        arn: target.arn.clone(),
        name: target.name.clone(),
        kind,
    };
    let failed = |error: String, restored| outcome(OutcomeKind::Failed { error, restored });
    if options
        .cancel
        .as_ref()
        .is_some_and(|c| c.load(std::sync::atomic::Ordering::SeqCst))
    {
        return outcome(OutcomeKind::Skipped {
            reason: "cancelled before it started".into(),
        });
    }
    // Every known user evaluated with the key as KMS holds it: a loss is refused before
    // anything is written (unless accepted), and the summary says who keeps access.
    let users_after =
        users.map(|u| super::planner::users_after(key_arn, u.key_policy, u.grants, u.planned, u.iam));
    if let (Some(after), Some(check)) = (&users_after, users)
        && !after.lost.is_empty()
    {
        if !check.allow_lockout {
            let error = format!(
                "not written: with the key as it reads now, {} would lose kms:Decrypt",
                after.lost.join("; ")
            );
            let _ = journal.append(&Entry::Failed {
                at: now(),
                arn: target.arn.clone(),
                error: error.clone(),
            });
            return failed(error, false);
        }
        let _ = journal.append(&Entry::LockoutAccepted {
            at: now(),
            arn: target.arn.clone(),
            users: after.lost.clone(),
        });
    }
    let bedrock = session.bedrock(&region);
    let mut conflicts = 0;
    let pre_image = loop {
        // The DRAFT as it is now, not as it was when the plan was made (nor as it was before
        // another writer's update that our write ran into).
        let draft = match session.read_guardrail(&bedrock, &target.arn, None).await {
            Ok(d) => d,
            Err(e) => return failed(format!("GetGuardrail: {}", e.detail()), false),
        };
        if draft.config.kms_key_arn.as_deref() == Some(key_arn) {
            // Planned on its own key: a repair, whose users statement was added to the key
            // policy before (nothing to write to the guardrail).
            if target.current_key.as_deref() == Some(key_arn) {
                return outcome(OutcomeKind::Fixed {
                    key_arn: key_arn.to_string(),
                    version: None,
                    users: users_after,
                });
            }
            return outcome(OutcomeKind::Skipped {
                reason: "already on the target key".into(),
            });
        }
        let draft = if matches!(draft.status.as_str(), "READY" | "FAILED") {
            draft
        } else {
            match wait_ready(session, &bedrock, &target.arn, options.ready_timeout).await {
                Ok(d) => d,
                Err(e) => {
                    return outcome(OutcomeKind::Skipped {
                        reason: format!("not READY: {e}"),
                    });
                }
            }
        };
        // A guardrail that was FAILED before the fix: not ours to rewrite unasked.
        if draft.status == "FAILED" && !options.include_failed {
            return outcome(OutcomeKind::Skipped {
                reason: format!(
                    "{} before the fix; rewrite it anyway with --include-failed",
                    draft.failure()
                ),
            });
        }
        let changed = match (&target.config, conflicts) {
            (_, n) if n > 0 => Some("another writer updated it while the fix ran".to_string()),
            (Some(planned), _) => {
                let differences = draft.config.differences_besides_key(planned);
                (!differences.is_empty())
                    .then(|| format!("it changed since the plan ({})", differences.join(", ")))
            }
            (None, _) => None,
        };
        if let Some(what) = changed {
            on_event(FixEvent::Changed {
                region: region.clone(),
                name: target.name.clone(),
                what: format!("{what}: its current DRAFT is what the fix keeps"),
            });
        }
        let pre_image = draft.config;
        let entry = Entry::pre_image(
            &region,
            &target.arn,
            &pre_image,
            Some(key_arn),
            pre_image.update_request(&target.arn, Some(key_arn)),
        );
        if let Err(e) = journal.append(&entry) {
            // Without the journal entry there is no way back: do not write.
            return failed(e, false);
        }
        on_event(FixEvent::Writing {
            region: region.clone(),
            arn: target.arn.clone(),
        });
        match session
            .write_guardrail(&bedrock, &target.arn, &pre_image, Some(key_arn))
            .await
        {
            Ok(()) => break Ok(pre_image),
            // Someone else's update is in progress: resending what we read would wipe it.
            // Wait for it, then read, journal and build the request again.
            Err(e) if is_conflict(&e) && conflicts < MAX_CONFLICTS => {
                conflicts += 1;
                if let Err(e) = wait_ready(session, &bedrock, &target.arn, options.ready_timeout).await {
                    return failed(format!("another writer's update did not settle: {e}"), false);
                }
            }
            Err(e) => break Err((pre_image, format!("UpdateGuardrail: {}", e.detail()))),
        }
    };
    let verified = match pre_image {
        Ok(pre_image) => match verify_written(
            session,
            &bedrock,
            &target.arn,
            &pre_image,
            Some(key_arn),
            options.ready_timeout,
        )
        .await
        {
            Err(e) => Err((pre_image, e)),
            // Proved live: the guardrail decrypts with the new key and answers, as the
            // caller (one text unit). A failed probe is a failed fix, put back.
            Ok(_) if options.probe => match session.probe_guardrail(&region, &target.arn).await {
                Ok(()) => Ok(()),
                Err(e) => Err((
                    pre_image,
                    format!("the probe (ApplyGuardrail on the new key) failed: {}", e.detail()),
                )),
            },
            Ok(_) => Ok(()),
        },
        Err(e) => Err(e),
    };
    if let Err((pre_image, error)) = verified {
        tracing::warn!(arn = %target.arn, %error, "not verified; restoring the pre-image");
        // Whatever happened, the guardrail goes back to its pre-image.
        let restore = restore_one(session, &bedrock, &target.arn, &pre_image, options.ready_timeout).await;
        let _ = journal.append(&Entry::Failed {
            at: now(),
            arn: target.arn.clone(),
            error: error.clone(),
        });
        let restored = restore.is_ok();
        if restored {
            let _ = journal.append(&Entry::Restored {
                at: now(),
                arn: target.arn.clone(),
            });
        }
        let error = match restore {
            Ok(()) => error,
            Err(r) => format!(
                "{error}; restoring it failed too: {r} (run guardkey restore {})",
                journal.path().display()
            ),
        };
        return failed(error, restored);
    }
    let version = if publish_version {
        match session
            .publish_version(
                &bedrock,
                &target.arn,
                "Encrypted with a customer managed KMS key (guardkey)",
            )
            .await
        {
            Ok(v) => {
                let _ = wait_ready(session, &bedrock, &target.arn, options.ready_timeout).await;
                Some(v)
            }
            Err(e) => {
                let _ = journal.append(&Entry::Verified {
                    at: now(),
                    arn: target.arn.clone(),
                    key: Some(key_arn.into()),
                    version: None,
                });
                return failed(
                    format!(
                        "the key was applied, but CreateGuardrailVersion failed: {}",
                        e.detail()
                    ),
                    false,
                );
            }
        }
    } else {
        None
    };
    let _ = journal.append(&Entry::Verified {
        at: now(),
        arn: target.arn.clone(),
        key: Some(key_arn.into()),
        version: version.clone(),
    });
    outcome(OutcomeKind::Fixed {
        key_arn: key_arn.to_string(),
        version,
        users: users_after,
    })
}

/// Writes a pre-image back (its own key, or the AWS-owned key) and verifies it, unless the
/// guardrail already is exactly that.
pub async fn restore_one(
    session: &Session,
    bedrock: &crate::aws::Bedrock,
    arn: &str,
    pre_image: &GuardrailConfig,
    timeout: Duration,
) -> Result<(), String> {
    let now = wait_ready(session, bedrock, arn, timeout).await?;
    if now.status != "FAILED"
        && now.config.differences_besides_key(pre_image).is_empty()
        && now.config.kms_key_arn == pre_image.kms_key_arn
    {
        return Ok(());
    }
    write_back(
        session,
        bedrock,
        arn,
        pre_image,
        pre_image.kms_key_arn.as_deref(),
        timeout,
    )
    .await
}

/// The key of a region: created as planned, or checked as given.
async fn region_key(
    session: &Session,
    journal: &Journal,
    plan: &RegionPlan,
    account: &str,
    options: &ApplyOptions,
    on_event: &(dyn Fn(FixEvent) + Send + Sync),
    primary: Option<&str>,
) -> Result<String, String> {
    let kms = session.kms(&plan.region);
    match &plan.key {
        KeyChoice::Create(k) => {
            let key = match (&k.multi_region, primary) {
                // A replica of the multi-Region key, made from its primary's region.
                (MultiRegion::Replica { primary_region }, Some(primary)) => session
                    .replicate_key(
                        &session.kms(primary_region),
                        primary,
                        &plan.region,
                        &k.policy,
                        &k.description,
                        &k.tags,
                    )
                    .await
                    .map_err(|e| format!("ReplicateKey: {}", e.detail()))?,
                (MultiRegion::Replica { primary_region }, None) => {
                    return Err(format!(
                        "no multi-Region primary key in {primary_region} to replicate"
                    ));
                }
                (made, _) => session
                    .create_key(
                        &kms,
                        &k.policy,
                        &k.description,
                        &k.tags,
                        *made == MultiRegion::Primary,
                    )
                    .await
                    .map_err(|e| format!("CreateKey: {}", e.detail()))?,
            };
            journal.append(&Entry::KeyCreated {
                at: now(),
                region: plan.region.clone(),
                key_arn: key.arn.clone(),
                alias: Some(k.alias.clone()),
            })?;
            session
                .create_alias(&kms, &k.alias, &key.arn)
                .await
                .map_err(|e| {
                    format!(
                        "the key {} was created, but CreateAlias {} failed: {}",
                        key.arn,
                        k.alias,
                        e.detail()
                    )
                })?;
            if let Some(days) = k.rotation_set_here() {
                session
                    .enable_key_rotation(&kms, &key.arn, days)
                    .await
                    .map_err(|e| {
                        format!(
                            "the key {} was created, but EnableKeyRotation failed: {}",
                            key.arn,
                            e.detail()
                        )
                    })?;
            }
            on_event(FixEvent::KeyReady {
                region: plan.region.clone(),
                key_arn: key.arn.clone(),
                created: true,
            });
            Ok(key.arn)
        }
        KeyChoice::Existing(given) => {
            let key = check_existing_key(session, &plan.region, account, given).await?;
            if let Ok(policy) = session.key_policy(&kms, &key).await {
                for warning in missing_for_guardrails(&policy, account, &options.caller_arn) {
                    on_event(FixEvent::KeyWarning {
                        region: plan.region.clone(),
                        warning,
                    });
                }
            }
            on_event(FixEvent::KeyReady {
                region: plan.region.clone(),
                key_arn: key.clone(),
                created: false,
            });
            Ok(key)
        }
    }
}

/// Where replacing a key's policy stopped.
#[derive(Debug)]
pub enum PolicyReplaceError {
    /// GetKeyPolicy before anything was written.
    Read(CallError),
    /// The policy is not the one expected: nothing was written.
    Changed,
    /// The journal could not be written: nothing was written to AWS.
    Journal(String),
    Write(CallError),
    /// Written, but not read back.
    ReadBack(CallError),
    /// Written, and reads back other than written.
    Differs,
}

/// Replaces a key's policy with `new_policy`, as every policy change of guardkey's is made:
/// read again (it must still be `expected`, compared as JSON; None: whatever it is), the
/// policy found journaled first, written, read back. Serves `--grant-users` and `restore`.
pub async fn replace_key_policy(
    session: &Session,
    journal: &Journal,
    region: &str,
    key: &str,
    expected: Option<&str>,
    new_policy: &str,
) -> Result<(), PolicyReplaceError> {
    let kms = session.kms(region);
    let json = |s: &str| serde_json::from_str::<serde_json::Value>(s).ok();
    let found = session
        .key_policy(&kms, key)
        .await
        .map_err(PolicyReplaceError::Read)?;
    if expected.is_some_and(|e| json(e) != json(&found)) {
        return Err(PolicyReplaceError::Changed);
    }
    journal
        .append(&Entry::KeyPolicyReplaced {
            at: now(),
            region: region.to_string(),
            key_arn: key.to_string(),
            old_policy: found,
            new_policy: new_policy.to_string(),
        })
        .map_err(PolicyReplaceError::Journal)?;
    session
        .put_key_policy(&kms, key, new_policy)
        .await
        .map_err(PolicyReplaceError::Write)?;
    let written = session
        .key_policy(&kms, key)
        .await
        .map_err(PolicyReplaceError::ReadBack)?;
    if json(&written) != json(new_policy) {
        return Err(PolicyReplaceError::Differs);
    }
    Ok(())
}

/// Adds the users statement to an existing key's policy (see `replace_key_policy`).
async fn grant_users(
    session: &Session,
    journal: &Journal,
    grant: &PolicyGrant,
    key: &str,
) -> Result<(), String> {
    use PolicyReplaceError as E;
    replace_key_policy(
        session,
        journal,
        &grant.region,
        key,
        Some(&grant.old_policy),
        &grant.new_policy,
    )
    .await
    .map_err(|e| match e {
        E::Read(e) => format!("GetKeyPolicy {key}: {}", e.detail()),
        E::Changed => {
            format!("the policy of {key} changed since the plan was made: nothing was changed; plan again")
        }
        E::Journal(e) => e,
        E::Write(e) => format!("PutKeyPolicy {key}: {}", e.detail()),
        E::ReadBack(e) => format!(
            "the key policy of {key} was replaced, but could not be read back: {}",
            e.detail()
        ),
        E::Differs => format!(
            "the key policy of {key} reads back other than written: check it (the old one is in the journal)"
        ),
    })
}

/// An existing key, checked the way Bedrock will check it; returns its ARN.
pub async fn check_existing_key(
    session: &Session,
    region: &str,
    account: &str,
    key: &str,
) -> Result<String, String> {
    // A multi-Region key named by another region's ARN (its primary's, say): each region's
    // guardrails use that region's replica, the same key id under this region's ARN.
    let mrk = key.rsplit('/').next().filter(|id| id.starts_with("mrk-"));
    let replica;
    let asked = match (mrk, key.starts_with("arn:")) {
        (Some(id), true) if region_of(key) != region => {
            let partition = key.split(':').nth(1).unwrap_or("aws");
            replica = format!("arn:{partition}:kms:{region}:{account}:key/{id}");
            replica.as_str()
        }
        _ => key,
    };
    let d = match session.describe_key(&session.kms(region), asked).await {
        Ok(d) => d,
        Err(e) => {
            let from = if key.starts_with("arn:") {
                region_of(key)
            } else {
                "PRIMARY_REGION"
            };
            let hint = match mrk {
                Some(id) => format!(
                    " — the multi-Region key has no replica in {region}: make one with `aws kms replicate-key --region {from} --key-id {id} --replica-region {region}` (and give it a key policy for that region's users)"
                ),
                None => String::new(),
            };
            return Err(format!("{key}: {}{hint}", e.detail()));
        }
    };
    let key_region = region_of(&d.arn);
    if key_region != region || d.account != account {
        return Err(format!(
            "{key} is in {} of account {}: guardrails need a key in their own region and account ({region}, {account})",
            key_region, d.account
        ));
    }
    if d.state != "Enabled" {
        return Err(format!(
            "{key} is {}: only an enabled key can encrypt guardrails",
            d.state
        ));
    }
    if d.manager != "CUSTOMER" {
        return Err(format!(
            "{key} is AWS managed: Bedrock-003 asks for a customer managed key"
        ));
    }
    if d.spec != "SYMMETRIC_DEFAULT" || d.usage != "ENCRYPT_DECRYPT" {
        return Err(format!(
            "{key} is {} {}: guardrails need a symmetric encryption key",
            d.spec, d.usage
        ));
    }
    Ok(d.arn)
}

/// Applies a whole plan: regions in parallel, guardrails bounded within a region. One
/// guardrail failing never stops the others.
pub async fn apply(
    session: &Session,
    plan: &FixPlan,
    journal: &Journal,
    options: &ApplyOptions,
    on_event: &(dyn Fn(FixEvent) + Send + Sync),
) -> FixReport {
    let _ = journal.append(&Entry::Started {
        schema: super::journal::SCHEMA.into(),
        at: now(),
        account: plan.account.clone(),
        caller: options.caller_arn.clone(),
        guardkey_version: env!("CARGO_PKG_VERSION").into(),
        reach: options.reach.clone(),
    });
    // A multi-Region key's primary is made first: its replicas are made from it.
    let is_primary =
        |r: &RegionPlan| matches!(&r.key, KeyChoice::Create(k) if k.multi_region == MultiRegion::Primary);
    let primary_key = match plan.regions.iter().find(|r| is_primary(r)) {
        Some(r) => Some(region_key(session, journal, r, &plan.account, options, on_event, None).await),
        None => None,
    };
    let primary_key = &primary_key;
    let regions = plan.regions.iter().map(|r| async move {
        let mut report = FixReport::default();
        let grant = plan.usage.grants.iter().find(|g| g.region == r.region);
        let made = match (is_primary(r), primary_key) {
            (true, Some(made)) => made.clone(),
            (false, Some(Ok(primary))) => {
                region_key(
                    session,
                    journal,
                    r,
                    &plan.account,
                    options,
                    on_event,
                    Some(primary),
                )
                .await
            }
            (false, Some(Err(e))) if matches!(&r.key, KeyChoice::Create(_)) => {
                Err(format!("the multi-Region primary key could not be made: {e}"))
            }
            _ => region_key(session, journal, r, &plan.account, options, on_event, None).await,
        };
        let key = match made {
            Ok(k) => match grant {
                Some(g) => grant_users(session, journal, g, &k).await.map(|()| k),
                None => Ok(k),
            },
            Err(e) => Err(e),
        };
        let key = match key {
            Ok(k) => k,
            Err(error) => {
                on_event(FixEvent::KeyFailed {
                    region: r.region.clone(),
                    error: error.clone(),
                });
                for t in &r.targets {
                    let o = Outcome {
                        region: r.region.clone(),
                        arn: t.arn.clone(),
                        name: t.name.clone(),
                        kind: OutcomeKind::Failed {
                            error: format!("no key: {error}"),
                            restored: false,
                        },
                    };
                    on_event(FixEvent::Done(o.clone()));
                    report.outcomes.push(o);
                }
                return report;
            }
        };
        report.keys.push((r.region.clone(), key.clone()));
        // The key's policy as KMS holds it now (created, or with the users statement added):
        // every known user is evaluated with it again.
        let key_policy: Result<serde_json::Value, String> =
            match session.key_policy(&session.kms(&r.region), &key).await {
                Ok(text) => serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}")),
                Err(e) => Err(format!("GetKeyPolicy: {}", e.label())),
            };
        let key_policy = &key_policy;
        // Its grants too: a user that decrypts through a grant keeps access.
        let grants = &session
            .list_grants(&session.kms(&r.region), &key)
            .await
            .unwrap_or_default();
        let outcomes: Vec<Outcome> = futures::stream::iter(r.targets.iter())
            .map(|t| {
                let key = key.clone();
                async move {
                    let check = plan.usage.users.get(&t.arn).map(|planned| UsersCheck {
                        planned,
                        key_policy: key_policy.as_ref().map_err(String::as_str),
                        grants,
                        iam: &plan.usage.iam,
                        allow_lockout: plan.allow_lockout,
                    });
                    let o = fix_guardrail(
                        session,
                        journal,
                        t,
                        &key,
                        plan.publish_version,
                        check.as_ref(),
                        options,
                        on_event,
                    )
                    .await;
                    on_event(FixEvent::Done(o.clone()));
                    o
                }
            })
            .buffer_unordered(options.concurrency.max(1))
            .collect()
            .await;
        report.outcomes.extend(outcomes);
        report
    });
    let mut report = FixReport::default();
    for r in futures::future::join_all(regions).await {
        report.outcomes.extend(r.outcomes);
        report.keys.extend(r.keys);
    }
    let cancelled = options
        .cancel
        .as_ref()
        .is_some_and(|c| c.load(std::sync::atomic::Ordering::SeqCst));
    let count = |f: fn(&OutcomeKind) -> bool| report.outcomes.iter().filter(|o| f(&o.kind)).count();
    let _ = journal.append(&Entry::Ended {
        at: now(),
        outcome: if cancelled { "cancelled" } else { "completed" }.into(),
        fixed: count(|k| matches!(k, OutcomeKind::Fixed { .. })),
        skipped: count(|k| matches!(k, OutcomeKind::Skipped { .. })),
        failed: count(|k| matches!(k, OutcomeKind::Failed { .. })),
    });
    report
}
