//! Faults on demand, seen from the real SDK, and bad input seen on the wire.

mod common;

use std::time::Duration;

use aws_config::retry::RetryConfig;
use common::*;
use guardkey::sim::{AfterList, SimConfig};

async fn one_guardrail(client: &aws_sdk_bedrock::Client, name: &str) -> String {
    client
        .create_guardrail()
        .name(name)
        .blocked_input_messaging("in")
        .blocked_outputs_messaging("out")
        .send()
        .await
        .unwrap()
        .guardrail_id()
        .to_string()
}

#[tokio::test]
async fn throttling_is_per_region_and_the_sdk_retries_through_it() {
    let sim = start_empty().await;
    sim.sim
        .set_faults(|f| f.quotas.push("GetGuardrail=10".parse().unwrap()));
    let cfg = sdk_config_with(
        &sim,
        guardkey::sim::SIM_ACCESS_KEY_ID,
        guardkey::sim::SIM_SECRET_ACCESS_KEY,
        RetryConfig::adaptive()
            .with_max_attempts(10)
            .with_max_backoff(Duration::from_millis(500)),
    )
    .await;
    let client = bedrock(&cfg, "us-east-1");
    let id = one_guardrail(&client, "hot").await;

    // Without retries, a burst beyond the quota meets 429 ThrottlingException.
    let no_retry = sdk_config_with(
        &sim,
        guardkey::sim::SIM_ACCESS_KEY_ID,
        guardkey::sim::SIM_SECRET_ACCESS_KEY,
        RetryConfig::disabled(),
    )
    .await;
    let raw_client = bedrock(&no_retry, "us-east-1");
    let mut codes = Vec::new();
    for _ in 0..15 {
        if let Err(e) = raw_client.get_guardrail().guardrail_identifier(&id).send().await {
            codes.push(code(&e));
        }
    }
    assert!(!codes.is_empty(), "15 calls at once must exceed a quota of 10/s");
    assert!(codes.iter().all(|c| c == "ThrottlingException"), "{codes:?}");

    // Another region has its own bucket.
    let other = bedrock(&no_retry, "eu-west-1");
    let err = other
        .get_guardrail()
        .guardrail_identifier("nothere")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&err),
        "ResourceNotFoundException",
        "eu-west-1 is not throttled by us-east-1's calls"
    );

    // With adaptive retries, 30 concurrent calls all get through.
    let calls = (0..30).map(|_| {
        let client = client.clone();
        let id = id.clone();
        async move { client.get_guardrail().guardrail_identifier(id).send().await }
    });
    let results = futures::future::join_all(calls).await;
    let failed: Vec<_> = results.iter().filter(|r| r.is_err()).collect();
    assert!(failed.is_empty(), "{failed:?}");
}

#[tokio::test]
async fn disabled_regions_and_denials_answer_403() {
    let sim = start_empty().await;
    sim.sim.set_faults(|f| {
        f.disabled_regions.insert("me-central-1".into());
        f.denials.push("bedrock:GetGuardrail@eu-west-1".parse().unwrap());
        f.denials.push("kms:DescribeKey".parse().unwrap());
    });
    let cfg = sdk_config(&sim).await;
    let err = bedrock(&cfg, "me-central-1")
        .list_guardrails()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "UnrecognizedClientException");
    let err = kms(&cfg, "me-central-1").list_keys().send().await.unwrap_err();
    assert_eq!(code(&err), "UnrecognizedClientException");

    let err = bedrock(&cfg, "eu-west-1")
        .get_guardrail()
        .guardrail_identifier("abc")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");
    assert!(
        message(&err).contains("bedrock:GetGuardrail"),
        "{}",
        message(&err)
    );
    // Listing is still allowed there, and GetGuardrail elsewhere.
    bedrock(&cfg, "eu-west-1").list_guardrails().send().await.unwrap();
    let err = bedrock(&cfg, "us-east-1")
        .get_guardrail()
        .guardrail_identifier("abc")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ResourceNotFoundException");
    let err = kms(&cfg, "us-east-1")
        .describe_key()
        .key_id("alias/x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");
    assert!(message(&err).contains("kms:DescribeKey"));
}

