//! The explorer without a terminal: `update` for every key and scan event, and snapshots of
//! every screen drawn on a fixed-size `TestBackend`.
//!
//! (Long: one test per key and scan event of the explorer, and a snapshot of every screen.)

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

use super::state::{Column, Detail, Header, Loadable, Overlay, RegionStatus, Screen, State};
use super::update::{Action, Effect, update};
use super::view::render;
use crate::model::{CallError, Guardrail, Level, Rotation};
use crate::report::fixtures::{guardrail, key as kms_key};
use crate::scan::ScanEvent;

const REGIONS: [&str; 4] = ["us-east-1", "eu-west-1", "ap-south-1", "me-central-1"];

fn header() -> Header {
    Header {
        account: Some("123456789012".into()),
        caller_arn: Some("arn:aws:iam::123456789012:user/auditor".into()),
        profile: Some("audit".into()),
        endpoint: Some("http://127.0.0.1:4566".into()),
        read_only: true,
        loaded_from: None,
        caller_principal: None,
        organization: None,
    }
}

fn fresh() -> State {
    let regions: Vec<String> = REGIONS.iter().map(|s| s.to_string()).collect();
    let mut s = State::new(header(), &regions, true);
    s.width = 120;
    s.height = 30;
    s
}

fn rows() -> Vec<Guardrail> {
    let on = Rotation::Enabled {
        period_days: Some(365),
    };
    vec![
        guardrail("us-east-1", "support-bot", None),
        guardrail(
            "us-east-1",
            "claims-bot",
            Some(kms_key("us-east-1", "Enabled", on.clone())),
        ),
        guardrail("us-east-1", "hr-helpdesk", None),
        guardrail(
            "eu-west-1",
            "legacy-bot",
            Some(kms_key("eu-west-1", "Enabled", Rotation::Disabled)),
        ),
        guardrail(
            "eu-west-1",
            "kb-search",
            Some(kms_key("eu-west-1", "Disabled", on)),
        ),
    ]
}

