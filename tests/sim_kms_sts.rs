//! The simulator's KMS and STS, driven by the real aws-sdk-kms and aws-sdk-sts clients.

mod common;

use aws_sdk_kms::types::{KeyManagerType, KeyState, Tag};
use common::*;

fn policy_for(principal: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "admin", "Effect": "Allow", "Principal": {"AWS": principal}, "Action": "kms:*", "Resource": "*"}]
    })
    .to_string()
}

#[tokio::test]
async fn key_lifecycle() {
    let sim = start_empty().await;
    let cfg = sdk_config(&sim).await;
    let kms = kms(&cfg, "eu-west-1");
    let created = kms
        .create_key()
        .description("Bedrock guardrails")
        .policy(policy_for("arn:aws:iam::123456789012:root"))
        .tags(
            Tag::builder()
                .tag_key("managed-by")
                .tag_value("guardkey")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    let key_id = created.key_id().to_string();
    assert!(uuid::Uuid::parse_str(&key_id).is_ok(), "{key_id}");
    assert_eq!(
        created.arn(),
        Some(format!("arn:aws:kms:eu-west-1:123456789012:key/{key_id}").as_str())
    );
    assert_eq!(created.key_manager(), Some(&KeyManagerType::Customer));
    assert_eq!(created.key_state(), Some(&KeyState::Enabled));
    assert!(created.creation_date().is_some());

    // Rotation, with a period.
    let status = kms
        .get_key_rotation_status()
        .key_id(&key_id)
        .send()
        .await
        .unwrap();
    assert!(!status.key_rotation_enabled());
    kms.enable_key_rotation()
        .key_id(&key_id)
        .rotation_period_in_days(180)
        .send()
        .await
        .unwrap();
    let status = kms
        .get_key_rotation_status()
        .key_id(&key_id)
        .send()
        .await
        .unwrap();
    assert!(status.key_rotation_enabled());
    assert_eq!(status.rotation_period_in_days(), Some(180));
    let too_short = kms
        .enable_key_rotation()
        .key_id(&key_id)
        .rotation_period_in_days(30)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&too_short), "ValidationException");
    kms.disable_key_rotation().key_id(&key_id).send().await.unwrap();
    assert!(
        !kms.get_key_rotation_status()
            .key_id(&key_id)
            .send()
            .await
            .unwrap()
            .key_rotation_enabled()
    );

    // Policy: read back; a policy that would lock the caller out is refused.
    let policy = kms.get_key_policy().key_id(&key_id).send().await.unwrap();
    assert_eq!(policy.policy_name(), Some("default"));
    assert!(policy.policy().unwrap().contains(":root"));
    let lockout = kms
        .put_key_policy()
        .key_id(&key_id)
        .policy(policy_for("arn:aws:iam::123456789012:role/someone-else"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&lockout), "MalformedPolicyDocumentException");
    let not_json = kms
        .put_key_policy()
        .key_id(&key_id)
        .policy("{not json")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&not_json), "MalformedPolicyDocumentException");
    kms.put_key_policy()
        .key_id(&key_id)
        .policy(policy_for("arn:aws:iam::123456789012:user/guardkey-admin"))
        .send()
        .await
        .unwrap();

    // Disable, enable, schedule deletion, cancel it.
    kms.disable_key().key_id(&key_id).send().await.unwrap();
    let d = kms
        .describe_key()
        .key_id(&key_id)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(d.key_state(), Some(&KeyState::Disabled));
    assert!(!d.enabled());
    let rotate_disabled = kms
        .enable_key_rotation()
        .key_id(&key_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&rotate_disabled), "DisabledException");
    kms.enable_key().key_id(&key_id).send().await.unwrap();
    let scheduled = kms
        .schedule_key_deletion()
        .key_id(&key_id)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    assert_eq!(scheduled.key_state(), Some(&KeyState::PendingDeletion));
    assert!(scheduled.deletion_date().is_some());
    let d = kms
        .describe_key()
        .key_id(&key_id)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(d.key_state(), Some(&KeyState::PendingDeletion));
    assert!(d.deletion_date().is_some());
    let enable_pending = kms.enable_key().key_id(&key_id).send().await.unwrap_err();
    assert_eq!(code(&enable_pending), "KMSInvalidStateException");
    kms.cancel_key_deletion().key_id(&key_id).send().await.unwrap();
    let d = kms
        .describe_key()
        .key_id(&key_id)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(
        d.key_state(),
        Some(&KeyState::Disabled),
        "a cancelled deletion leaves the key disabled"
    );

    // Tags.
    kms.tag_resource()
        .key_id(&key_id)
        .tags(
            Tag::builder()
                .tag_key("team")
                .tag_value("secops")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let tags = kms.list_resource_tags().key_id(&key_id).send().await.unwrap();
    let pairs: Vec<(&str, &str)> = tags.tags().iter().map(|t| (t.tag_key(), t.tag_value())).collect();
    assert_eq!(pairs, [("managed-by", "guardkey"), ("team", "secops")]);
}

