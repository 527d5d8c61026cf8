//! The wizard's state machine, and a snapshot of every step.
//!
//! (Long: every step forward and back, each screen's snapshot, and the flow against the simulator.)

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::state::{Header, State};
use super::update::{Action, Effect, update};
use super::view::render;
use super::wizard::{ExistingKey, Step, WizardEffect};
use crate::fix::apply::{FixEvent, Outcome, OutcomeKind};
use crate::fix::plan::{KeyChoice, MultiRegion};
use crate::model::{Level, Rotation};
use crate::report::fixtures::{guardrail, key as kms_key};

fn state() -> State {
    let header = Header {
        account: Some("123456789012".into()),
        caller_arn: Some("arn:aws:sts::123456789012:assumed-role/SecOps/alice".into()),
        ..Header::default()
    };
    let mut s = State::new(header, &["us-east-1".into(), "eu-west-1".into()], true);
    s.width = 120;
    s.height = 34;
    let on = Rotation::Enabled {
        period_days: Some(365),
    };
    s.add_rows(vec![
        guardrail("us-east-1", "support-bot", None),
        guardrail(
            "us-east-1",
            "claims-bot",
            Some(kms_key("us-east-1", "Enabled", on)),
        ),
        guardrail("eu-west-1", "hr-helpdesk", None),
    ]);
    s.prepare();
    s
}

