//! Multi-Region keys in the simulator, as KMS has them: CreateKey with MultiRegion, then
//! ReplicateKey into another region of the partition: the same `mrk-` key id, each replica a
//! key of its region with its own policy, DescribeKey's MultiRegionConfiguration naming the
//! primary and the replicas; the errors KMS gives; and the scan, which shows a guardrail on its
//! own region's replica as PASS with the primary and replicas in its key.

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_has_the_same_key_id_its_own_policy_and_is_named_by_the_primary() {
    let sim = start_empty().await;
    let cfg = sdk_config(&sim).await;
    let (use1, euw1) = (kms(&cfg, "us-east-1"), kms(&cfg, "eu-west-1"));
    let primary = use1
        .create_key()
        .multi_region(true)
        .description("Bedrock guardrails")
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    let id = primary.key_id().to_string();
    assert!(id.starts_with("mrk-") && id.len() == 36, "{id}");
    let out = use1
        .replicate_key()
        .key_id(&id)
        .replica_region("eu-west-1")
        .send()
        .await
        .unwrap();
    let replica = out.replica_key_metadata.unwrap();
    assert_eq!(replica.key_id(), id);
    assert_eq!(
        replica.arn().unwrap(),
        format!("arn:aws:kms:eu-west-1:123456789012:key/{id}")
    );
    assert!(
        out.replica_policy.unwrap().contains(":root"),
        "the default policy, its own"
    );
    // DescribeKey in each region: PRIMARY and REPLICA, the same family.
    let described = euw1
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    let config = described.multi_region_configuration().unwrap();
    assert_eq!(config.multi_region_key_type().unwrap().as_str(), "REPLICA");
    assert_eq!(config.primary_key().unwrap().region(), Some("us-east-1"));
    let primary_config = use1
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    let primary_config = primary_config.multi_region_configuration().unwrap();
    assert_eq!(
        primary_config.multi_region_key_type().unwrap().as_str(),
        "PRIMARY"
    );
    assert_eq!(primary_config.replica_keys()[0].region(), Some("eu-west-1"));
    // The errors KMS gives.
    let again = use1
        .replicate_key()
        .key_id(&id)
        .replica_region("eu-west-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&again), "AlreadyExistsException");
    let same = use1
        .replicate_key()
        .key_id(&id)
        .replica_region("us-east-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&same), "ValidationException");
    let other_partition = use1
        .replicate_key()
        .key_id(&id)
        .replica_region("us-gov-west-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&other_partition), "ValidationException");
    let single = use1.create_key().send().await.unwrap().key_metadata.unwrap();
    let refused = use1
        .replicate_key()
        .key_id(single.key_id())
        .replica_region("eu-west-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&refused), "UnsupportedOperationException");
    let from_replica = euw1
        .replicate_key()
        .key_id(&id)
        .replica_region("us-west-2")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&from_replica),
        "UnsupportedOperationException",
        "only the primary replicates"
    );

    // A guardrail of eu-west-1 on its region's replica passes, and its key says whose it is.
    let bedrock = bedrock(&cfg, "eu-west-1");
    let g = bedrock
        .create_guardrail()
        .name("eu-bot")
        .blocked_input_messaging("no")
        .blocked_outputs_messaging("no")
        .kms_key_id(replica.arn().unwrap())
        .content_policy_config(
            aws_sdk_bedrock::types::GuardrailContentPolicyConfig::builder()
                .filters_config(
                    aws_sdk_bedrock::types::GuardrailContentFilterConfig::builder()
                        .r#type(aws_sdk_bedrock::types::GuardrailContentFilterType::Hate)
                        .input_strength(aws_sdk_bedrock::types::GuardrailFilterStrength::High)
                        .output_strength(aws_sdk_bedrock::types::GuardrailFilterStrength::High)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    // Rotation is the primary's to set, and applies to the replicas.
    use1.enable_key_rotation().key_id(&id).send().await.unwrap();
    let on_replica = euw1.enable_key_rotation().key_id(&id).send().await.unwrap_err();
    assert_eq!(code(&on_replica), "UnsupportedOperationException");
    let status = euw1.get_key_rotation_status().key_id(&id).send().await.unwrap();
    assert!(
        status.key_rotation_enabled(),
        "the replica rotates with its primary"
    );
    let session = guardkey::aws::Session::from_sdk_config(cfg.clone(), true);
    let scan = guardkey::scan::collect(
        session,
        guardkey::scan::ScanOptions {
            regions: vec!["eu-west-1".into()],
            ..Default::default()
        },
        |_| {},
    )
    .await;
    let row = scan.guardrails.iter().find(|r| r.id == g.guardrail_id()).unwrap();
    let key = row.key_info().unwrap();
    let family = key.multi_region_key.as_ref().unwrap();
    assert_eq!(family.kind, "REPLICA");
    assert_eq!(family.primary, primary.arn().unwrap());
    assert_eq!(
        row.posture.id.as_str(),
        "customer-managed-key",
        "{:?}",
        row.posture
    );
}
