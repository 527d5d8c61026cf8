//! The simulator's Bedrock guardrail API, driven by the real aws-sdk-bedrock client.
//!
//! (Long: each test is one guardrail operation's contract, through the real SDK.)

mod common;

use std::time::Duration;

use aws_sdk_bedrock::types::{
    GuardrailContentFilterConfig, GuardrailContentFilterType, GuardrailContentPolicyConfig,
    GuardrailFilterStrength, GuardrailRegexConfig, GuardrailSensitiveInformationAction,
    GuardrailSensitiveInformationPolicyConfig, GuardrailStatus, GuardrailTopicConfig,
    GuardrailTopicPolicyConfig, GuardrailTopicType, GuardrailWordConfig, GuardrailWordPolicyConfig, Tag,
};
use common::*;

fn content_policy() -> GuardrailContentPolicyConfig {
    GuardrailContentPolicyConfig::builder()
        .filters_config(
            GuardrailContentFilterConfig::builder()
                .r#type(GuardrailContentFilterType::Hate)
                .input_strength(GuardrailFilterStrength::High)
                .output_strength(GuardrailFilterStrength::Medium)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap()
}

fn topic_policy() -> GuardrailTopicPolicyConfig {
    GuardrailTopicPolicyConfig::builder()
        .topics_config(
            GuardrailTopicConfig::builder()
                .name("Investment advice")
                .definition("Advice about investments.")
                .examples("Should I buy ACME?")
                .r#type(GuardrailTopicType::Deny)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap()
}

fn word_policy() -> GuardrailWordPolicyConfig {
    GuardrailWordPolicyConfig::builder()
        .words_config(
            GuardrailWordConfig::builder()
                .text("nightingale")
                .build()
                .unwrap(),
        )
        .build()
}

async fn create(client: &aws_sdk_bedrock::Client, name: &str) -> (String, String) {
    let out = client
        .create_guardrail()
        .name(name)
        .blocked_input_messaging("blocked in")
        .blocked_outputs_messaging("blocked out")
        .content_policy_config(content_policy())
        .topic_policy_config(topic_policy())
        .word_policy_config(word_policy())
        .send()
        .await
        .expect("create");
    (out.guardrail_id().to_string(), out.guardrail_arn().to_string())
}

async fn wait_ready(client: &aws_sdk_bedrock::Client, id: &str) {
    for _ in 0..100 {
        let g = client
            .get_guardrail()
            .guardrail_identifier(id)
            .send()
            .await
            .unwrap();
        if g.status() == &GuardrailStatus::Ready {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{id} never became READY");
}

#[tokio::test]
async fn create_then_get_reads_the_config_back_in_response_shapes() {
    let sim = start_empty().await;
    let cfg = sdk_config(&sim).await;
    let client = bedrock(&cfg, "us-east-1");
    let (id, arn) = create(&client, "support-bot").await;
    assert!(
        id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
        "{id}"
    );
    assert_eq!(
        arn,
        format!("arn:aws:bedrock:us-east-1:123456789012:guardrail/{id}")
    );

    let g = client
        .get_guardrail()
        .guardrail_identifier(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        g.status(),
        &GuardrailStatus::Creating,
        "a new guardrail is CREATING first"
    );
    assert_eq!(g.version(), "DRAFT");
    assert!(g.kms_key_arn().is_none(), "no key given: the AWS-owned key");
    let filters = g.content_policy().unwrap().filters();
    assert_eq!(filters[0].r#type(), &GuardrailContentFilterType::Hate);
    assert_eq!(filters[0].output_strength(), &GuardrailFilterStrength::Medium);
    assert_eq!(
        g.topic_policy().unwrap().topics()[0].examples(),
        ["Should I buy ACME?"]
    );
    assert_eq!(g.word_policy().unwrap().words()[0].text(), "nightingale");
    wait_ready(&client, &id).await;

    // The ARN is accepted wherever the id is.
    let by_arn = client
        .get_guardrail()
        .guardrail_identifier(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(by_arn.guardrail_id(), id);
}

#[tokio::test]
async fn update_replaces_the_whole_draft() {
    let sim = start_empty().await;
    let cfg = sdk_config(&sim).await;
    let client = bedrock(&cfg, "us-east-1");
    let kms = kms(&cfg, "us-east-1");
    let key = kms.create_key().send().await.unwrap().key_metadata.unwrap();
    let (id, _) = create(&client, "replace-me").await;
    wait_ready(&client, &id).await;

    // Only the content policy and the key are sent: topics and words are gone afterwards.
    let out = client
        .update_guardrail()
        .guardrail_identifier(&id)
        .name("replace-me")
        .blocked_input_messaging("in")
        .blocked_outputs_messaging("out")
        .content_policy_config(content_policy())
        .kms_key_id(key.key_id())
        .send()
        .await
        .unwrap();
    assert_eq!(out.version(), "DRAFT");
    let g = client
        .get_guardrail()
        .guardrail_identifier(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(g.status(), &GuardrailStatus::Updating);
    assert!(g.topic_policy().is_none(), "a policy left out is gone");
    assert!(g.word_policy().is_none());
    assert_eq!(
        g.kms_key_arn(),
        key.arn(),
        "the key id is read back as the key ARN"
    );

    // Another update while UPDATING is refused.
    let busy = client
        .update_guardrail()
        .guardrail_identifier(&id)
        .name("replace-me")
        .blocked_input_messaging("in")
        .blocked_outputs_messaging("out")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&busy), "ConflictException");

    wait_ready(&client, &id).await;
    client
        .update_guardrail()
        .guardrail_identifier(&id)
        .name("replace-me")
        .blocked_input_messaging("in")
        .blocked_outputs_messaging("out")
        .send()
        .await
        .unwrap();
    let g = client
        .get_guardrail()
        .guardrail_identifier(&id)
        .send()
        .await
        .unwrap();
    assert!(
        g.kms_key_arn().is_none(),
        "a left-out kmsKeyId means the AWS-owned key"
    );
    assert!(g.content_policy().is_none());
}

#[tokio::test]
async fn kms_key_id_takes_every_form_and_is_checked() {
    let sim = start_empty().await;
    let cfg = sdk_config(&sim).await;
    let client = bedrock(&cfg, "us-east-1");
    let kms_use1 = kms(&cfg, "us-east-1");
    let key = kms_use1.create_key().send().await.unwrap().key_metadata.unwrap();
    kms_use1
        .create_alias()
        .alias_name("alias/guardrails")
        .target_key_id(key.key_id())
        .send()
        .await
        .unwrap();
    let (id, _) = create(&client, "keyed").await;

    let alias_arn = "arn:aws:kms:us-east-1:123456789012:alias/guardrails".to_string();
    for form in [
        key.key_id().to_string(),
        key.arn().unwrap().to_string(),
        "alias/guardrails".into(),
        alias_arn,
    ] {
        wait_ready(&client, &id).await;
        client
            .update_guardrail()
            .guardrail_identifier(&id)
            .name("keyed")
            .blocked_input_messaging("in")
            .blocked_outputs_messaging("out")
            .kms_key_id(&form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{form}: {e:?}"));
        let g = client
            .get_guardrail()
            .guardrail_identifier(&id)
            .send()
            .await
            .unwrap();
        assert_eq!(g.kms_key_arn(), key.arn(), "{form}");
    }

    let disabled = kms_use1.create_key().send().await.unwrap().key_metadata.unwrap();
    kms_use1
        .disable_key()
        .key_id(disabled.key_id())
        .send()
        .await
        .unwrap();
    let asymmetric = kms_use1
        .create_key()
        .key_spec(aws_sdk_kms::types::KeySpec::Rsa2048)
        .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    let other_region = kms(&cfg, "eu-west-1")
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    for (bad, why) in [
        (disabled.key_id().to_string(), "Disabled"),
        (asymmetric.key_id().to_string(), "not a symmetric encryption key"),
        (other_region.arn().unwrap().to_string(), "region us-east-1"),
        ("alias/nope".to_string(), "does not exist"),
        (
            "11111111-2222-3333-4444-555555555555".to_string(),
            "does not exist",
        ),
    ] {
        wait_ready(&client, &id).await;
        let err = client
            .update_guardrail()
            .guardrail_identifier(&id)
            .name("keyed")
            .blocked_input_messaging("in")
            .blocked_outputs_messaging("out")
            .kms_key_id(&bad)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&err), "ValidationException", "{bad}");
        assert!(message(&err).contains(why), "{bad}: {}", message(&err));
    }
}

#[tokio::test]
async fn versions_are_immutable_snapshots_with_their_own_key() {
    let sim = start_empty().await;
    let cfg = sdk_config(&sim).await;
    let client = bedrock(&cfg, "us-east-1");
    let key = kms(&cfg, "us-east-1")
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    let (id, _) = create(&client, "versioned").await;
    wait_ready(&client, &id).await;
    let v1 = client
        .create_guardrail_version()
        .guardrail_identifier(&id)
        .description("first")
        .send()
        .await
        .unwrap();
    assert_eq!(v1.version(), "1");
    wait_ready(&client, &id).await;
    client
        .update_guardrail()
        .guardrail_identifier(&id)
        .name("versioned")
        .blocked_input_messaging("in")
        .blocked_outputs_messaging("out")
        .kms_key_id(key.key_id())
        .send()
        .await
        .unwrap();
    wait_ready(&client, &id).await;
    let v2 = client
        .create_guardrail_version()
        .guardrail_identifier(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(v2.version(), "2");

    let got1 = client
        .get_guardrail()
        .guardrail_identifier(&id)
        .guardrail_version("1")
        .send()
        .await
        .unwrap();
    assert!(got1.kms_key_arn().is_none(), "version 1 keeps the AWS-owned key");
    assert!(got1.topic_policy().is_some(), "version 1 keeps its policies");
    assert_eq!(got1.description(), Some("first"));
    let got2 = client
        .get_guardrail()
        .guardrail_identifier(&id)
        .guardrail_version("2")
        .send()
        .await
        .unwrap();
    assert_eq!(got2.kms_key_arn(), key.arn());

    let versions = client
        .list_guardrails()
        .guardrail_identifier(&id)
        .send()
        .await
        .unwrap();
    let listed: Vec<&str> = versions.guardrails().iter().map(|g| g.version()).collect();
    assert_eq!(listed, ["DRAFT", "1", "2"]);

    client
        .delete_guardrail()
        .guardrail_identifier(&id)
        .guardrail_version("1")
        .send()
        .await
        .unwrap();
    let gone = client
        .get_guardrail()
        .guardrail_identifier(&id)
        .guardrail_version("1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&gone), "ResourceNotFoundException");
    client
        .delete_guardrail()
        .guardrail_identifier(&id)
        .send()
        .await
        .unwrap();
    let gone = client
        .get_guardrail()
        .guardrail_identifier(&id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&gone), "ResourceNotFoundException");
}

#[tokio::test]
async fn list_pages_with_max_results_and_next_token() {
    let sim = start_empty().await;
    let cfg = sdk_config(&sim).await;
    let client = bedrock(&cfg, "us-east-1");
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(create(&client, &format!("paged-{i}")).await.0);
    }
    let first = client.list_guardrails().max_results(3).send().await.unwrap();
    assert_eq!(first.guardrails().len(), 3);
    assert!(first.next_token().is_some());

    let pages: Vec<_> = client
        .list_guardrails()
        .max_results(3)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(pages.len(), 3);
    let mut ids: Vec<String> = pages
        .into_iter()
        .flat_map(|p| {
            p.unwrap()
                .guardrails()
                .iter()
                .map(|g| g.id().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    ids.sort();
    created.sort();
    assert_eq!(ids, created, "every guardrail once, none twice");

    let bad = client
        .list_guardrails()
        .next_token("bm90LWEtdG9rZW4")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&bad), "ValidationException");
    let too_many = client
        .list_guardrails()
        .max_results(1001)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&too_many), "ValidationException");
    assert!(
        message(&too_many).contains("'maxResults'"),
        "{}",
        message(&too_many)
    );
}

#[tokio::test]
async fn regions_and_accounts_are_isolated() {
    let sim = start_empty().await;
    let cfg = sdk_config(&sim).await;
    let use1 = bedrock(&cfg, "us-east-1");
    let euw1 = bedrock(&cfg, "eu-west-1");
    let (id, arn) = create(&use1, "only-in-virginia").await;
    assert!(
        euw1.list_guardrails()
            .send()
            .await
            .unwrap()
            .guardrails()
            .is_empty()
    );
    for ident in [&id, &arn] {
        let err = euw1
            .get_guardrail()
            .guardrail_identifier(ident)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&err), "ResourceNotFoundException", "{ident}");
    }
    // The same name may exist in another region, not twice in one.
    create(&euw1, "only-in-virginia").await;
    let dup = use1
        .create_guardrail()
        .name("only-in-virginia")
        .blocked_input_messaging("a")
        .blocked_outputs_messaging("b")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&dup), "ConflictException");
}

