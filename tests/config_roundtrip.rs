//! Property: any guardrail configuration survives GetGuardrail → UpdateGuardrail →
//! GetGuardrail through the real SDK, with only the key changed. The simulator checks every
//! request against botocore's model, so a member sent in the wrong shape fails here.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use guardkey::model::config::*;
use guardkey::sim::SimConfig;
use proptest::prelude::*;

fn opt<T: std::fmt::Debug + Clone>(s: impl Strategy<Value = T>) -> impl Strategy<Value = Option<T>> {
    prop::option::of(s)
}

fn directions(actions: &'static [&'static str]) -> impl Strategy<Value = Directions> {
    (
        opt(prop::sample::select(actions)),
        opt(prop::sample::select(actions)),
        opt(any::<bool>()),
        opt(any::<bool>()),
    )
        .prop_map(|(ia, oa, ie, oe)| Directions {
            input_action: ia.map(str::to_string),
            output_action: oa.map(str::to_string),
            input_enabled: ie,
            output_enabled: oe,
        })
}

const BLOCK_NONE: &[&str] = &["BLOCK", "NONE"];
const SENSITIVE: &[&str] = &["BLOCK", "ANONYMIZE", "NONE"];
const STRENGTH: &[&str] = &["NONE", "LOW", "MEDIUM", "HIGH"];
const FILTERS: &[&str] = &[
    "SEXUAL",
    "VIOLENCE",
    "HATE",
    "INSULTS",
    "MISCONDUCT",
    "PROMPT_ATTACK",
];
const PII: &[&str] = &[
    "EMAIL",
    "PHONE",
    "NAME",
    "ADDRESS",
    "AWS_SECRET_KEY",
    "CREDIT_DEBIT_CARD_NUMBER",
    "US_SOCIAL_SECURITY_NUMBER",
];

fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[A-Za-z][A-Za-z0-9 ,.!?-]{{0,{}}}", max - 1)).unwrap()
}

fn topic() -> impl Strategy<Value = Topic> {
    (
        proptest::string::string_regex("[A-Za-z][A-Za-z0-9 _-]{0,30}").unwrap(),
        text(100),
        prop::collection::vec(text(40), 0..3),
        opt(Just("DENY".to_string())),
        directions(BLOCK_NONE),
    )
        .prop_map(|(name, definition, examples, kind, directions)| Topic {
            name,
            definition,
            examples,
            kind,
            directions,
        })
}

fn content_filter(kind: &'static str) -> impl Strategy<Value = ContentFilter> {
    (
        prop::sample::select(STRENGTH),
        prop::sample::select(STRENGTH),
        prop::sample::subsequence(vec!["TEXT", "IMAGE"], 0..=2),
        prop::sample::subsequence(vec!["TEXT", "IMAGE"], 0..=2),
        directions(BLOCK_NONE),
    )
        .prop_map(move |(i, o, im, om, directions)| ContentFilter {
            kind: kind.into(),
            input_strength: i.into(),
            output_strength: o.into(),
            input_modalities: im.into_iter().map(str::to_string).collect(),
            output_modalities: om.into_iter().map(str::to_string).collect(),
            directions,
        })
}