fn key(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(c: KeyCode) -> Action {
    Action::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

/// A scan event, then the views brought up to date as the draw loop does before its frame.
fn scan(state: &mut State, event: ScanEvent) -> Vec<Effect> {
    let effects = update(state, Action::Scan(event));
    state.prepare();
    effects
}

/// A state after a complete scan: us-east-1 and eu-west-1 done, ap-south-1 denied,
/// me-central-1 not enabled.
fn loaded() -> State {
    let mut s = fresh();
    let g = s.generation;
    scan(
        &mut s,
        ScanEvent::Started {
            generation: g,
            regions: REGIONS.iter().map(|r| r.to_string()).collect(),
        },
    );
    let all = rows();
    scan(
        &mut s,
        ScanEvent::Rows {
            generation: g,
            region: "us-east-1".into(),
            rows: all[..3].to_vec(),
        },
    );
    scan(
        &mut s,
        ScanEvent::Rows {
            generation: g,
            region: "eu-west-1".into(),
            rows: all[3..].to_vec(),
        },
    );
    scan(
        &mut s,
        ScanEvent::RegionDone {
            generation: g,
            region: "us-east-1".into(),
            guardrails: 3,
            elapsed_ms: 120,
        },
    );
    scan(
        &mut s,
        ScanEvent::RegionDone {
            generation: g,
            region: "eu-west-1".into(),
            guardrails: 2,
            elapsed_ms: 300,
        },
    );
    let denied = CallError::AccessDenied {
        action: Some("bedrock:ListGuardrails".into()),
        message: "User: x is not authorized to perform: bedrock:ListGuardrails".into(),
    };
    scan(
        &mut s,
        ScanEvent::RegionFailed {
            generation: g,
            region: "ap-south-1".into(),
            error: denied,
            guardrails: 0,
            elapsed_ms: 20,
        },
    );
    scan(
        &mut s,
        ScanEvent::RegionFailed {
            generation: g,
            region: "me-central-1".into(),
            error: CallError::NotEnabled,
            guardrails: 0,
            elapsed_ms: 10,
        },
    );
    scan(
        &mut s,
        ScanEvent::Finished {
            generation: g,
            elapsed_ms: 310,
        },
    );
    s.toast = None;
    s
}

fn draw(state: &State) -> Terminal<TestBackend> {
    let mut state = state.clone();
    state.prepare();
    let mut t = Terminal::new(TestBackend::new(state.width, state.height)).unwrap();
    t.draw(|f| render(&state, f)).unwrap();
    t
}

fn names(state: &State) -> Vec<String> {
    state.visible_rows().map(|g| g.name.clone()).collect()
}

#[test]
fn scan_events_fill_the_table_and_the_totals() {
    let s = loaded();
    assert_eq!(s.rows.len(), 5);
    assert_eq!((s.totals.fail, s.totals.warn, s.totals.pass), (3, 1, 1));
    assert!(matches!(
        s.regions[0].status,
        RegionStatus::Done { guardrails: 3, .. }
    ));
    assert!(matches!(s.regions[2].status, RegionStatus::Failed { .. }));
    assert!(!s.loading());
    // Sorted by status first: failures on top.
    assert_eq!(s.selected_row().unwrap().posture.level, Level::Fail);
}

#[test]
fn stale_generations_are_dropped() {
    let mut s = loaded();
    let effects = update(&mut s, key('r'));
    assert_eq!(
        effects,
        [Effect::StartScan {
            generation: 1,
            regions: REGIONS.iter().map(|r| r.to_string()).collect()
        }]
    );
    assert!(s.rows.is_empty(), "a refresh drops the old results");
    // A late event of the old scan is ignored.
    scan(
        &mut s,
        ScanEvent::Rows {
            generation: 0,
            region: "us-east-1".into(),
            rows: rows(),
        },
    );
    assert!(s.rows.is_empty());
    scan(
        &mut s,
        ScanEvent::Rows {
            generation: 1,
            region: "us-east-1".into(),
            rows: rows()[..1].to_vec(),
        },
    );
    assert_eq!(s.rows.len(), 1);
}

#[test]
fn progress_and_failures_update_the_strip_and_toast() {
    let mut s = fresh();
    scan(
        &mut s,
        ScanEvent::Started {
            generation: 0,
            regions: vec!["us-east-1".into()],
        },
    );
    assert!(s.loading());
    scan(
        &mut s,
        ScanEvent::RegionProgress {
            generation: 0,
            region: "us-east-1".into(),
            pages: 2,
            listed: 200,
            read: 150,
        },
    );
    assert_eq!(
        s.regions[0].status,
        RegionStatus::Loading {
            pages: 2,
            listed: 200,
            read: 150
        }
    );
    scan(
        &mut s,
        ScanEvent::RegionFailed {
            generation: 0,
            region: "eu-west-1".into(),
            error: CallError::Timeout,
            guardrails: 0,
            elapsed_ms: 1,
        },
    );
    assert!(s.toast.as_ref().unwrap().text.contains("eu-west-1: timed out"));
    // A not-enabled region is no error: no toast.
    s.toast = None;
    scan(
        &mut s,
        ScanEvent::RegionFailed {
            generation: 0,
            region: "me-central-1".into(),
            error: CallError::NotEnabled,
            guardrails: 0,
            elapsed_ms: 1,
        },
    );
    assert!(s.toast.is_none());
    // Toasts go away with time.
    scan(
        &mut s,
        ScanEvent::RegionFailed {
            generation: 0,
            region: "ap-south-1".into(),
            error: CallError::Throttled,
            guardrails: 0,
            elapsed_ms: 1,
        },
    );
    for _ in 0..41 {
        update(&mut s, Action::Tick);
    }
    assert!(s.toast.is_none());
}

#[test]
fn navigation_keys() {
    let mut s = loaded();
    update(&mut s, key('j'));
    assert_eq!(s.selected, 1);
    update(&mut s, code(KeyCode::Down));
    assert_eq!(s.selected, 2);
    update(&mut s, key('k'));
    assert_eq!(s.selected, 1);
    update(&mut s, key('G'));
    assert_eq!(s.selected, 4);
    update(&mut s, key('j'));
    assert_eq!(s.selected, 4, "stays on the last row");
    update(&mut s, key('g'));
    assert_eq!(s.selected, 0);
    update(&mut s, code(KeyCode::PageDown));
    assert_eq!(s.selected, 4);
    update(&mut s, code(KeyCode::PageUp));
    assert_eq!(s.selected, 0);
    update(
        &mut s,
        Action::Key(KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL)),
    );
    assert!(s.selected > 0);
    update(
        &mut s,
        Action::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    assert_eq!(s.selected, 0);
    // An Alt-chord (a fast Esc then a key) does nothing.
    update(
        &mut s,
        Action::Key(KeyEvent::new(KeyCode::Char('G'), KeyModifiers::ALT)),
    );
    assert_eq!(s.selected, 0);
}

#[test]
fn the_viewport_follows_the_selection() {
    let mut s = loaded();
    s.height = 14;
    for _ in 0..4 {
        update(&mut s, key('j'));
    }
    let page = super::update::page_size(&s);
    assert!(s.selected < s.offset + page && s.selected >= s.offset);
}

#[test]
fn filter_keys() {
    let mut s = loaded();
    update(&mut s, key('/'));
    assert!(s.editing_filter);
    for c in "status:fail".chars() {
        update(&mut s, key(c));
    }
    assert_eq!(names(&s), ["hr-helpdesk", "kb-search", "support-bot"]);
    update(&mut s, code(KeyCode::Backspace));
    assert_eq!(s.filter_input, "status:fai");
    update(&mut s, key('l'));
    update(&mut s, code(KeyCode::Enter));
    assert!(!s.editing_filter);
    assert_eq!(s.visible.len(), 3, "the filter stays");
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.visible.len(), 5, "Esc clears it");
    update(&mut s, key('/'));
    update(&mut s, key('x'));
    update(&mut s, code(KeyCode::Esc));
    assert!(!s.editing_filter && s.filter_input.is_empty());
    // q while typing is text, not quit.
    update(&mut s, key('/'));
    update(&mut s, key('q'));
    assert!(!s.quit);
}

#[test]
fn sorting_marks_and_copy() {
    let mut s = loaded();
    update(&mut s, key('2'));
    assert_eq!(s.sort, Column::Name);
    assert_eq!(
        names(&s),
        [
            "claims-bot",
            "hr-helpdesk",
            "kb-search",
            "legacy-bot",
            "support-bot"
        ]
    );
    // Untouched, the cursor stays on the first row.
    assert_eq!(s.selected_row().unwrap().name, "claims-bot");
    update(&mut s, key('j'));
    update(&mut s, key('2'));
    assert!(s.descending);
    assert_eq!(names(&s)[0], "support-bot");
    assert_eq!(
        s.selected_row().unwrap().name,
        "hr-helpdesk",
        "the selection follows its guardrail"
    );
    update(&mut s, key('g'));
    update(&mut s, key(' '));
    assert_eq!(s.marks.len(), 1);
    assert_eq!(s.selected, 1, "Space marks and moves on");
    update(&mut s, key('a'));
    assert_eq!(s.marks.len(), 5);
    update(&mut s, key('A'));
    assert!(s.marks.is_empty());
    let effects = update(&mut s, key('y'));
    assert_eq!(effects, [Effect::Copy(s.selected_row().unwrap().arn.clone())]);
    update(&mut s, Action::Copied("arn".into()));
    assert!(s.toast.as_ref().unwrap().text.contains("copied"));
}

#[test]
fn detail_loads_what_it_needs_once() {
    let mut s = loaded();
    update(&mut s, key('2'));
    update(&mut s, key('g'));
    // claims-bot, on a customer managed key.
    let effects = update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.detail, Detail::Split);
    let arn = s.selected_row().unwrap().arn.clone();
    let key_arn = s.selected_row().unwrap().kms_key_arn.clone().unwrap();
    assert_eq!(
        effects,
        [
            Effect::LoadTags {
                arn: arn.clone(),
                region: "us-east-1".into()
            },
            Effect::LoadVersions {
                arn: arn.clone(),
                region: "us-east-1".into()
            },
            Effect::LoadPolicy {
                key_arn: key_arn.clone()
            }
        ]
    );
    assert_eq!(s.versions.get(&arn), Some(&Loadable::Loading));
    update(
        &mut s,
        Action::VersionsLoaded {
            arn: arn.clone(),
            versions: Vec::new(),
        },
    );
    update(
        &mut s,
        Action::PolicyLoaded {
            key_arn: key_arn.clone(),
            result: Ok("{}".into()),
        },
    );
    // Moving away and back does not load again.
    let effects = update(&mut s, key('j'));
    assert_eq!(
        effects.len(),
        2,
        "hr-helpdesk has no key: its tags and versions only"
    );
    // Back on the first row, whose versions and key policy are loaded: nothing is asked again.
    assert!(
        update(&mut s, key('k')).is_empty(),
        "support-bot's detail is loaded already"
    );
    assert_eq!(s.selected, 0);
    // At the top, k stays there and asks for nothing.
    assert!(update(&mut s, key('k')).is_empty());
    assert_eq!(s.selected, 0);
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.detail, Detail::Full);
    update(&mut s, key('j'));
    assert_eq!(s.detail_scroll, 1, "j scrolls the full-screen detail");
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.detail, Detail::Split);
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.detail, Detail::Closed);
}