#[tokio::test]
async fn requests_are_validated_against_the_model() {
    let sim = start_empty().await;
    let cfg = sdk_config(&sim).await;
    let client = bedrock(&cfg, "us-east-1");
    let bad_name = client
        .create_guardrail()
        .name("spaces are not allowed")
        .blocked_input_messaging("a")
        .blocked_outputs_messaging("b")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&bad_name), "ValidationException");
    assert!(
        message(&bad_name).contains("at 'name' failed to satisfy constraint"),
        "{}",
        message(&bad_name)
    );

    let mut sensitive = GuardrailSensitiveInformationPolicyConfig::builder();
    for i in 0..31 {
        sensitive = sensitive.regexes_config(
            GuardrailRegexConfig::builder()
                .name(format!("r{i}"))
                .pattern("[0-9]+")
                .action(GuardrailSensitiveInformationAction::Block)
                .build()
                .unwrap(),
        );
    }
    let too_many = client
        .create_guardrail()
        .name("regexes")
        .blocked_input_messaging("a")
        .blocked_outputs_messaging("b")
        .sensitive_information_policy_config(sensitive.build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&too_many), "ValidationException");
    assert!(
        message(&too_many).contains("'sensitiveInformationPolicyConfig.regexesConfig' failed to satisfy constraint: Member must have length less than or equal to 30"),
        "{}",
        message(&too_many)
    );

    // The STANDARD tier needs a cross-Region profile.
    let standard = client
        .create_guardrail()
        .name("standard")
        .blocked_input_messaging("a")
        .blocked_outputs_messaging("b")
        .topic_policy_config(
            GuardrailTopicPolicyConfig::builder()
                .topics_config(topic_policy().topics_config()[0].clone())
                .tier_config(
                    aws_sdk_bedrock::types::GuardrailTopicsTierConfig::builder()
                        .tier_name(aws_sdk_bedrock::types::GuardrailTopicsTierName::Standard)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&standard), "ValidationException");
}