fn config() -> impl Strategy<Value = GuardrailConfig> {
    let topics = opt((
        prop::collection::vec(topic(), 1..4),
        opt(Just("CLASSIC".to_string())),
    )
        .prop_map(|(topics, tier)| TopicPolicy { topics, tier }));
    let content = opt(
        prop::sample::subsequence(FILTERS.to_vec(), 1..=6).prop_flat_map(|kinds| {
            let filters: Vec<_> = kinds.into_iter().map(content_filter).collect();
            (filters, opt(Just("CLASSIC".to_string())))
                .prop_map(|(filters, tier)| ContentPolicy { filters, tier })
        }),
    );
    let words = opt((
        prop::collection::vec(
            (text(30), directions(BLOCK_NONE)).prop_map(|(text, directions)| Word { text, directions }),
            1..4,
        ),
        prop::collection::vec(
            directions(BLOCK_NONE).prop_map(|directions| ManagedWords {
                kind: "PROFANITY".into(),
                directions,
            }),
            0..2,
        ),
    )
        .prop_map(|(words, managed_word_lists)| WordPolicy {
            words,
            managed_word_lists,
        }));
    let sensitive = opt((
        prop::collection::vec(
            (
                prop::sample::select(PII),
                prop::sample::select(SENSITIVE),
                directions(SENSITIVE),
            )
                .prop_map(|(k, a, directions)| PiiEntity {
                    kind: k.into(),
                    action: a.into(),
                    directions,
                }),
            1..4,
        ),
        prop::collection::vec(
            (
                proptest::string::string_regex("[a-z][a-z0-9-]{0,20}").unwrap(),
                opt(text(60)),
                Just("[0-9]{3}-[0-9]{4}".to_string()),
                prop::sample::select(SENSITIVE),
                directions(SENSITIVE),
            )
                .prop_map(|(name, description, pattern, action, directions)| Regex {
                    name,
                    description,
                    pattern,
                    action: action.into(),
                    directions,
                }),
            0..3,
        ),
    )
        .prop_map(|(pii_entities, regexes)| SensitiveInformationPolicy {
            pii_entities,
            regexes,
        }));
    let grounding = opt(
        prop::sample::subsequence(vec!["GROUNDING", "RELEVANCE"], 1..=2).prop_flat_map(|kinds| {
            let filters: Vec<_> = kinds
                .into_iter()
                .map(|k| {
                    (
                        0u32..99,
                        opt(prop::sample::select(BLOCK_NONE)),
                        opt(any::<bool>()),
                    )
                        .prop_map(move |(t, action, enabled)| GroundingFilter {
                            kind: k.into(),
                            threshold: t as f64 / 100.0,
                            action: action.map(str::to_string),
                            enabled,
                        })
                })
                .collect();
            filters.prop_map(|filters| ContextualGroundingPolicy { filters, tier: None })
        }),
    );
    let reasoning = opt((
        proptest::string::string_regex("[a-z0-9]{12}").unwrap(),
        opt(0u32..=100),
    )
        .prop_map(|(id, t)| AutomatedReasoningPolicy {
            policies: vec![format!(
                "arn:aws:bedrock:us-east-1:123456789012:automated-reasoning-policy/{id}"
            )],
            confidence_threshold: t.map(|t| t as f64 / 100.0),
        }));
    (
        opt(text(100)),
        text(200),
        text(200),
        topics,
        content,
        words,
        sensitive,
        grounding,
        reasoning,
        any::<bool>(),
    )
        .prop_map(
            |(description, bi, bo, topic_policy, content_policy, word_policy, sip, cgp, arp, cross)| {
                GuardrailConfig {
                    name: String::new(),
                    description,
                    blocked_input_messaging: bi,
                    blocked_outputs_messaging: bo,
                    topic_policy,
                    content_policy,
                    word_policy,
                    sensitive_information_policy: sip,
                    contextual_grounding_policy: cgp,
                    automated_reasoning_policy: arp,
                    cross_region_details: cross.then(|| CrossRegionDetails {
                        guardrail_profile_id: Some("us.guardrail.v1:0".into()),
                        guardrail_profile_arn: Some(
                            "arn:aws:bedrock:us-east-1:123456789012:guardrail-profile/us.guardrail.v1:0"
                                .into(),
                        ),
                    }),
                    kms_key_arn: None,
                }
            },
        )
}

#[test]
fn any_configuration_survives_a_rewrite_with_only_the_key_changed() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sim = rt.block_on(common::start(SimConfig {
        settle: Duration::ZERO,
        ..SimConfig::default()
    }));
    let session = rt.block_on(guardkey::commands::sim_session(&sim, false));
    let bedrock = session.bedrock("us-east-1");
    let kms = session.kms("us-east-1");
    let key = rt
        .block_on(session.create_key(
            &kms,
            &guardkey::sim::kms::default_policy("123456789012"),
            "round trip",
            &[],
            false,
        ))
        .unwrap();
    static N: AtomicUsize = AtomicUsize::new(0);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    });
    runner
        .run(&config(), |mut config| {
            config.name = format!("roundtrip-{}", N.fetch_add(1, Ordering::Relaxed));
            rt.block_on(async {
                let (id, _) = session.create_guardrail(&bedrock, &config).await.expect("create");
                let before = session.read_guardrail(&bedrock, &id, None).await.expect("read");
                // A topic's type may be absent from a response; requests must say DENY.
                let mut expected = config.clone();
                for t in expected.topic_policy.iter_mut().flat_map(|p| p.topics.iter_mut()) {
                    t.kind.get_or_insert_with(|| "DENY".into());
                }
                assert_eq!(
                    before.config, expected,
                    "CreateGuardrail then GetGuardrail gives the configuration back"
                );
                session
                    .write_guardrail(&bedrock, &id, &before.config, Some(&key.arn))
                    .await
                    .expect("update");
                let after = session
                    .read_guardrail(&bedrock, &id, None)
                    .await
                    .expect("read again");
                assert_eq!(
                    after.config.differences_besides_key(&before.config),
                    Vec::<&str>::new()
                );
                assert_eq!(after.config.kms_key_arn.as_deref(), Some(key.arn.as_str()));
                // And the same through the AWS CLI's request JSON: every member has a request name.
                let request = before.config.update_request(&id, Some(&key.arn));
                guardkey::sim::model::bedrock()
                    .validate_input("UpdateGuardrail", &request)
                    .unwrap_or_else(|e| panic!("{}: {request}", e.message()));
            });
            Ok(())
        })
        .unwrap();
}

