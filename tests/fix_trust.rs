//! `guardkey fix` on what real AWS refuses: key policies naming principals that do not
//! exist (roles with paths, IAM Identity Center sessions), checked against the
//! simulator's KMS, which refuses unknown principals as KMS does.

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
    Command::new(env!("CARGO_BIN_EXE_guardkey"))
        .args(args)
        .args([
            "--endpoint-url",
            &sim.endpoint(),
            "--journal-dir",
            journal.to_str().unwrap(),
        ])
        .env("AWS_ACCESS_KEY_ID", SIM_ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SIM_SECRET_ACCESS_KEY)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env_remove("AWS_PROFILE")
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
        assert!(said.contains("fixed, 0 skipped, 0 failed"), "{what}: {said}");
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
