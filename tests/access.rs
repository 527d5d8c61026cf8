//! Access as AWS decides it, on the demo: a role that decrypts only through a KMS grant keeps
//! access when its guardrail moves to the key of the grant; a role in the Prod OU, whose SCP
//! denies kms:Decrypt outside the account's approved keys, would lose it with a new key (the
//! SCP named, the guardrail held back); the SDK reads and the simulator agree, and a KMS
//! grant created through the API counts as a user's access.

mod common;

use common::*;
use guardkey::sim::RunningSim;
use serde_json::Value;

fn guardkey(sim: &RunningSim, dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    guardkey_command(
        Some((
            guardkey::sim::SIM_ACCESS_KEY_ID,
            guardkey::sim::SIM_SECRET_ACCESS_KEY,
        )),
        "us-east-1",
    )
    .args(args)
    .args(["--endpoint-url", &sim.endpoint()])
    .env("GUARDKEY_STATE_DIR", dir)
    .output()
    .unwrap()
}

fn users_of<'a>(report: &'a Value, name: &str) -> Vec<&'a Value> {
    report["guardrails"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == name)
        .unwrap_or_else(|| panic!("no {name}"))["usage"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_that_decrypts_through_a_grant_keeps_access_on_the_key_of_the_grant() {
    let sim = start_demo(20).await;
    let dir = tempfile::tempdir().unwrap();
    let out = guardkey(
        &sim,
        dir.path(),
        &[
            "fix",
            "--regions",
            "us-east-1",
            "--filter",
            "tenant-01",
            "--key",
            "alias/bedrock-guardrails",
            "--yes",
        ],
    );
    let text = said(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("tenant-router-agent") && text.contains("keeps access: KMS grant"),
        "{text}"
    );
    assert!(text.contains("1 user keeps access"), "{text}");
    // The scan after it: the agent decrypts through the grant, the guardrail passes.
    let out = guardkey(
        &sim,
        dir.path(),
        &["scan", "--regions", "us-east-1", "--usage", "--format", "json"],
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", said(&out)));
    let agent = users_of(&report, "tenant-01")
        .into_iter()
        .find(|u| {
            u["principal"]
                .as_str()
                .unwrap()
                .ends_with("role/service-role/TenantRouterAgentRole")
        })
        .expect("the agent is a user");
    assert_eq!(agent["current_key"]["decrypt"], "allowed", "{agent}");
    assert!(
        agent["current_key"]["how"]
            .as_str()
            .unwrap()
            .contains("KMS grant"),
        "{agent}"
    );

    // The grant revoked through the API: the same scan calls the agent locked out.
    let cfg = sdk_config(&sim).await;
    let kms = kms(&cfg, "us-east-1");
    let key = kms
        .describe_key()
        .key_id("alias/bedrock-guardrails")
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    let grants = kms.list_grants().key_id(&key).send().await.unwrap();
    assert_eq!(grants.grants().len(), 1);
    kms.revoke_grant()
        .key_id(&key)
        .grant_id(grants.grants()[0].grant_id().unwrap())
        .send()
        .await
        .unwrap();
    let out = guardkey(
        &sim,
        dir.path(),
        &["scan", "--regions", "us-east-1", "--usage", "--format", "json"],
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let g = report["guardrails"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "tenant-01")
        .unwrap();
    assert_eq!(g["posture"]["id"], "key-locks-out-users", "{g}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_under_an_scp_that_denies_new_keys_is_held_back_with_the_scp_named() {
    let sim = start_demo(20).await;
    let dir = tempfile::tempdir().unwrap();
    let prod = "111122223333";
    let out = guardkey(
        &sim,
        dir.path(),
        &[
            "fix",
            "--org",
            "--accounts",
            prod,
            "--regions",
            "us-east-1",
            "--filter",
            "key:none",
            "--create-key",
            "--alias",
            "alias/prod-guardrails",
            "--yes",
        ],
    );
    let text = said(&out);
    assert!(
        text.contains("risk-scoring-agent")
            && text.contains("would lose access: the SCP DenyDecryptOutsideApprovedKeys"),
        "{text}"
    );
    // The agent's guardrail stays on the AWS-owned key; the others moved (the administrators'
    // role the SCP exempts wrote them).
    let agent_guardrail = sim.sim.with_world(|w| {
        let region = w.region(prod, "us-east-1").unwrap();
        let agent = region
            .agents
            .values()
            .find(|a| a.name == "risk-scoring-agent")
            .unwrap();
        let id = agent.guardrail.as_ref().unwrap().identifier.clone();
        region.guardrails[&id].draft.kms_key_arn.clone()
    });
    assert_eq!(agent_guardrail, None, "held back: {text}");
    assert!(text.contains("1 fixed"), "{text}");
    assert_ne!(
        out.status.code(),
        Some(0),
        "a held-back guardrail is not a success: {text}"
    );

    // The SCPs as a scan of the organization reads them: the agent keeps access now (the
    // AWS-owned key), every CMK user of prod is evaluated under the Prod OU's SCP.
    let out = guardkey(
        &sim,
        dir.path(),
        &[
            "scan",
            "--org",
            "--accounts",
            prod,
            "--regions",
            "us-east-1",
            "--usage",
            "--format",
            "json",
        ],
    );
    let text = said(&out);
    assert!(
        !text.contains("SCPs not read"),
        "the management account reads them: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scps_read_by_a_member_account_are_not_read_and_said() {
    let sim = start_demo(20).await;
    let session = guardkey::aws::Session::with_static_keys(
        &sim.endpoint(),
        guardkey::sim::SIM_ACCESS_KEY_ID,
        guardkey::sim::SIM_SECRET_ACCESS_KEY,
        true,
    )
    .await;
    use guardkey::usage::access::Scps;
    // The management account: SCPs do not apply to it.
    assert_eq!(
        session.account_scps("aws", "123456789012").await,
        Scps::NotApplicable
    );
    // A member read by the management account: root, Workloads, Prod and the account, each
    // with FullAWSAccess, and the Prod OU's own.
    let Scps::Read(levels) = session.account_scps("aws", "111122223333").await else {
        panic!("not read");
    };
    assert_eq!(levels.len(), 4, "{levels:?}");
    assert!(
        levels
            .iter()
            .all(|l| l.policies.iter().any(|(n, _)| n == "FullAWSAccess"))
    );
    assert!(
        levels[2]
            .policies
            .iter()
            .any(|(n, _)| n == "DenyDecryptOutsideApprovedKeys")
    );
    // The member itself may not list them: said, with who may.
    let member = session
        .assume(
            "arn:aws:iam::111122223333:role/OrganizationAccountAccessRole",
            "guardkey-test",
        )
        .await
        .unwrap();
    match member.account_scps("aws", "111122223333").await {
        Scps::NotRead(why) => assert!(why.contains("management account"), "{why}"),
        other => panic!("{other:?}"),
    }
}