#[tokio::test]
async fn tags_are_added_listed_and_removed() {
    let sim = start_empty().await;
    let cfg = sdk_config(&sim).await;
    let client = bedrock(&cfg, "us-east-1");
    let (_, arn) = create(&client, "tagged").await;
    client
        .tag_resource()
        .resource_arn(&arn)
        .tags(Tag::builder().key("team").value("secops").build().unwrap())
        .tags(Tag::builder().key("env").value("prod").build().unwrap())
        .send()
        .await
        .unwrap();
    client
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("env")
        .send()
        .await
        .unwrap();
    let tags = client
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    let pairs: Vec<(&str, &str)> = tags.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(pairs, [("team", "secops")]);
    let missing = client
        .list_tags_for_resource()
        .resource_arn("arn:aws:bedrock:us-east-1:123456789012:guardrail/doesnotexist")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&missing), "ResourceNotFoundException");
}

#[tokio::test]
async fn the_demo_estate_is_served() {
    let sim = start(guardkey::sim::SimConfig {
        seed: guardkey::sim::Seed::Demo,
        ..Default::default()
    })
    .await;
    let cfg = sdk_config(&sim).await;
    let client = bedrock(&cfg, "us-east-1");
    let all: Vec<_> = client
        .list_guardrails()
        .into_paginator()
        .items()
        .send()
        .collect::<Vec<_>>()
        .await;
    assert!(all.len() > 20, "{}", all.len());
    let mut with_key = 0;
    for s in all {
        let s = s.unwrap();
        let g = client
            .get_guardrail()
            .guardrail_identifier(s.arn())
            .send()
            .await
            .unwrap();
        with_key += usize::from(g.kms_key_arn().is_some());
    }
    assert!(with_key >= 5, "{with_key}");
    let denied = bedrock(&cfg, "ap-south-1")
        .list_guardrails()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&denied), "AccessDeniedException");
    let disabled = bedrock(&cfg, "me-central-1")
        .list_guardrails()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&disabled), "UnrecognizedClientException");
}

