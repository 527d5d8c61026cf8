//! `guardkey fix` on what real AWS refuses: key policies naming principals that do not
//! exist (roles with paths, IAM Identity Center sessions), checked against the
//! simulator's KMS, which refuses unknown principals as KMS does.
//!
//! (Long: each test is one trust guarantee of `fix` and `restore` end to end; grouped by part.)

mod common;

use std::process::{Command, Output};

use common::*;
use guardkey::sim::{
    Faults, PATH_ROLE_NAME, PATH_ROLE_PATH, RunningSim, SIM_ACCESS_KEY_ID, SIM_SECRET_ACCESS_KEY,
    SSO_ROLE_NAME, SSO_ROLE_PATH, Seed, SimCaller, SimConfig,
};

const ACCOUNT: &str = "123456789012";

async fn sim_as(caller: SimCaller, get_role_denied: bool) -> RunningSim {
    let mut faults = Faults::default();
    if get_role_denied {
        faults.denials.push("iam:GetRole".parse().unwrap());
    }
    start(SimConfig {
        seed: Seed::Demo,
        caller,
        faults,
        settle: std::time::Duration::from_millis(20),
        ..SimConfig::default()
    })
    .await
}

fn guardkey(sim: &RunningSim, journal: &std::path::Path, args: &[&str]) -> Output {
    guardkey_command(Some((SIM_ACCESS_KEY_ID, SIM_SECRET_ACCESS_KEY)), "us-east-1")
        .args(args)
        .args([
            "--endpoint-url",
            &sim.endpoint(),
            "--journal-dir",
            journal.to_str().unwrap(),
        ])
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

/// The key policy of the key an alias names, read back through KMS.
async fn policy_of(sim: &RunningSim, region: &str, alias: &str) -> serde_json::Value {
    let cfg = sdk_config(sim).await;
    let kms = kms(&cfg, region);
    // GetKeyPolicy takes a key id or ARN, not an alias (as at KMS).
    let key = kms
        .describe_key()
        .key_id(alias)
        .send()
        .await
        .expect("the key exists");
    let policy = kms
        .get_key_policy()
        .key_id(key.key_metadata().unwrap().key_id())
        .policy_name("default")
        .send()
        .await
        .expect("the key exists")
        .policy()
        .unwrap()
        .to_string();
    serde_json::from_str(&policy).unwrap()
}

const FIX: &[&str] = &[
    "fix",
    "--regions",
    "us-east-1",
    "--filter",
    "status:fail key:none",
    "--create-key",
    "--alias",
    "alias/guardrails-trust",
    "--yes",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_keys_name_the_caller_as_kms_accepts_it() {
    let path_role = format!("arn:aws:iam::{ACCOUNT}:role{PATH_ROLE_PATH}{PATH_ROLE_NAME}");
    let sso_role = format!("arn:aws:iam::{ACCOUNT}:role{SSO_ROLE_PATH}{SSO_ROLE_NAME}");
    let sso_pattern = format!(
        "arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_AdministratorAccess_*"
    );
    let user = format!("arn:aws:iam::{ACCOUNT}:user/guardkey-admin");
    for (caller, denied, named, warns) in [
        (SimCaller::User, false, Some(user.as_str()), None),
        (SimCaller::User, true, Some(user.as_str()), None),
        (SimCaller::PathRole, false, Some(path_role.as_str()), None),
        (SimCaller::PathRole, true, None, Some("--admin and --manager")),
        (SimCaller::Sso, false, Some(sso_role.as_str()), None),
        (SimCaller::Sso, true, None, Some("aws:PrincipalArn")),
    ] {
        let sim = sim_as(caller, denied).await;
        let dir = tempfile::tempdir().unwrap();
        let out = guardkey(&sim, dir.path(), FIX);
        let what = format!("{caller:?}, iam:GetRole denied: {denied}");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{what}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(said.contains("skipped, 0 failed"), "{what}: {said}");
        // The demo's onboarding-assistant was FAILED before: left to the user.
        assert!(
            said.contains("onboarding-assistant (us-east-1): the guardrail is FAILED"),
            "{what}: {said}"
        );
        let policy = policy_of(&sim, "us-east-1", "alias/guardrails-trust").await;
        let text = policy.to_string();
        match named {
            Some(arn) => assert!(text.contains(&format!("\"{arn}\"")), "{what}: {text}"),
            None => assert!(
                !text.contains(PATH_ROLE_NAME) || text.contains("ArnLike"),
                "{what}: {text}"
            ),
        }
        if let Some(w) = warns {
            assert!(said.contains(w), "{what}: no warning {w:?}: {said}");
        }
        if caller == SimCaller::Sso && denied {
            let by_arn = policy["Statement"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["Sid"] == "Allow access for Key Administrators by role ARN")
                .unwrap_or_else(|| panic!("{text}"));
            assert_eq!(by_arn["Principal"]["AWS"], format!("arn:aws:iam::{ACCOUNT}:root"));
            assert_eq!(by_arn["Condition"]["ArnLike"]["aws:PrincipalArn"], sso_pattern);
        }
        // Never the role without its path: KMS refuses a role that does not exist.
        assert!(
            !text.contains(&format!(":role/{SSO_ROLE_NAME}\"")),
            "{what}: {text}"
        );
        assert!(
            !text.contains(&format!(":role/{PATH_ROLE_NAME}\"")),
            "{what}: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_principal_that_does_not_exist_is_refused_before_anything_is_created() {
    let sim = sim_as(SimCaller::Sso, false).await;
    let dir = tempfile::tempdir().unwrap();
    for (flag, arn, says) in [
        (
            "--user",
            format!("arn:aws:iam::{ACCOUNT}:role/NoSuchApp"),
            "has no role named NoSuchApp",
        ),
        (
            "--manager",
            format!("arn:aws:iam::{ACCOUNT}:role/{PATH_ROLE_NAME}"),
            "its ARN carries its path",
        ),
        (
            "--admin",
            format!("arn:aws:iam::{ACCOUNT}:user/nobody"),
            "has no user named nobody",
        ),
    ] {
        let mut args = FIX.to_vec();
        args.extend([flag, arn.as_str()]);
        let out = guardkey(&sim, dir.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{flag} {arn}: {}", text(&out.stdout));
        let err = text(&out.stderr);
        assert!(err.contains(flag) && err.contains(says), "{err}");
    }
    let calls = sim.sim.calls();
    assert_eq!(calls.get("kms:CreateKey"), None, "nothing was created: {calls:?}");
    assert_eq!(calls.get("bedrock:UpdateGuardrail"), None);

    // The simulator's KMS itself refuses such a policy, with KMS's error.
    let cfg = sdk_config(&sim).await;
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"},
            {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:role/{SSO_ROLE_NAME}")}, "Action": "kms:Decrypt", "Resource": "*"}
        ]
    });
    let err = kms(&cfg, "us-east-1")
        .create_key()
        .policy(policy.to_string())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "MalformedPolicyDocumentException");
    assert_eq!(
        message(&err),
        "Policy contains a statement with one or more invalid principals."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iam_get_role_answers_with_the_path_as_aws_does() {
    let sim = sim_as(SimCaller::Sso, false).await;
    let cfg = sdk_config(&sim).await;
    let iam = aws_sdk_iam::Client::new(&cfg);
    let role = iam.get_role().role_name(SSO_ROLE_NAME).send().await.unwrap();
    let role = role.role().unwrap();
    assert_eq!(role.path(), SSO_ROLE_PATH);
    assert_eq!(
        role.arn(),
        format!("arn:aws:iam::{ACCOUNT}:role{SSO_ROLE_PATH}{SSO_ROLE_NAME}")
    );
    let err = iam.get_role().role_name("NoSuchRole").send().await.unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    assert_eq!(message(&err), "The role with name NoSuchRole cannot be found.");
    // The session, as STS gives it, has no path.
    let who = sts(&cfg).get_caller_identity().send().await.unwrap();
    assert_eq!(
        who.arn(),
        Some(format!("arn:aws:sts::{ACCOUNT}:assumed-role/{SSO_ROLE_NAME}/alice@example.com").as_str())
    );
}

mod apply_flows {
    use std::time::Duration;

    use guardkey::aws::Session;
    use guardkey::fix::apply::{ApplyOptions, FixEvent, OutcomeKind, apply};
    use guardkey::fix::journal::{Entry, Journal};
    use guardkey::fix::plan::{FixPlan, KeyChoice, RegionPlan, Target};
    use guardkey::model::config::GuardrailConfig;
    use guardkey::sim::{RunningSim, Seed, SimConfig};

    use super::common::start;

    async fn demo() -> (RunningSim, Session) {
        let sim = start(SimConfig {
            seed: Seed::Demo,
            settle: Duration::from_millis(30),
            ..SimConfig::default()
        })
        .await;
        let session = guardkey::commands::sim_session(&sim, false).await;
        (sim, session)
    }

    /// The first guardrail of us-east-1 on the AWS-owned key, with its DRAFT, and a CMK of
    /// the region to move it to.
    async fn target(session: &Session) -> (String, GuardrailConfig, String) {
        let bedrock = session.bedrock("us-east-1");
        let (page, _) = session
            .list_guardrails_page(&bedrock, None, None, 1000)
            .await
            .unwrap();
        let mut owned = None;
        let mut key = None;
        for g in page {
            let d = session.read_guardrail(&bedrock, &g.arn, None).await.unwrap();
            match &d.config.kms_key_arn {
                None if owned.is_none() => owned = Some((g.arn, d.config)),
                Some(k)
                    if key.is_none()
                        && guardkey::fix::apply::check_existing_key(
                            session,
                            "us-east-1",
                            "123456789012",
                            k,
                        )
                        .await
                        .is_ok() =>
                {
                    key = Some(k.clone());
                }
                _ => {}
            }
        }
        let (arn, config) = owned.expect("an AWS-owned guardrail");
        (arn, config, key.expect("a usable CMK"))
    }

    fn plan(arn: &str, config: &GuardrailConfig, key: &str) -> FixPlan {
        FixPlan {
            account: "123456789012".into(),
            publish_version: false,
            usage: Default::default(),
            held: Vec::new(),
            allow_lockout: false,
            notes: Vec::new(),
            regions: vec![RegionPlan {
                region: "us-east-1".into(),
                key: KeyChoice::Existing(key.into()),
                targets: vec![Target {
                    arn: arn.into(),
                    id: arn.rsplit('/').next().unwrap().into(),
                    name: config.name.clone(),
                    current_key: None,
                    config: Some(config.clone()),
                }],
            }],
        }
    }

    fn options() -> ApplyOptions {
        ApplyOptions {
            ready_timeout: Duration::from_secs(20),
            caller_arn: "arn:aws:iam::123456789012:user/guardkey-admin".into(),
            ..ApplyOptions::default()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_concurrent_edit_is_kept_not_overwritten() {
        let (sim, session) = demo().await;
        let (arn, before, key) = target(&session).await;
        let id = arn.rsplit('/').next().unwrap();
        // Another writer updates the guardrail right after the fix reads it.
        sim.sim.concurrent_update_after_get(id);
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::create(dir.path(), "fix").unwrap();
        let events = std::sync::Mutex::new(Vec::new());
        let report = apply(&session, &plan(&arn, &before, &key), &journal, &options(), &|e| {
            events.lock().unwrap().push(e)
        })
        .await;
        assert!(
            matches!(report.outcomes[0].kind, OutcomeKind::Fixed { .. }),
            "{:?}",
            report.outcomes
        );
        let after = session
            .read_guardrail(&session.bedrock("us-east-1"), &arn, None)
            .await
            .unwrap();
        assert!(
            after
                .config
                .blocked_input_messaging
                .ends_with("(changed by another writer)"),
            "the other writer's change was wiped: {:?}",
            after.config.blocked_input_messaging
        );
        assert_eq!(after.config.kms_key_arn.as_deref(), Some(key.as_str()));
        // The re-read DRAFT was journaled again, and is what a restore would put back.
        let entries = Journal::read(journal.path()).unwrap();
        let pre_images: Vec<&GuardrailConfig> = entries
            .iter()
            .filter_map(|e| match e {
                Entry::PreImage { pre_image, .. } => Some(pre_image.as_ref()),
                _ => None,
            })
            .collect();
        assert_eq!(pre_images.len(), 2, "journaled before each write");
        assert!(
            pre_images[1]
                .blocked_input_messaging
                .ends_with("(changed by another writer)")
        );
        assert!(
            events
                .lock()
                .unwrap()
                .iter()
                .any(|e| matches!(e, FixEvent::Changed { what, .. } if what.contains("another writer"))),
            "the user is told"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_update_that_ends_failed_is_a_failure_and_is_put_back() {
        let (sim, session) = demo().await;
        let (arn, before, key) = target(&session).await;
        let id = arn.rsplit('/').next().unwrap();
        assert!(sim.sim.fail_next_update(
            id,
            &["The KMS key could not be used to encrypt the guardrail."],
            &["Grant bedrock.amazonaws.com kms:CreateGrant on the key and try again."],
        ));
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::create(dir.path(), "fix").unwrap();
        let report = apply(
            &session,
            &plan(&arn, &before, &key),
            &journal,
            &options(),
            &|_| {},
        )
        .await;
        match &report.outcomes[0].kind {
            OutcomeKind::Failed { error, restored } => {
                assert!(*restored, "{error}");
                assert!(error.contains("FAILED"), "{error}");
                assert!(error.contains("could not be used to encrypt"), "{error}");
                assert!(error.contains("Grant bedrock.amazonaws.com"), "{error}");
            }
            other => panic!("a FAILED guardrail is not fixed: {other:?}"),
        }
        assert_eq!(report.failed(), 1);
        let after = session
            .read_guardrail(&session.bedrock("us-east-1"), &arn, None)
            .await
            .unwrap();
        assert_eq!(after.status, "READY");
        assert_eq!(after.config.kms_key_arn, None, "back on its own key");
        assert_eq!(after.config.differences_besides_key(&before), Vec::<&str>::new());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_guardrail_failed_before_the_fix_is_left_to_the_user() {
        let (sim, session) = demo().await;
        let (arn, before, key) = target(&session).await;
        let id = arn.rsplit('/').next().unwrap();
        // Someone's earlier update left it FAILED.
        sim.sim.fail_next_update(id, &["Earlier update failed."], &[]);
        let bedrock = session.bedrock("us-east-1");
        session
            .write_guardrail(&bedrock, &arn, &before, None)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            session.read_guardrail(&bedrock, &arn, None).await.unwrap().status,
            "FAILED"
        );
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::create(dir.path(), "fix").unwrap();
        let report = apply(
            &session,
            &plan(&arn, &before, &key),
            &journal,
            &options(),
            &|_| {},
        )
        .await;
        match &report.outcomes[0].kind {
            OutcomeKind::Skipped { reason } => {
                assert!(
                    reason.contains("Earlier update failed") && reason.contains("--include-failed"),
                    "{reason}"
                )
            }
            other => panic!("{other:?}"),
        }
        let asked = ApplyOptions {
            include_failed: true,
            ..options()
        };
        let report = apply(&session, &plan(&arn, &before, &key), &journal, &asked, &|_| {}).await;
        assert!(
            matches!(report.outcomes[0].kind, OutcomeKind::Fixed { .. }),
            "{:?}",
            report.outcomes
        );
    }
}

mod inputs {
    use super::*;

    fn bare(sim: &RunningSim, args: &[&str]) -> Output {
        guardkey_command(Some((SIM_ACCESS_KEY_ID, SIM_SECRET_ACCESS_KEY)), "us-east-1")
            .args(args)
            .args(["--endpoint-url", &sim.endpoint()])
            .output()
            .unwrap()
    }

    fn refused(out: &Output, says: &str) {
        assert_eq!(
            out.status.code(),
            Some(2),
            "{says}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let err = text(&out.stderr);
        assert!(err.contains(says), "expected {says:?}: {err}");
        assert!(!err.contains("panicked"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn selections_that_would_surprise_are_refused_before_any_scan() {
        let sim = sim_as(SimCaller::User, false).await;
        let dry = ["fix", "--create-key", "--alias", "alias/x-test", "--dry-run"];
        for (extra, says) in [
            (&["--filter", ""][..], "--filter: the filter is empty"),
            (&["--filter", "bogus:xyz"], "unknown field 'bogus'"),
            (&["--filter", "status:fial"], "status is one of"),
            (&["--guardrail", ""], "--guardrail is empty"),
            (
                &["--guardrail", "arn:aws:bedrock:us-east-1:bad"],
                "is not a guardrail ARN",
            ),
            (
                &[
                    "--guardrail",
                    "arn:aws:bedrock:us-east-1:210987654321:guardrail/abc123def456",
                ],
                "is in account 210987654321, not the caller's 123456789012",
            ),
            (
                &[
                    "--guardrail",
                    "arn:aws:bedrock:mars-1:123456789012:guardrail/abc123def456",
                ],
                "'mars-1' is not a region",
            ),
        ] {
            refused(&bare(&sim, &[&dry[..], extra].concat()), says);
        }
        assert_eq!(
            sim.sim.calls().get("bedrock:ListGuardrails"),
            None,
            "no region was scanned"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn compliant_guardrails_are_left_out_and_an_unreadable_region_is_no_empty_plan() {
        let sim = sim_as(SimCaller::User, false).await;
        let base = [
            "fix",
            "--create-key",
            "--alias",
            "alias/x-test",
            "--dry-run",
            "--regions",
            "us-east-1",
        ];
        let out = bare(&sim, &[&base[..], &["--filter", "status:pass"]].concat());
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains("Nothing to fix"),
            "{}",
            text(&out.stdout)
        );
        assert!(
            text(&out.stderr).contains("passes already: left out"),
            "{}",
            text(&out.stderr)
        );
        let out = bare(
            &sim,
            &[&base[..], &["--filter", "status:pass", "--include-compliant"]].concat(),
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains("bedrock:UpdateGuardrail"),
            "{}",
            text(&out.stdout)
        );
        // ap-south-1 is denied in the demo: "nothing to fix" would be a guess.
        let out = bare(
            &sim,
            &[
                "fix",
                "--create-key",
                "--dry-run",
                "--regions",
                "ap-south-1",
                "--filter",
                "status:fail",
            ],
        );
        refused(&out, "could not read ap-south-1");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn flags_files_and_tags_that_contradict_or_overwrite_are_refused() {
        let sim = sim_as(SimCaller::User, false).await;
        let dir = tempfile::tempdir().unwrap();
        let existing = dir.path().join("fix.sh");
        std::fs::write(&existing, "keep me").unwrap();
        let existing = existing.to_str().unwrap();
        let tf = dir.path().join("keys.tf");
        let tf = tf.to_str().unwrap();
        let base = [
            "fix",
            "--filter",
            "status:fail",
            "--regions",
            "us-east-1",
            "--dry-run",
        ];
        // The demo has alias/bedrock-guardrails in us-east-1 already.
        let base_new = [&base[..], &["--alias", "alias/x-test"]].concat();
        for (extra, says) in [
            (&["--create-key", "--emit-cli", existing][..], "exists already"),
            (
                &["--create-key", "--emit-cli", tf, "--emit-terraform", tf],
                "name the same file",
            ),
            (
                &["--create-key", "--tag", "k=1", "--tag", "k=2"],
                "--tag k is given twice",
            ),
            (
                &["--create-key", "--tag", "managed-by=me"],
                "guardkey sets managed-by=guardkey itself",
            ),
            (
                &["--create-key", "--rotation-days", "90", "--no-rotation"],
                "cannot be used with",
            ),
            (
                &["--key", "alias/legacy-chatbot", "--alias", "alias/other"],
                "cannot be used with",
            ),
            (
                &["--key", "alias/legacy-chatbot", "--tag", "a=b"],
                "cannot be used with",
            ),
        ] {
            refused(&bare(&sim, &[&base[..], extra].concat()), says);
        }
        assert_eq!(std::fs::read_to_string(existing).unwrap(), "keep me");
        // --force overwrites, keeping the file's mode.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(existing, std::fs::Permissions::from_mode(0o750)).unwrap();
        let out = bare(
            &sim,
            &[
                &base_new[..],
                &["--create-key", "--emit-cli", existing, "--force"],
            ]
            .concat(),
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(
            std::fs::metadata(existing).unwrap().permissions().mode() & 0o777,
            0o750
        );
        assert!(
            std::fs::read_to_string(existing)
                .unwrap()
                .contains("update-guardrail")
        );
        // An existing key whose rotation is off: said in the plan.
        let out = bare(&sim, &[&base[..], &["--key", "alias/legacy-chatbot"]].concat());
        // The claims agent cannot decrypt with it: its guardrail is held back (exit 1).
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("Held back"), "{}", text(&out.stdout));
        assert!(
            text(&out.stdout).contains("has automatic rotation off"),
            "{}",
            text(&out.stdout)
        );
        // Hostile text stays literal in Terraform.
        let out = bare(
            &sim,
            &[
                &base_new[..],
                &[
                    "--create-key",
                    "--description",
                    "${var.x} %{ if true }x",
                    "--emit-terraform",
                    tf,
                ],
            ]
            .concat(),
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let terraform = std::fs::read_to_string(tf).unwrap();
        assert!(terraform.contains("\"$${var.x} %%{ if true }x\""), "{terraform}");
    }

    #[test]
    fn options_that_mean_nothing_for_the_command_are_refused() {
        let run = |args: &[&str]| {
            Command::new(env!("CARGO_BIN_EXE_guardkey"))
                .args(args)
                .env_remove("AWS_PROFILE")
                .output()
                .unwrap()
        };
        for (args, says) in [
            (
                &["--demo", "sim", "--port", "0"][..],
                "--demo cannot be used here",
            ),
            (
                &["--read-only", "sim", "--port", "0"],
                "--read-only cannot be used here",
            ),
            (
                &["--load", "x.json", "sim", "--port", "0"],
                "--load cannot be used here",
            ),
            (&["sim", "--quota", "NoSuchOp=5"], "serves no such operation"),
            (&["sim", "--deny", "NoSuchOp"], "serves no such operation"),
            (&["sim", "--deny", "kms:GetGuardrail"], "serves no such operation"),
            (
                &["scan", "--demo", "--endpoint-url", "http://127.0.0.1:9"],
                "--endpoint-url with --demo",
            ),
        ] {
            let out = run(args);
            assert_eq!(out.status.code(), Some(2), "{args:?}");
            let err = text(&out.stderr);
            assert!(err.contains(says), "{args:?}: {err}");
        }
    }
}

mod restore_trust {
    use super::*;

    async fn fixed(sim: &RunningSim, dir: &std::path::Path) -> std::path::PathBuf {
        let out = guardkey(
            sim,
            dir,
            &[
                "fix",
                "--regions",
                "us-east-1,us-west-2",
                "--filter",
                "key:none",
                "--create-key",
                "--alias",
                "alias/restore-trust",
                "--yes",
            ],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("fix-"))
            .unwrap()
    }

    async fn draft(sim: &RunningSim, arn: &str) -> guardkey::model::config::GuardrailConfig {
        let session = guardkey::commands::sim_session(sim, true).await;
        let region = arn.split(':').nth(3).unwrap();
        session
            .read_guardrail(&session.bedrock(region), arn, None)
            .await
            .unwrap()
            .config
    }

    fn journaled(journal: &std::path::Path) -> Vec<(String, String)> {
        std::fs::read_to_string(journal)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|e| e["event"] == "pre-image")
            .map(|e| {
                (
                    e["region"].as_str().unwrap().to_string(),
                    e["arn"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_tampered_journal_is_refused_and_a_later_edit_is_kept() {
        let sim = sim_as(SimCaller::User, false).await;
        let dir = tempfile::tempdir().unwrap();
        let journal = fixed(&sim, dir.path()).await;
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&journal).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // Two guardrails of one region (regions are fixed in parallel: the journal's order
        // across regions varies).
        let entries: Vec<_> = journaled(&journal)
            .into_iter()
            .filter(|(r, _)| r == "us-east-1")
            .collect();
        let (first, second) = (entries[0].1.clone(), entries[1].1.clone());
        let second_before = draft(&sim, &second).await;

        // An entry edited to name another guardrail: refused, nothing written.
        let tampered = dir.path().join("tampered.jsonl");
        let text_ = std::fs::read_to_string(&journal).unwrap();
        let line = text_
            .lines()
            .find(|l| l.contains(&format!("\"arn\":\"{first}\"")))
            .unwrap();
        std::fs::write(
            &tampered,
            text_.replacen(line, &line.replacen(&first, &second, 1), 1),
        )
        .unwrap();
        let out = guardkey(&sim, dir.path(), &["restore", tampered.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
        assert!(
            text(&out.stderr).contains("does not match its digest"),
            "{}",
            text(&out.stderr)
        );
        assert_eq!(
            draft(&sim, &second).await,
            second_before,
            "the second guardrail untouched"
        );

        // Without its digest (as an older journal), the name still gives it away.
        let unsealed = dir.path().join("unsealed.jsonl");
        // (the second's own entry gone, the first's renamed to it).
        let edited: String = text_
            .lines()
            .filter_map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                if v["event"] == "pre-image" {
                    if v["arn"] == second.as_str() {
                        return None;
                    }
                    v.as_object_mut().unwrap().remove("digest");
                    if v["arn"] == first.as_str() {
                        v["arn"] = second.clone().into();
                    }
                }
                Some(v.to_string() + "\n")
            })
            .collect();
        std::fs::write(&unsealed, edited).unwrap();
        let out = guardkey(
            &sim,
            dir.path(),
            &["restore", unsealed.to_str().unwrap(), "--guardrail", &second],
        );
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
        assert!(
            text(&out.stdout).contains("the journal does not describe it"),
            "{}",
            text(&out.stdout)
        );
        assert_eq!(
            draft(&sim, &second).await,
            second_before,
            "the second guardrail untouched"
        );

        // A guardrail edited after the fix is skipped, said, and kept; --force restores it.
        let session = guardkey::commands::sim_session(&sim, false).await;
        let region = first.split(':').nth(3).unwrap();
        let bedrock = session.bedrock(region);
        let mut edited = draft(&sim, &first).await;
        edited.blocked_outputs_messaging = "edited after the fix".into();
        let key = edited.kms_key_arn.clone();
        session
            .write_guardrail(&bedrock, &first, &edited, key.as_deref())
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let out = guardkey(
            &sim,
            dir.path(),
            &["restore", journal.to_str().unwrap(), "--guardrail", &first],
        );
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
        assert!(
            text(&out.stdout).contains("changed since the fix (blockedOutputsMessaging)"),
            "{}",
            text(&out.stdout)
        );
        assert_eq!(
            draft(&sim, &first).await.blocked_outputs_messaging,
            "edited after the fix"
        );
        let out = guardkey(
            &sim,
            dir.path(),
            &[
                "restore",
                journal.to_str().unwrap(),
                "--guardrail",
                &first,
                "--force",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
        assert_eq!(
            draft(&sim, &first).await.kms_key_arn,
            None,
            "back on the AWS-owned key"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn restore_honours_the_scope_flags() {
        let sim = sim_as(SimCaller::User, false).await;
        let dir = tempfile::tempdir().unwrap();
        let journal = fixed(&sim, dir.path()).await;
        let entries = journaled(&journal);
        let out = guardkey(
            &sim,
            dir.path(),
            &["restore", journal.to_str().unwrap(), "--regions", "us-west-2"],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        for (region, arn) in &entries {
            let key = draft(&sim, arn).await.kms_key_arn;
            match region.as_str() {
                "us-west-2" => assert_eq!(key, None, "{arn} restored"),
                _ => assert!(key.is_some(), "{arn} in {region} was left alone"),
            }
        }
        let out = guardkey(
            &sim,
            dir.path(),
            &["restore", journal.to_str().unwrap(), "--regions", "eu-west-1"],
        );
        assert_eq!(out.status.code(), Some(2));
        assert!(
            text(&out.stderr).contains("records no guardrail in eu-west-1"),
            "{}",
            text(&out.stderr)
        );
        let out = guardkey(
            &sim,
            dir.path(),
            &["restore", journal.to_str().unwrap(), "--regions", "mars-1"],
        );
        assert_eq!(out.status.code(), Some(2));
    }
}

mod raw_bodies {
    use std::time::Duration;

    use guardkey::fix::apply::{ApplyOptions, OutcomeKind, apply};
    use guardkey::fix::journal::Journal;
    use guardkey::fix::plan::{FixPlan, KeyChoice, NewKey, RegionPlan, Target};
    use guardkey::sim::{Seed, SimConfig};
    use serde_json::Value;

    use super::common::{signed_raw, start};

    /// Members that a fix changes or that only say when and how: everything else must come
    /// back exactly as it was.
    const MAY_CHANGE: &[&str] = &[
        "kmsKeyArn",
        "updatedAt",
        "status",
        "statusReasons",
        "failureRecommendations",
    ];

    /// The JSON paths where `after` lacks or differs from `before`, member by member.
    fn differences(path: &str, before: &Value, after: &Value, out: &mut Vec<String>) {
        match (before, after) {
            (Value::Object(b), Value::Object(a)) => {
                for (k, v) in b {
                    if path.is_empty() && MAY_CHANGE.contains(&k.as_str()) {
                        continue;
                    }
                    match a.get(k) {
                        Some(w) => differences(&format!("{path}.{k}"), v, w, out),
                        None => out.push(format!("{path}.{k} lost")),
                    }
                }
                for k in a.keys().filter(|k| !b.contains_key(*k)) {
                    if !(path.is_empty() && MAY_CHANGE.contains(&k.as_str())) {
                        out.push(format!("{path}.{k} appeared"));
                    }
                }
            }
            (Value::Array(b), Value::Array(a)) if b.len() == a.len() => {
                for (i, (v, w)) in b.iter().zip(a).enumerate() {
                    differences(&format!("{path}[{i}]"), v, w, out);
                }
            }
            (b, a) if b == a => {}
            _ => out.push(format!("{path} changed")),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_raw_get_guardrail_bodies_agree_member_by_member_after_a_fix() {
        let sim = start(SimConfig {
            seed: Seed::Demo,
            settle: Duration::from_millis(20),
            ..SimConfig::default()
        })
        .await;
        let session = guardkey::commands::sim_session(&sim, false).await;
        let region = "us-east-1";
        let bedrock = session.bedrock(region);
        let (page, _) = session
            .list_guardrails_page(&bedrock, None, None, 1000)
            .await
            .unwrap();
        let raw = |id: String| {
            let sim = &sim;
            async move {
                let (status, _, body) = signed_raw(
                    sim,
                    "GET",
                    &format!("/guardrails/{id}"),
                    region,
                    "bedrock",
                    &[],
                    "",
                )
                .await;
                assert_eq!(status, 200, "{body}");
                serde_json::from_str::<Value>(&body).unwrap()
            }
        };
        let mut before = Vec::new();
        let mut targets = Vec::new();
        for g in page {
            let draft = session.read_guardrail(&bedrock, &g.arn, None).await.unwrap();
            if draft.config.kms_key_arn.is_some() || draft.status != "READY" {
                continue;
            }
            before.push((g.id.clone(), raw(g.id.clone()).await));
            targets.push(Target {
                arn: g.arn.clone(),
                id: g.id.clone(),
                name: g.name.clone(),
                current_key: None,
                config: Some(draft.config),
            });
        }
        assert!(
            targets.len() >= 10,
            "the demo's rich guardrails: {}",
            targets.len()
        );
        // The richest one carries every kind of policy: the check sees deep members.
        assert!(
            before
                .iter()
                .any(|(_, b)| b["topicPolicy"]["topics"][0]["examples"].is_array()
                    && b["contentPolicy"].is_object()
                    && b["sensitiveInformationPolicy"].is_object()),
            "no guardrail with topic examples and content and PII policies"
        );
        let plan = FixPlan {
            account: "123456789012".into(),
            publish_version: false,
            usage: Default::default(),
            held: Vec::new(),
            allow_lockout: false,
            notes: Vec::new(),
            regions: vec![RegionPlan {
                region: region.into(),
                key: KeyChoice::Create(NewKey {
                    alias: "alias/raw-bodies".into(),
                    description: "raw".into(),
                    policy: guardkey::sim::kms::default_policy("123456789012"),
                    tags: Vec::new(),
                    rotation_days: Some(365),
                    multi_region: Default::default(),
                }),
                targets,
            }],
        };
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::create(dir.path(), "fix").unwrap();
        let options = ApplyOptions {
            ready_timeout: Duration::from_secs(20),
            caller_arn: "arn:aws:iam::123456789012:user/guardkey-admin".into(),
            ..ApplyOptions::default()
        };
        let report = apply(&session, &plan, &journal, &options, &|_| {}).await;
        assert!(
            report
                .outcomes
                .iter()
                .all(|o| matches!(o.kind, OutcomeKind::Fixed { .. })),
            "{}",
            report.summary()
        );
        for (id, b) in before {
            let a = raw(id.clone()).await;
            let mut lost = Vec::new();
            differences("", &b, &a, &mut lost);
            assert!(lost.is_empty(), "{id}: {lost:?}");
            assert!(
                a["kmsKeyArn"]
                    .as_str()
                    .is_some_and(|k| k.starts_with("arn:aws:kms:us-east-1:"))
            );
        }
        // And the check is no rubber stamp: a lost deep member is named.
        let mut lost = Vec::new();
        let b = serde_json::json!({"topicPolicy": {"topics": [{"name": "t", "examples": ["e"]}]}});
        let a = serde_json::json!({"topicPolicy": {"topics": [{"name": "t"}]}});
        differences("", &b, &a, &mut lost);
        assert_eq!(lost, [".topicPolicy.topics[0].examples lost"]);
    }
}