#[test]
fn overlays_help_errors_export() {
    let mut s = loaded();
    update(&mut s, key('?'));
    assert_eq!(s.overlay, Overlay::Help);
    update(&mut s, key('j'));
    assert_eq!(s.help_scroll, 1);
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.overlay, Overlay::None);

    update(&mut s, key('E'));
    assert_eq!(s.overlay, Overlay::Errors);
    let effects = update(&mut s, key('R'));
    assert_eq!(
        effects,
        [Effect::StartScan {
            generation: 0,
            regions: vec!["ap-south-1".into()]
        }]
    );
    assert_eq!(s.regions[2].status, RegionStatus::Pending);
    update(&mut s, code(KeyCode::Esc));

    update(&mut s, key('e'));
    assert_eq!(s.overlay, Overlay::Export);
    let effects = update(&mut s, key('c'));
    match &effects[..] {
        [
            Effect::Export {
                extension: "csv",
                content,
            },
        ] => assert_eq!(content.lines().count(), 6),
        other => panic!("{other:?}"),
    }
    update(&mut s, Action::Exported(Ok("/tmp/x.csv".into())));
    assert!(s.toast.as_ref().unwrap().text.contains("/tmp/x.csv"));
    update(&mut s, key('e'));
    match &update(&mut s, key('m'))[..] {
        [
            Effect::Export {
                extension: "md",
                content,
            },
        ] => assert!(content.contains("# Bedrock guardrail encryption")),
        other => panic!("{other:?}"),
    }
    update(&mut s, key('e'));
    match &update(&mut s, key('j'))[..] {
        [
            Effect::Export {
                extension: "json",
                content,
            },
        ] => {
            assert_eq!(
                crate::report::ScanReport::parse(content)
                    .unwrap()
                    .guardrails
                    .len(),
                5
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn screens_quit_and_saved_scans() {
    let mut s = loaded();
    update(&mut s, code(KeyCode::Tab));
    assert_eq!(s.screen, Screen::Summary);
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.screen, Screen::Table);
    update(&mut s, Action::Resize(80, 20));
    assert_eq!((s.width, s.height), (80, 20));
    s.header.loaded_from = Some("scan.json".into());
    assert!(
        update(&mut s, key('r')).is_empty(),
        "a saved scan is not refreshed"
    );
    assert!(s.toast.as_ref().unwrap().error);
    update(&mut s, key('q'));
    assert!(s.quit);
    let mut s = loaded();
    update(
        &mut s,
        Action::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
    );
    assert!(s.quit);
}

#[test]
fn mouse_wheel_and_click() {
    let mut s = loaded();
    update(
        &mut s,
        Action::Mouse(MouseEvent {
            kind: MouseEventKind::ScrollDown,
            column: 10,
            row: 10,
            modifiers: KeyModifiers::NONE,
        }),
    );
    assert_eq!(s.selected, 3);
    let table_y = super::view::layout(&s).table.y;
    update(
        &mut s,
        Action::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: 10,
            row: table_y + 2,
            modifiers: KeyModifiers::NONE,
        }),
    );
    assert_eq!(s.selected, 0, "a click on the first row selects it");
}

// ---- snapshots -------------------------------------------------------------------------

#[test]
fn snapshot_first_frame() {
    insta::assert_snapshot!(draw(&fresh()).backend());
}

#[test]
fn snapshot_partial_load_with_a_failed_region() {
    let mut s = fresh();
    scan(
        &mut s,
        ScanEvent::Started {
            generation: 0,
            regions: REGIONS.iter().map(|r| r.to_string()).collect(),
        },
    );
    scan(
        &mut s,
        ScanEvent::Rows {
            generation: 0,
            region: "us-east-1".into(),
            rows: rows()[..2].to_vec(),
        },
    );
    scan(
        &mut s,
        ScanEvent::RegionFailed {
            generation: 0,
            region: "ap-south-1".into(),
            error: CallError::Timeout,
            guardrails: 0,
            elapsed_ms: 1,
        },
    );
    insta::assert_snapshot!(draw(&s).backend());
}

#[test]
fn snapshot_full_table_with_status_colours() {
    let s = loaded();
    let t = draw(&s);
    insta::assert_snapshot!(t.backend());
    // Status is mark and colour: every ✗ is red, every ✓ green, every ! yellow.
    let buffer = t.backend().buffer();
    let mut seen = 0;
    for cell in buffer.content() {
        let expected = match cell.symbol() {
            "✗" => Color::Red,
            "✓" => Color::Green,
            "!" => Color::Yellow,
            _ => continue,
        };
        assert_eq!(cell.fg, expected, "{}", cell.symbol());
        seen += 1;
    }
    assert!(seen >= 5);
}

#[test]
fn snapshot_no_color() {
    let mut s = loaded();
    s.color = false;
    let t = draw(&s);
    assert!(
        t.backend()
            .buffer()
            .content()
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset)
    );
}

#[test]
fn snapshot_filtered_and_empty() {
    let mut s = loaded();
    s.set_filter("region:eu-* status:fail".into());
    insta::assert_snapshot!("filtered", draw(&s).backend());
    s.set_filter("no-such-guardrail".into());
    insta::assert_snapshot!("empty", draw(&s).backend());
}

#[test]
fn snapshot_detail_pane() {
    let mut s = loaded();
    update(&mut s, key('2'));
    update(&mut s, key('g'));
    update(&mut s, code(KeyCode::Enter));
    let arn = s.selected_row().unwrap().arn.clone();
    let key_arn = s.selected_row().unwrap().kms_key_arn.clone().unwrap();
    let policy = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}]}"#;
    update(
        &mut s,
        Action::VersionsLoaded {
            arn,
            versions: vec![crate::model::VersionInfo {
                version: "1".into(),
                kms_key_arn: None,
                created_at: None,
            }],
        },
    );
    update(
        &mut s,
        Action::PolicyLoaded {
            key_arn,
            result: Ok(policy.into()),
        },
    );
    s.width = 160;
    s.height = 40;
    insta::assert_snapshot!(draw(&s).backend());
}

#[test]
fn snapshot_help_summary_errors() {
    let mut s = loaded();
    s.height = 40;
    update(&mut s, key('?'));
    insta::assert_snapshot!("help", draw(&s).backend());
    update(&mut s, code(KeyCode::Esc));
    update(&mut s, code(KeyCode::Tab));
    insta::assert_snapshot!("summary", draw(&s).backend());
    update(&mut s, code(KeyCode::Tab));
    update(&mut s, key('E'));
    insta::assert_snapshot!("errors", draw(&s).backend());
}

#[test]
fn snapshot_tiny_terminal() {
    let mut s = loaded();
    s.width = 40;
    s.height = 8;
    let t = draw(&s);
    insta::assert_snapshot!(t.backend());
}

fn command(state: &mut State, text: &str) -> Vec<Effect> {
    update(state, key(':'));
    for c in text.chars() {
        update(state, key(c));
    }
    update(state, code(KeyCode::Enter))
}

