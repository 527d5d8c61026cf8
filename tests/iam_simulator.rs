//! guardkey's own evaluation of kms:Decrypt against IAM's policy simulator
//! (SimulatePrincipalPolicy, served by the simulator with its own evaluator): a table of cases
//! (kms:ViaService, an explicit deny, a permissions boundary, an SCP deny, an SCP allow-list, a
//! key policy naming the role, a grant) on which the two agree, the combined answer included;
//! and a case where they are made to disagree (a policy changed after guardkey read it), which
//! is said per user and AWS's answer used.

mod common;

use common::*;
use guardkey::aws::Session;
use guardkey::usage::access::{DECRYPT, Scps, decide, with_iam_answer};
use guardkey::usage::{Access, KeyFacts, KeyGrant};
use serde_json::{Value, json};

const PROD: &str = "111122223333";
const NONPROD: &str = "444455556666";
const REGION: &str = "us-east-1";

/// A session of an administrator of `account` (the simulator's IAM calls are the account's).
async fn admin_of(sim: &guardkey::sim::RunningSim, account: &str) -> Session {
    let key_id = format!("AKIAADMIN{account}");
    sim.sim.add_principal(guardkey::sim::Principal {
        access_key_id: key_id.clone(),
        secret_access_key: "secret".into(),
        account: account.into(),
        arn: format!("arn:aws:iam::{account}:user/guardkey-admin"),
        user_id: format!("AIDA{account}"),
        identity_policy: None,
    });
    Session::with_static_keys(&sim.endpoint(), &key_id, "secret", true).await
}

fn kind(a: &Access) -> &'static str {
    match a {
        Access::Allowed { .. } => "allowed",
        Access::Denied { .. } => "denied",
        Access::Unknown { .. } => "unknown",
    }
}

struct Case {
    name: &'static str,
    account: &'static str,
    policy: Value,
    boundary: Option<Value>,
    /// The key policy names the role itself (else only the account-root statement).
    named: bool,
    /// A grant on the key lets the role Decrypt.
    grant: bool,
    /// One of the keys the Prod OU's SCP approves (else another key of the account).
    approved: bool,
    expect: &'static str,
}

fn decrypt_via_bedrock() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
        "Condition": {"StringLike": {"kms:ViaService": "bedrock.*.amazonaws.com"}}}]})
}

fn nothing() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
}

fn cases() -> Vec<Case> {
    let case = |name, account, policy, expect| Case {
        name,
        account,
        policy,
        boundary: None,
        named: false,
        grant: false,
        approved: true,
        expect,
    };
    vec![
        case("ViaServiceBedrock", PROD, decrypt_via_bedrock(), "allowed"),
        case(
            "ViaServiceS3Only",
            PROD,
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
                "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}}]}),
            "denied",
        ),
        case(
            "ExplicitDeny",
            PROD,
            json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "kms:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}]}),
            "denied",
        ),
        Case {
            boundary: Some(nothing()),
            ..case("BoundaryKeepsItOut", PROD, decrypt_via_bedrock(), "denied")
        },
        Case {
            boundary: Some(
                json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}),
            ),
            ..case("BoundaryLetsItThrough", PROD, decrypt_via_bedrock(), "allowed")
        },
        Case {
            approved: false,
            ..case("ScpDeniesThisKey", PROD, decrypt_via_bedrock(), "denied")
        },
        Case {
            approved: false,
            named: true,
            ..case("NamedButScpDenies", PROD, nothing(), "denied")
        },
        Case {
            named: true,
            ..case("NamedByTheKeyPolicy", PROD, nothing(), "allowed")
        },
        Case {
            grant: true,
            ..case("DecryptsThroughAGrant", PROD, nothing(), "allowed")
        },
        case(
            "ScpAllowListLeavesKmsOut",
            NONPROD,
            decrypt_via_bedrock(),
            "denied",
        ),
    ]
}