fn key(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(c: KeyCode) -> Action {
    Action::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

fn step(s: &State) -> Step {
    s.wizard.as_ref().expect("the wizard is open").step
}

fn draw(s: &State) -> Terminal<TestBackend> {
    let mut s = s.clone();
    s.prepare();
    let mut t = Terminal::new(TestBackend::new(s.width, s.height)).unwrap();
    t.draw(|f| render(&s, f)).unwrap();
    t
}

/// Marks every row and opens the wizard on them.
fn opened() -> State {
    let mut s = state();
    update(&mut s, key('a'));
    update(&mut s, key('f'));
    s
}

fn keys_loaded(s: &mut State) {
    for region in ["us-east-1", "eu-west-1"] {
        let keys = vec![
            ExistingKey {
                arn: format!("arn:aws:kms:{region}:123456789012:key/good"),
                alias: Some("alias/shared".into()),
                state: "Enabled".into(),
                rotation: "365 days".into(),
                suitable: Ok(()),
                policy_warning: None,
                policy: None,
                grants: Vec::new(),
            },
            ExistingKey {
                arn: format!("arn:aws:kms:{region}:123456789012:key/off"),
                alias: Some("alias/retired".into()),
                state: "Disabled".into(),
                rotation: "off".into(),
                suitable: Err("the key is Disabled: only an enabled key can encrypt guardrails".into()),
                policy_warning: None,
                policy: None,
                grants: Vec::new(),
            },
        ];
        update(
            s,
            Action::WizardKeys {
                region: region.into(),
                keys: Ok(keys),
                iam: Default::default(),
                answers: Default::default(),
            },
        );
    }
}

#[test]
fn opens_on_the_marked_rows_with_compliant_ones_left_out() {
    let s = opened();
    let w = s.wizard.as_ref().unwrap();
    assert_eq!(w.step, Step::Targets);
    assert_eq!(w.targets.len(), 3);
    assert_eq!(w.included().count(), 2, "claims-bot passes: listed, not included");
    insta::assert_snapshot!("wizard_targets", draw(&s).backend());
}

#[test]
fn read_only_and_saved_scans_do_not_open_it() {
    let mut s = state();
    s.header.read_only = true;
    update(&mut s, key('f'));
    assert!(s.wizard.is_none());
    assert!(s.toast.as_ref().unwrap().text.contains("read-only"));
    let mut s = state();
    s.header.loaded_from = Some("scan.json".into());
    update(&mut s, key('f'));
    assert!(s.wizard.is_none());
}

#[test]
fn every_step_forward_and_back() {
    let mut s = opened();
    // Targets: leave one out, put it back; nothing included is refused.
    // The rows: support-bot (fails), claims-bot (passes, left out), hr-helpdesk (fails).
    update(&mut s, key(' '));
    update(&mut s, key('j'));
    update(&mut s, key('j'));
    update(&mut s, key(' '));
    assert_eq!(s.wizard.as_ref().unwrap().included().count(), 0);
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(step(&s), Step::Targets);
    assert!(s.wizard.as_ref().unwrap().error.is_some());
    update(&mut s, key(' '));
    update(&mut s, key('k'));
    update(&mut s, key('k'));
    update(&mut s, key(' '));
    assert_eq!(s.wizard.as_ref().unwrap().included().count(), 2);

    // Keys: the existing keys of each region are asked for.
    let effects = update(&mut s, code(KeyCode::Enter));
    assert_eq!(step(&s), Step::Keys);
    assert_eq!(
        effects,
        [
            Effect::Wizard {
                account: "123456789012".into(),
                effect: WizardEffect::LoadKeys {
                    region: "us-east-1".into(),
                    principals: Vec::new(),
                }
            },
            Effect::Wizard {
                account: "123456789012".into(),
                effect: WizardEffect::LoadKeys {
                    region: "eu-west-1".into(),
                    principals: Vec::new(),
                }
            }
        ]
    );
    insta::assert_snapshot!("wizard_keys_loading", draw(&s).backend());
    keys_loaded(&mut s);
    // An unsuitable key is shown and explained, and cannot be chosen: h/l pass it by
    // (h from "new key" goes to the last key, the Disabled one, and on to the good one).
    update(&mut s, key('h'));
    let chosen = |s: &State| s.wizard.as_ref().unwrap().regions[0].existing;
    assert_eq!(
        chosen(&s),
        Some(0),
        "alias/shared, not the Disabled alias/retired"
    );
    update(&mut s, key('l'));
    assert_eq!(chosen(&s), Some(0), "the only suitable key stays chosen");
    insta::assert_snapshot!("wizard_keys_unsuitable", draw(&s).backend());
    update(&mut s, key('n'));

    // Settings: the alias is checked in every region that creates a key.
    let effects = update(&mut s, code(KeyCode::Enter));
    assert_eq!(step(&s), Step::Settings);
    assert_eq!(effects.len(), 2);
    for _ in 0.."bedrock-guardrails".len() {
        update(&mut s, code(KeyCode::Backspace));
    }
    update(&mut s, key('a'));
    update(&mut s, key('w'));
    update(&mut s, key('s'));
    update(&mut s, key('/'));
    update(&mut s, key('x'));
    assert!(
        s.wizard
            .as_ref()
            .unwrap()
            .alias_error()
            .unwrap()
            .contains("reserved")
    );
    insta::assert_snapshot!("wizard_settings_invalid", draw(&s).backend());
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(step(&s), Step::Settings, "an invalid alias stops here");
    for _ in 0.."aws/x".len() {
        update(&mut s, code(KeyCode::Backspace));
    }
    for c in "guardrails".chars() {
        update(&mut s, key(c));
    }
    // The alias is taken in one region: said, with the key it points to.
    update(
        &mut s,
        Action::WizardAlias {
            region: "eu-west-1".into(),
            alias: "alias/guardrails".into(),
            taken_by: Some("arn:aws:kms:eu-west-1:123456789012:key/other".into()),
        },
    );
    assert!(
        s.wizard
            .as_ref()
            .unwrap()
            .alias_error()
            .unwrap()
            .contains("key/other")
    );
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(step(&s), Step::Settings);
    update(&mut s, key('2'));
    update(
        &mut s,
        Action::WizardAlias {
            region: "eu-west-1".into(),
            alias: "alias/guardrails2".into(),
            taken_by: None,
        },
    );
    assert!(s.wizard.as_ref().unwrap().alias_error().is_none());
    insta::assert_snapshot!("wizard_settings", draw(&s).backend());

    // Review: the plan, the policy, the version toggle, the files.
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(step(&s), Step::Review);
    update(&mut s, key('v'));
    assert!(s.wizard.as_ref().unwrap().publish_version);
    let plan = s.wizard.as_ref().unwrap().plan().unwrap();
    assert_eq!(plan.guardrail_count(), 2);
    assert!(
        plan.regions
            .iter()
            .all(|r| matches!(&r.key, KeyChoice::Create(k) if k.alias == "alias/guardrails2"))
    );
    match &plan.regions[0].key {
        KeyChoice::Create(k) => assert!(
            k.policy.contains("arn:aws:iam::123456789012:role/SecOps"),
            "the caller's role administers the key"
        ),
        other => panic!("{other:?}"),
    }
    insta::assert_snapshot!("wizard_review", draw(&s).backend());
    // The script is written by the effect, after each DRAFT is read (see the flow test).
    match &update(&mut s, key('s'))[..] {
        [
            Effect::Wizard {
                effect: WizardEffect::SaveScript(plan),
                ..
            },
        ] => {
            assert_eq!(plan.guardrail_count(), 2);
            assert!(plan.cli_script().contains("aws kms create-key"));
        }
        other => panic!("{other:?}"),
    }
    // The Terraform too: each guardrail's resource is written from its DRAFT.
    match &update(&mut s, key('t'))[..] {
        [
            Effect::Wizard {
                effect: WizardEffect::SaveTerraform(plan),
                ..
            },
        ] => {
            assert_eq!(plan.guardrail_count(), 2);
            assert!(plan.terraform().contains("aws_kms_key"));
        }
        other => panic!("{other:?}"),
    }

    // Back and forth before confirming costs nothing.
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(step(&s), Step::Settings);
    update(&mut s, code(KeyCode::Enter));
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(step(&s), Step::Confirm);

    // Confirm: the number of guardrails must be typed.
    update(&mut s, key('3'));
    let effects = update(&mut s, code(KeyCode::Enter));
    assert!(effects.is_empty(), "a wrong number writes nothing");
    assert!(
        s.wizard
            .as_ref()
            .unwrap()
            .error
            .as_ref()
            .unwrap()
            .contains("type 2")
    );
    update(&mut s, code(KeyCode::Backspace));
    update(&mut s, key('2'));
    insta::assert_snapshot!("wizard_confirm", draw(&s).backend());
    let effects = update(&mut s, code(KeyCode::Enter));
    assert_eq!(step(&s), Step::Apply);
    assert!(
        matches!(&effects[..], [Effect::Wizard { effect: WizardEffect::Apply(p), .. }] if p.publish_version)
    );

    // Apply: progress, a partial failure, cancel asks first.
    let arns: Vec<String> = s
        .wizard
        .as_ref()
        .unwrap()
        .included()
        .map(|t| t.arn.clone())
        .collect();
    update(
        &mut s,
        Action::Fix(FixEvent::KeyReady {
            region: "us-east-1".into(),
            key_arn: "arn:aws:kms:us-east-1:123456789012:key/new".into(),
            created: true,
        }),
    );
    update(
        &mut s,
        Action::Fix(FixEvent::Writing {
            region: "us-east-1".into(),
            arn: arns[0].clone(),
        }),
    );
    update(
        &mut s,
        Action::Fix(FixEvent::Done(Outcome {
            region: "us-east-1".into(),
            arn: arns[0].clone(),
            name: "support-bot".into(),
            kind: OutcomeKind::Fixed {
                key_arn: "k".into(),
                version: Some("1".into()),
                users: None,
            },
        })),
    );
    update(
        &mut s,
        Action::Fix(FixEvent::KeyFailed {
            region: "eu-west-1".into(),
            error: "CreateKey: AccessDeniedException".into(),
        }),
    );
    update(
        &mut s,
        Action::Fix(FixEvent::Done(Outcome {
            region: "eu-west-1".into(),
            arn: arns[1].clone(),
            name: "hr-helpdesk".into(),
            kind: OutcomeKind::Failed {
                error: "no key: CreateKey: AccessDeniedException".into(),
                restored: false,
            },
        })),
    );
    update(&mut s, code(KeyCode::Esc));
    assert!(s.wizard.as_ref().unwrap().asking_cancel);
    insta::assert_snapshot!("wizard_apply_partial_failure", draw(&s).backend());
    update(&mut s, key('n'));
    assert!(!s.wizard.as_ref().unwrap().asking_cancel);
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(
        update(&mut s, key('y')),
        [Effect::Wizard {
            account: "123456789012".into(),
            effect: WizardEffect::Cancel
        }]
    );

    // Done: the summary, the journal, and the rows re-read. The fixed guardrail's mark goes;
    // the failed one stays marked, for another try.
    s.marks = arns.iter().cloned().collect();
    update(
        &mut s,
        Action::FixFinished {
            journal: "/state/fix-1.jsonl".into(),
            summary: "1 fixed, 0 skipped, 1 failed\n".into(),
        },
    );
    assert_eq!(step(&s), Step::Done);
    assert_eq!(s.marks, [arns[1].clone()].into_iter().collect());
    insta::assert_snapshot!("wizard_done", draw(&s).backend());
    let effects = update(&mut s, code(KeyCode::Enter));
    assert!(s.wizard.is_none());
    assert_eq!(
        effects,
        [Effect::StartScan {
            generation: 0,
            regions: vec!["us-east-1".into(), "eu-west-1".into()]
        }]
    );
    assert!(
        s.rows.is_empty(),
        "the rows of the affected regions are read again"
    );
}

#[test]
fn help_opens_over_the_wizard_and_lists_its_keys() {
    let mut s = opened();
    update(&mut s, key('?'));
    assert_eq!(s.overlay, super::state::Overlay::Help);
    s.height = 100;
    let screen = format!("{:?}", draw(&s).backend());
    assert!(screen.contains("Remediation wizard (f)"), "{screen}");
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.overlay, super::state::Overlay::None);
    assert_eq!(step(&s), Step::Targets, "the wizard is still there");
}

#[test]
fn esc_closes_from_the_first_step_and_existing_keys_skip_settings() {
    let mut s = opened();
    update(&mut s, code(KeyCode::Enter));
    keys_loaded(&mut s);
    // Both regions on the existing, suitable key: no key to create, no settings.
    update(&mut s, key('l'));
    update(&mut s, key('j'));
    update(&mut s, key('l'));
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(step(&s), Step::Review);
    let plan = s.wizard.as_ref().unwrap().plan().unwrap();
    assert!(
        plan.regions
            .iter()
            .all(|r| matches!(&r.key, KeyChoice::Existing(k) if k.ends_with("key/good")))
    );
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(step(&s), Step::Keys);
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(step(&s), Step::Targets);
    update(&mut s, code(KeyCode::Esc));
    assert!(s.wizard.is_none());
}

/// The wizard end to end without a terminal: keys through `update`, effects run by the
/// explorer's own effect runner against the simulator.
// Runs effects and feeds the actions they send back until `done` holds.
async fn drive(
    s: &mut State,
    runner: &mut super::EffectRunner,
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<Action>,
    effects: Vec<Effect>,
    done: impl Fn(&State) -> bool,
) {
    for e in effects {
        runner.run(e);
    }
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while !done(s) {
        let action = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("the effects answer")
            .unwrap();
        for e in update(s, action) {
            runner.run(e);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flow_against_the_simulator() {
    use crate::sim::{Seed, SimConfig, Simulator};
    use std::time::Duration;

    let sim = Simulator::new(SimConfig {
        seed: Seed::Demo,
        settle: Duration::from_millis(20),
        ..SimConfig::default()
    })
    .unwrap()
    .serve_loopback()
    .await
    .unwrap();
    let session = crate::commands::sim_session(&sim, false).await;
    let result = crate::scan::collect(
        session.clone(),
        crate::scan::ScanOptions {
            regions: vec!["us-west-2".into()],
            ..Default::default()
        },
        |_| {},
    )
    .await;
    let before: Vec<(String, crate::model::config::GuardrailConfig)> = {
        let bedrock = session.bedrock("us-west-2");
        let mut v = Vec::new();
        for g in result.guardrails.iter().filter(|g| g.kms_key_arn.is_none()) {
            v.push((
                g.arn.clone(),
                session
                    .read_guardrail(&bedrock, &g.arn, None)
                    .await
                    .unwrap()
                    .config,
            ));
        }
        v
    };
    assert_eq!(before.len(), 2, "data-science-notebooks and sales-email-drafts");
    let dir = tempfile::tempdir().unwrap();
    let header = Header {
        account: Some("123456789012".into()),
        caller_arn: Some("arn:aws:iam::123456789012:user/guardkey-admin".into()),
        ..Header::default()
    };
    let mut s = State::new(header.clone(), &["us-west-2".into()], true);
    s.add_rows(result.guardrails);
    s.set_filter("key:none".into());
    s.prepare();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut runner = super::EffectRunner {
        session: Some(session.clone()),
        accounts: None,
        tx,
        scans: Vec::new(),
        caller: "arn:aws:iam::123456789012:user/guardkey-admin".into(),
        cancel: std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
        journal_dir: dir.path().to_path_buf(),
        export_dir: dir.path().to_path_buf(),
        fix_task: None,
        iam: Default::default(),
    };
    update(&mut s, key('a'));
    update(&mut s, key('f'));
    assert_eq!(s.wizard.as_ref().unwrap().included().count(), 2);
    let effects = update(&mut s, code(KeyCode::Enter));
    drive(&mut s, &mut runner, &mut rx, effects, |s| {
        s.wizard
            .as_ref()
            .unwrap()
            .regions
            .iter()
            .all(|r| r.keys != super::wizard::KeyList::Loading)
    })
    .await;
    // us-west-2 has a suitable key with the default alias: chosen for the user, and said,
    // so that Enter alone goes through.
    let r = &s.wizard.as_ref().unwrap().regions[0];
    assert!(r.existing.is_some(), "{r:?}");
    assert!(
        r.note
            .as_deref()
            .unwrap_or("")
            .contains("alias/bedrock-guardrails chosen"),
        "{r:?}"
    );
    // A new key instead, to go through the settings: the alias is taken, and that is said.
    update(&mut s, key('n'));
    let effects = update(&mut s, code(KeyCode::Enter));
    drive(&mut s, &mut runner, &mut rx, effects, |s| {
        s.wizard.as_ref().unwrap().alias_error().is_some()
    })
    .await;
    assert!(
        s.wizard
            .as_ref()
            .unwrap()
            .alias_error()
            .unwrap()
            .contains("already exists in us-west-2")
    );
    for c in "-wizard".chars() {
        let effects = update(&mut s, key(c));
        for e in effects {
            runner.run(e);
        }
    }
    // Let the last alias check answer.
    let effects = Vec::new();
    drive(&mut s, &mut runner, &mut rx, effects, |s| {
        s.wizard
            .as_ref()
            .unwrap()
            .regions
            .iter()
            .all(|r| r.alias_taken.is_none())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    while let Ok(a) = rx.try_recv() {
        update(&mut s, a);
    }
    assert!(
        s.wizard.as_ref().unwrap().alias_error().is_none(),
        "{:?}",
        s.wizard.as_ref().unwrap().alias_error()
    );
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(step(&s), Step::Review);
    // `s` saves the same lossless AWS CLI script as `fix --emit-cli`: every update is there.
    let effects = update(&mut s, key('s'));
    drive(&mut s, &mut runner, &mut rx, effects, |s| {
        s.wizard.as_ref().unwrap().saved.is_some()
    })
    .await;
    let saved = s.wizard.as_ref().unwrap().saved.clone().unwrap();
    assert!(std::path::Path::new(&saved).is_absolute(), "{saved}");
    let script = std::fs::read_to_string(&saved).unwrap();
    for (arn, _) in &before {
        assert!(
            script.contains(&format!("--guardrail-identifier '{arn}'")),
            "{arn} missing:\n{script}"
        );
    }
    assert_eq!(
        script.matches("aws bedrock update-guardrail").count(),
        2,
        "{script}"
    );
    let plan = s.wizard.as_ref().unwrap().plan().unwrap();
    let filled = crate::fix::apply::with_drafts(&session, plan).await.unwrap();
    assert_eq!(
        script,
        filled.cli_script(),
        "one generator for the wizard and fix --emit-cli"
    );
    update(&mut s, code(KeyCode::Enter));
    update(&mut s, key('2'));
    let effects = update(&mut s, code(KeyCode::Enter));
    drive(&mut s, &mut runner, &mut rx, effects, |s| step(s) == Step::Done).await;
    let w = s.wizard.as_ref().unwrap();
    assert!(
        w.summary
            .as_ref()
            .unwrap()
            .starts_with("2 fixed, 0 skipped, 0 failed"),
        "{:?}",
        w.summary
    );
    let journal = w.journal.clone().unwrap();
    assert!(std::path::Path::new(&journal).starts_with(dir.path()));
    let entries = crate::fix::journal::Journal::read(std::path::Path::new(&journal)).unwrap();
    assert_eq!(crate::fix::journal::Journal::pre_images(&entries).len(), 2);
    // Every setting intact, the key the new alias'.
    let key_arn = crate::fix::apply::check_existing_key(
        &session,
        "us-west-2",
        "123456789012",
        "alias/bedrock-guardrails-wizard",
    )
    .await
    .unwrap();
    let bedrock = session.bedrock("us-west-2");
    for (arn, b) in &before {
        let after = session.read_guardrail(&bedrock, arn, None).await.unwrap().config;
        assert_eq!(after.differences_besides_key(b), Vec::<&str>::new());
        assert_eq!(after.kms_key_arn.as_deref(), Some(key_arn.as_str()));
    }
    // Done: the rows are read again, and turn ✓.
    let effects = update(&mut s, code(KeyCode::Enter));
    assert!(s.wizard.is_none());
    s.set_filter(String::new());
    drive(&mut s, &mut runner, &mut rx, effects, |s| {
        !s.loading() && s.rows.len() == 10
    })
    .await;
    let fixed: Vec<_> = s
        .rows
        .iter()
        .filter(|g| before.iter().any(|(a, _)| *a == g.arn))
        .collect();
    assert_eq!(fixed.len(), 2);
    assert!(fixed.iter().all(|g| g.posture.level == Level::Pass), "{fixed:?}");
}

#[test]
fn the_key_policy_names_the_caller_as_iam_resolved_it() {
    use crate::fix::policy::CallerPrincipal;
    let sso = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice";
    let row = guardrail("us-east-1", "support-bot", None);
    let pattern = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_Admin_*";
    let pathed =
        "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef";
    for (principal, expect) in [
        (CallerPrincipal::Arn(pathed.into()), pathed),
        (CallerPrincipal::SsoRolePattern(pattern.into()), pattern),
    ] {
        let w = super::wizard::Wizard::new(vec![&row], "123456789012", sso, Some(&principal));
        let plan = w.plan().unwrap();
        let KeyChoice::Create(key) = &plan.regions[0].key else {
            panic!("a new key by default")
        };
        assert!(key.policy.contains(&format!("\"{expect}\"")), "{}", key.policy);
        assert!(
            !key.policy
                .contains("role/AWSReservedSSO_Admin_0123456789abcdef\""),
            "never the role without its path: {}",
            key.policy
        );
    }
}

/// A state with 50 failing guardrails in 5 regions, all marked, the wizard open.
fn fifty() -> State {
    let header = Header {
        account: Some("123456789012".into()),
        caller_arn: Some("arn:aws:iam::123456789012:user/guardkey-admin".into()),
        ..Header::default()
    };
    let regions = [
        "us-east-1",
        "us-west-2",
        "eu-west-1",
        "eu-central-1",
        "ap-southeast-2",
    ];
    let mut s = State::new(
        header,
        &regions.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
        true,
    );
    s.add_rows(
        (0..50)
            .map(|i| guardrail(regions[i % 5], &format!("tenant-{i:02}"), None))
            .collect(),
    );
    s.prepare();
    update(&mut s, key('a'));
    update(&mut s, key('f'));
    s
}

fn screen_text(s: &State) -> Vec<String> {
    let t = draw(s);
    let buf = t.backend().buffer().clone();
    (0..s.height)
        .map(|y| (0..s.width).map(|x| buf[(x, y)].symbol().to_string()).collect())
        .collect()
}

#[test]
fn with_fifty_targets_every_step_keeps_the_cursor_and_the_outcome_on_screen() {
    for (w, h) in [(60u16, 20u16), (80, 24), (140, 45), (200, 60)] {
        let mut s = fifty();
        s.width = w;
        s.height = h;
        assert_eq!(step(&s), Step::Targets);
        // Down to the 25th target: it is on screen, and Space acts on what is seen.
        for _ in 0..24 {
            update(&mut s, key('j'));
        }
        let wiz = s.wizard.as_ref().unwrap();
        let cursor = wiz.targets[wiz.cursor].name.clone();
        let text = screen_text(&s);
        assert!(
            text.iter().any(|l| l.contains(&cursor)),
            "{w}x{h}: {cursor} is off screen:\n{}",
            text.join("\n")
        );
        insta::assert_snapshot!(format!("wizard50_targets_{w}x{h}"), draw(&s).backend());
        // Keys, settings, review, confirm.
        let effects = update(&mut s, code(KeyCode::Enter));
        assert_eq!(step(&s), Step::Keys, "{effects:?}");
        for r in [
            "us-east-1",
            "us-west-2",
            "eu-west-1",
            "eu-central-1",
            "ap-southeast-2",
        ] {
            update(
                &mut s,
                Action::WizardKeys {
                    region: r.into(),
                    keys: Ok(Vec::new()),
                    iam: Default::default(),
                    answers: Default::default(),
                },
            );
        }
        insta::assert_snapshot!(format!("wizard50_keys_{w}x{h}"), draw(&s).backend());
        update(&mut s, code(KeyCode::Enter));
        assert_eq!(step(&s), Step::Settings);
        insta::assert_snapshot!(format!("wizard50_settings_{w}x{h}"), draw(&s).backend());
        update(&mut s, code(KeyCode::Enter));
        assert_eq!(step(&s), Step::Review);
        insta::assert_snapshot!(format!("wizard50_review_{w}x{h}"), draw(&s).backend());
        update(&mut s, code(KeyCode::Enter));
        assert_eq!(step(&s), Step::Confirm);
        insta::assert_snapshot!(format!("wizard50_confirm_{w}x{h}"), draw(&s).backend());
        update(&mut s, key('5'));
        update(&mut s, key('0'));
        update(&mut s, code(KeyCode::Enter));
        assert_eq!(step(&s), Step::Apply);
        insta::assert_snapshot!(format!("wizard50_apply_{w}x{h}"), draw(&s).backend());
        // Done with every guardrail's line: the outcome, journal and undo command are
        // pinned; the list scrolls with j and G.
        let arns: Vec<(String, String)> = s
            .wizard
            .as_ref()
            .unwrap()
            .targets
            .iter()
            .map(|t| (t.arn.clone(), t.region.clone()))
            .collect();
        for (arn, region) in &arns {
            update(
                &mut s,
                Action::Fix(FixEvent::Done(Outcome {
                    region: region.clone(),
                    arn: arn.clone(),
                    name: String::new(),
                    kind: OutcomeKind::Fixed {
                        key_arn: "arn:aws:kms:us-east-1:123456789012:key/k".into(),
                        version: None,
                        users: None,
                    },
                })),
            );
        }
        update(
            &mut s,
            Action::FixFinished {
                journal: "/home/u/.local/state/guardkey/fix-20261130T120000Z-1.jsonl".into(),
                summary: "50 fixed, 0 skipped, 0 failed\n  us-east-1 ✓ tenant-00 → k\n".into(),
            },
        );
        assert_eq!(step(&s), Step::Done);
        let text = screen_text(&s);
        for must in ["50 fixed, 0 skipped, 0 failed", "To undo: guardkey restore"] {
            assert!(
                text.iter().any(|l| l.contains(must)),
                "{w}x{h}: {must} not on screen:\n{}",
                text.join("\n")
            );
        }
        let before = text.clone();
        update(&mut s, key('G'));
        let after = screen_text(&s);
        if h < 60 {
            assert_ne!(before, after, "{w}x{h}: G scrolls the list");
        }
        assert!(
            after.iter().any(|l| l.contains("To undo: guardkey restore")),
            "{w}x{h}: still pinned"
        );
        insta::assert_snapshot!(format!("wizard50_done_{w}x{h}"), draw(&s).backend());
    }
}

#[test]
fn in_govcloud_the_wizard_plans_every_arn_in_the_partition() {
    let caller = "arn:aws-us-gov:sts::123456789012:assumed-role/GuardrailOps/ci";
    let row = guardrail("us-gov-west-1", "gov-bot", None);
    let principal = crate::fix::policy::CallerPrincipal::Arn(
        "arn:aws-us-gov:iam::123456789012:role/platform/security/GuardrailOps".into(),
    );
    let w = super::wizard::Wizard::new(vec![&row], "123456789012", caller, Some(&principal));
    let plan = w.plan().unwrap();
    let KeyChoice::Create(key) = &plan.regions[0].key else {
        panic!("a new key")
    };
    let policy: serde_json::Value = serde_json::from_str(&key.policy).unwrap();
    let text = policy.to_string();
    assert!(
        text.contains("\"arn:aws-us-gov:iam::123456789012:root\""),
        "{text}"
    );
    assert!(
        !text.contains("arn:aws:"),
        "an ARN of the commercial partition: {text}"
    );
}

#[test]
fn a_new_key_names_the_guardrails_users_and_the_review_says_they_keep_access() {
    use crate::usage::{Access, GuardrailUser, Usage};
    let agent_role = "arn:aws:iam::123456789012:role/service-role/AgentRole";
    let user = |principal: &str, missing: bool| GuardrailUser {
        missing,
        ..crate::usage::claims_agent(
            principal,
            Access::Allowed {
                how: "the AWS-owned key needs no grant".into(),
            },
        )
    };
    let mut row = guardrail("us-east-1", "support-bot", None);
    row.usage = Some(Box::new(Usage {
        users: vec![
            user(agent_role, false),
            // Another account's role, and a deleted one: neither can be named.
            user("arn:aws:iam::444455556666:role/Partner", false),
            user("arn:aws:iam::123456789012:role/Deleted", true),
        ],
        unknown: Vec::new(),
    }));
    let w = super::wizard::Wizard::new(
        vec![&row],
        "123456789012",
        "arn:aws:iam::123456789012:user/alice",
        None,
    );
    // The partner's role is another account's: a new key the wizard makes does not name it,
    // so it would lose access; the guardrail is left out of step 1, and held back if included.
    assert!(!w.targets[0].included, "{:?}", w.targets[0].locks_out);
    assert!(w.targets[0].locks_out.as_deref().unwrap().contains("Partner"));
    let mut w = w;
    w.targets[0].included = true;
    w.regions = vec![super::wizard::RegionKey {
        region: "us-east-1".into(),
        existing: None,
        keys: super::wizard::KeyList::Ready(Vec::new()),
        alias_taken: None,
        note: None,
    }];
    let held = w.plan().unwrap();
    assert_eq!(held.guardrail_count(), 0);
    assert!(
        held.summary().contains("role/Partner) would lose access"),
        "{}",
        held.summary()
    );
    // Accepted (o at the confirm step): moved, and the plan says the lock-out was accepted.
    w.allow_lockout = true;
    let plan = w.plan().unwrap();
    assert!(plan.summary().contains("Lock-out accepted"), "{}", plan.summary());
    let KeyChoice::Create(key) = &plan.regions[0].key else {
        panic!("a new key by default")
    };
    let policy: serde_json::Value = serde_json::from_str(&key.policy).unwrap();
    let users = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == crate::fix::policy::USERS_SID)
        .expect("a users statement");
    assert_eq!(users["Principal"]["AWS"], agent_role, "{}", key.policy);
    let summary = plan.summary();
    assert!(summary.contains("✓ agent claims-agent"), "{summary}");
    assert!(
        summary.contains("keeps access: the key policy allows it kms:Decrypt"),
        "{summary}"
    );
    assert!(
        summary.contains("WOULD LOSE ACCESS: the key policy names neither it nor its account"),
        "the partner's role:\n{summary}"
    );
}

#[test]
fn on_an_existing_key_g_grants_the_users_it_would_lock_out() {
    use super::wizard::{KeyList, RegionKey};
    use crate::usage::{Access, Usage};
    let role = "arn:aws:iam::123456789012:role/service-role/AgentRole";
    let mut row = guardrail("us-east-1", "support-bot", None);
    row.usage = Some(Box::new(Usage {
        users: vec![crate::usage::claims_agent(
            role,
            Access::Allowed {
                how: "the AWS-owned key needs no grant".into(),
            },
        )],
        unknown: Vec::new(),
    }));
    let mut w = wizard_on(&row);
    let key_arn = "arn:aws:kms:us-east-1:123456789012:key/existing";
    // A key whose policy names only the account root (decrypt through IAM, not read here).
    let root_only = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}]}"#;
    w.regions = vec![RegionKey {
        region: "us-east-1".into(),
        existing: Some(0),
        keys: KeyList::Ready(vec![ExistingKey {
            arn: key_arn.into(),
            alias: Some("alias/shared".into()),
            state: "Enabled".into(),
            rotation: "365 days".into(),
            suitable: Ok(()),
            policy_warning: None,
            policy: Some(root_only.into()),
            grants: Vec::new(),
        }]),
        alias_taken: None,
        note: None,
    }];
    let plan = w.plan().unwrap();
    assert!(plan.usage.grants.is_empty(), "not without g");
    let summary = plan.summary();
    assert!(summary.contains("may lose access"), "{summary}");
    assert!(summary.contains("its IAM policies were not read"), "{summary}");
    // With the account's IAM read along with the keys, the planner says what KMS would.
    let set_iam = |w: &mut super::wizard::Wizard, documents: Vec<serde_json::Value>| {
        w.iam.insert(
            role.to_string(),
            crate::usage::PrincipalPolicies {
                arn: role.into(),
                documents,
                ..Default::default()
            },
        );
    };
    set_iam(&mut w, Vec::new());
    let plan = w.plan().unwrap();
    assert_eq!(
        plan.guardrail_count(),
        0,
        "held back: the agent would lose access"
    );
    let summary = plan.summary();
    assert!(summary.contains("Held back"), "{summary}");
    assert!(summary.contains("✗ agent claims-agent"), "{summary}");
    assert!(summary.contains("would lose access"), "{summary}");
    set_iam(
        &mut w,
        vec![
            serde_json::json!({"Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}),
        ],
    );
    let summary = w.plan().unwrap().summary();
    assert!(summary.contains("✓ agent claims-agent"), "{summary}");
    assert!(w.plan().unwrap().usage.grants.is_empty(), "nobody to grant");
    set_iam(&mut w, Vec::new());
    w.grant_users = true;
    let plan = w.plan().unwrap();
    let grant = &plan.usage.grants[0];
    assert_eq!(grant.principals, [role]);
    assert_eq!(grant.old_policy, root_only);
    assert!(grant.new_policy.contains(role), "{}", grant.new_policy);
    let summary = plan.summary();
    assert!(summary.contains("kms:PutKeyPolicy"), "{summary}");
    assert!(summary.contains("✓ agent claims-agent"), "{summary}");
}

#[test]
fn a_user_a_permissions_boundary_keeps_out_would_lose_access_even_with_a_new_key() {
    use super::wizard::{KeyList, RegionKey};
    use crate::usage::{Access, Usage};
    let role = "arn:aws:iam::123456789012:role/IncidentSummaries";
    let mut user = crate::usage::claims_agent(
        role,
        Access::Allowed {
            how: "the AWS-owned key needs no grant".into(),
        },
    );
    user.capped = Some(Access::Denied {
        why: "its permissions boundary arn:aws:iam::123456789012:policy/BedrockOnly does not let kms:Decrypt on the key through".into(),
    });
    let mut row = guardrail("us-east-2", "incident-summarizer", None);
    row.usage = Some(Box::new(Usage {
        users: vec![user],
        unknown: Vec::new(),
    }));
    let mut w = wizard_on(&row);
    w.regions = vec![RegionKey {
        region: "us-east-2".into(),
        existing: None,
        keys: KeyList::Ready(Vec::new()),
        alias_taken: None,
        note: None,
    }];
    assert!(
        w.targets[0].locks_out.is_some() && !w.targets[0].included,
        "left out in step 1: no key keeps the role"
    );
    w.targets[0].included = true;
    let plan = w.plan().unwrap();
    assert_eq!(plan.guardrail_count(), 0);
    let summary = plan.summary();
    assert!(
        summary.contains("would lose access: its permissions boundary"),
        "{summary}"
    );
    assert!(summary.contains("BedrockOnly"), "{summary}");
}

/// The wizard on one row, as alice of the account.
fn wizard_on(row: &crate::model::Guardrail) -> super::wizard::Wizard {
    super::wizard::Wizard::new(
        vec![row],
        "123456789012",
        "arn:aws:iam::123456789012:user/alice",
        None,
    )
}

/// One rule, two front ends: on the demo, the wizard and `guardkey fix` make the same plan
/// of claims-assistant onto the key carrying alias/bedrock-guardrails, whose policy does not
/// let the claims agent's role decrypt: both hold it back with the same user losing access,
/// and both, granting, name the same role.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wizard_and_guardkey_fix_hold_back_the_same_lock_out() {
    use crate::fix::prepare::{FixRequest, KeyRequest, prepare};
    let sim = crate::sim::Simulator::new(crate::sim::SimConfig {
        seed: crate::sim::Seed::Demo,
        ..crate::sim::SimConfig::default()
    })
    .unwrap()
    .serve_loopback()
    .await
    .unwrap();
    let session = crate::commands::sim_session(&sim, false).await;
    let identity = session.identify().await.unwrap();
    let mut result = crate::scan::collect(
        session.clone(),
        crate::scan::ScanOptions {
            regions: vec!["us-east-1".into()],
            ..Default::default()
        },
        |_| {},
    )
    .await;
    crate::scan::usage::attach_usage(&session, &session, &identity.account, &mut result.guardrails).await;
    let claims = result
        .guardrails
        .iter()
        .find(|g| g.name == "claims-assistant")
        .unwrap()
        .clone();
    // The wizard, as the explorer opens it on the row, its keys loaded by the effect runner.
    let header = Header {
        account: Some(identity.account.clone()),
        caller_arn: Some(identity.arn.clone()),
        ..Header::default()
    };
    let mut s = State::new(header, &["us-east-1".into()], true);
    s.add_rows(vec![claims.clone()]);
    s.prepare();
    let dir = tempfile::tempdir().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut runner = super::EffectRunner {
        session: Some(session.clone()),
        accounts: None,
        tx,
        scans: Vec::new(),
        caller: identity.arn.clone(),
        cancel: std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
        journal_dir: dir.path().to_path_buf(),
        export_dir: dir.path().to_path_buf(),
        fix_task: None,
        iam: Default::default(),
    };
    update(&mut s, key('f'));
    let effects = update(&mut s, code(KeyCode::Enter));
    drive(&mut s, &mut runner, &mut rx, effects, |s| {
        s.wizard
            .as_ref()
            .unwrap()
            .regions
            .iter()
            .all(|r| r.keys != super::wizard::KeyList::Loading)
    })
    .await;
    let w = s.wizard.as_mut().unwrap();
    assert!(w.grant_users, "the safe default: the key's policy extended");
    w.grant_users = false;
    let wizard_plan = w.plan().unwrap();
    // guardkey fix, headless, onto the same key.
    let request = |grant_users| FixRequest {
        filter: None,
        guardrails: vec![claims.arn.clone()],
        key: KeyRequest::Existing("alias/bedrock-guardrails".into()),
        include_compliant: false,
        include_muted: false,
        multi_region: false,
        primary_region: None,
        exceptions: None,
        include_failed: false,
        include_managed: false,
        grant_users,
        allow_lockout: false,
        publish_version: false,
    };
    let headless = prepare(
        &session,
        &session,
        &identity,
        &["us-east-1".into()],
        &request(false),
        4,
    )
    .await
    .unwrap()
    .plan
    .unwrap();
    let held = |p: &crate::fix::plan::FixPlan| -> Vec<(String, Vec<(String, String)>)> {
        p.held
            .iter()
            .map(|h| {
                (
                    h.target.arn.clone(),
                    h.losing
                        .iter()
                        .map(|u| (u.user.principal.clone(), u.with_key.reason().to_string()))
                        .collect(),
                )
            })
            .collect()
    };
    assert_eq!(held(&wizard_plan).len(), 1, "{}", wizard_plan.summary());
    assert_eq!(held(&wizard_plan), held(&headless));
    assert_eq!(wizard_plan.guardrail_count(), 0);
    assert_eq!(headless.guardrail_count(), 0);
    // Granting, both name the claims agent's role and move the guardrail.
    let w = s.wizard.as_mut().unwrap();
    w.grant_users = true;
    let wizard_plan = w.plan().unwrap();
    let headless = prepare(
        &session,
        &session,
        &identity,
        &["us-east-1".into()],
        &request(true),
        4,
    )
    .await
    .unwrap()
    .plan
    .unwrap();
    let granted = |p: &crate::fix::plan::FixPlan| -> Vec<Vec<String>> {
        p.usage.grants.iter().map(|g| g.principals.clone()).collect()
    };
    assert!(wizard_plan.held.is_empty() && headless.held.is_empty());
    assert_eq!(granted(&wizard_plan), granted(&headless));
    assert!(
        granted(&headless)[0][0].ends_with("role/service-role/AmazonBedrockExecutionRoleForAgents_claims")
    );
}

#[test]
fn m_in_the_key_step_makes_one_multi_region_key_for_all_the_regions() {
    let mut s = opened();
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(step(&s), Step::Keys);
    keys_loaded(&mut s);
    // An existing key in one region, then m: new keys everywhere, one family.
    update(&mut s, key('h'));
    update(&mut s, key('m'));
    let w = s.wizard.as_ref().unwrap();
    assert!(w.multi_region && w.regions.iter().all(|r| r.existing.is_none()));
    let text = screen_text(&s).join("\n");
    assert!(
        text.contains("One multi-Region key for all the regions (m): yes"),
        "{text}"
    );
    assert!(
        text.contains("new multi-Region key (primary)") && text.contains("its replica in this region"),
        "{text}"
    );
    let plan = s.wizard.as_ref().unwrap().plan().unwrap();
    let parts: Vec<&MultiRegion> = plan
        .regions
        .iter()
        .map(|r| match &r.key {
            KeyChoice::Create(k) => &k.multi_region,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(parts[0], &MultiRegion::Primary);
    assert!(
        matches!(parts[1], MultiRegion::Replica { primary_region } if *primary_region == plan.regions[0].region)
    );
    assert!(plan.summary().contains("kms:ReplicateKey"), "{}", plan.summary());
    // Choosing an existing key again makes it a key per region.
    update(&mut s, key('l'));
    assert!(!s.wizard.as_ref().unwrap().multi_region);
}