#[test]
fn colon_commands() {
    let mut s = loaded();
    command(&mut s, "sort name desc");
    assert_eq!((s.sort, s.descending), (Column::Name, true));
    command(&mut s, "sort key-state");
    assert_eq!(s.sort, Column::KeyState);
    command(&mut s, "filter status:warn");
    assert_eq!(names(&s), ["legacy-bot"]);
    command(&mut s, "filter");
    assert_eq!(s.visible.len(), 5);
    assert!(matches!(
        &command(&mut s, "export csv")[..],
        [Effect::Export { extension: "csv", .. }]
    ));
    command(&mut s, "summary");
    assert_eq!(s.screen, Screen::Summary);
    command(&mut s, "table");
    command(&mut s, "sort nope");
    assert!(s.toast.as_ref().unwrap().text.contains("no column nope"));
    command(&mut s, "launch rockets");
    assert!(s.toast.as_ref().unwrap().text.contains("is not a command"));
    // Esc leaves command mode without running anything; q typed there is text.
    update(&mut s, key(':'));
    update(&mut s, key('q'));
    update(&mut s, code(KeyCode::Esc));
    assert!(!s.quit && s.command.is_none());
    assert_eq!(command(&mut s, "refresh").len(), 1);
    command(&mut s, "q");
    assert!(s.quit);
}

#[test]
fn a_key_whose_rotation_could_not_be_read_is_unknown_in_the_row_and_the_detail() {
    let denied = CallError::AccessDenied {
        action: Some("kms:GetKeyRotationStatus".into()),
        message: "not authorized".into(),
    };
    let mut s = fresh();
    let g = s.generation;
    let row = guardrail(
        "us-east-1",
        "rotation-hidden",
        Some(kms_key(
            "us-east-1",
            "Enabled",
            Rotation::Unknown { error: denied },
        )),
    );
    scan(
        &mut s,
        ScanEvent::Rows {
            generation: g,
            region: "us-east-1".into(),
            rows: vec![row],
        },
    );
    assert_eq!((s.totals.unknown, s.totals.pass), (1, 0));
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.detail, Detail::Split);
    let t = draw(&s);
    let screen: String = t
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect();
    assert!(
        screen.contains("? UNKNOWN"),
        "the row's status is not ?:\n{screen}"
    );
    assert!(!screen.contains("✓ PASS access"), "{screen}");
    assert!(
        screen.contains("? UNKNOWN access-denied"),
        "the detail pane lacks the posture:\n{screen}"
    );
    assert!(screen.contains("kms:GetKeyRotationStatus"), "{screen}");
}

#[test]
fn columns_give_way_by_priority_and_never_status_or_name() {
    use super::view::table_columns;
    for width in [30u16, 56, 60, 76, 100, 116, 136, 196] {
        let cols = table_columns(width);
        let names: Vec<Column> = cols.iter().map(|(c, _)| *c).collect();
        assert!(
            names.contains(&Column::Status) && names.contains(&Column::Name),
            "{width}: {names:?}"
        );
        let used: u16 = cols.iter().map(|(_, w)| w + 1).sum();
        assert!(used <= width.max(30), "{width}: {used}");
        // The drop order: UPDATED, ID, STATE and ROTATION go first.
        let position = |c: Column| names.iter().position(|x| *x == c);
        if position(Column::Rotation).is_some() {
            assert!(
                position(Column::Key).is_some() && position(Column::KeyState).is_some(),
                "{width}: {names:?}"
            );
        }
        if position(Column::Id).is_some() {
            assert!(position(Column::State).is_some(), "{width}: {names:?}");
        }
    }
    assert_eq!(table_columns(196).len(), 10, "everything fits on a wide screen");
    assert_eq!(super::view::fit("ap-southeast-2", 9), "ap-south…");
    assert_eq!(super::view::fit("us-east-1", 9), "us-east-1");
}

#[test]
fn at_every_size_status_badges_and_failures_show() {
    let mut s = loaded();
    for (w, h) in [(60u16, 20u16), (80, 24), (140, 45), (200, 60)] {
        s.width = w;
        s.height = h;
        let screen: Vec<String> = {
            let t = draw(&s);
            let buf = t.backend().buffer().clone();
            (0..h)
                .map(|y| (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect())
                .collect()
        };
        assert!(screen[0].contains("READ-ONLY"), "{w}x{h}: {}", screen[0]);
        assert!(
            screen[1].contains("INCOMPLETE") && screen[1].contains("1 unreadable"),
            "{w}x{h}: {}",
            screen[1]
        );
        assert!(
            screen.iter().any(|l| l.contains("✗ FAIL")),
            "{w}x{h}: status column"
        );
        assert!(screen.iter().any(|l| l.contains("STATUS")), "{w}x{h}");
        insta::assert_snapshot!(format!("table_{w}x{h}"), draw(&s).backend());
        // The split detail pane: the posture comes first.
        let mut d = s.clone();
        update(&mut d, code(KeyCode::Enter));
        let t = draw(&d);
        let text: String = t
            .backend()
            .buffer()
            .content()
            .iter()
            .map(|c| c.symbol())
            .collect();
        assert!(text.contains("Posture") && text.contains("why"), "{w}x{h}");
        insta::assert_snapshot!(format!("detail_{w}x{h}"), t.backend());
        let mut m = s.clone();
        update(&mut m, code(KeyCode::Tab));
        insta::assert_snapshot!(format!("summary_{w}x{h}"), draw(&m).backend());
    }
}

#[test]
fn the_strip_is_one_line_and_says_how_many_it_could_not_show() {
    let mut s = loaded();
    s.width = 60;
    let t = draw(&s);
    let strip: String = (0..60)
        .map(|x| t.backend().buffer()[(x, 2)].symbol().to_string())
        .collect();
    assert!(strip.starts_with("2 ok · ap-south-1 denied"), "{strip}");
    assert!(
        strip.contains("+1"),
        "me-central-1 did not fit and is counted: {strip}"
    );
}

#[test]
fn the_sort_arrow_shows_on_narrow_columns() {
    let mut s = loaded();
    s.width = 140;
    update(&mut s, key('8'));
    assert_eq!(s.sort, Column::Rotation);
    let t = draw(&s);
    let text: String = t
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect();
    assert!(text.contains("ROTATION↑"), "no arrow on ROTATION");
}

#[test]
fn the_cursor_starts_on_the_first_row_and_then_follows_its_guardrail() {
    // Streaming: rows arrive out of order; untouched, the cursor stays on the first row.
    let s = loaded();
    assert_eq!(s.selected, 0);
    let first = s.selected_row().unwrap().name.clone();
    assert_eq!(first, names(&s)[0]);
    // Chosen, it follows the guardrail through a re-sort, a filter and new rows.
    let mut s = loaded();
    update(&mut s, key('j'));
    update(&mut s, key('j'));
    let chosen = s.selected_row().unwrap().arn.clone();
    update(&mut s, key('3'));
    assert_eq!(s.selected_row().unwrap().arn, chosen, "after a sort");
    s.set_filter("bot".into());
    s.prepare();
    assert_eq!(s.selected_row().unwrap().arn, chosen, "after a filter");
    let g = s.generation;
    scan(
        &mut s,
        ScanEvent::Rows {
            generation: g,
            region: "us-east-1".into(),
            rows: vec![guardrail("us-east-1", "aaa-first-bot", None)],
        },
    );
    assert_eq!(s.selected_row().unwrap().arn, chosen, "after a streamed insert");
    // Gone (filtered out): the nearest row, never an empty selection.
    s.set_filter("no-such-guardrail-at-all legacy".into());
    s.prepare();
    assert!(s.selected <= s.visible.len());
}

#[test]
fn a_filter_typo_is_said_under_the_input_and_ctrl_u_clears_it() {
    let mut s = loaded();
    update(&mut s, key('/'));
    for c in "status:fial".chars() {
        update(&mut s, key(c));
    }
    let t = draw(&s);
    let footer: String = (0..s.width)
        .map(|x| t.backend().buffer()[(x, s.height - 1)].symbol().to_string())
        .collect();
    assert!(footer.contains("✗ 'status:fial': status is one of"), "{footer}");
    update(
        &mut s,
        Action::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    assert_eq!(s.filter_input, "");
    assert!(s.editing_filter, "still typing");
    for c in "!".chars() {
        update(&mut s, key(c));
    }
    update(&mut s, code(KeyCode::Enter));
    assert!(
        s.toast
            .as_ref()
            .is_some_and(|t| t.error && t.text.contains("negates nothing")),
        "{:?}",
        s.toast
    );
}

#[test]
fn commands_and_retries_say_what_they_did() {
    let mut s = loaded();
    // :sort takes the keys' numbers and refuses what it cannot mean.
    update(&mut s, key(':'));
    for c in "sort 9".chars() {
        update(&mut s, key(c));
    }
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.sort, Column::Updated, "9 is UPDATED, as the key 9");
    update(&mut s, key(':'));
    for c in "sort name sideways".chars() {
        update(&mut s, key(c));
    }
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.sort, Column::Updated, "not sorted by a bad direction");
    assert!(
        s.toast
            .as_ref()
            .is_some_and(|t| t.error && t.text.contains("asc or desc")),
        "{:?}",
        s.toast
    );
    // R in the errors panel: the retry shows while it runs, and its result when it is in.
    update(&mut s, key('E'));
    let effects = update(&mut s, key('R'));
    assert!(matches!(effects[..], [Effect::StartScan { .. }]), "{effects:?}");
    let t = draw(&s);
    let text: String = t
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect();
    assert!(text.contains("retrying…"), "the retry is shown");
    let g = s.generation;
    scan(
        &mut s,
        ScanEvent::RegionDone {
            generation: g,
            region: "ap-south-1".into(),
            guardrails: 2,
            elapsed_ms: 5,
        },
    );
    assert!(
        s.toast
            .as_ref()
            .is_some_and(|t| t.text.contains("ap-south-1: retried, read now (2 guardrails)")),
        "{:?}",
        s.toast
    );
    assert!(s.retrying.is_empty());
}

