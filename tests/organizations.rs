//! The simulator's organization through the real SDK: Organizations lists the demo's
//! accounts (paged, by OU), STS AssumeRole reaches the ones whose role trusts the
//! management account and refuses the others with AWS's error, and the temporary
//! credentials work only with their session token and until they expire.

mod common;

use common::*;
use guardkey::aws::Session;
use guardkey::model::CallError;
use guardkey::scan::{ScanOptions, collect};
use guardkey::sim::{Seed, SimConfig};

async fn demo() -> (guardkey::sim::RunningSim, Session) {
    let sim = start(SimConfig {
        seed: Seed::Demo,
        ..SimConfig::default()
    })
    .await;
    let session = Session::from_sdk_config(sdk_config(&sim).await, true);
    (sim, session)
}

fn role(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:role/{name}")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_organization_lists_its_accounts_whole_and_by_ou() {
    let (sim, session) = demo().await;
    let all = session.org_accounts("aws", None).await.unwrap();
    let ids: Vec<&str> = all.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "123456789012",
            "111122223333",
            "444455556666",
            "777788889999",
            "135792468024",
            "246813579135"
        ]
    );
    assert_eq!(all[4].status, "SUSPENDED");
    let workloads = sim.sim.with_world(|w| {
        let org = w.organization.as_ref().unwrap();
        org.ous.iter().find(|o| o.name == "Workloads").unwrap().id.clone()
    });
    // The OU and the OUs beneath it (Prod, NonProd).
    let mut under: Vec<String> = session
        .org_accounts("aws", Some(&workloads))
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    under.sort();
    assert_eq!(under, ["prod", "staging"]);
    let err = session
        .org_accounts("aws", Some("ou-nope-00000000"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CallError::Other { code, .. } if code == "ParentNotFoundException"),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn assumed_roles_reach_their_accounts_and_the_others_are_refused() {
    let (sim, session) = demo().await;
    let prod = session
        .assume(&role("111122223333", "OrganizationAccountAccessRole"), "guardkey")
        .await
        .unwrap();
    let who = prod.caller_identity().await.unwrap();
    assert_eq!(who.account, "111122223333");
    assert_eq!(
        who.arn,
        "arn:aws:sts::111122223333:assumed-role/OrganizationAccountAccessRole/guardkey"
    );
    let result = collect(
        prod,
        ScanOptions {
            regions: vec!["us-east-1".into(), "eu-west-1".into()],
            ..ScanOptions::default()
        },
        |_| {},
    )
    .await;
    assert_eq!(result.guardrails.len(), 10, "prod's own guardrails");
    assert!(result.guardrails.iter().all(|g| &*g.account == "111122223333"));
    // The role was assumed once: the check's credentials sign the account's calls.
    assert_eq!(sim.sim.calls().get("sts:AssumeRole"), Some(&1));

    // The audit role is bound by the scan policy: reads work, writes are denied.
    let audit = session
        .assume(&role("444455556666", "GuardkeyAudit"), "guardkey-audit")
        .await
        .unwrap();
    let seen = collect(
        audit,
        ScanOptions {
            regions: vec!["us-east-1".into()],
            ..ScanOptions::default()
        },
        |_| {},
    )
    .await;
    assert_eq!(seen.guardrails.len(), 4);
    assert!(seen.regions.iter().all(|r| r.error.is_none()));

    // No role in the invited account, a suspended account, a role that does not exist.
    for (account, name) in [
        ("246813579135", "OrganizationAccountAccessRole"),
        ("135792468024", "OrganizationAccountAccessRole"),
        ("111122223333", "NoSuchRole"),
    ] {
        let err = session
            .assume(&role(account, name), "guardkey")
            .await
            .unwrap_err();
        match err {
            CallError::AccessDenied { action, message } => {
                assert_eq!(action.as_deref(), Some("sts:AssumeRole"));
                assert!(message.contains(&role(account, name)), "{message}");
            }
            other => panic!("{account}: {other:?}"),
        }
    }
    let err = session
        .assume(&role("111122223333", "OrganizationAccountAccessRole"), "a b")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CallError::Other { code, .. } if code == "ValidationError"),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn temporary_credentials_need_their_token_and_expire() {
    let (sim, _) = demo().await;
    let cfg = sdk_config(&sim).await;
    let out = sts(&cfg)
        .assume_role()
        .role_arn(role("111122223333", "OrganizationAccountAccessRole"))
        .role_session_name("probe")
        .send()
        .await
        .unwrap();
    let c = out.credentials().unwrap();
    assert!(c.access_key_id().starts_with("ASIA"));
    let with = |token: Option<&str>| {
        let key = c.access_key_id().to_string();
        let secret = c.secret_access_key().to_string();
        let token = token.map(str::to_string);
        let endpoint = sim.endpoint();
        async move {
            let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .endpoint_url(endpoint)
                .region(aws_config::Region::new("us-east-1"))
                .credentials_provider(aws_sdk_bedrock::config::Credentials::new(
                    key, secret, token, None, "test",
                ))
                .load()
                .await;
            sts(&conf).get_caller_identity().send().await
        }
    };
    let ok = with(Some(c.session_token())).await.unwrap();
    assert_eq!(ok.account(), Some("111122223333"));
    let no_token = with(None).await.unwrap_err();
    assert_eq!(code(&no_token), "InvalidClientTokenId");
    sim.sim.expire_sessions();
    let expired = with(Some(c.session_token())).await.unwrap_err();
    assert_eq!(code(&expired), "ExpiredToken");
}
