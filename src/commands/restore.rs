//! `guardkey restore`: puts guardrails back as a fix journal recorded them, but only
//! those still as the fix left them, from a journal whose entries are intact.

use std::time::Duration;

use super::{CommandError, connect};
use crate::cli::{GlobalArgs, RestoreArgs};
use crate::fix::apply::restore_one;
use crate::fix::journal::{self, Entry, Journal};

use super::fix::{EXIT_FAILED, EXIT_OK};

/// Why a guardrail is not what the fix left (its DRAFT with the journaled key), or None.
/// A fix only ever changes the key, so the name and every other setting must match the
/// pre-image; the key must be the one the fix set (or the pre-image's own, when the fix
/// already put it back).
fn changed_since_fix(now: &crate::model::config::GuardrailConfig, r: &journal::Recorded) -> Option<String> {
    if now.name != r.pre_image.name {
        return Some(format!(
            "it is named {}, the journal's guardrail {}: the journal does not describe it",
            now.name, r.pre_image.name
        ));
    }
    let differences = now.differences_besides_key(&r.pre_image);
    if !differences.is_empty() {
        return Some(format!("changed since the fix ({})", differences.join(", ")));
    }
    let key = now.kms_key_arn.as_deref();
    if key != r.target_key.as_deref() && key != r.pre_image.kms_key_arn.as_deref() {
        return Some(format!(
            "its key is {} now, neither the fix's nor the one before",
            key.unwrap_or("the AWS-owned key")
        ));
    }
    None
}

pub async fn run(global: &GlobalArgs, args: &RestoreArgs) -> Result<u8, CommandError> {
    super::refuse_unless_writable(global, "restore")?;
    // Every journal is read (and its seals checked) before anything is restored.
    let journals = args
        .journals
        .iter()
        .map(|path| Ok((path.as_path(), Journal::read(path).map_err(CommandError)?)))
        .collect::<Result<Vec<_>, CommandError>>()?;
    let interrupts = super::interrupt::Interrupts::listen()
        .map_err(|e| CommandError(format!("cannot listen for Ctrl-C and SIGTERM: {e}")))?;
    let mut base: Option<super::Target> = None;
    let mut code = EXIT_OK;
    for (path, entries) in journals {
        if interrupts.cancelled() {
            println!("- {} not started: interrupted", path.display());
            continue;
        }
        if args.journals.len() > 1 {
            println!("== {}", path.display());
        }
        code = code.max(restore_journal(global, args, path, entries, &mut base, &interrupts).await?);
    }
    Ok(match interrupts.code() {
        0 => code,
        signal => {
            eprintln!(
                "guardkey: interrupted: the guardrail in flight was finished, the others were not started;                  run the same restore again to go on (what is back already is left alone)"
            );
            signal
        }
    })
}

/// The session of a journal's account: the caller's, or reached again as the fix reached it.
async fn account_target(
    global: &GlobalArgs,
    reach: Option<&crate::scan::accounts::Reach>,
    base: &mut Option<super::Target>,
) -> Result<super::Target, CommandError> {
    if base.is_none() {
        *base = Some(connect(global, false).await?);
    }
    let base = base.as_ref().expect("connected above");
    let reach = reach.unwrap_or(&crate::scan::accounts::Reach::Caller);
    super::accounts::reached(base, reach).await.map_err(|e| {
        CommandError(format!(
            "cannot reach the journal's account {}: {}: {}",
            reach.describe(),
            e.label(),
            e.detail()
        ))
    })
}

/// Puts a key policy back as the journal recorded it, when it is still what the fix wrote
/// (or `--force`); journaled first, read back after. Err((skipped, why)).
async fn restore_key_policy(
    target: &super::Target,
    journal: &Journal,
    region: &str,
    key: &str,
    old_policy: &str,
    new_policy: &str,
    force: bool,
) -> Result<(), (bool, String)> {
    use crate::fix::apply::PolicyReplaceError as E;
    let expected = (!force).then_some(new_policy);
    crate::fix::apply::replace_key_policy(&target.session, journal, region, key, expected, old_policy)
        .await
        .map_err(|e| match e {
            E::Changed => (
                true,
                "changed since the fix; restoring would overwrite that (pass --force to do it anyway)".into(),
            ),
            E::Read(e) | E::Write(e) | E::ReadBack(e) => (false, e.detail()),
            E::Journal(e) => (false, e),
            E::Differs => (false, "it reads back other than the journal's".into()),
        })
}