#[test]
fn a_saved_scan_offers_only_what_works() {
    let mut s = loaded();
    s.header.loaded_from = Some("scan.json".into());
    let t = draw(&s);
    let footer: String = (0..s.width)
        .map(|x| t.backend().buffer()[(x, s.height - 1)].symbol().to_string())
        .collect();
    assert!(!footer.contains("r refresh"), "{footer}");
    update(&mut s, key('f'));
    assert!(
        s.toast
            .as_ref()
            .is_some_and(|t| t.text.contains("a saved scan cannot be remediated")),
        "{:?}",
        s.toast
    );
}

#[test]
fn a_baseline_marks_what_changed_and_counts_what_is_gone() {
    let on = Rotation::Enabled {
        period_days: Some(365),
    };
    // The earlier scan: support-bot passed (it fails now: regressed), kb-search failed on
    // the AWS-owned key (now on a disabled key: changed), claims-bot failed (passes now:
    // fixed), hr-helpdesk was not there (new), retired-bot is there no more (gone).
    let mut earlier = crate::report::fixtures::report();
    earlier.guardrails = vec![
        guardrail(
            "us-east-1",
            "support-bot",
            Some(kms_key("us-east-1", "Enabled", on.clone())),
        ),
        guardrail("us-east-1", "claims-bot", None),
        guardrail("eu-west-1", "kb-search", None),
        guardrail(
            "eu-west-1",
            "legacy-bot",
            Some(kms_key("eu-west-1", "Enabled", Rotation::Disabled)),
        ),
        guardrail("us-east-1", "retired-bot", None),
        // Another region than the explorer covers: never counted as gone.
        guardrail("sa-east-1", "elsewhere-bot", None),
    ];
    let mut s = loaded();
    s.set_baseline(&earlier, "last-week.json".into());
    let change = |s: &State, name: &str| {
        let i = s.rows.iter().position(|g| g.name == name).unwrap();
        s.change_of_row(i).unwrap().as_str()
    };
    assert_eq!(change(&s, "support-bot"), "regressed");
    assert_eq!(change(&s, "claims-bot"), "fixed");
    assert_eq!(change(&s, "kb-search"), "changed");
    assert_eq!(change(&s, "hr-helpdesk"), "new");
    assert_eq!(change(&s, "legacy-bot"), "unchanged");
    let counts = s.change_counts().unwrap();
    assert_eq!(
        (
            counts.fixed,
            counts.regressed,
            counts.changed,
            counts.new,
            counts.gone
        ),
        (1, 1, 1, 1, Some(1))
    );
    let screen = format!("{:?}", draw(&s).backend());
    assert!(
        screen.contains("since baseline: ↑1 fixed ↓1 regressed ~1 +1 new −1 gone"),
        "{screen}"
    );
    insta::assert_snapshot!(draw(&s).backend());
    // The detail pane says what it was.
    let at = s
        .visible
        .iter()
        .position(|&i| s.rows[i].name == "support-bot")
        .unwrap();
    s.selected = at;
    update(&mut s, code(KeyCode::Enter));
    s.width = 160;
    s.height = 40;
    let detail = format!("{:?}", draw(&s).backend());
    assert!(detail.contains("was ✓ PASS customer-managed-key"), "{detail}");
    // A region's rows dropped and rescanned: the counts follow.
    s.remove_rows_of("us-east-1");
    let counts = s.change_counts().unwrap();
    assert_eq!((counts.fixed, counts.regressed, counts.new), (0, 0, 0));
    assert_eq!(counts.gone, Some(3), "support-bot, claims-bot and retired-bot");
}