/// Property: random rich configurations survive `guardkey fix` (plan, journal, write,
/// verify) with only the key changed, read back through the SDK.
#[test]
fn any_configurations_survive_a_fix_with_only_the_key_changed() {
    use guardkey::fix::apply::{ApplyOptions, OutcomeKind, apply};
    use guardkey::fix::journal::Journal;
    use guardkey::fix::plan::{FixPlan, KeyChoice, NewKey, RegionPlan, Target};

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sim = rt.block_on(common::start(SimConfig {
        settle: Duration::from_millis(5),
        ..SimConfig::default()
    }));
    let session = rt.block_on(guardkey::commands::sim_session(&sim, false));
    let bedrock = session.bedrock("eu-west-1");
    static N: AtomicUsize = AtomicUsize::new(0);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 12,
        ..ProptestConfig::default()
    });
    runner
        .run(&prop::collection::vec(config(), 1..5), |configs| {
            rt.block_on(async {
                let mut targets = Vec::new();
                for mut config in configs {
                    config.name = format!("fixprop-{}", N.fetch_add(1, Ordering::Relaxed));
                    let (id, arn) = session.create_guardrail(&bedrock, &config).await.expect("create");
                    let draft =
                        guardkey::fix::apply::wait_ready(&session, &bedrock, &arn, Duration::from_secs(10))
                            .await
                            .unwrap();
                    targets.push((
                        Target {
                            arn,
                            id,
                            name: config.name.clone(),
                            current_key: None,
                            config: None,
                        },
                        draft.config,
                    ));
                }
                let alias = format!("alias/fixprop-{}", N.fetch_add(1, Ordering::Relaxed));
                let plan = FixPlan {
                    account: "123456789012".into(),
                    publish_version: false,
                    usage: Default::default(),
                    held: Vec::new(),
                    allow_lockout: false,
                    notes: Vec::new(),
                    regions: vec![RegionPlan {
                        region: "eu-west-1".into(),
                        key: KeyChoice::Create(NewKey {
                            alias,
                            description: "property".into(),
                            policy: guardkey::sim::kms::default_policy("123456789012"),
                            tags: vec![],
                            rotation_days: None,
                            multi_region: Default::default(),
                        }),
                        targets: targets.iter().map(|(t, _)| t.clone()).collect(),
                    }],
                };
                let dir = tempfile::tempdir().unwrap();
                let journal = Journal::create(dir.path(), "fix").unwrap();
                let report = apply(&session, &plan, &journal, &ApplyOptions::default(), &|_| {}).await;
                assert_eq!(report.failed(), 0, "{}", report.summary());
                let key = &report.keys[0].1;
                for (t, before) in &targets {
                    let after = session.read_guardrail(&bedrock, &t.arn, None).await.unwrap();
                    assert_eq!(
                        after.config.differences_besides_key(before),
                        Vec::<&str>::new(),
                        "{}",
                        t.name
                    );
                    assert_eq!(after.config.kms_key_arn.as_ref(), Some(key));
                }
                assert!(
                    report
                        .outcomes
                        .iter()
                        .all(|o| matches!(o.kind, OutcomeKind::Fixed { .. }))
                );
            });
            Ok(())
        })
        .unwrap();
}

/// One block or many, as HCL's JSON form has them.
fn many(v: &serde_json::Value) -> Vec<&serde_json::Value> {
    match v {
        serde_json::Value::Array(a) => a.iter().collect(),
        serde_json::Value::Null => Vec::new(),
        other => vec![other],
    }
}

fn str_of(v: &serde_json::Value) -> String {
    v.as_str().expect("a string").to_string()
}

fn strs(v: &serde_json::Value) -> Vec<String> {
    many(v).into_iter().map(str_of).collect()
}