fn key_policy(account: &str, role: &str, named: bool) -> Value {
    let mut statements = vec![json!({"Sid": "EnableIAMUserPermissions", "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{account}:root")}, "Action": "kms:*", "Resource": "*"})];
    if named {
        statements.push(
            json!({"Sid": "AllowUsers", "Effect": "Allow", "Principal": {"AWS": role},
            "Action": "kms:Decrypt", "Resource": "*"}),
        );
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// The table: each role set up in the simulator's IAM, then guardkey's own evaluation (IAM
/// read with GetAccountAuthorizationDetails, SCPs by the management account) and IAM's
/// simulator asked, separately and combined.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guardkeys_evaluation_and_iam_simulator_agree_on_a_table_of_cases() {
    let sim = start_demo(20).await;
    let approved = sim.sim.with_world(|w| {
        // NonProd's account: an allow-list SCP instead of FullAWSAccess on the account itself.
        let org = w.organization.as_mut().unwrap();
        for p in &mut org.policies {
            if p.name == "FullAWSAccess" {
                p.detached.push(NONPROD.into());
            }
        }
        let s3_only = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": ["s3:*", "bedrock:*", "iam:*"], "Resource": "*"}]});
        org.add_policy(
            "p-allowlist01",
            "AllowS3AndBedrockOnly",
            &s3_only.to_string(),
            &[NONPROD],
        );
        for c in cases() {
            w.iam.add_role("aws", c.account, "/", c.name);
            w.iam.set_role_policy(c.account, c.name, c.policy.clone());
            if let Some(b) = &c.boundary {
                w.iam
                    .set_role_boundary(c.account, c.name, &format!("{}Boundary", c.name), b.clone());
            }
        }
        w.region(PROD, REGION)
            .unwrap()
            .keys
            .values()
            .map(|k| k.arn.clone())
            .next()
            .expect("prod has a key")
    });
    let management = Session::with_static_keys(
        &sim.endpoint(),
        guardkey::sim::SIM_ACCESS_KEY_ID,
        guardkey::sim::SIM_SECRET_ACCESS_KEY,
        true,
    )
    .await;
    for account in [PROD, NONPROD] {
        let member = admin_of(&sim, account).await;
        let mut iam = member.account_iam("aws", account).await.unwrap();
        let scps = management.account_scps("aws", account).await;
        assert!(matches!(scps, Scps::Read(_)), "{scps:?}");
        iam.set_scps(scps);
        let other_key = format!("arn:aws:kms:{REGION}:{account}:key/0b0b0b0b-0000-4000-8000-000000000000");
        for c in cases().into_iter().filter(|c| c.account == account) {
            let role = format!("arn:aws:iam::{account}:role/{}", c.name);
            let key = if c.approved && account == PROD {
                approved.clone()
            } else {
                other_key.clone()
            };
            let policy = key_policy(account, &role, c.named);
            let grants = if c.grant {
                vec![KeyGrant {
                    id: "grant-0123456789".into(),
                    grantee: role.clone(),
                    operations: vec!["Decrypt".into()],
                    constrained: false,
                }]
            } else {
                Vec::new()
            };
            let facts = KeyFacts {
                arn: &key,
                state: "Enabled",
                policy: Ok(&policy),
                grants: &grants,
            };
            let policies = iam.principals.iter().find(|p| p.arn == role).expect("listed");
            let own = decide(&facts, &role, Some(policies));
            let answers = member
                .simulate_key_use("aws", &role, REGION, DECRYPT, std::slice::from_ref(&key))
                .await
                .unwrap();
            assert_eq!(answers.len(), 1, "{}", c.name);
            let checked = with_iam_answer(own.clone(), &role, DECRYPT, Some(&answers[0].1));
            assert_eq!(kind(&own.0), c.expect, "{}: guardkey said {:?}", c.name, own.0);
            assert_eq!(
                kind(&checked.access),
                c.expect,
                "{}: with IAM's answer {:?}: {:?}",
                c.name,
                answers[0].1,
                checked.access
            );
            assert_eq!(checked.disagreement, None, "{}", c.name);
            // The simulator's own details, as IAM gives them.
            let answer = &answers[0].1;
            assert_eq!(
                answer.boundary_allows.is_some(),
                c.boundary.is_some(),
                "{}",
                c.name
            );
            assert!(
                answer.organizations_allow.is_some(),
                "{}: a member account",
                c.name
            );
        }
    }
}