#[tokio::test]
async fn aliases() {
    let sim = start_empty().await;
    let cfg = sdk_config(&sim).await;
    let kms = kms(&cfg, "us-east-1");
    let a = kms.create_key().send().await.unwrap().key_metadata.unwrap();
    let b = kms.create_key().send().await.unwrap().key_metadata.unwrap();
    kms.create_alias()
        .alias_name("alias/bedrock-guardrails")
        .target_key_id(a.key_id())
        .send()
        .await
        .unwrap();

    let dup = kms
        .create_alias()
        .alias_name("alias/bedrock-guardrails")
        .target_key_id(b.key_id())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&dup), "AlreadyExistsException");
    let reserved = kms
        .create_alias()
        .alias_name("alias/aws/mine")
        .target_key_id(b.key_id())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&reserved), "InvalidAliasNameException");
    let no_prefix = kms
        .create_alias()
        .alias_name("bedrock")
        .target_key_id(b.key_id())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&no_prefix), "InvalidAliasNameException");
    let bad_chars = kms
        .create_alias()
        .alias_name("alias/has space")
        .target_key_id(b.key_id())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&bad_chars), "ValidationException");
    let no_key = kms
        .create_alias()
        .alias_name("alias/x")
        .target_key_id("11111111-2222-3333-4444-555555555555")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&no_key), "NotFoundException");

    // DescribeKey resolves alias names and alias ARNs.
    for ident in [
        "alias/bedrock-guardrails",
        "arn:aws:kms:us-east-1:123456789012:alias/bedrock-guardrails",
    ] {
        let d = kms
            .describe_key()
            .key_id(ident)
            .send()
            .await
            .unwrap()
            .key_metadata
            .unwrap();
        assert_eq!(d.key_id(), a.key_id(), "{ident}");
    }
    let by_key = kms.list_aliases().key_id(a.key_id()).send().await.unwrap();
    assert_eq!(by_key.aliases().len(), 1);
    assert_eq!(
        by_key.aliases()[0].alias_arn(),
        Some("arn:aws:kms:us-east-1:123456789012:alias/bedrock-guardrails")
    );

    kms.update_alias()
        .alias_name("alias/bedrock-guardrails")
        .target_key_id(b.key_id())
        .send()
        .await
        .unwrap();
    let d = kms
        .describe_key()
        .key_id("alias/bedrock-guardrails")
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(d.key_id(), b.key_id());
    kms.delete_alias()
        .alias_name("alias/bedrock-guardrails")
        .send()
        .await
        .unwrap();
    let gone = kms
        .describe_key()
        .key_id("alias/bedrock-guardrails")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&gone), "NotFoundException");
    let gone_again = kms
        .delete_alias()
        .alias_name("alias/bedrock-guardrails")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&gone_again), "NotFoundException");
}