#[test]
fn a_saved_organization_scan_shows_whose_each_row_is_and_the_accounts_not_reached() {
    let report = crate::report::fixtures::organization(None);
    let launch = super::Launch {
        session: None,
        header: Header {
            loaded_from: Some("org.json".into()),
            ..header()
        },
        regions: Vec::new(),
        loaded: Some(report),
        baseline: None,
        journal_dir: None,
        accounts: None,
        exceptions: Default::default(),
        exceptions_file: None,
    };
    let mut s = super::initial_state(&launch, true);
    s.width = 140;
    s.height = 30;
    let screen = format!("{:?}", draw(&s).backend());
    assert!(screen.contains("ORGANIZATION"), "{screen}");
    assert!(
        screen.contains("3 accounts (1 unreadable) from 123456789012"),
        "{screen}"
    );
    assert!(screen.contains("prod/us-east-1"), "{screen}");
    assert!(screen.contains("INCOMPLETE"), "{screen}");
    insta::assert_snapshot!(draw(&s).backend());
    // At 80 columns the account/region label is still whole.
    let (w, h) = (s.width, s.height);
    s.width = 80;
    let narrow = format!("{:?}", draw(&s).backend());
    assert!(narrow.contains("management/us-east-1"), "{narrow}");
    (s.width, s.height) = (w, h);
    // The account that could not be reached is in the E panel, with why.
    update(&mut s, key('E'));
    let panel = format!("{:?}", draw(&s).backend());
    assert!(
        panel.contains("acquired/all regions    denied: sts:AssumeRole"),
        "{panel}"
    );
    update(&mut s, code(KeyCode::Esc));
    // account: filters by account id.
    command(&mut s, "filter account:111122223333");
    s.prepare();
    assert_eq!(names(&s), ["prod-bot"]);
    // The detail pane names the account and how it was reached; nothing is asked of AWS
    // (the view is the scan as it ended), and what it lacks is said, not "loading…".
    let effects = update(&mut s, code(KeyCode::Enter));
    assert!(effects.is_empty(), "{effects:?}");
    s.width = 160;
    s.height = 40;
    let detail = format!("{:?}", draw(&s).backend());
    assert!(!detail.contains("loading"), "{detail}");
    assert!(detail.contains("not in this scan (scan with --usage"), "{detail}");
    assert!(
        detail.contains("prod (111122223333), reached as")
            && detail.contains("arn:aws:iam::111122223333:role/OrganizationAccountAccessRole"),
        "{detail}"
    );
    // A saved scan is neither remediated nor refreshed in place.
    update(&mut s, key('f'));
    assert!(s.wizard.is_none());
    assert!(
        s.toast
            .as_ref()
            .is_some_and(|t| t.text.contains("a saved scan cannot be remediated")),
        "{:?}",
        s.toast
    );
    update(&mut s, code(KeyCode::Esc));
    update(&mut s, key('r'));
    assert!(s.toast.as_ref().unwrap().text.contains("cannot be refreshed"));
    // The summary: a bar per account, then per account and region.
    s.toast = None;
    update(&mut s, code(KeyCode::Tab));
    let summary = format!("{:?}", draw(&s).backend());
    assert!(summary.contains("Summary by account and region"), "{summary}");
    assert!(summary.contains("By account"), "{summary}");
    assert!(
        summary.contains("1 guardrail: 1 FAIL 0 WARN 0 UNKNOWN 0 PASS"),
        "{summary}"
    );
    assert!(
        summary.contains("? guardrails  not read: denied: sts:AssumeRole"),
        "{summary}"
    );
}

#[test]
fn a_region_done_reads_its_usage_and_the_detail_says_who_would_lose_access() {
    use crate::usage::{Access, GuardrailUser, UnknownSource, Usage, Via};
    let mut s = fresh();
    let g = s.generation;
    scan(
        &mut s,
        ScanEvent::Started {
            generation: g,
            regions: vec!["us-east-1".into()],
        },
    );
    let all = rows();
    let us: Vec<Guardrail> = all
        .iter()
        .filter(|r| &*r.region == "us-east-1")
        .cloned()
        .collect();
    scan(
        &mut s,
        ScanEvent::Rows {
            generation: g,
            region: "us-east-1".into(),
            rows: us.clone(),
        },
    );
    let effects = scan(
        &mut s,
        ScanEvent::RegionDone {
            generation: g,
            region: "us-east-1".into(),
            guardrails: us.len(),
            elapsed_ms: 1,
        },
    );
    // The region's rows go to be read, once the region is in.
    match effects.as_slice() {
        [Effect::LoadUsage { guardrails }] => assert_eq!(guardrails.len(), us.len()),
        other => panic!("{other:?}"),
    }
    let agent = crate::usage::claims_agent(
        "arn:aws:iam::123456789012:role/service-role/AgentRole",
        Access::Denied {
            why: "the key is Disabled".into(),
        },
    );
    let admin = GuardrailUser {
        principal: "arn:aws:iam::123456789012:user/admin".into(),
        via: Via::Policy {
            conditional: false,
            broad: true,
        },
        guardrail_version: None,
        current_key: Access::Allowed { how: "IAM".into() },
        missing: false,
        capped: None,
        disagreement: None,
    };
    let target = us[0].arn.clone();
    let usage = Usage {
        users: vec![agent, admin],
        unknown: vec![UnknownSource {
            source: "flows".into(),
            reason: "denied: bedrock:ListFlows".into(),
        }],
    };
    update(
        &mut s,
        Action::UsageLoaded {
            usage: [(target.clone(), usage)].into_iter().collect(),
        },
    );
    s.width = 160;
    s.height = 50;
    let screen = format!("{:?}", draw(&s).backend());
    assert!(screen.contains("USERS"), "{screen}");
    assert!(screen.contains("1!"), "the locked-out agent is marked:\n{screen}");
    // The detail of that guardrail names the agent, its role, and the unread source.
    while s.selected_row().is_some_and(|r| r.arn != target) {
        update(&mut s, key('j'));
    }
    update(&mut s, code(KeyCode::Enter));
    let screen = format!("{:?}", draw(&s).backend());
    assert!(screen.contains("Used by"), "{screen}");
    assert!(screen.contains("✗ agent claims-agent"), "{screen}");
    assert!(screen.contains("the key is Disabled"), "{screen}");
    assert!(screen.contains("+ 1 with broad rights"), "{screen}");
    assert!(screen.contains("? flows not read"), "{screen}");
}