#[tokio::test]
async fn topic_examples_are_validated_as_bedrock_does() {
    let sim = start_empty().await;
    let cfg = sdk_config(&sim).await;
    let client = bedrock(&cfg, "us-east-1");
    let with_examples = |examples: Vec<String>| {
        GuardrailTopicPolicyConfig::builder()
            .topics_config(
                GuardrailTopicConfig::builder()
                    .name("Investment advice")
                    .definition("Advice about investments.")
                    .set_examples(Some(examples))
                    .r#type(GuardrailTopicType::Deny)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    };
    // At most 5 examples of 1 to 100 characters (botocore: GuardrailTopicExamples,
    // GuardrailTopicExample).
    for (examples, ok) in [
        (vec!["a".repeat(100); 5], true),
        (vec!["a".to_string(); 6], false),
        (vec!["a".repeat(101)], false),
        (vec![String::new()], false),
    ] {
        let out = client
            .create_guardrail()
            .name(format!("topics-{}-{}", examples.len(), examples[0].len()))
            .blocked_input_messaging("in")
            .blocked_outputs_messaging("out")
            .topic_policy_config(with_examples(examples.clone()))
            .send()
            .await;
        match (out, ok) {
            (Ok(_), true) => {}
            (Err(e), false) => assert_eq!(code(&e), "ValidationException", "{examples:?}"),
            (other, _) => panic!(
                "{} examples of {} characters: {other:?}",
                examples.len(),
                examples[0].len()
            ),
        }
    }
}
