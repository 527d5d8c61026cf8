//! The explorer end to end: the real binary in a pseudo-terminal, driven by keys, its screen
//! read through a VT100 parser.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

mod common;

const ROWS: u16 = 45;
const COLS: u16 = 160;

struct Session {
    screen: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    master: Option<Box<dyn portable_pty::MasterPty + Send>>,
}

impl Session {
    fn start(args: &[&str]) -> Self {
        Self::start_with_env(args, &[])
    }

    fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Self {
        Self::start_sized(args, env, ROWS, COLS)
    }

    fn start_sized(args: &[&str], env: &[(&str, &str)], rows: u16, cols: u16) -> Self {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pseudo-terminal");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_guardkey"));
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("NO_COLOR");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).expect("spawn guardkey");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("reader");
        let writer = pair.master.take_writer().expect("writer");
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            rows.try_into().unwrap(),
            cols.try_into().unwrap(),
            0,
        )));
        let parser = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                parser.lock().unwrap().process(&buf[..n]);
            }
        });
        Session {
            screen,
            writer,
            child,
            master: Some(pair.master),
        }
    }

    fn contents(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.contents();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {text:?}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn keys(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        // Keys sent apart are read apart: an Esc followed at once by a key reads as Alt-key.
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Types a filter expression, a key at a time as a user does, and keeps it (Enter).
    fn filter(&mut self, expression: &str) {
        self.keys("/");
        for c in expression.chars() {
            self.keys(&c.to_string());
        }
        self.keys("\r");
    }

    /// Presses q and waits for the process to end; returns how it ended.
    /// The terminal closes under guardkey, as a closed window or a dropped SSH connection:
    /// the master side goes, and the session's process gets SIGHUP.
    fn hang_up(&mut self) {
        self.master.take();
        if let Some(pid) = self.child.process_id() {
            std::process::Command::new("kill")
                .args(["-HUP", &pid.to_string()])
                .status()
                .unwrap();
        }
    }

    fn quit(&mut self) -> portable_pty::ExitStatus {
        self.keys("q");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "guardkey did not quit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn demo_explorer_end_to_end() {
    let mut s = Session::start(&["--demo"]);
    // The first frame, then rows streaming in from the embedded simulator.
    s.wait_for("guardkey");
    let screen = s.wait_for("claims-assistant");
    assert!(screen.contains("account 123456789012"), "{screen}");
    // The denied region makes the scan incomplete; the one not enabled does not.
    let screen = s.wait_for("1 unreadable, 1 not enabled (E)  regions 31/33 done");
    assert!(screen.contains("INCOMPLETE"), "{screen}");
    let screen = s.wait_for("62 guardrails");
    assert!(screen.contains("me-central-1 not enabled"), "{screen}");

    // Filter.
    s.filter("status:warn");
    let screen = s.wait_for("Guardrails 3/62");
    assert!(
        screen.contains("legacy-chatbot") && !screen.contains("claims-assistant"),
        "{screen}"
    );

    // Detail of the selected row, with its key and the commands to audit it by hand.
    s.keys("\r");
    s.wait_for("key-in-other-region");
    s.wait_for("no numbered version");
    // Full screen, scrolled to the key policy (loaded on demand) and the audit commands.
    s.keys("\r");
    for _ in 0..12 {
        s.keys("j");
    }
    let screen = s.wait_for("Audit by hand");
    assert!(
        screen.contains("aws kms describe-key --region us-east-1"),
        "{screen}"
    );
    s.wait_for("account root");
    // Esc backs out one level at a time: full → split → closed → filter cleared.
    s.keys("\x1b");
    s.keys("\x1b");
    s.keys("\x1b");
    s.wait_for("Guardrails 62/62");

    // Help, summary.
    s.keys("?");
    s.wait_for("Typing a filter");
    s.keys("\x1b");
    s.keys("\t");
    s.wait_for("Top reasons");
    s.keys("\t");

    // Refresh: a new scan streams the rows again.
    s.keys("r");
    s.wait_for("62 guardrails");

    // Quit: the process ends and the terminal is given back.
    let status = s.quit();
    assert!(status.success(), "{status:?}");
    std::thread::sleep(Duration::from_millis(200));
    let parser = s.screen.lock().unwrap();
    let screen = parser.screen();
    assert!(!screen.alternate_screen(), "the alternate screen was left");
    assert!(!screen.hide_cursor(), "the cursor is visible again");
    assert_eq!(
        screen.mouse_protocol_mode(),
        vt100::MouseProtocolMode::None,
        "mouse capture is off"
    );
}

#[test]
fn a_saved_scan_opens_in_the_explorer_without_aws() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("scan.json");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_guardkey"))
        .args([
            "scan",
            "--demo",
            "--regions",
            "us-west-2",
            "--save",
            saved.to_str().unwrap(),
            "--format",
            "csv",
        ])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let mut s = Session::start(&["--load", saved.to_str().unwrap()]);
    let screen = s.wait_for("code-review-copilot");
    assert!(screen.contains("SAVED SCAN"), "{screen}");
    assert!(screen.contains("READ-ONLY"), "{screen}");
    s.keys("r");
    s.wait_for("a saved scan cannot be refreshed");
    s.quit();
}

#[test]
fn no_terminal_means_a_clear_error() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_guardkey"))
        .args(["--demo"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the explorer needs a terminal"), "{err}");
}

#[test]
fn the_wizard_fixes_two_guardrails_end_to_end() {
    let state = tempfile::tempdir().unwrap();
    let mut s = Session::start_with_env(
        &["--demo"],
        &[("GUARDKEY_STATE_DIR", state.path().to_str().unwrap())],
    );
    s.wait_for("62 guardrails");
    // The two failing guardrails of eu-west-2, marked.
    s.filter("region:eu-west-2");
    s.wait_for("Guardrails 2/62");
    s.keys("a");
    s.wait_for("marked: 2");
    s.keys("f");
    s.wait_for("Fix: 1/7 Targets");
    s.keys("\r");
    s.wait_for("Fix: 2/7 Key per region");
    s.wait_for("no existing customer key");
    s.keys("\r");
    s.wait_for("Fix: 3/7 Key settings");
    s.wait_for("the alias is free");
    s.keys("\r");
    s.wait_for("Fix: 4/7 Review");
    s.keys("\r");
    s.wait_for("Fix: 5/7 Confirm");
    s.keys("2");
    s.keys("\r");
    let screen = s.wait_for("2 fixed, 0 skipped, 0 failed");
    assert!(screen.contains("To undo: guardkey restore"), "{screen}");
    s.keys("\r");
    // The rows are read again and turn ✓.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let screen = s.contents();
        let table: Vec<&str> = screen
            .lines()
            .filter(|l| l.contains("trading-desk-research") || l.contains("wealth-advisor-notes"))
            .collect();
        if table.len() == 2 && table.iter().all(|l| l.contains("✓ PASS")) {
            break;
        }
        assert!(Instant::now() < deadline, "the rows did not turn ✓:\n{screen}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let journals: Vec<_> = std::fs::read_dir(state.path()).unwrap().collect();
    assert_eq!(journals.len(), 1, "one journal written");
    s.quit();
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        !s.screen.lock().unwrap().screen().alternate_screen(),
        "the terminal is restored"
    );
}

#[test]
fn ctrl_c_during_the_apply_asks_stops_between_calls_and_exits_130() {
    let state = tempfile::tempdir().unwrap();
    let mut s = Session::start_with_env(
        &["--demo"],
        &[("GUARDKEY_STATE_DIR", state.path().to_str().unwrap())],
    );
    s.wait_for("62 guardrails");
    // Every failing guardrail (45, in 12 regions), through the wizard with Enter alone.
    s.filter("status:fail");
    s.wait_for("Guardrails 45/62");
    s.keys("a");
    s.keys("f");
    s.wait_for("Fix: 1/7 Targets");
    s.keys("\r");
    s.wait_for("Fix: 2/7 Key per region");
    // The demo's regions that carry alias/bedrock-guardrails get that key, and say so.
    s.wait_for("keeps every known user");
    s.keys("\r");
    s.wait_for("Fix: 3/7 Key settings");
    s.wait_for("the alias is free");
    s.keys("\r");
    s.wait_for("Fix: 4/7 Review");
    s.keys("\r");
    let screen = s.wait_for("Fix: 5/7 Confirm");
    s.keys(&count_to_type(&screen));
    s.keys("\r");
    s.wait_for("Fix: 6/7 Apply");
    // Ctrl-C does not cut the fix off: it asks, like Esc.
    s.keys("\x03");
    s.wait_for("cancel? y stops between calls");
    assert!(s.child.try_wait().unwrap().is_none(), "still running");
    s.keys("y");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = s.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "guardkey did not stop:\n{}",
            s.contents()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.exit_code(), 130, "the exit code says it was interrupted");
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        !s.screen.lock().unwrap().screen().alternate_screen(),
        "the terminal is restored"
    );
    // The journal says how it ended, and every pre-image has its result.
    let journal = std::fs::read_dir(state.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .expect("a journal");
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let last = lines.last().unwrap();
    assert_eq!(last["event"], "ended", "{last}");
    assert_eq!(last["outcome"], "cancelled", "{last}");
    let written = lines.iter().filter(|l| l["event"] == "pre-image").count();
    let settled = lines
        .iter()
        .filter(|l| matches!(l["event"].as_str(), Some("verified" | "failed")))
        .count();
    assert_eq!(
        written, settled,
        "every write was seen through: {written} pre-images, {settled} results"
    );
    assert!(
        (last["fixed"].as_u64().unwrap() as usize) < 45,
        "stopped before the end: {last}"
    );
}

#[test]
fn the_wizard_over_45_guardrails_at_80x24_ends_on_the_undo_command() {
    let state = tempfile::tempdir().unwrap();
    let mut s = Session::start_sized(
        &["--demo"],
        &[("GUARDKEY_STATE_DIR", state.path().to_str().unwrap())],
        24,
        80,
    );
    s.wait_for("62: ");
    s.filter("status:fail");
    s.wait_for("Guardrails 45/62");
    s.keys("a");
    s.keys("f");
    s.wait_for("Fix: 1/7 Targets");
    // The cursor stays on screen however far it goes.
    for _ in 0..30 {
        s.keys("j");
    }
    let screen = s.contents();
    assert!(screen.contains("[x]"), "{screen}");
    s.keys("\r");
    s.wait_for("Fix: 2/7 Key per region");
    s.wait_for("bedrock-guardrails chosen:");
    s.keys("\r");
    s.wait_for("Fix: 3/7 Key settings");
    s.wait_for("the alias is free");
    s.keys("\r");
    s.wait_for("Fix: 4/7 Review");
    s.keys("\r");
    let screen = s.wait_for("Fix: 5/7 Confirm");
    let typed = count_to_type(&screen);
    s.keys(&typed);
    s.keys("\r");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let screen = s.contents();
        if screen.contains("Fix: 7/7 Done") && screen.contains("To undo: guardkey restore") {
            // The demo's onboarding-assistant was FAILED before: left to the user.
            let fixed = typed.parse::<usize>().unwrap() - 1;
            assert!(
                screen.contains(&format!("{fixed} fixed, 1 skipped, 0 failed")),
                "{screen}"
            );
            // The undo command, read from the screen, names the journal on disk.
            let line = screen
                .lines()
                .find(|l| l.contains("To undo: guardkey restore"))
                .unwrap();
            let path = line
                .split("restore ")
                .nth(1)
                .unwrap()
                .trim_end_matches(['│', ' '])
                .to_string();
            assert!(std::path::Path::new(&path).exists(), "{path}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no Done screen with the undo command:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    s.keys("\r");
    s.quit();
}

#[test]
fn a_live_demo_beside_a_baseline_marks_the_rows_that_changed() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("last-week.json");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_guardkey"))
        .args(["scan", "--demo", "--regions", "us-west-2", "--format", "json"])
        .env_clear()
        .output()
        .unwrap();
    // Last week, one guardrail that fails today passed, and one that is there today was not.
    let mut report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let guardrails = report["guardrails"].as_array_mut().unwrap();
    let failing = guardrails
        .iter()
        .position(|g| g["posture"]["level"] == "FAIL")
        .unwrap();
    let name = guardrails[failing]["name"].as_str().unwrap().to_string();
    guardrails[failing]["posture"]["level"] = "PASS".into();
    guardrails[failing]["posture"]["id"] = "customer-managed-key".into();
    guardrails.pop();
    std::fs::write(&saved, report.to_string()).unwrap();
    let mut s = Session::start(&[
        "--demo",
        "--regions",
        "us-west-2",
        "--baseline",
        saved.to_str().unwrap(),
    ]);
    let screen = s.wait_for("since baseline: ↑0 fixed ↓1 regressed ~0 +1 new −0 gone");
    let row = screen
        .lines()
        .find(|l| l.contains(&name))
        .unwrap_or_else(|| panic!("{name} not on screen:\n{screen}"));
    assert!(row.contains("↓"), "{row}");
    s.keys("q");
    // A baseline of another account is refused before anything starts.
    report["caller"]["account"] = "210987654321".into();
    std::fs::write(&saved, report.to_string()).unwrap();
    let other = Session::start(&["--demo", "--baseline", saved.to_str().unwrap()]);
    other.wait_for("is of account 210987654321");
    // Headless commands refuse it: `guardkey diff` is their way.
    let scan = std::process::Command::new(env!("CARGO_BIN_EXE_guardkey"))
        .args(["--baseline", saved.to_str().unwrap(), "scan", "--demo"])
        .output()
        .unwrap();
    assert_eq!(scan.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&scan.stderr).contains("guardkey diff OLD.json NEW.json"));
}

#[test]
fn the_demo_organization_opens_in_the_explorer() {
    let mut s = Session::start(&["--demo", "--org"]);
    // Live: the accounts' regions stream in, each its own entry.
    s.wait_for("ORGANIZATION");
    s.wait_for("prod/us-east-1");
    s.wait_for("6 accounts (1 unreadable, 1 suspended) from 123456789012");
    // The account without the role is in the E panel, with why.
    s.keys("E");
    s.wait_for("acquired-startup/all regions");
    s.keys("\x1b");
    s.quit();
}

#[test]
fn the_wizard_fixes_a_member_accounts_guardrail_in_the_organization_view() {
    let state = tempfile::tempdir().unwrap();
    let mut s = Session::start_with_env(
        &["--demo", "--org"],
        &[("GUARDKEY_STATE_DIR", state.path().to_str().unwrap())],
    );
    s.wait_for("82 guardrails");
    // The sandbox account's guardrail on the AWS-owned key.
    s.filter("account:777788889999 key:none");
    s.wait_for("Guardrails 1/82");
    s.keys("f");
    let screen = s.wait_for("Fix: 1/7 Targets · account sandbox (777788889999)");
    assert!(screen.contains("guardrail-us-west-2-000002"), "{screen}");
    s.keys("\r");
    s.wait_for("Fix: 2/7 Key per region");
    s.keys("\r");
    s.wait_for("Fix: 3/7 Key settings");
    s.wait_for("the alias is free");
    s.keys("\r");
    let screen = s.wait_for("Fix: 4/7 Review");
    // The key policy names the role guardkey works as in that account.
    assert!(
        screen.contains("777788889999"),
        "the review is of the sandbox account: {screen}"
    );
    s.keys("\r");
    s.wait_for("Fix: 5/7 Confirm");
    s.keys("1");
    s.keys("\r");
    s.wait_for("1 fixed, 0 skipped, 0 failed");
    s.keys("\r");
    // The account's entry is read again with its own session: the row turns ✓.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let screen = s.contents();
        // The filter (key:none) no longer shows it: the account's rows are back, one fewer.
        if screen.contains("Guardrails 0/82") {
            break;
        }
        assert!(Instant::now() < deadline, "the row did not turn ✓:\n{screen}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // The journal says which account, and how it was reached, for `restore`.
    let journals: Vec<_> = std::fs::read_dir(state.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(journals.len(), 1, "one journal written");
    let journal = std::fs::read_to_string(&journals[0]).unwrap();
    assert!(
        journal.contains("arn:aws:iam::777788889999:role/OrganizationAccountAccessRole"),
        "{journal}"
    );
    assert!(s.quit().success());
}

#[test]
fn the_wizard_reads_iam_to_say_whether_an_existing_key_keeps_a_flow_working() {
    let state = tempfile::tempdir().unwrap();
    let mut s = Session::start_with_env(
        &["--demo"],
        &[("GUARDKEY_STATE_DIR", state.path().to_str().unwrap())],
    );
    s.wait_for("62 guardrails");
    s.wait_for("USERS");
    s.filter("clinical-notes");
    s.wait_for("Guardrails 1/62");
    s.keys("f");
    s.wait_for("Fix: 1/7 Targets");
    s.keys("\r");
    // The existing key of the region is chosen; its policy defers to IAM, and the flow's
    // role has kms:Decrypt through Bedrock in its IAM policy, as IAM's policy simulator says.
    s.wait_for("alias/bedrock-guardrails chosen");
    s.keys("\r");
    let screen = s.wait_for("Fix: 4/7 Review");
    assert!(screen.contains("✓ flow clinical-summary-flow"), "{screen}");
    assert!(screen.contains("IAM's policy simulator allows it"), "{screen}");
    s.keys("\x1b");
    s.keys("\x1b");
    s.keys("\x1b");
    assert!(s.quit().success());
}

#[test]
fn the_demo_shows_who_uses_a_guardrail() {
    let mut s = Session::start(&["--demo"]);
    s.wait_for("62 guardrails");
    // The USERS column appears once the first region's usage is read.
    s.wait_for("USERS");
    s.filter("claims-assistant");
    s.wait_for("Guardrails 1/62");
    s.keys("\r");
    let screen = s.wait_for("agent claims-agent");
    assert!(screen.contains("Used by"), "{screen}");
    assert!(
        screen.contains("role/service-role/AmazonBedrockExecutionRoleForAgents_claims"),
        "{screen}"
    );
    assert!(
        screen.contains("new key: ✓ named in its users statement"),
        "{screen}"
    );
    assert!(s.quit().success());
}

/// The number the confirm step asks to type ("Type 42 and press Enter to apply").
fn count_to_type(screen: &str) -> String {
    screen
        .split("Type ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no count to type:\n{screen}"))
        .to_string()
}

/// The issue's demo path: the wizard over claims-assistant with Enter alone. The key that
/// carries alias/bedrock-guardrails would lock the claims agent out, so the wizard chooses it
/// with its policy extended for the agent's role; the confirm step says the agent keeps
/// access, and afterwards the simulator lets the role apply the guardrail.
#[test]
fn the_demo_wizard_with_enter_alone_keeps_the_claims_agent_able_to_decrypt() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sim = runtime.block_on(common::start_demo(20));
    let state = tempfile::tempdir().unwrap();
    let endpoint = sim.endpoint();
    let mut s = Session::start_with_env(
        &["--endpoint-url", &endpoint, "--regions", "us-east-1"],
        &[
            ("AWS_ACCESS_KEY_ID", guardkey::sim::SIM_ACCESS_KEY_ID),
            ("AWS_SECRET_ACCESS_KEY", guardkey::sim::SIM_SECRET_ACCESS_KEY),
            ("AWS_REGION", "us-east-1"),
            ("AWS_CONFIG_FILE", "/dev/null"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
            ("GUARDKEY_STATE_DIR", state.path().to_str().unwrap()),
        ],
    );
    s.wait_for("USERS");
    s.filter("claims-assistant");
    s.wait_for("Guardrails 1/");
    s.keys("f");
    s.wait_for("Fix: 1/7 Targets");
    s.keys("\r");
    s.wait_for("Fix: 2/7 Key per region");
    s.wait_for("its policy will name role AmazonBedrockExecutionRoleForAgents_claims");
    s.keys("\r");
    let screen = s.wait_for("Fix: 4/7 Review");
    assert!(screen.contains("kms:PutKeyPolicy"), "{screen}");
    s.keys("\r");
    let screen = s.wait_for("Fix: 5/7 Confirm");
    assert!(
        screen.contains("claims-assistant: 1 of 1 user keeps access"),
        "{screen}"
    );
    s.keys(&count_to_type(&screen));
    s.keys("\r");
    let screen = s.wait_for("Fix: 7/7 Done");
    assert!(screen.contains("1 fixed, 0 skipped, 0 failed"), "{screen}");
    assert!(screen.contains("1 user keeps access"), "{screen}");
    let (region, arn) = runtime.block_on(async {
        let cfg = common::sdk_config(&sim).await;
        let list = common::bedrock(&cfg, "us-east-1")
            .list_guardrails()
            .send()
            .await
            .unwrap();
        let g = list
            .guardrails()
            .iter()
            .find(|g| g.name() == "claims-assistant")
            .unwrap()
            .clone();
        ("us-east-1", g.arn().to_string())
    });
    runtime.block_on(async {
        let role = common::as_role(&sim, "AmazonBedrockExecutionRoleForAgents_claims").await;
        role.probe_guardrail(region, &arn)
            .await
            .expect("the claims agent's role decrypts its guardrail with the new key");
    });
    s.keys("\r");
    s.wait_for("Guardrails");
    assert!(s.quit().success());
}

/// The terminal closes during the wizard's apply: guardkey stops between calls, the journal
/// ends `cancelled`, and every guardrail is whole (on the new key and verified, or as it
/// was), read back with the SDK.
#[test]
fn closing_the_terminal_during_the_wizards_apply_leaves_every_guardrail_whole() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sim = runtime.block_on(common::start(guardkey::sim::SimConfig {
        seed: "generated:1:12".parse().unwrap(),
        settle: Duration::from_millis(1500),
        faults: guardkey::sim::Faults {
            latency: Duration::from_millis(100),
            quotas: vec!["UpdateGuardrail=2".parse().unwrap()],
            ..Default::default()
        },
        ..Default::default()
    }));
    let state = tempfile::tempdir().unwrap();
    let endpoint = sim.endpoint();
    let region = guardkey::regions::BEDROCK_REGIONS[0];
    let mut s = Session::start_with_env(
        &["--endpoint-url", &endpoint, "--regions", region],
        &[
            ("AWS_ACCESS_KEY_ID", guardkey::sim::SIM_ACCESS_KEY_ID),
            ("AWS_SECRET_ACCESS_KEY", guardkey::sim::SIM_SECRET_ACCESS_KEY),
            ("AWS_REGION", "us-east-1"),
            ("AWS_CONFIG_FILE", "/dev/null"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
            ("GUARDKEY_STATE_DIR", state.path().to_str().unwrap()),
        ],
    );
    s.wait_for("regions 1/1 done");
    s.filter("key:none");
    s.wait_for("Guardrails ");
    s.keys("a");
    s.keys("f");
    s.wait_for("Fix: 1/7 Targets");
    s.keys("\r");
    s.wait_for("bedrock-guardrails chosen:");
    s.keys("\r");
    s.wait_for("Fix: 4/7 Review");
    s.keys("\r");
    let screen = s.wait_for("Fix: 5/7 Confirm");
    s.keys(&count_to_type(&screen));
    s.keys("\r");
    s.wait_for("writing, waiting for READY");
    s.hang_up();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = s.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "guardkey did not stop after the terminal closed"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.exit_code(), 143, "SIGHUP's exit code");
    let journal: Vec<_> = std::fs::read_dir(state.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("fix-"))
        .collect();
    assert_eq!(journal.len(), 1);
    let entries = guardkey::fix::journal::Journal::read(&journal[0]).unwrap();
    match entries.last() {
        Some(guardkey::fix::journal::Entry::Ended { outcome, .. }) => assert_eq!(outcome, "cancelled"),
        other => panic!("the journal does not end cancelled: {other:?}"),
    }
    runtime.block_on(async {
        let session = guardkey::commands::sim_session(&sim, true).await;
        for r in guardkey::fix::journal::Journal::pre_images(&entries) {
            let now = session
                .read_guardrail(&session.bedrock(&r.region), &r.arn, None)
                .await
                .unwrap();
            assert_eq!(now.status, "READY");
            assert!(
                now.config.differences_besides_key(&r.pre_image).is_empty(),
                "{}",
                r.arn
            );
            let verified = entries
                .iter()
                .any(|e| matches!(e, guardkey::fix::journal::Entry::Verified { arn, .. } if *arn == r.arn));
            if now.config.kms_key_arn == r.target_key {
                assert!(verified, "{} moved but not verified", r.arn);
            } else {
                assert_eq!(now.config.kms_key_arn, r.pre_image.kms_key_arn, "{}", r.arn);
            }
        }
    });
}

#[test]
fn an_exception_added_in_the_explorer_is_read_back_by_scan() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("exceptions.toml");
    std::fs::write(&file, "# the team's accepted risks\n").unwrap();
    let path = file.to_str().unwrap();
    let mut s = Session::start(&["--demo", "--exceptions", path]);
    s.wait_for("62 guardrails");
    s.filter("hr-helpdesk");
    s.wait_for("Guardrails 1/62");
    s.keys("x");
    let form = s.wait_for("Accept a risk");
    assert!(form.contains("hr-helpdesk (aws-owned-key)"), "{form}");
    // Enter with no reason: refused, said.
    s.keys("\r");
    s.wait_for("say why the risk is accepted");
    for c in "Retired in Q1".chars() {
        s.keys(&c.to_string());
    }
    s.keys("\r");
    let screen = s.wait_for("1 accepted risk written");
    assert!(screen.contains("◦ MUTED"), "{screen}");
    assert!(s.quit().success());
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("# the team's accepted risks\n"), "{text}");
    assert!(text.contains("reason = \"Retired in Q1\""), "{text}");
    // scan reads it back: hr-helpdesk muted, with the owner the explorer filled in.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_guardkey"))
        .args([
            "scan",
            "--demo",
            "--regions",
            "us-east-1",
            "--format",
            "json",
            "--exceptions",
            path,
        ])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let g = report["guardrails"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "hr-helpdesk")
        .unwrap();
    assert_eq!(g["exception"]["reason"], "Retired in Q1");
    assert!(
        g["exception"]["owner"]
            .as_str()
            .unwrap()
            .contains("guardkey-admin"),
        "{g}"
    );
    assert_eq!(report["totals"]["muted"], 1);
}