/// A policy changed between guardkey's read and IAM's simulator: they disagree, AWS's answer
/// is used and the disagreement is said on the user (JSON carries it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disagreement_is_said_and_aws_answer_used() {
    let sim = start_demo(20).await;
    let session = Session::with_static_keys(
        &sim.endpoint(),
        guardkey::sim::SIM_ACCESS_KEY_ID,
        guardkey::sim::SIM_SECRET_ACCESS_KEY,
        true,
    )
    .await;
    let scan = guardkey::scan::collect(
        session.clone(),
        guardkey::scan::ScanOptions {
            regions: vec![REGION.into()],
            ..Default::default()
        },
        |_| {},
    )
    .await;
    let mut guardrails: Vec<_> = scan
        .guardrails
        .into_iter()
        .filter(|g| g.kms_key_arn.is_some())
        .collect();
    assert!(!guardrails.is_empty());
    let mut sources =
        guardkey::scan::usage::read_sources(&session, &session, "aws", DEMO_ACCOUNT, &guardrails).await;
    guardkey::scan::usage::attach(&sources, &mut guardrails);
    // A user that decrypts through its IAM policy now (the key policy defers to IAM).
    let (arn, principal) = guardrails
        .iter()
        .find_map(|g| {
            let u = g.usage.as_ref()?.users.iter().find(|u| {
                matches!(&u.current_key, Access::Allowed { how } if how.contains("IAM policy allows"))
                    && u.principal.contains(":role/")
            })?;
            Some((g.arn.clone(), u.principal.clone()))
        })
        .expect("a user allowed through IAM");
    let role = principal.rsplit('/').next().unwrap().to_string();
    // Its policy changes after the read: an explicit deny of kms:Decrypt.
    sim.sim.with_world(|w| {
        let mut policy = w.iam.role_policy(DEMO_ACCOUNT, &role).cloned().unwrap();
        policy["Statement"]
            .as_array_mut()
            .unwrap()
            .push(json!({"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}));
        w.iam.set_role_policy(DEMO_ACCOUNT, &role, policy);
    });
    sources.iam_answers = guardkey::scan::usage::ask_iam_simulator(&session, &sources, &guardrails).await;
    assert!(!sources.iam_answers.is_empty());
    guardkey::scan::usage::attach(&sources, &mut guardrails);
    let g = guardrails.iter().find(|g| g.arn == arn).unwrap();
    let user = g
        .usage
        .as_ref()
        .unwrap()
        .users
        .iter()
        .find(|u| u.principal == principal)
        .unwrap();
    match &user.current_key {
        Access::Denied { why } => assert!(why.contains("IAM's policy simulator: explicitDeny"), "{why}"),
        other => panic!("AWS's answer is used: {other:?}"),
    }
    let said = user.disagreement.as_deref().expect("the disagreement is said");
    assert!(said.contains("guardkey's own evaluation said allowed"), "{said}");
    let json = serde_json::to_value(user).unwrap();
    assert_eq!(json["current_key"]["decrypt"], "denied");
    assert!(json["disagreement"].as_str().unwrap().contains("own evaluation"));
    // Where they agree, nothing is said.
    assert!(
        guardrails
            .iter()
            .flat_map(|g| g.usage.iter().flat_map(|u| u.users.iter()))
            .filter(|u| u.principal != principal)
            .all(|u| u.disagreement.is_none())
    );
}