#[test]
fn a_stack_managed_guardrail_says_so_and_the_wizard_leaves_it_out() {
    let mut s = loaded();
    s.header.read_only = false;
    // support-bot: fails, on the AWS-owned key.
    while s.selected_row().is_some_and(|r| r.name != "support-bot") {
        update(&mut s, key('j'));
    }
    update(&mut s, code(KeyCode::Enter));
    let arn = s.selected_row().unwrap().arn.clone();
    let tags = [
        ("aws:cloudformation:stack-name", "benefits-assistant"),
        ("aws:cloudformation:logical-id", "BenefitsGuardrail"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    update(
        &mut s,
        Action::TagsLoaded {
            arn: arn.clone(),
            result: Ok(tags),
        },
    );
    s.width = 200;
    s.height = 50;
    let screen = format!("{:?}", draw(&s).backend());
    assert!(
        screen.contains("CloudFormation stack benefits-assistant (resource BenefitsGuardrail)"),
        "{screen}"
    );
    update(&mut s, code(KeyCode::Esc));
    update(&mut s, key('f'));
    let w = s.wizard.as_ref().expect("the wizard opens on the row");
    let t = w.targets.iter().find(|t| t.arn == arn).unwrap();
    assert!(!t.included, "left out by default");
    assert!(t.managed_by.as_deref().unwrap().contains("benefits-assistant"));
}

#[test]
fn a_live_organization_streams_each_account_and_fixes_one_account_at_a_time() {
    use super::update::AccountUpdate;
    use crate::scan::accounts::Reach;
    let role = |id: &str| Reach::Role {
        arn: format!("arn:aws:iam::{id}:role/OrganizationAccountAccessRole"),
    };
    let entries: Vec<String> = ["management/us-east-1", "prod/us-east-1", "acquired/us-east-1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut s = State::new(
        Header {
            read_only: false,
            organization: Some(super::state::Organization {
                accounts: 4,
                suspended: 1,
            }),
            ..header()
        },
        &entries,
        true,
    );
    s.account_names.insert("123456789012".into(), "management".into());
    s.account_names.insert("111122223333".into(), "prod".into());
    s.account_names.insert("246813579135".into(), "acquired".into());
    (s.width, s.height) = (140, 30);
    let generation = s.generation;
    let reached = |id: &str, name: &str, reach: Reach| {
        Action::Account(AccountUpdate::Reached {
            generation,
            id: id.into(),
            name: name.into(),
            reach,
            regions: vec!["us-east-1".into()],
        })
    };
    update(&mut s, reached("123456789012", "management", Reach::Caller));
    update(&mut s, reached("111122223333", "prod", role("111122223333")));
    let denied = CallError::AccessDenied {
        action: Some("sts:AssumeRole".into()),
        message: "not authorized to perform: sts:AssumeRole".into(),
    };
    update(
        &mut s,
        Action::Account(AccountUpdate::Unreachable {
            generation,
            id: "246813579135".into(),
            name: "acquired".into(),
            reach: role("246813579135"),
            error: denied,
        }),
    );
    // The account not reached is one entry, failed with why.
    let names: Vec<&str> = s.regions.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        ["management/us-east-1", "prod/us-east-1", "acquired/all regions"]
    );
    // Each account's rows stream in under its own entry.
    let mut mine = guardrail("us-east-1", "mgmt-bot", None);
    mine.arn = "arn:aws:bedrock:us-east-1:123456789012:guardrail/mgmt".into();
    let mut theirs = guardrail("us-east-1", "prod-bot", None);
    theirs.account = "111122223333".into();
    theirs.arn = "arn:aws:bedrock:us-east-1:111122223333:guardrail/prodbot".into();
    for (label, row) in [("management/us-east-1", mine), ("prod/us-east-1", theirs)] {
        update(
            &mut s,
            Action::Scan(ScanEvent::Rows {
                generation,
                region: label.into(),
                rows: vec![row],
            }),
        );
        let effects = update(
            &mut s,
            Action::Scan(ScanEvent::RegionDone {
                generation,
                region: label.into(),
                guardrails: 1,
                elapsed_ms: 5,
            }),
        );
        // Who uses them is read in the account's own rows.
        match &effects[..] {
            [Effect::LoadUsage { guardrails }] => assert_eq!(guardrails.len(), 1, "{label}"),
            other => panic!("{label}: {other:?}"),
        }
    }
    assert!(!s.loading());
    let screen = format!("{:?}", draw(&s).backend());
    assert!(
        screen.contains("4 accounts (1 unreadable, 1 suspended) from 123456789012"),
        "{screen}"
    );
    assert!(screen.contains("INCOMPLETE"), "{screen}");
    // An export keeps the accounts: each region with its account's id, and the account
    // not reached said once, so that the saved scan is as incomplete as the view.
    update(&mut s, key('e'));
    let effects = update(&mut s, key('j'));
    let [Effect::Export { content, .. }] = &effects[..] else {
        panic!("{effects:?}")
    };
    let saved: serde_json::Value = serde_json::from_str(content).unwrap();
    let regions: Vec<(&str, &str)> = saved["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["account"].as_str().unwrap(), r["region"].as_str().unwrap()))
        .collect();
    assert_eq!(
        regions,
        [("123456789012", "us-east-1"), ("111122223333", "us-east-1")]
    );
    let accounts = saved["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 3, "{accounts:?}");
    assert_eq!(saved["totals"]["unreadable_accounts"], 1);
    assert_eq!(saved["totals"]["complete"], false);
    // The wizard fixes one account at a time: marks across accounts, account by account,
    // each once who the caller is there is known.
    update(&mut s, key('a'));
    update(&mut s, key('f'));
    assert!(s.wizard.is_none());
    let said = s.toast.as_ref().unwrap().text.clone();
    assert!(
        said.contains("123456789012") && said.contains("still being asked"),
        "{said}"
    );
    update(
        &mut s,
        Action::Account(AccountUpdate::Caller {
            id: "123456789012".into(),
            caller: super::state::AccountCaller {
                caller_arn: "arn:aws:iam::123456789012:user/auditor".into(),
                principal: Some(crate::fix::policy::CallerPrincipal::Arn(
                    "arn:aws:iam::123456789012:user/auditor".into(),
                )),
                problem: None,
            },
        }),
    );
    update(&mut s, key('f'));
    let w = s
        .wizard
        .as_ref()
        .expect("the wizard opens on the first account's marks");
    assert_eq!(w.account, "123456789012");
    assert_eq!(w.targets.len(), 1);
    assert!(
        s.toast.as_ref().unwrap().text.contains("span 2 accounts"),
        "{:?}",
        s.toast
    );
    s.wizard = None;
    update(&mut s, key('A'));
    // An account by its name, as the strip shows it.
    command(&mut s, "filter account:Prod");
    s.prepare();
    assert_eq!(names_of(&s), ["prod-bot"]);
    command(&mut s, "filter !account:prod");
    s.prepare();
    assert_eq!(names_of(&s), ["mgmt-bot"]);
    command(&mut s, "filter account:man*");
    s.prepare();
    assert_eq!(names_of(&s), ["mgmt-bot"]);
    command(&mut s, "filter account:111122223333");
    s.prepare();
    assert_eq!(names_of(&s), ["prod-bot"]);
    // Not before who the caller is there is known.
    update(&mut s, key('f'));
    assert!(s.wizard.is_none());
    assert!(
        s.toast.as_ref().unwrap().text.contains("still being asked"),
        "{:?}",
        s.toast
    );
    update(
        &mut s,
        Action::Account(AccountUpdate::Caller {
            id: "111122223333".into(),
            caller: super::state::AccountCaller {
                caller_arn: "arn:aws:sts::111122223333:assumed-role/OrganizationAccountAccessRole/guardkey"
                    .into(),
                principal: Some(crate::fix::policy::CallerPrincipal::Arn(
                    "arn:aws:iam::111122223333:role/OrganizationAccountAccessRole".into(),
                )),
                problem: None,
            },
        }),
    );
    update(&mut s, key('f'));
    let w = s.wizard.as_ref().expect("the wizard opens on prod's guardrail");
    assert_eq!(w.account, "111122223333");
    // Its effects name the account, so that they run with its session.
    let effects = update(&mut s, code(KeyCode::Enter));
    assert!(
        effects
            .iter()
            .all(|e| matches!(e, Effect::Wizard { account, .. } if account == "111122223333")),
        "{effects:?}"
    );
    s.wizard = None;
    // The account not reached is retried from the E panel, as a region is.
    update(&mut s, key('E'));
    let effects = update(&mut s, key('R'));
    assert_eq!(
        effects,
        [Effect::StartScan {
            generation,
            regions: vec!["acquired/all regions".into()]
        }]
    );
    update(&mut s, code(KeyCode::Esc));
    update(&mut s, reached("246813579135", "acquired", role("246813579135")));
    let names: Vec<&str> = s.regions.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        ["management/us-east-1", "prod/us-east-1", "acquired/us-east-1"]
    );
    assert!(s.toast.as_ref().unwrap().text.contains("acquired: reached now"));
    // A refresh rescans every entry; the older generation's account events are dropped.
    let effects = update(&mut s, key('r'));
    assert!(matches!(&effects[..], [Effect::StartScan { regions, .. }] if regions.len() == 3));
    update(&mut s, reached("246813579135", "renamed", Reach::Caller));
    assert!(s.regions.iter().all(|r| !r.name.starts_with("renamed/")));
}

fn names_of(s: &State) -> Vec<String> {
    s.visible_rows().map(|g| g.name.clone()).collect()
}

mod streaming {
    use super::super::state::{Column, Header, State};
    use crate::model::Rotation;
    use crate::report::fixtures::{guardrail, key};
    use proptest::prelude::*;

    const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-south-1"];

    fn row(n: usize, region: usize, keyed: u8) -> crate::model::Guardrail {
        let k = match keyed % 4 {
            0 => None,
            1 => Some(key(
                REGIONS[region],
                "Enabled",
                Rotation::Enabled {
                    period_days: Some(365),
                },
            )),
            2 => Some(key(REGIONS[region], "Enabled", Rotation::Disabled)),
            _ => Some(key(REGIONS[region], "Disabled", Rotation::Disabled)),
        };
        // Names collide on purpose: the ARN breaks ties.
        guardrail(REGIONS[region], &format!("g-{:02}-{n}", n % 7), k)
    }

    proptest! {
        /// Rows streamed in batches, merged into the views frame by frame, end in exactly the
        /// order and selection a state given every row at once sorts them in, whatever the
        /// sort, direction and filter; the followed guardrail stays selected.
        #[test]
        fn streamed_rows_merge_into_the_order_a_full_sort_gives(
            spec in proptest::collection::vec((0usize..3, any::<u8>()), 1..80),
            cuts in proptest::collection::vec(1usize..10, 1..20),
            frames in proptest::collection::vec(any::<bool>(), 20),
            column in 0usize..10,
            descending in any::<bool>(),
            filter in prop_oneof![Just(String::new()), Just("status:fail".to_string()), Just("g-03".to_string()), Just("region:eu-*".to_string())],
            follow in 0usize..80,
        ) {
            let rows: Vec<_> = spec.iter().enumerate().map(|(n, (r, k))| row(n, *r, *k)).collect();
            let regions: Vec<String> = REGIONS.iter().map(|r| r.to_string()).collect();
            let setup = |s: &mut State| {
                s.set_sort(Column::ALL[column], descending);
                s.set_filter(filter.clone());
            };
            let mut streamed = State::new(Header::default(), &regions, false);
            setup(&mut streamed);
            let followed = rows[follow % rows.len()].arn.clone();
            let mut at = 0;
            for (i, cut) in cuts.iter().cycle().enumerate() {
                if at >= rows.len() {
                    break;
                }
                let end = (at + cut).min(rows.len());
                streamed.add_rows(rows[at..end].to_vec());
                at = end;
                if frames[i % frames.len()] {
                    streamed.prepare();
                    // The user puts the cursor on a guardrail once it is shown.
                    if streamed.follow.is_none()
                        && let Some(pos) = streamed.visible.iter().position(|&j| streamed.rows[j].arn == followed)
                    {
                        streamed.selected = pos;
                        streamed.follow = Some(followed.clone());
                    }
                }
            }
            streamed.prepare();
            let mut whole = State::new(Header::default(), &regions, false);
            setup(&mut whole);
            whole.add_rows(rows.clone());
            whole.prepare();
            let arns = |s: &State| s.visible_rows().map(|g| g.arn.clone()).collect::<Vec<_>>();
            prop_assert_eq!(arns(&streamed), arns(&whole));
            if streamed.follow.is_some() {
                prop_assert_eq!(streamed.selected_row().map(|g| g.arn.clone()), Some(followed));
            }
            prop_assert_eq!(streamed.totals, whole.totals);
        }
    }
}

#[test]
fn x_accepts_a_risk_and_the_row_turns_muted_counted_apart() {
    let mut s = loaded();
    s.exceptions_file = Some("/home/u/.config/guardkey/exceptions.toml".into());
    s.today = time::macros::date!(2026 - 12 - 04);
    s.prepare();
    // The first row is a FAIL (sorted by status).
    let first = s.visible_rows().next().unwrap().clone();
    assert_eq!(first.posture.level, Level::Fail);
    assert!(update(&mut s, key('x')).is_empty());
    assert!(s.accept.is_some());
    for c in "Sandbox, deleted in Q1".chars() {
        update(&mut s, key(c));
    }
    insta::assert_snapshot!("accept_form", draw(&s).backend());
    let effects = update(&mut s, code(KeyCode::Enter));
    let [Effect::WriteExceptions { path, entries }] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(path.to_str(), Some("/home/u/.config/guardkey/exceptions.toml"));
    assert_eq!(entries[0].guardrail.as_deref(), Some(first.arn.as_str()));
    assert_eq!(entries[0].owner, "arn:aws:iam::123456789012:user/auditor");
    assert_eq!(entries[0].expires, "2027-03-04");
    let fails = s.totals.fail;
    let mut written = entries[0].clone();
    written.line = 2;
    update(
        &mut s,
        Action::ExceptionsWritten {
            path: "exceptions.toml".into(),
            result: Ok(crate::model::exceptions::Exceptions {
                path: "exceptions.toml".into(),
                entries: vec![written],
            }),
            added: 1,
        },
    );
    assert_eq!(s.totals.fail, fails - 1);
    assert_eq!(s.totals.muted, 1);
    let screen = format!("{:?}", draw(&s).backend());
    assert!(screen.contains("◦ MUTED") && screen.contains("◦1 "), "{screen}");
    // The filter finds it; an UNKNOWN or a PASS cannot be accepted.
    command(&mut s, "filter status:muted");
    s.prepare();
    assert_eq!(names(&s), std::slice::from_ref(&first.name));
    update(&mut s, code(KeyCode::Enter));
    insta::assert_snapshot!("accept_muted_detail", draw(&s).backend());
    command(&mut s, "filter status:pass");
    s.prepare();
    update(&mut s, code(KeyCode::Esc));
    update(&mut s, key('x'));
    assert!(s.accept.is_none());
    assert!(s.toast.as_ref().unwrap().text.contains("an UNKNOWN never"));
}