#[tokio::test]
async fn a_hanging_region_times_out_while_others_answer() {
    let sim = start_empty().await;
    sim.sim.set_faults(|f| {
        f.hang_regions.insert("ap-southeast-2".into());
    });
    let cfg = sdk_config(&sim).await;
    let hanging = aws_sdk_bedrock::Client::from_conf(
        aws_sdk_bedrock::config::Builder::from(&cfg)
            .region(aws_config::Region::new("ap-southeast-2"))
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .operation_timeout(Duration::from_millis(300))
                    .build(),
            )
            .build(),
    );
    let err = hanging.list_guardrails().send().await.unwrap_err();
    assert!(
        matches!(err, aws_sdk_bedrock::error::SdkError::TimeoutError(_)),
        "{err:?}"
    );
    bedrock(&cfg, "us-east-1").list_guardrails().send().await.unwrap();
}

#[tokio::test]
async fn injected_server_errors_are_500_and_retried() {
    let sim = start_empty().await;
    let cfg = sdk_config(&sim).await;
    let client = bedrock(&cfg, "us-east-1");
    let id = one_guardrail(&client, "flaky").await;
    sim.sim.fail_next("GetGuardrail", Some("us-east-1"), 1);
    client
        .get_guardrail()
        .guardrail_identifier(&id)
        .send()
        .await
        .expect("the SDK retries a 500");

    let no_retry = sdk_config_with(
        &sim,
        guardkey::sim::SIM_ACCESS_KEY_ID,
        guardkey::sim::SIM_SECRET_ACCESS_KEY,
        RetryConfig::disabled(),
    )
    .await;
    sim.sim.fail_next("GetGuardrail", None, 1);
    let err = bedrock(&no_retry, "us-east-1")
        .get_guardrail()
        .guardrail_identifier(&id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InternalServerException");
    assert_eq!(
        sim.sim.calls().get("bedrock:GetGuardrail"),
        Some(&1),
        "failed calls are not counted as served"
    );
}

#[tokio::test]
async fn guardrails_can_vanish_or_change_between_list_and_get() {
    let sim = start(SimConfig {
        settle: Duration::ZERO,
        ..SimConfig::default()
    })
    .await;
    let cfg = sdk_config(&sim).await;
    let client = bedrock(&cfg, "us-east-1");
    let vanishing = one_guardrail(&client, "vanishing").await;
    let changing = one_guardrail(&client, "changing").await;
    let before = client
        .get_guardrail()
        .guardrail_identifier(&changing)
        .send()
        .await
        .unwrap();
    sim.sim.after_list(&vanishing, AfterList::Vanish);
    sim.sim.after_list(&changing, AfterList::Change);

    let listed = client.list_guardrails().send().await.unwrap();
    assert_eq!(listed.guardrails().len(), 2, "both are listed");
    let err = client
        .get_guardrail()
        .guardrail_identifier(&vanishing)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ResourceNotFoundException");
    let after = client
        .get_guardrail()
        .guardrail_identifier(&changing)
        .send()
        .await
        .unwrap();
    assert_ne!(after.blocked_input_messaging(), before.blocked_input_messaging());
    assert!(after.updated_at() > before.updated_at());
}

#[tokio::test]
async fn bad_input_gets_the_aws_error_and_never_crashes() {
    let sim = start_empty().await;
    let host = format!("Host: {}\r\nConnection: close\r\n", sim.addr);

    // No Authorization at all.
    let (status, head, body) = raw(&sim, &format!("GET /guardrails HTTP/1.1\r\n{host}\r\n")).await;
    assert_eq!(status, 403);
    assert!(
        head.contains("x-amzn-errortype: missingauthenticationtokenexception"),
        "{head}"
    );
    assert!(body.contains("Missing Authentication Token"));

    // A credential scope that is not one.
    let (status, head, _) = raw(
        &sim,
        &format!(
            "GET /guardrails HTTP/1.1\r\n{host}Authorization: AWS4-HMAC-SHA256 Credential=AKID/bad\r\n\r\n"
        ),
    )
    .await;
    assert_eq!(status, 400);
    assert!(head.contains("incompletesignatureexception"), "{head}");

    // Signed for a service that is not here: said plainly, in the protocol's error format.
    let (status, head, body) = raw(
        &sim,
        &format!(
            "GET /guardrails HTTP/1.1\r\n{host}{}\r\n",
            auth_header("us-east-1", "s3")
        ),
    )
    .await;
    assert_eq!(status, 400);
    assert!(head.contains("x-amzn-errortype: unsupportedservice"), "{head}");
    assert!(
        body.contains(
            "guardkey sim serves Bedrock, KMS, STS, IAM, Organizations and Security Hub only, not 's3'"
        ),
        "{body}"
    );
    let ec2_query = "Action=DescribeRegions&Version=2016-11-15";
    let (status, head, body) = raw(
        &sim,
        &format!(
            "POST / HTTP/1.1\r\n{host}content-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n{}\r\n{ec2_query}",
            ec2_query.len(),
            auth_header("us-east-1", "ec2")
        ),
    )
    .await;
    assert_eq!(status, 400);
    assert!(head.contains("text/xml"), "{head}");
    assert!(body.contains("<Code>UnsupportedService</Code>"), "{body}");
    assert!(body.contains("Security Hub only, not &#39;ec2&#39;"), "{body}");

    // A signature that does not match, from a raw client and from an SDK with the wrong secret.
    let (status, head, _) = raw(
        &sim,
        &format!(
            "GET /guardrails HTTP/1.1\r\n{host}x-amz-date: 20261130T120000Z\r\n{}\r\n",
            auth_header("us-east-1", "bedrock")
        ),
    )
    .await;
    assert_eq!(status, 403);
    assert!(
        head.contains("x-amzn-errortype: invalidsignatureexception"),
        "{head}"
    );
    let wrong = sdk_config_with(
        &sim,
        guardkey::sim::SIM_ACCESS_KEY_ID,
        "not-the-secret",
        RetryConfig::disabled(),
    )
    .await;
    let err = sts(&wrong).get_caller_identity().send().await.unwrap_err();
    assert_eq!(code(&err), "SignatureDoesNotMatch");
    let err = kms(&wrong, "us-east-1").list_keys().send().await.unwrap_err();
    assert_eq!(code(&err), "InvalidSignatureException");

    // Malformed JSON to Bedrock and to KMS, properly signed.
    let (status, head, _) = signed_raw(
        &sim,
        "POST",
        "/guardrails",
        "us-east-1",
        "bedrock",
        &[("content-type", "application/json")],
        "{not json",
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        head.contains("x-amzn-errortype: serializationexception"),
        "{head}"
    );
    let (status, _, resp) = signed_raw(
        &sim,
        "POST",
        "/",
        "us-east-1",
        "kms",
        &[
            ("x-amz-target", "TrentService.DescribeKey"),
            ("content-type", "application/x-amz-json-1.1"),
        ],
        "{not json",
    )
    .await;
    assert_eq!(status, 400);
    assert!(resp.contains("\"__type\":\"SerializationException\""), "{resp}");

    // Unknown operations.
    let (status, _, resp) = signed_raw(
        &sim,
        "POST",
        "/",
        "us-east-1",
        "kms",
        &[("x-amz-target", "TrentService.Decrypt")],
        "{}",
    )
    .await;
    assert_eq!(status, 400);
    assert!(resp.contains("UnknownOperationException"), "{resp}");
    let (status, head, _) =
        signed_raw(&sim, "GET", "/foundation-models", "us-east-1", "bedrock", &[], "").await;
    assert_eq!(status, 404);
    assert!(head.contains("unknownoperationexception"), "{head}");
    let (status, _, resp) = signed_raw(
        &sim,
        "POST",
        "/",
        "us-east-1",
        "sts",
        &[("content-type", "application/x-www-form-urlencoded")],
        "Action=GetSessionToken&Version=2011-06-15",
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        resp.contains("<Code>InvalidAction</Code>") && resp.contains("<ErrorResponse"),
        "{resp}"
    );

    // A wrong JSON type is a serialization error, not a crash.
    let typed = r#"{"name": 42, "blockedInputMessaging": "a", "blockedOutputsMessaging": "b"}"#;
    let (status, head, _) = signed_raw(&sim, "POST", "/guardrails", "us-east-1", "bedrock", &[], typed).await;
    assert_eq!(status, 400);
    assert!(head.contains("serializationexception"), "{head}");

    // And the simulator still serves afterwards, with the real status codes.
    let create = r#"{"name": "after", "blockedInputMessaging": "a", "blockedOutputsMessaging": "b"}"#;
    let (status, _, resp) =
        signed_raw(&sim, "POST", "/guardrails", "us-east-1", "bedrock", &[], create).await;
    assert_eq!(status, 202, "CreateGuardrail answers 202: {resp}");
}