async fn restore_journal(
    global: &GlobalArgs,
    args: &RestoreArgs,
    path: &std::path::Path,
    entries: Vec<Entry>,
    base: &mut Option<super::Target>,
    interrupts: &super::interrupt::Interrupts,
) -> Result<u8, CommandError> {
    let reach = journal::reach_of(&entries);
    let mut recorded = Journal::pre_images(&entries);
    if !entries.iter().any(|e| matches!(e, Entry::Ended { .. })) {
        println!(
            "{} has no end: the fix was cut short (killed, or the machine stopped), so its last write may or may \
             not have been sent. Each guardrail is read first and put back only if it is as the fix left it.",
            path.display()
        );
    }
    // The scope flags narrow what is restored; a region the journal does not hold is said.
    if !global.regions.is_empty() {
        // The journal's own partition (its ARNs'), whichever it is.
        let partition = recorded
            .first()
            .map_or("aws", |r| crate::regions::partition_of_arn(&r.arn))
            .to_string();
        let wanted = crate::aws::resolve_regions(&global.regions, &partition).map_err(CommandError)?;
        recorded.retain(|r| wanted.contains(&r.region));
        if recorded.is_empty() {
            return Err(CommandError(format!(
                "{} records no guardrail in {}",
                path.display(),
                wanted.join(", ")
            )));
        }
    }
    if !args.guardrails.is_empty() {
        recorded.retain(|r| {
            args.guardrails
                .iter()
                .any(|g| *g == r.arn || r.arn.rsplit('/').next() == Some(g.as_str()))
        });
        if recorded.is_empty() {
            return Err(CommandError(format!(
                "{} has no guardrail {}",
                path.display(),
                args.guardrails.join(", ")
            )));
        }
    }
    // Key policies `--grant-users` replaced, in the regions asked for.
    let grants: Vec<(String, String, String, String)> = entries
        .iter()
        .filter_map(|e| match e {
            Entry::KeyPolicyReplaced {
                region,
                key_arn,
                old_policy,
                new_policy,
                ..
            } => Some((
                region.clone(),
                key_arn.clone(),
                old_policy.clone(),
                new_policy.clone(),
            )),
            _ => None,
        })
        .filter(|(region, ..)| global.regions.is_empty() || recorded.iter().any(|r| r.region == *region))
        .collect();
    if recorded.is_empty() && grants.is_empty() {
        println!("The journal records no change: nothing to restore.");
        return Ok(EXIT_OK);
    }
    let target = account_target(global, reach.as_ref(), base).await?;
    let dir = args.journal_dir.clone().unwrap_or_else(journal::default_dir);
    let journal = Journal::create(&dir, "restore").map_err(CommandError)?;
    journal
        .append(&Entry::Started {
            schema: journal::SCHEMA.into(),
            at: journal::now(),
            account: target.identity.account.clone(),
            caller: target.identity.arn.clone(),
            guardkey_version: env!("CARGO_PKG_VERSION").into(),
            reach: reach.clone(),
        })
        .map_err(CommandError)?;
    interrupts.arm(journal.path());
    let (mut failed, mut skipped, mut restored) = (0, 0, 0);
    let mut not_started = 0;
    for r in &recorded {
        let (region, arn, pre_image) = (&r.region, &r.arn, &r.pre_image);
        if interrupts.cancelled() {
            not_started += 1;
            println!("- {} ({region}) not started: interrupted", pre_image.name);
            continue;
        }
        let bedrock = target.session.bedrock(region);
        let now = match target.session.read_guardrail(&bedrock, arn, None).await {
            Ok(now) => now,
            Err(e) => {
                failed += 1;
                println!("✗ {} ({region}): {}", pre_image.name, e.detail());
                continue;
            }
        };
        // Only a guardrail that is still what the fix left is put back: one changed since
        // (by someone, or a journal naming another guardrail) would lose that change.
        if let Some(why) = changed_since_fix(&now.config, r)
            && !args.force
        {
            skipped += 1;
            println!(
                "- {} ({region}) skipped: {why}. Restoring would overwrite that; pass --force to do it anyway.",
                pre_image.name
            );
            continue;
        }
        // What is there now is journaled too: a restore can itself be undone.
        journal
            .append(&Entry::pre_image(
                region,
                arn,
                &now.config,
                pre_image.kms_key_arn.as_deref(),
                pre_image.update_request(arn, pre_image.kms_key_arn.as_deref()),
            ))
            .map_err(CommandError)?;
        interrupts.started(&pre_image.name);
        let outcome = restore_one(
            &target.session,
            &bedrock,
            arn,
            pre_image,
            Duration::from_secs(300),
        )
        .await;
        interrupts.finished(&pre_image.name);
        match outcome {
            Ok(()) => {
                restored += 1;
                let _ = journal.append(&Entry::Restored {
                    at: journal::now(),
                    arn: arn.clone(),
                });
                println!(
                    "✓ {} ({region}) is back on {}",
                    pre_image.name,
                    pre_image.kms_key_arn.as_deref().unwrap_or("the AWS-owned key")
                );
            }
            Err(e) => {
                failed += 1;
                let _ = journal.append(&Entry::Failed {
                    at: journal::now(),
                    arn: arn.clone(),
                    error: e.clone(),
                });
                println!("✗ {} ({region}): {e}", pre_image.name);
            }
        }
    }
    for (region, key, old_policy, new_policy) in &grants {
        if interrupts.cancelled() {
            not_started += 1;
            println!("- the policy of {key} ({region}) not restored: interrupted");
            continue;
        }
        if !args.guardrails.is_empty() {
            println!(
                "- the statement added to the policy of {key} ({region}) is kept: other guardrails may rely on it. \
                 Restore without --guardrail to remove it"
            );
            continue;
        }
        match restore_key_policy(&target, &journal, region, key, old_policy, new_policy, args.force).await {
            Ok(()) => println!("✓ the policy of {key} ({region}) is back as it was"),
            Err((skip, e)) => {
                if skip {
                    skipped += 1;
                } else {
                    failed += 1;
                }
                println!(
                    "{} the policy of {key} ({region}): {e}",
                    if skip { "-" } else { "✗" }
                );
            }
        }
    }
    if skipped > 0 {
        println!("{skipped} skipped: changed since the fix (see above).");
    }
    let cancelled = interrupts.cancelled();
    let _ = journal.append(&Entry::Ended {
        at: journal::now(),
        outcome: if cancelled { "cancelled" } else { "completed" }.into(),
        fixed: restored,
        skipped: skipped + not_started,
        failed,
    });
    if cancelled {
        println!(
            "Interrupted: {restored} put back, {not_started} not started, {failed} failed. Run the same restore again to go on."
        );
    }
    println!("Journal of this restore: {}", journal.path().display());
    // A guardrail left as it is was not restored: not a success to a script.
    Ok(if failed > 0 || skipped > 0 {
        EXIT_FAILED
    } else {
        EXIT_OK
    })
}