#[tokio::test]
async fn list_keys_pages_and_regions_are_isolated() {
    let sim = start_empty().await;
    let cfg = sdk_config(&sim).await;
    let kms_use1 = kms(&cfg, "us-east-1");
    for _ in 0..5 {
        kms_use1.create_key().send().await.unwrap();
    }
    let page = kms_use1.list_keys().limit(2).send().await.unwrap();
    assert_eq!(page.keys().len(), 2);
    assert!(page.truncated());
    let all: Vec<_> = kms_use1
        .list_keys()
        .limit(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(all.len(), 5);
    let bad = kms_use1.list_keys().marker("nope").send().await.unwrap_err();
    assert_eq!(code(&bad), "InvalidMarkerException");
    let kms_euw1 = kms(&cfg, "eu-west-1");
    assert!(kms_euw1.list_keys().send().await.unwrap().keys().is_empty());
    let other = all[0].as_ref().unwrap().key_id().unwrap().to_string();
    let err = kms_euw1.describe_key().key_id(&other).send().await.unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
}

#[tokio::test]
async fn aws_managed_keys_cannot_be_changed() {
    let sim = start(guardkey::sim::SimConfig {
        seed: guardkey::sim::Seed::Demo,
        ..Default::default()
    })
    .await;
    let cfg = sdk_config(&sim).await;
    let kms = kms(&cfg, "us-east-1");
    let d = kms
        .describe_key()
        .key_id("alias/aws/bedrock")
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(d.key_manager(), Some(&KeyManagerType::Aws));
    let rotation = kms
        .get_key_rotation_status()
        .key_id(d.key_id())
        .send()
        .await
        .unwrap();
    assert!(rotation.key_rotation_enabled(), "AWS managed keys always rotate");
    let err = kms.disable_key().key_id(d.key_id()).send().await.unwrap_err();
    assert_eq!(code(&err), "UnsupportedOperationException");
}

#[tokio::test]
async fn sts_says_who_calls() {
    let sim = start_empty().await;
    let cfg = sdk_config(&sim).await;
    let who = sts(&cfg).get_caller_identity().send().await.unwrap();
    assert_eq!(who.account(), Some("123456789012"));
    assert_eq!(who.arn(), Some("arn:aws:iam::123456789012:user/guardkey-admin"));

    let custom = guardkey::sim::Principal {
        access_key_id: "AKIAAUDITOR000000001".into(),
        secret_access_key: "auditor-secret".into(),
        account: "111122223333".into(),
        arn: "arn:aws:sts::111122223333:assumed-role/SecurityAudit/alice".into(),
        user_id: "AROAAUDITOR:alice".into(),
        identity_policy: None,
    };
    sim.sim.add_principal(custom.clone());
    let cfg = sdk_config_with(
        &sim,
        &custom.access_key_id,
        &custom.secret_access_key,
        aws_config::retry::RetryConfig::standard(),
    )
    .await;
    let who = sts(&cfg).get_caller_identity().send().await.unwrap();
    assert_eq!(who.arn(), Some(custom.arn.as_str()));
    // The principal's own account: it sees none of the default account's keys.
    let kms_other = kms(&cfg, "us-east-1");
    assert!(kms_other.list_keys().send().await.unwrap().keys().is_empty());

    let cfg = sdk_config_with(
        &sim,
        "AKIAUNKNOWN000000000",
        "x",
        aws_config::retry::RetryConfig::standard(),
    )
    .await;
    // STS names an unknown key InvalidClientTokenId; the JSON services UnrecognizedClientException.
    let err = sts(&cfg).get_caller_identity().send().await.unwrap_err();
    assert_eq!(code(&err), "InvalidClientTokenId");
    assert_eq!(
        message(&err),
        "The security token included in the request is invalid."
    );
    let err = kms(&cfg, "us-east-1").list_keys().send().await.unwrap_err();
    assert_eq!(code(&err), "UnrecognizedClientException");
}
