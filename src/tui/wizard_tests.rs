//! The wizard's state machine, and a snapshot of every step.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::state::{Header, State};
use super::update::{Action, Effect, update};
use super::view::render;
use super::wizard::{ExistingKey, Step, WizardEffect};
use crate::fix::apply::{FixEvent, Outcome, OutcomeKind};
use crate::fix::plan::KeyChoice;
use crate::model::Rotation;
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
    let on = Rotation::Enabled { period_days: Some(365) };
    s.add_rows(vec![
        guardrail("us-east-1", "support-bot", None),
        guardrail("us-east-1", "claims-bot", Some(kms_key("us-east-1", "Enabled", on))),
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
            },
            ExistingKey {
                arn: format!("arn:aws:kms:{region}:123456789012:key/off"),
                alias: Some("alias/retired".into()),
                state: "Disabled".into(),
                rotation: "off".into(),
                suitable: Err("the key is Disabled: only an enabled key can encrypt guardrails".into()),
            },
        ];
        update(s, Action::WizardKeys { region: region.into(), keys: Ok(keys) });
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
            Effect::Wizard(WizardEffect::LoadKeys { region: "us-east-1".into() }),
            Effect::Wizard(WizardEffect::LoadKeys { region: "eu-west-1".into() })
        ]
    );
    insta::assert_snapshot!("wizard_keys_loading", draw(&s).backend());
    keys_loaded(&mut s);
    // An unsuitable key is shown and explained, and cannot be chosen.
    update(&mut s, key('h'));
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(step(&s), Step::Keys);
    assert!(s.wizard.as_ref().unwrap().error.as_ref().unwrap().contains("Disabled"));
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
    assert!(s.wizard.as_ref().unwrap().alias_error().unwrap().contains("reserved"));
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
    update(&mut s, Action::WizardAlias { region: "eu-west-1".into(), alias: "alias/guardrails".into(), taken_by: Some("arn:aws:kms:eu-west-1:123456789012:key/other".into()) });
    assert!(s.wizard.as_ref().unwrap().alias_error().unwrap().contains("key/other"));
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(step(&s), Step::Settings);
    update(&mut s, key('2'));
    update(&mut s, Action::WizardAlias { region: "eu-west-1".into(), alias: "alias/guardrails2".into(), taken_by: None });
    assert!(s.wizard.as_ref().unwrap().alias_error().is_none());
    insta::assert_snapshot!("wizard_settings", draw(&s).backend());

    // Review: the plan, the policy, the version toggle, the files.
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(step(&s), Step::Review);
    update(&mut s, key('v'));
    assert!(s.wizard.as_ref().unwrap().publish_version);
    let plan = s.wizard.as_ref().unwrap().plan().unwrap();
    assert_eq!(plan.guardrail_count(), 2);
    assert!(plan.regions.iter().all(|r| matches!(&r.key, KeyChoice::Create(k) if k.alias == "alias/guardrails2")));
    match &plan.regions[0].key {
        KeyChoice::Create(k) => assert!(k.policy.contains("arn:aws:iam::123456789012:role/SecOps"), "the caller's role administers the key"),
        other => panic!("{other:?}"),
    }
    insta::assert_snapshot!("wizard_review", draw(&s).backend());
    match &update(&mut s, key('s'))[..] {
        [Effect::Wizard(WizardEffect::Save { extension: "sh", content })] => assert!(content.contains("aws kms create-key")),
        other => panic!("{other:?}"),
    }
    match &update(&mut s, key('t'))[..] {
        [Effect::Wizard(WizardEffect::Save { extension: "tf", content })] => assert!(content.contains("aws_kms_key")),
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
    assert!(s.wizard.as_ref().unwrap().error.as_ref().unwrap().contains("type 2"));
    update(&mut s, code(KeyCode::Backspace));
    update(&mut s, key('2'));
    insta::assert_snapshot!("wizard_confirm", draw(&s).backend());
    let effects = update(&mut s, code(KeyCode::Enter));
    assert_eq!(step(&s), Step::Apply);
    assert!(matches!(&effects[..], [Effect::Wizard(WizardEffect::Apply(p))] if p.publish_version));

    // Apply: progress, a partial failure, cancel asks first.
    let arns: Vec<String> = s.wizard.as_ref().unwrap().included().map(|t| t.arn.clone()).collect();
    update(&mut s, Action::Fix(FixEvent::KeyReady { region: "us-east-1".into(), key_arn: "arn:aws:kms:us-east-1:123456789012:key/new".into(), created: true }));
    update(&mut s, Action::Fix(FixEvent::Writing { region: "us-east-1".into(), arn: arns[0].clone() }));
    update(&mut s, Action::Fix(FixEvent::Done(Outcome { region: "us-east-1".into(), arn: arns[0].clone(), name: "support-bot".into(), kind: OutcomeKind::Fixed { key_arn: "k".into(), version: Some("1".into()) } })));
    update(&mut s, Action::Fix(FixEvent::KeyFailed { region: "eu-west-1".into(), error: "CreateKey: AccessDeniedException".into() }));
    update(&mut s, Action::Fix(FixEvent::Done(Outcome { region: "eu-west-1".into(), arn: arns[1].clone(), name: "hr-helpdesk".into(), kind: OutcomeKind::Failed { error: "no key: CreateKey: AccessDeniedException".into(), restored: false } })));
    update(&mut s, code(KeyCode::Esc));
    assert!(s.wizard.as_ref().unwrap().asking_cancel);
    insta::assert_snapshot!("wizard_apply_partial_failure", draw(&s).backend());
    update(&mut s, key('n'));
    assert!(!s.wizard.as_ref().unwrap().asking_cancel);
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(update(&mut s, key('y')), [Effect::Wizard(WizardEffect::Cancel)]);

    // Done: the summary, the journal, and the rows re-read.
    update(&mut s, Action::FixFinished { journal: "/state/fix-1.jsonl".into(), summary: "1 fixed, 0 skipped, 1 failed\n".into() });
    assert_eq!(step(&s), Step::Done);
    insta::assert_snapshot!("wizard_done", draw(&s).backend());
    let effects = update(&mut s, code(KeyCode::Enter));
    assert!(s.wizard.is_none());
    assert_eq!(effects, [Effect::StartScan { generation: 0, regions: vec!["us-east-1".into(), "eu-west-1".into()] }]);
    assert!(s.rows.is_empty(), "the rows of the affected regions are read again");
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
    assert!(plan.regions.iter().all(|r| matches!(&r.key, KeyChoice::Existing(k) if k.ends_with("key/good"))));
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(step(&s), Step::Keys);
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(step(&s), Step::Targets);
    update(&mut s, code(KeyCode::Esc));
    assert!(s.wizard.is_none());
}