fn opt_str(v: &serde_json::Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

fn directions_of(v: &serde_json::Value) -> Directions {
    Directions {
        input_action: opt_str(&v["input_action"]),
        output_action: opt_str(&v["output_action"]),
        input_enabled: v["input_enabled"].as_bool(),
        output_enabled: v["output_enabled"].as_bool(),
    }
}

fn tier_of(v: &serde_json::Value) -> Option<String> {
    many(&v["tier_config"]).first().map(|t| str_of(&t["tier_name"]))
}

/// An `aws_bedrock_guardrail` resource, read back into the configuration it expresses.
fn from_terraform(r: &serde_json::Value) -> GuardrailConfig {
    let block = |name: &str| many(&r[name]).first().copied();
    GuardrailConfig {
        name: str_of(&r["name"]),
        description: opt_str(&r["description"]),
        blocked_input_messaging: str_of(&r["blocked_input_messaging"]),
        blocked_outputs_messaging: str_of(&r["blocked_outputs_messaging"]),
        topic_policy: block("topic_policy_config").map(|p| TopicPolicy {
            topics: many(&p["topics_config"])
                .into_iter()
                .map(|t| Topic {
                    name: str_of(&t["name"]),
                    definition: str_of(&t["definition"]),
                    examples: strs(&t["examples"]),
                    kind: opt_str(&t["type"]),
                    directions: Directions::default(),
                })
                .collect(),
            tier: tier_of(p),
        }),
        content_policy: block("content_policy_config").map(|p| ContentPolicy {
            filters: many(&p["filters_config"])
                .into_iter()
                .map(|f| ContentFilter {
                    kind: str_of(&f["type"]),
                    input_strength: str_of(&f["input_strength"]),
                    output_strength: str_of(&f["output_strength"]),
                    input_modalities: strs(&f["input_modalities"]),
                    output_modalities: strs(&f["output_modalities"]),
                    directions: directions_of(f),
                })
                .collect(),
            tier: tier_of(p),
        }),
        word_policy: block("word_policy_config").map(|p| WordPolicy {
            words: many(&p["words_config"])
                .into_iter()
                .map(|w| Word {
                    text: str_of(&w["text"]),
                    directions: directions_of(w),
                })
                .collect(),
            managed_word_lists: many(&p["managed_word_lists_config"])
                .into_iter()
                .map(|m| ManagedWords {
                    kind: str_of(&m["type"]),
                    directions: directions_of(m),
                })
                .collect(),
        }),
        sensitive_information_policy: block("sensitive_information_policy_config").map(|p| {
            SensitiveInformationPolicy {
                pii_entities: many(&p["pii_entities_config"])
                    .into_iter()
                    .map(|e| PiiEntity {
                        kind: str_of(&e["type"]),
                        action: str_of(&e["action"]),
                        directions: directions_of(e),
                    })
                    .collect(),
                regexes: many(&p["regexes_config"])
                    .into_iter()
                    .map(|x| Regex {
                        name: str_of(&x["name"]),
                        description: opt_str(&x["description"]),
                        pattern: str_of(&x["pattern"]),
                        action: str_of(&x["action"]),
                        directions: directions_of(x),
                    })
                    .collect(),
            }
        }),
        contextual_grounding_policy: block("contextual_grounding_policy_config").map(|p| {
            ContextualGroundingPolicy {
                filters: many(&p["filters_config"])
                    .into_iter()
                    .map(|f| GroundingFilter {
                        kind: str_of(&f["type"]),
                        threshold: f["threshold"].as_f64().expect("a number"),
                        action: None,
                        enabled: None,
                    })
                    .collect(),
                tier: None,
            }
        }),
        automated_reasoning_policy: None,
        cross_region_details: block("cross_region_config").map(|x| CrossRegionDetails {
            guardrail_profile_id: None,
            guardrail_profile_arn: opt_str(&x["guardrail_profile_identifier"]),
        }),
        kms_key_arn: opt_str(&r["kms_key_arn"]),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The Terraform resource written from a DRAFT, parsed by an HCL parser of its own
    /// (hcl-rs), holds every member the resource can express, and those it cannot are
    /// exactly the ones the file lists.
    #[test]
    fn any_configuration_round_trips_through_terraform(mut config in config()) {
        use guardkey::fix::terraform::{expressible, inexpressible, write_guardrail};
        config.name = "support-bot".into();
        let mut text = String::new();
        let gaps = write_guardrail(&mut text, "us_east_1", &config.name, "abc123", &config, "aws_kms_key.k.arn");
        let doc: serde_json::Value = hcl::from_str(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let resource = &doc["resource"]["aws_bedrock_guardrail"]["guardrail_support_bot_abc123"];
        prop_assert_eq!(&doc["import"]["id"], "abc123,DRAFT");
        prop_assert_eq!(&doc["import"]["to"], "${aws_bedrock_guardrail.guardrail_support_bot_abc123}");
        let mut back = from_terraform(resource);
        prop_assert_eq!(back.kms_key_arn.take(), Some("${aws_kms_key.k.arn}".to_string()));
        prop_assert_eq!(back, expressible(&config));
        prop_assert_eq!(&gaps, &inexpressible(&config));
        for g in &gaps {
            prop_assert!(text.contains(&format!("#   {g}")), "{} is said in the file", g);
        }
    }
}
