//! Who uses a guardrail, and a fix that keeps them able to decrypt. The demo's claims agent
//! runs as a service role without kms:Decrypt of its own: moving its guardrail to a key
//! whose policy does not name it breaks the agent, which the simulator's own check proves
//! when the role applies the guardrail through the Rust API.

mod common;

use common::*;
use guardkey::model::CallError;
use guardkey::sim::RunningSim;
use serde_json::Value;

const ACCOUNT: &str = "123456789012";
const CLAIMS_ROLE: &str = "AmazonBedrockExecutionRoleForAgents_claims";

async fn demo() -> RunningSim {
    start_demo(20).await
}

/// The statement guardkey prints names the claims agent's role, path included.
fn assert_names_the_claims_role(text: &str) {
    assert!(
        text.contains(&format!(
            "\"arn:aws:iam::{ACCOUNT}:role/service-role/{CLAIMS_ROLE}\""
        )),
        "{text}"
    );
}

/// `guardkey fix --yes` of one guardrail onto a new key with `alias`, with `extra`.
fn fix_with_new_key(
    sim: &RunningSim,
    dir: &std::path::Path,
    region: &str,
    guardrail: &str,
    alias: &str,
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec![
        "fix",
        "--regions",
        region,
        "--guardrail",
        guardrail,
        "--create-key",
        "--alias",
        alias,
        "--yes",
    ];
    args.extend_from_slice(extra);
    guardkey(sim, dir, &args)
}

/// `guardkey fix` of one us-east-1 guardrail onto the demo's existing key, with `extra`.
fn fix_with_shared_key(
    sim: &RunningSim,
    dir: &std::path::Path,
    guardrail: &str,
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec![
        "fix",
        "--regions",
        "us-east-1",
        "--guardrail",
        guardrail,
        "--key",
        "alias/bedrock-guardrails",
    ];
    args.extend_from_slice(extra);
    guardkey(sim, dir, &args)
}

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

fn scan_json(sim: &RunningSim, dir: &std::path::Path, extra: &[&str]) -> Value {
    let mut args = vec!["scan", "--regions", "us-east-1", "--format", "json"];
    args.extend_from_slice(extra);
    let out = guardkey(sim, dir, &args);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", said(&out)))
}

fn guardrail<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["guardrails"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == name)
        .unwrap_or_else(|| panic!("no {name}"))
}

/// A key of us-east-1 by alias: its ARN and its policy (GetKeyPolicy takes no alias).
async fn key_and_policy(sim: &RunningSim, alias: &str) -> (String, String) {
    key_and_policy_in(sim, "us-east-1", alias).await
}

