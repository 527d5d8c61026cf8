//! Applying a guardrail on a customer managed key needs kms:Decrypt on that key, for whoever
//! applies it (AWS's guide). The simulator's Bedrock Runtime ApplyGuardrail checks it as KMS
//! does (the key policy, and through its account-root statement the caller's IAM policies),
//! and `guardkey fix --probe` proves each moved guardrail with one live call, putting back a
//! guardrail whose probe fails.

mod common;

use common::*;
use guardkey::aws::Session;
use guardkey::model::CallError;
use guardkey::sim::{Principal, RunningSim, SIM_ACCESS_KEY_ID, SIM_SECRET_ACCESS_KEY};
use serde_json::json;

const ACCOUNT: &str = "123456789012";

async fn demo() -> RunningSim {
    start_demo(20).await
}

/// A key of `region` whose policy is `policy` (the lock-out check bypassed, as a policy
/// that does not name the caller needs); returns its ARN.
async fn key_with_policy(sim: &RunningSim, region: &str, policy: &serde_json::Value) -> String {
    let cfg = sdk_config(sim).await;
    kms(&cfg, region)
        .create_key()
        .policy(policy.to_string())
        .bypass_policy_lockout_safety_check(true)
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .arn()
        .unwrap()
        .to_string()
}

/// A key whose policy is `policy`, and a guardrail on it, in us-east-1; returns its ARN.
async fn guardrail_on_a_key(sim: &RunningSim, name: &str, policy: serde_json::Value) -> (String, String) {
    let cfg = sdk_config(sim).await;
    let key = key_with_policy(sim, "us-east-1", &policy).await;
    let g = bedrock(&cfg, "us-east-1")
        .create_guardrail()
        .name(name)
        .blocked_input_messaging("no")
        .blocked_outputs_messaging("no")
        .word_policy_config(
            aws_sdk_bedrock::types::GuardrailWordPolicyConfig::builder()
                .words_config(
                    aws_sdk_bedrock::types::GuardrailWordConfig::builder()
                        .text("nightingale")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .kms_key_id(&key)
        .send()
        .await
        .unwrap();
    (key, g.guardrail_arn().to_string())
}

async fn as_principal(sim: &RunningSim, key_id: &str, arn: &str, policy: serde_json::Value) -> Session {
    sim.sim.add_principal(Principal {
        access_key_id: key_id.into(),
        secret_access_key: "secret".into(),
        account: ACCOUNT.into(),
        arn: arn.into(),
        user_id: format!("AROA{key_id}"),
        identity_policy: Some(policy),
    });
    let cfg = sdk_config_with(sim, key_id, "secret", aws_config::retry::RetryConfig::disabled()).await;
    Session::from_sdk_config(cfg, true)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_applies_a_guardrail_only_with_decrypt_on_its_key() {
    let sim = demo().await;
    let root = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"}]});
    let (key, guardrail) = guardrail_on_a_key(&sim, "probe-root", root).await;
    std::thread::sleep(std::time::Duration::from_millis(50));
    let app = "arn:aws:sts::123456789012:assumed-role/ChatApp/app";
    let apply_only = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "bedrock:ApplyGuardrail", "Resource": "*"}]});
    let session = as_principal(&sim, "AKIAPROBEAPPLYONLY01", app, apply_only).await;
    let err = session
        .probe_guardrail("us-east-1", &guardrail)
        .await
        .unwrap_err();
    match err {
        CallError::AccessDenied { action, message } => {
            assert_eq!(action.as_deref(), Some("kms:Decrypt"), "{message}");
            assert!(message.contains(&key), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // Its IAM policy grants kms:Decrypt on the key, and the key policy delegates to IAM.
    let with_decrypt = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "bedrock:ApplyGuardrail", "Resource": "*"},
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key}]});
    let session = as_principal(&sim, "AKIAPROBEDECRYPT0001", app, with_decrypt).await;
    session.probe_guardrail("us-east-1", &guardrail).await.unwrap();

    // A key policy that names the role itself needs no IAM grant; one that names neither the
    // role nor the account root locks everyone else out.
    // (The administrator that writes the guardrail is named too: Bedrock refuses a write with
    // a key its writer may not use.)
    let named = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:role/ChatApp")}, "Action": "kms:Decrypt", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:user/guardkey-admin")}, "Action": "kms:*", "Resource": "*"}]});
    let (_, on_named) = guardrail_on_a_key(&sim, "probe-named", named).await;
    std::thread::sleep(std::time::Duration::from_millis(50));
    let session = as_principal(
        &sim,
        "AKIAPROBEAPPLYONLY02",
        app,
        json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "bedrock:ApplyGuardrail", "Resource": "*"}]}),
    )
    .await;
    session.probe_guardrail("us-east-1", &on_named).await.unwrap();
    let other = as_principal(
        &sim,
        "AKIAPROBEOTHERROLE01",
        "arn:aws:sts::123456789012:assumed-role/SecOps/x",
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
    )
    .await;
    assert!(matches!(
        other.probe_guardrail("us-east-1", &on_named).await,
        Err(CallError::AccessDenied { .. })
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn fix_probe_proves_each_guardrail_and_puts_back_one_that_fails() {
    let sim = demo().await;
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        guardkey_command(Some((SIM_ACCESS_KEY_ID, SIM_SECRET_ACCESS_KEY)), "us-east-1")
            .args(args)
            .args([
                "--endpoint-url",
                &sim.endpoint(),
                "--journal-dir",
                dir.path().to_str().unwrap(),
            ])
            .output()
            .unwrap()
    };
    let out = run(&[
        "fix",
        "--regions",
        "us-west-2",
        "--filter",
        "key:none",
        "--create-key",
        "--alias",
        "alias/probed",
        "--probe",
        "--yes",
    ]);
    let text = said(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let fixed = text.matches("✓").count() / 2;
    assert!(fixed > 0, "{text}");
    assert_eq!(
        sim.sim
            .calls()
            .get("bedrock:ApplyGuardrail")
            .copied()
            .unwrap_or(0) as usize,
        fixed,
        "one probe per guardrail moved: {text}"
    );

    // A key whose policy names only another role: Bedrock would refuse the caller's write
    // (it needs Decrypt, GenerateDataKey, DescribeKey and CreateGrant on the key), so the
    // plan is refused before any write, naming the statement to add.
    let locked = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:role/GuardrailAdmin")}, "Action": "kms:*", "Resource": "*"}]});
    let key = key_with_policy(&sim, "eu-west-2", &locked).await;
    let updates = || {
        sim.sim
            .calls()
            .get("bedrock:UpdateGuardrail")
            .copied()
            .unwrap_or(0)
    };
    let before = updates();
    let fix_eu_west_2 = |key: &str| {
        run(&[
            "fix",
            "--regions",
            "eu-west-2",
            "--filter",
            "key:none",
            "--key",
            key,
            "--probe",
            "--yes",
        ])
    };
    let out = fix_eu_west_2(&key);
    let text = said(&out);
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("may not write guardrails with"), "{text}");
    assert!(
        text.contains("kms:CreateGrant") && text.contains("AllowGuardrailWriter"),
        "{text}"
    );
    assert!(
        text.contains(&format!("arn:aws:iam::{ACCOUNT}:user/guardkey-admin")),
        "{text}"
    );
    assert_eq!(updates(), before, "nothing written: {text}");

    // A key the caller may use, and an ApplyGuardrail that fails: the probe says so, and the
    // guardrails go back.
    let open = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"}]});
    let key = key_with_policy(&sim, "eu-west-2", &open).await;
    sim.sim.set_faults(|f| {
        f.denials.push(guardkey::sim::faults::Denial {
            operation: "bedrock:ApplyGuardrail".parse().unwrap(),
            region: Some("eu-west-2".into()),
        })
    });
    let out = fix_eu_west_2(&key);
    let text = said(&out);
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("the probe (ApplyGuardrail on the new key) failed"),
        "{text}"
    );
    assert!(updates() > before, "written, then put back: {text}");
    let still_aws_owned = sim.sim.with_world(|w| {
        w.region(ACCOUNT, "eu-west-2")
            .unwrap()
            .guardrails
            .values()
            .filter(|g| g.draft.kms_key_arn.is_none())
            .count()
    });
    assert_eq!(still_aws_owned, 2, "both put back on the AWS-owned key: {text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_guardrail_a_stack_manages_is_left_out_unless_asked() {
    let sim = demo().await;
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        guardkey_command(Some((SIM_ACCESS_KEY_ID, SIM_SECRET_ACCESS_KEY)), "us-east-1")
            .args([
                "fix",
                "--regions",
                "ca-central-1",
                "--filter",
                "key:none",
                "--create-key",
                "--yes",
            ])
            .args(extra)
            .args([
                "--endpoint-url",
                &sim.endpoint(),
                "--journal-dir",
                dir.path().to_str().unwrap(),
            ])
            .output()
            .unwrap()
    };
    let on_aws_owned = || {
        sim.sim.with_world(|w| {
            w.region(ACCOUNT, "ca-central-1")
                .unwrap()
                .guardrails
                .values()
                .filter(|g| g.draft.kms_key_arn.is_none())
                .count()
        })
    };
    let out = run(&[]);
    let text = said(&out);
    assert!(
        text.contains(
            "managed by CloudFormation stack benefits-assistant (resource BenefitsGuardrail): left out"
        ) && text.contains("KmsKeyArn"),
        "{text}"
    );
    assert!(text.contains("Nothing to fix"), "{text}");
    assert_eq!(on_aws_owned(), 1);
    let out = run(&["--include-managed"]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert!(said(&out).contains("moved as asked (--include-managed)"));
    assert_eq!(on_aws_owned(), 0);
}