/// A key's ARN and policy, read through the Rust SDK as any client would.
async fn key_and_policy_in(sim: &RunningSim, region: &str, alias: &str) -> (String, String) {
    let cfg = sdk_config(sim).await;
    let client = kms(&cfg, region);
    let key = client.describe_key().key_id(alias).send().await.unwrap();
    let arn = key.key_metadata().unwrap().arn().unwrap().to_string();
    let policy = client.get_key_policy().key_id(&arn).send().await.unwrap();
    (arn, policy.policy().unwrap().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_usage_names_agents_flows_and_principals_and_never_says_none_when_denied() {
    let sim = demo().await;
    let dir = tempfile::tempdir().unwrap();
    let report = scan_json(&sim, dir.path(), &["--usage"]);
    let users = |name: &str| -> Vec<(String, String, String)> {
        guardrail(&report, name)["usage"]["users"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["via"]["broad"] != true)
            .map(|u| {
                (
                    u["via"]["kind"].as_str().unwrap().to_string(),
                    u["principal"]
                        .as_str()
                        .unwrap()
                        .rsplit('/')
                        .next()
                        .unwrap()
                        .to_string(),
                    u["current_key"]["decrypt"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    // Its DRAFT and its published version 1 both name claims-assistant.
    assert_eq!(
        users("claims-assistant"),
        [
            ("agent".into(), CLAIMS_ROLE.into(), "allowed".into()),
            ("agent".into(), CLAIMS_ROLE.into(), "allowed".into())
        ]
    );
    assert_eq!(
        users("clinical-notes-summarizer"),
        [("flow".into(), "ClinicalNotesFlowRole".into(), "allowed".into())]
    );
    assert_eq!(
        users("hr-helpdesk"),
        [("policy".into(), "ChatApp".into(), "allowed".into())]
    );
    // On a key pending deletion nobody can decrypt: its users are named as locked out.
    let admin = &guardrail(&report, "fraud-triage")["usage"]["users"][0];
    assert_eq!(
        admin["via"]["broad"], true,
        "the administrator, counted not named"
    );
    assert_eq!(admin["current_key"]["decrypt"], "denied");
    assert!(
        guardrail(&report, "claims-assistant")["usage"]
            .get("unknown")
            .is_none()
    );

    // ListAgents denied: who uses each guardrail through an agent is not known, and says why.
    sim.sim
        .set_faults(|f| f.denials.push("bedrock:ListAgents@us-east-1".parse().unwrap()));
    let report = scan_json(&sim, dir.path(), &["--usage"]);
    let unknown = &guardrail(&report, "claims-assistant")["usage"]["unknown"];
    assert_eq!(unknown[0]["source"], "agents", "{unknown}");
    assert!(
        unknown[0]["reason"]
            .as_str()
            .unwrap()
            .contains("bedrock:ListAgents"),
        "{unknown}"
    );
    // Without --usage nothing is read.
    let before = sim.sim.calls().get("bedrock:ListFlows").copied().unwrap_or(0);
    let plain = scan_json(&sim, dir.path(), &[]);
    assert!(guardrail(&plain, "claims-assistant").get("usage").is_none());
    assert_eq!(
        sim.sim.calls().get("bedrock:ListFlows").copied().unwrap_or(0),
        before
    );
}

fn claims_assistant_id(sim: &RunningSim, dir: &std::path::Path) -> (String, String) {
    let report = scan_json(sim, dir, &[]);
    let g = guardrail(&report, "claims-assistant");
    (
        g["id"].as_str().unwrap().into(),
        g["arn"].as_str().unwrap().into(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_key_keeps_the_agents_role_able_to_decrypt() {
    let sim = demo().await;
    let dir = tempfile::tempdir().unwrap();
    let (id, arn) = claims_assistant_id(&sim, dir.path());
    let role = as_role(&sim, CLAIMS_ROLE).await;
    role.probe_guardrail("us-east-1", &arn)
        .await
        .expect("on the AWS-owned key, it works");
    let out = fix_with_new_key(&sim, dir.path(), "us-east-1", &id, "alias/claims", &["--probe"]);
    let text = said(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("✓ agent claims-agent"),
        "the plan says it keeps access:\n{text}"
    );
    // The key policy names the role, with its path; the role applies the guardrail.
    let (_, policy) = key_and_policy(&sim, "alias/claims").await;
    assert!(
        policy.contains(&format!("role/service-role/{CLAIMS_ROLE}")),
        "{policy}"
    );
    role.probe_guardrail("us-east-1", &arn)
        .await
        .expect("the agent's role decrypts with the new key");
}

/// After a fix that keeps the agent, its key's policy is edited behind guardkey's back to
/// drop the agent's role: the next `scan --usage` calls the guardrail no PASS
/// (`key-locks-out-users`, FAIL, naming the agent) in JSON, CSV and SARIF, and exits 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_policy_edited_to_drop_the_agent_makes_the_scan_fail_the_guardrail() {
    let sim = demo().await;
    let dir = tempfile::tempdir().unwrap();
    let (id, arn) = claims_assistant_id(&sim, dir.path());
    let out = fix_with_new_key(&sim, dir.path(), "us-east-1", &id, "alias/claims", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let report = scan_json(&sim, dir.path(), &["--usage"]);
    let g = guardrail(&report, "claims-assistant");
    assert_eq!(g["posture"]["id"], "customer-managed-key", "{g}");
    // Someone drops the users statement from the key policy.
    let (key, policy) = key_and_policy(&sim, "alias/claims").await;
    let mut doc: Value = serde_json::from_str(&policy).unwrap();
    doc["Statement"]
        .as_array_mut()
        .unwrap()
        .retain(|s| s["Sid"] != guardkey::fix::policy::USERS_SID);
    let cfg = sdk_config(&sim).await;
    kms(&cfg, "us-east-1")
        .put_key_policy()
        .key_id(&key)
        .policy_name("default")
        .policy(doc.to_string())
        .send()
        .await
        .unwrap();
    let role = as_role(&sim, CLAIMS_ROLE).await;
    assert!(
        role.probe_guardrail("us-east-1", &arn).await.is_err(),
        "the agent is locked out"
    );
    let out = guardkey(
        &sim,
        dir.path(),
        &["scan", "--regions", "us-east-1", "--usage", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1), "a FAIL: {}", said(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let g = guardrail(&report, "claims-assistant");
    assert_eq!(g["posture"]["level"], "FAIL", "{g}");
    assert_eq!(g["posture"]["id"], "key-locks-out-users", "{g}");
    assert!(
        g["posture"]["reason"]
            .as_str()
            .unwrap()
            .contains("agent claims-agent"),
        "{g}"
    );
    for (format, needle) in [
        ("csv", "key-locks-out-users"),
        ("sarif", "\"ruleId\": \"key-locks-out-users\""),
    ] {
        let out = guardkey(
            &sim,
            dir.path(),
            &["scan", "--regions", "us-east-1", "--usage", "--format", format],
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(needle), "{format}: {text}");
    }
    // Repaired: the guardrail stays on its key, the key policy names the agent again.
    let out = guardkey(
        &sim,
        dir.path(),
        &[
            "fix",
            "--regions",
            "us-east-1",
            "--guardrail",
            &id,
            "--key",
            "alias/claims",
            "--grant-users",
            "--yes",
        ],
    );
    let text = said(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("kms:PutKeyPolicy"), "{text}");
    assert!(text.contains("1 fixed"), "{text}");
    role.probe_guardrail("us-east-1", &arn)
        .await
        .expect("repaired: the agent decrypts again");
    let g = guardrail(&scan_json(&sim, dir.path(), &["--usage"]), "claims-assistant").clone();
    assert_eq!(g["posture"]["id"], "customer-managed-key", "{g}");
}

/// The key a guardrail is on, as Bedrock answers GetGuardrail through the Rust SDK.
async fn key_of(sim: &RunningSim, region: &str, arn: &str) -> Option<String> {
    let cfg = sdk_config(sim).await;
    let g = bedrock(&cfg, region)
        .get_guardrail()
        .guardrail_identifier(arn)
        .send()
        .await
        .unwrap();
    g.kms_key_arn().map(str::to_string)
}

fn journals_in(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("fix"))
        .collect()
}

/// The gate: a fix whose key would lock the claims agent out is refused (exit 2, nothing
/// written) with the ways out; `--allow-lockout` goes ahead, journaled; `--grant-users`
/// keeps the agent working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_key_that_would_lock_the_agent_out_is_refused_and_grant_users_fixes_it() {
    let sim = demo().await;
    let dir = tempfile::tempdir().unwrap();
    let (id, arn) = claims_assistant_id(&sim, dir.path());
    let fix = |extra: &[&str]| fix_with_shared_key(&sim, dir.path(), &id, extra);
    // The plan names the agent that would lose access, the statement to add, the ways out.
    let out = fix(&["--dry-run"]);
    let text = said(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("Held back"), "{text}");
    assert!(text.contains("✗ agent claims-agent"), "{text}");
    assert!(text.contains("would lose access"), "{text}");
    assert!(text.contains("--grant-users"), "{text}");
    assert!(text.contains("--allow-lockout"), "{text}");
    assert_names_the_claims_role(&text);

    // --yes alone changes nothing: the guardrail stays on the AWS-owned key.
    let (_, old_policy) = key_and_policy(&sim, "alias/bedrock-guardrails").await;
    let out = fix(&["--yes"]);
    assert_eq!(out.status.code(), Some(2), "{}", said(&out));
    assert!(said(&out).contains("nothing was changed"), "{}", said(&out));
    assert_eq!(key_of(&sim, "us-east-1", &arn).await, None);
    assert!(journals_in(dir.path()).is_empty(), "nothing applied, no journal");

    // Accepted explicitly, it moves, the journal and the summary say so, and the agent's
    // role is locked out: the simulator's check agrees with the prediction.
    let out = fix(&["--allow-lockout", "--yes"]);
    let text = said(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("Lock-out accepted"), "{text}");
    assert!(text.contains("LOST ACCESS"), "{text}");
    let role = as_role(&sim, CLAIMS_ROLE).await;
    match role.probe_guardrail("us-east-1", &arn).await {
        Err(CallError::AccessDenied { message, .. }) => assert!(message.contains("kms:Decrypt"), "{message}"),
        other => panic!("the role should be locked out: {other:?}"),
    }
    let journals = journals_in(dir.path());
    let recorded = std::fs::read_to_string(&journals[0]).unwrap();
    assert!(recorded.contains("lockout-accepted"), "{recorded}");
    let out = guardkey(&sim, dir.path(), &["restore", journals[0].to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));

    // With --grant-users the key policy names it (journaled), and the agent keeps working.
    let out = fix(&["--grant-users", "--yes"]);
    let text = said(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("kms:PutKeyPolicy"), "{text}");
    assert!(text.contains("✓ agent claims-agent"), "{text}");
    assert!(text.contains("1 user keeps access"), "{text}");
    role.probe_guardrail("us-east-1", &arn)
        .await
        .expect("granted: the agent's role decrypts");
    let journal = journals_in(dir.path())
        .into_iter()
        .find(|p| !journals.contains(p))
        .unwrap();
    let recorded = std::fs::read_to_string(&journal).unwrap();
    assert!(recorded.contains("key-policy-replaced"), "{recorded}");
    // Restore puts the guardrail and the key policy back as they were.
    let out = guardkey(&sim, dir.path(), &["restore", journal.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let (_, now_policy) = key_and_policy(&sim, "alias/bedrock-guardrails").await;
    let json = |s: &str| serde_json::from_str::<Value>(s).unwrap();
    assert_eq!(json(&now_policy), json(&old_policy));
}

/// With `--key`, a key policy guardkey cannot read, or a users statement it could not add,
/// is a warning with what to add, not a stop; `--grant-users` still refuses to write blind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_key_policy_is_a_warning_unless_users_are_to_be_granted() {
    let sim = demo().await;
    let dir = tempfile::tempdir().unwrap();
    let (id, _) = claims_assistant_id(&sim, dir.path());
    sim.sim
        .set_faults(|f| f.denials.push("kms:GetKeyPolicy".parse().unwrap()));
    let fix = |extra: &[&str]| fix_with_shared_key(&sim, dir.path(), &id, extra);
    let out = fix(&["--dry-run"]);
    let text = said(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("its policy cannot be read"), "{text}");
    assert!(text.contains("is not known"), "{text}");
    assert_names_the_claims_role(&text);
    let out = fix(&["--dry-run", "--grant-users"]);
    let text = said(&out);
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("--grant-users: the users statement cannot be added"),
        "{text}"
    );
}

/// A role whose permissions boundary lets only Bedrock through cannot decrypt with any key:
/// the plan says it would lose access (a key policy naming the role does not lift its
/// sessions' boundary), and the simulator, applying IAM's rules, agrees once it is applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permissions_boundary_is_a_lock_out_no_key_policy_lifts() {
    const ROLE: &str = "IncidentSummaries";
    let sim = demo().await;
    let dir = tempfile::tempdir().unwrap();
    let out = guardkey(
        &sim,
        dir.path(),
        &["scan", "--regions", "us-east-2", "--usage", "--format", "json"],
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", said(&out)));
    let g = guardrail(&report, "incident-summarizer");
    let (id, arn) = (
        g["id"].as_str().unwrap().to_string(),
        g["arn"].as_str().unwrap().to_string(),
    );
    let user = g["usage"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["principal"] == format!("arn:aws:iam::{ACCOUNT}:role/{ROLE}"))
        .unwrap_or_else(|| panic!("{g}"))
        .clone();
    assert_eq!(
        user["current_key"]["decrypt"], "allowed",
        "AWS-owned today: {user}"
    );
    assert_eq!(user["capped"]["decrypt"], "denied", "{user}");
    // The reports for people say it too (CSV's used_by, as the table and HTML).
    let out = guardkey(
        &sim,
        dir.path(),
        &["scan", "--regions", "us-east-2", "--usage", "--format", "csv"],
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("role IncidentSummaries (its permissions boundary lets no kms:Decrypt through)"),
        "{}",
        said(&out)
    );
    let role = as_role(&sim, ROLE).await;
    role.probe_guardrail("us-east-2", &arn)
        .await
        .expect("on the AWS-owned key, it works");
    // No key lifts the boundary: the fix is refused, nothing created, and the way out named.
    let out = fix_with_new_key(&sim, dir.path(), "us-east-2", &id, "alias/incidents", &[]);
    let text = said(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("would lose access: its permissions boundary"),
        "{text}"
    );
    assert!(text.contains("BedrockOnlyBoundary"), "{text}");
    assert!(
        text.contains("no key policy lifts a permissions boundary"),
        "{text}"
    );
    assert_eq!(key_of(&sim, "us-east-2", &arn).await, None);
    // Accepted explicitly, the prediction and the simulator's verdict agree.
    let out = fix_with_new_key(
        &sim,
        dir.path(),
        "us-east-2",
        &id,
        "alias/incidents",
        &["--allow-lockout"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    // The new key's policy names the role, and still the boundary keeps it out.
    let (_, policy) = key_and_policy_in(&sim, "us-east-2", "alias/incidents").await;
    assert!(policy.contains(&format!("role/{ROLE}")), "{policy}");
    match role.probe_guardrail("us-east-2", &arn).await {
        Err(CallError::AccessDenied { message, .. }) => assert!(message.contains("kms:Decrypt"), "{message}"),
        other => panic!("the boundary should keep the role out: {other:?}"),
    }
}
