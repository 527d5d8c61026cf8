//! What a simulator starts with: nothing, the demo estate, or a generated estate of any
//! size for benchmarks.
//!
//! (Over 500 lines for its tests and the generated estate's templates, kept beside the
//! demo estate they mirror.)

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::{Duration as TimeDuration, OffsetDateTime};

use super::bedrock::policies_from_request;
use super::faults::Faults;
use super::model;
use super::state::{
    Alias, Guardrail, GuardrailConfig, GuardrailStatus, GuardrailVersion, Key, KeyState, World,
    guardrail_arn, key_arn, new_guardrail_id, new_key_id,
};
use crate::regions::BEDROCK_REGIONS;

const DEMO_ESTATE: &str = include_str!("../../assets/demo-estate.json");

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seed {
    Empty,
    Demo,
    /// The first `regions` Bedrock regions with `per_region` guardrails each.
    Generated {
        regions: usize,
        per_region: usize,
    },
    /// An organization of `accounts` accounts (the simulator's own is its management
    /// account), each with `regions` × `per_region` guardrails and the role Organizations
    /// creates (`generated:ACCOUNTS:REGIONS:PER_REGION`).
    GeneratedOrganization {
        accounts: usize,
        regions: usize,
        per_region: usize,
    },
}

impl fmt::Display for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Seed::Empty => write!(f, "empty"),
            Seed::Demo => write!(f, "demo"),
            Seed::Generated { regions, per_region } => write!(f, "generated:{regions}:{per_region}"),
            Seed::GeneratedOrganization {
                accounts,
                regions,
                per_region,
            } => write!(f, "generated:{accounts}:{regions}:{per_region}"),
        }
    }
}

impl FromStr for Seed {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "empty" => Ok(Seed::Empty),
            "demo" => Ok(Seed::Demo),
            _ => {
                let usage = || {
                    format!(
                        "unknown seed '{s}': use empty, demo, generated:REGIONS:PER_REGION (e.g. \
                         generated:20:250) or generated:ACCOUNTS:REGIONS:PER_REGION (an organization)"
                    )
                };
                let rest = s.strip_prefix("generated:").ok_or_else(usage)?;
                let parts: Vec<&str> = rest.split(':').collect();
                let (accounts, r, n) = match parts[..] {
                    [r, n] => (None, r, n),
                    [a, r, n] => (Some(a.parse::<usize>().map_err(|_| usage())?), r, n),
                    _ => return Err(usage()),
                };
                if let Some(a) = accounts
                    && !(1..=10_000).contains(&a)
                {
                    return Err(format!("generated:{a}:… needs between 1 and 10,000 accounts"));
                }
                let regions: usize = r.parse().map_err(|_| usage())?;
                let per_region: usize = n.parse().map_err(|_| usage())?;
                if regions == 0 || regions > BEDROCK_REGIONS.len() {
                    return Err(format!(
                        "generated:{regions}:… needs between 1 and {} regions",
                        BEDROCK_REGIONS.len()
                    ));
                }
                if per_region > 1_000_000 {
                    return Err(format!(
                        "generated:…:{per_region} is more than 1,000,000 guardrails a region"
                    ));
                }
                Ok(match accounts {
                    None => Seed::Generated { regions, per_region },
                    Some(accounts) => Seed::GeneratedOrganization {
                        accounts,
                        regions,
                        per_region,
                    },
                })
            }
        }
    }
}

#[derive(Deserialize)]
struct Estate {
    account: String,
    #[serde(default)]
    disabled_regions: Vec<String>,
    #[serde(default)]
    denied: Vec<String>,
    /// Regions where the account has not enabled Security Hub; it is on in the others.
    #[serde(default)]
    security_hub_off: Vec<String>,
    templates: Map<String, Value>,
    keys: Vec<KeySpec>,
    guardrails: Vec<GuardrailSpec>,
    /// Roles with inline policies (`{guardrail:REGION/NAME}` in a policy is that guardrail's ARN).
    #[serde(default)]
    roles: Vec<RoleSpec>,
    #[serde(default)]
    agents: Vec<AgentSpec>,
    #[serde(default)]
    flows: Vec<FlowSpec>,
}

#[derive(Deserialize)]
struct RoleSpec {
    name: String,
    path: String,
    policy: Value,
    /// Its permissions boundary: a customer managed policy of the account.
    #[serde(default)]
    boundary: Option<BoundarySpec>,
}

#[derive(Deserialize)]
struct BoundarySpec {
    name: String,
    policy: Value,
}

#[derive(Deserialize)]
struct AgentVersionSpec {
    guardrail: Option<String>,
    guardrail_version: Option<String>,
}

#[derive(Deserialize)]
struct AgentSpec {
    region: String,
    name: String,
    role: String,
    guardrail: Option<String>,
    guardrail_version: Option<String>,
    #[serde(default)]
    versions: Vec<AgentVersionSpec>,
}

#[derive(Deserialize)]
struct FlowSpec {
    region: String,
    name: String,
    role: String,
    guardrail: String,
}

#[derive(Deserialize)]
struct KeySpec {
    #[serde(rename = "ref")]
    reference: String,
    region: String,
    account: Option<String>,
    alias: Option<String>,
    #[serde(default)]
    description: String,
    state: Option<String>,
    manager: Option<String>,
    rotation_days: Option<i64>,
    pending_days: Option<i64>,
    /// Grants on it, as a pipeline's CreateGrant leaves them.
    #[serde(default)]
    grants: Vec<GrantSpec>,
}

#[derive(Deserialize)]
struct GrantSpec {
    name: String,
    /// The grantee role, its path included (`service-role/Name`).
    role: String,
    operations: Vec<String>,
}

#[derive(Deserialize)]
struct VersionSpec {
    key: Option<String>,
}

#[derive(Deserialize)]
struct GuardrailSpec {
    region: String,
    name: String,
    description: Option<String>,
    template: String,
    key: Option<String>,
    #[serde(default)]
    versions: Vec<VersionSpec>,
    count: Option<usize>,
    status: Option<String>,
    #[serde(default)]
    status_reasons: Vec<String>,
    #[serde(default)]
    failure_recommendations: Vec<String>,
    /// Its tags, e.g. the `aws:cloudformation:*` ones of a guardrail a stack manages.
    #[serde(default)]
    tags: std::collections::BTreeMap<String, String>,
}

/// The first `n` Bedrock regions of the partition, or why there are not that many.
fn first_regions<'a>(regions: &'a [&'a str], n: usize, partition: &str) -> Result<&'a [&'a str], String> {
    regions
        .get(..n)
        .ok_or_else(|| format!("{partition} has {} Bedrock regions, not {n}", regions.len()))
}

/// Fills `world` (and the faults that belong to the estate) as `seed` says.
pub fn apply(
    seed: &Seed,
    world: &mut World,
    faults: &mut Faults,
    account: &str,
    partition: &str,
    rng: &mut fastrand::Rng,
) -> Result<(), String> {
    let regions = crate::regions::regions_of(partition)
        .ok_or_else(|| format!("Amazon Bedrock is not in partition {partition}"))?;
    match seed {
        Seed::Empty => Ok(()),
        Seed::Demo if partition == "aws" => {
            apply_estate(DEMO_ESTATE, world, faults, account, rng)?;
            super::seed_org::demo_organization(world, account, rng);
            Ok(())
        }
        Seed::Demo => Err(format!(
            "the demo estate lives in the commercial partition's regions; in {partition} use \
             --seed generated:{}:N",
            regions.len()
        )),
        Seed::Generated {
            regions: n,
            per_region,
        } => {
            let regions = first_regions(regions, *n, partition)?;
            generate(world, account, regions, *per_region, rng);
            Ok(())
        }
        Seed::GeneratedOrganization {
            accounts,
            regions: n,
            per_region,
        } => {
            let regions = first_regions(regions, *n, partition)?;
            super::seed_org::generated_organization(
                world,
                account,
                partition,
                *accounts,
                regions,
                *per_region,
                rng,
            );
            Ok(())
        }
    }
}

fn make_key(
    account: &str,
    region: &str,
    description: &str,
    rng: &mut fastrand::Rng,
    created_at: OffsetDateTime,
) -> Key {
    let key_id = new_key_id(rng);
    Key {
        arn: key_arn(region, account, &key_id),
        key_id,
        account: account.into(),
        region: region.into(),
        description: description.into(),
        state: KeyState::Enabled,
        manager: "CUSTOMER".into(),
        spec: "SYMMETRIC_DEFAULT".into(),
        usage: "ENCRYPT_DECRYPT".into(),
        origin: "AWS_KMS".into(),
        multi_region: false,
        primary_region: None,
        created_at,
        deletion_date: None,
        pending_window_days: None,
        rotation_days: None,
        policy: super::kms::default_policy_in(crate::regions::partition_of(region), account),
        tags: Vec::new(),
        grants: Vec::new(),
    }
}

fn add_alias(world: &mut World, key: &Key, alias: &str, now: OffsetDateTime) {
    world.region_mut(&key.account, &key.region).aliases.insert(
        alias.to_string(),
        Alias {
            name: alias.into(),
            target_key_id: key.key_id.clone(),
            created_at: now,
            updated_at: now,
        },
    );
}

fn apply_estate(
    text: &str,
    world: &mut World,
    faults: &mut Faults,
    account: &str,
    rng: &mut fastrand::Rng,
) -> Result<(), String> {
    let estate: Estate =
        serde_json::from_str(text).map_err(|e| format!("the demo estate is not valid: {e}"))?;
    // The estate is written for its own account; it is moved to the simulator's.
    let rebase = |s: &str| s.replace(&estate.account, account);
    for r in &estate.disabled_regions {
        faults.disabled_regions.insert(r.clone());
    }
    for d in &estate.denied {
        faults.denials.push(d.parse()?);
    }
    for region in crate::regions::BEDROCK_REGIONS {
        if !estate.security_hub_off.iter().any(|r| r == region) {
            world.region_mut(account, region).security_hub = Some(Default::default());
        }
    }
    let now = OffsetDateTime::now_utc();
    let mut key_arns = std::collections::HashMap::new();
    for spec in &estate.keys {
        let key_account = spec.account.clone().unwrap_or_else(|| account.to_string());
        let created = now - TimeDuration::days(400 + rng.i64(0..400));
        let mut key = make_key(&key_account, &spec.region, &spec.description, rng, created);
        key.rotation_days = spec.rotation_days;
        if let Some(m) = &spec.manager {
            key.manager = m.clone();
        }
        key.state = match spec.state.as_deref() {
            None | Some("Enabled") => KeyState::Enabled,
            Some("Disabled") => KeyState::Disabled,
            Some("Unavailable") => KeyState::Unavailable,
            Some("PendingDeletion") => {
                let days = spec.pending_days.unwrap_or(30);
                key.deletion_date = Some(now + TimeDuration::days(days));
                key.pending_window_days = Some(30);
                KeyState::PendingDeletion
            }
            Some(other) => return Err(format!("key {}: unknown state {other}", spec.reference)),
        };
        if let Some(alias) = &spec.alias {
            add_alias(world, &key, alias, created);
        }
        // Grant ids from a generator of their own: the organization seeded after the
        // estate draws from `rng`, and must stay what it was.
        let mut grant_ids = fastrand::Rng::with_seed(rng.get_seed() ^ 0x06a2_7e1d);
        for g in &spec.grants {
            key.grants.push(super::state::KeyGrant {
                id: (0..64)
                    .map(|_| char::from_digit(grant_ids.u32(..16), 16).expect("a hex digit"))
                    .collect(),
                name: Some(g.name.clone()),
                grantee: format!("arn:aws:iam::{key_account}:role/{}", g.role),
                retiring: None,
                operations: g.operations.clone(),
                constraints: None,
                issuing_account: format!("arn:aws:iam::{key_account}:root"),
                created,
            });
        }
        key_arns.insert(spec.reference.clone(), key.arn.clone());
        world
            .region_mut(&key_account, &spec.region)
            .keys
            .insert(key.key_id.clone(), key);
    }
    let key_arn_of = |reference: &Option<String>,
                      region: &str,
                      rng: &mut fastrand::Rng|
     -> Result<Option<String>, String> {
        match reference.as_deref() {
            None => Ok(None),
            // A key that was deleted after the guardrail was encrypted with it.
            Some("missing") => Ok(Some(key_arn(region, account, &new_key_id(rng)))),
            Some(r) => key_arns
                .get(r)
                .cloned()
                .map(Some)
                .ok_or_else(|| format!("unknown key ref {r}")),
        }
    };
    for spec in &estate.guardrails {
        let template = estate
            .templates
            .get(&spec.template)
            .ok_or_else(|| format!("unknown template {}", spec.template))?;
        let template =
            serde_json::from_str::<Value>(&rebase(&template.to_string())).map_err(|e| e.to_string())?;
        let count = spec.count.unwrap_or(1);
        for n in 1..=count {
            let name = spec.name.replace("{n}", &format!("{n:02}"));
            let mut request = template.clone();
            request["name"] = json!(name);
            request["blockedInputMessaging"] = json!("Sorry, I can't help with that request.");
            request["blockedOutputsMessaging"] = json!("Sorry, I can't share that answer.");
            if let Some(d) = &spec.description {
                request["description"] = json!(d);
            }
            model::bedrock()
                .validate_input("CreateGuardrail", &request)
                .map_err(|e| format!("guardrail {name}: {}", e.message()))?;
            let policies = policies_from_request(&request, account, &spec.region).map_err(|e| e.message)?;
            let config = GuardrailConfig {
                name,
                description: spec.description.clone(),
                blocked_input_messaging: request["blockedInputMessaging"]
                    .as_str()
                    .unwrap_or_default()
                    .into(),
                blocked_outputs_messaging: request["blockedOutputsMessaging"]
                    .as_str()
                    .unwrap_or_default()
                    .into(),
                policies: world.intern(policies),
                kms_key_arn: key_arn_of(&spec.key, &spec.region, rng)?,
            };
            let created = now - TimeDuration::days(rng.i64(30..300));
            let mut g = insert(world, account, &spec.region, config, created, rng);
            g.updated_at = created + TimeDuration::hours(rng.i64(1..600));
            for (i, v) in spec.versions.iter().enumerate() {
                let mut config = g.draft.clone();
                config.kms_key_arn = key_arn_of(&v.key, &spec.region, rng)?;
                g.versions.push(GuardrailVersion {
                    number: i as u32 + 1,
                    config,
                    created_at: created + TimeDuration::hours(i as i64 + 1),
                });
                g.next_version = i as u32 + 2;
            }
            if let Some(status) = &spec.status {
                let status =
                    GuardrailStatus::parse(status).ok_or_else(|| format!("unknown status {status}"))?;
                g.set_status(status);
            }
            g.status_reasons = spec.status_reasons.clone();
            g.failure_recommendations = spec.failure_recommendations.clone();
            g.tags = spec.tags.clone();
            world
                .region_mut(account, &spec.region)
                .guardrails
                .insert(g.id.clone(), g);
        }
    }
    // Its own generator: the organization seeded after the estate draws from `rng`, and
    // must stay what it was.
    let mut ids = fastrand::Rng::with_seed(rng.get_seed() ^ 0x0a9e_7f10);
    apply_usage(&estate, world, account, &mut ids, now)
}

/// An agent's or flow's id: 10 upper-case letters and digits, as Bedrock makes them.
pub(super) fn new_resource_id(rng: &mut fastrand::Rng) -> String {
    (0..10)
        .map(|_| {
            let c = rng.u8(0..36);
            char::from(if c < 10 { b'0' + c } else { b'A' + c - 10 })
        })
        .collect()
}

/// The estate's roles, agents and flows: who uses its guardrails.
fn apply_usage(
    estate: &Estate,
    world: &mut World,
    account: &str,
    rng: &mut fastrand::Rng,
    now: OffsetDateTime,
) -> Result<(), String> {
    use super::agents::{Agent, AgentVersion, Flow, GuardrailRef, prompt_flow_definition};
    let id_of = |world: &World, region: &str, name: &str| {
        world
            .region(account, region)
            .and_then(|r| r.guardrails.values().find(|g| g.draft.name == name))
            .map(|g| (g.id.clone(), g.arn.clone()))
            .ok_or_else(|| format!("no guardrail {name} in {region}"))
    };
    for role in &estate.roles {
        let mut text = role.policy.to_string().replace(&estate.account, account);
        while let Some(start) = text.find("{guardrail:") {
            let end = start + text[start..].find('}').ok_or("an unclosed {guardrail:…}")?;
            let (region, name) = text[start + 11..end]
                .split_once('/')
                .ok_or("{guardrail:REGION/NAME}")?;
            let (_, arn) = id_of(world, region, name)?;
            text.replace_range(start..=end, &arn);
        }
        let policy = serde_json::from_str(&text).map_err(|e| format!("role {}: {e}", role.name))?;
        world.iam.add_role("aws", account, &role.path, &role.name);
        world.iam.set_role_policy(account, &role.name, policy);
        if let Some(b) = &role.boundary {
            world
                .iam
                .set_role_boundary(account, &role.name, &b.name, b.policy.clone());
        }
    }
    let role_arn = |world: &World, name: &str| {
        world
            .iam
            .role(account, name)
            .map(|r| r.arn.clone())
            .ok_or_else(|| format!("no role {name}"))
    };
    for spec in &estate.agents {
        let reference = |world: &World, name: &Option<String>, version: &Option<String>| {
            name.as_ref()
                .map(|n| {
                    id_of(world, &spec.region, n).map(|(id, _)| GuardrailRef {
                        identifier: id,
                        version: version.clone().unwrap_or_else(|| "DRAFT".into()),
                    })
                })
                .transpose()
        };
        let agent = Agent {
            id: new_resource_id(rng),
            name: spec.name.clone(),
            role_arn: role_arn(world, &spec.role)?,
            guardrail: reference(world, &spec.guardrail, &spec.guardrail_version)?,
            versions: spec
                .versions
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    Ok(AgentVersion {
                        version: (i + 1).to_string(),
                        guardrail: reference(world, &v.guardrail, &v.guardrail_version)?,
                        created_at: now - TimeDuration::days(20),
                    })
                })
                .collect::<Result<_, String>>()?,
            created_at: now - TimeDuration::days(40),
        };
        world
            .region_mut(account, &spec.region)
            .agents
            .insert(agent.id.clone(), agent);
    }
    for spec in &estate.flows {
        // A flow names its guardrail by ARN, as the console writes it.
        let (_, arn) = id_of(world, &spec.region, &spec.guardrail)?;
        let id = new_resource_id(rng);
        let flow = Flow {
            arn: format!("arn:aws:bedrock:{}:{account}:flow/{id}", spec.region),
            id: id.clone(),
            name: spec.name.clone(),
            role_arn: role_arn(world, &spec.role)?,
            definition: prompt_flow_definition(&GuardrailRef {
                identifier: arn,
                version: "DRAFT".into(),
            }),
            created_at: now - TimeDuration::days(15),
        };
        world.region_mut(account, &spec.region).flows.insert(id, flow);
    }
    Ok(())
}

/// A new guardrail with a fresh id (not yet stored).
fn insert(
    world: &mut World,
    account: &str,
    region: &str,
    config: GuardrailConfig,
    created: OffsetDateTime,
    rng: &mut fastrand::Rng,
) -> Guardrail {
    let state = world.region_mut(account, region);
    let id = loop {
        let id = new_guardrail_id(rng);
        if !state.guardrails.contains_key(&id) {
            break id;
        }
    };
    let arn = guardrail_arn(region, account, &id);
    Guardrail::new(id, arn, config, created)
}

/// The policy sets generated guardrails draw from (request shapes).
fn generated_templates() -> Vec<Value> {
    vec![
        json!({"contentPolicyConfig": {"filtersConfig": [
            {"type": "PROMPT_ATTACK", "inputStrength": "HIGH", "outputStrength": "NONE"},
            {"type": "HATE", "inputStrength": "HIGH", "outputStrength": "HIGH"}]}}),
        json!({"sensitiveInformationPolicyConfig": {"piiEntitiesConfig": [
            {"type": "EMAIL", "action": "ANONYMIZE"}, {"type": "PHONE", "action": "ANONYMIZE"}],
            "regexesConfig": [{"name": "ticket", "pattern": "TCK-[0-9]{6}", "action": "ANONYMIZE"}]}}),
        json!({"topicPolicyConfig": {"topicsConfig": [
            {"name": "Legal advice", "definition": "Advice on legal matters.", "type": "DENY"}]},
            "wordPolicyConfig": {"managedWordListsConfig": [{"type": "PROFANITY"}]}}),
        json!({"contextualGroundingPolicyConfig": {"filtersConfig": [
            {"type": "GROUNDING", "threshold": 0.8}, {"type": "RELEVANCE", "threshold": 0.6}]}}),
    ]
}

/// A generated estate: per region, a healthy CMK, one without rotation, a disabled one, one
/// pending deletion and the AWS managed key; guardrails spread over the AWS-owned key
/// (about 40%) and those keys, with a fixed random seed so that runs compare.
pub(super) fn generate(
    world: &mut World,
    account: &str,
    regions: &[&str],
    per_region: usize,
    rng: &mut fastrand::Rng,
) {
    let now = OffsetDateTime::now_utc();
    let templates: Vec<_> = generated_templates()
        .into_iter()
        .map(|t| {
            let policies =
                policies_from_request(&t, account, regions.first().copied().unwrap_or("us-east-1"))
                    .expect("generated templates are valid");
            world.intern(policies)
        })
        .collect();
    for region in regions {
        world.region_mut(account, region).security_hub = Some(Default::default());
        let mut keys = Vec::new();
        for (alias, state, rotation, manager) in [
            (
                "alias/bedrock-guardrails",
                KeyState::Enabled,
                Some(365),
                "CUSTOMER",
            ),
            ("alias/no-rotation", KeyState::Enabled, None, "CUSTOMER"),
            ("alias/disabled", KeyState::Disabled, Some(365), "CUSTOMER"),
            ("alias/retiring", KeyState::PendingDeletion, Some(365), "CUSTOMER"),
            ("alias/aws/bedrock", KeyState::Enabled, Some(365), "AWS"),
        ] {
            let mut key = make_key(account, region, alias, rng, now - TimeDuration::days(500));
            key.state = state;
            key.rotation_days = rotation;
            key.manager = manager.into();
            if state == KeyState::PendingDeletion {
                key.deletion_date = Some(now + TimeDuration::days(12));
                key.pending_window_days = Some(30);
            }
            add_alias(world, &key, alias, now);
            keys.push(key.arn.clone());
            world
                .region_mut(account, region)
                .keys
                .insert(key.key_id.clone(), key);
        }
        for n in 0..per_region {
            let kms_key_arn = match rng.u32(0..100) {
                0..40 => None,
                40..75 => Some(keys[0].clone()),
                75..85 => Some(keys[1].clone()),
                85..90 => Some(keys[2].clone()),
                90..95 => Some(keys[3].clone()),
                _ => Some(keys[4].clone()),
            };
            let config = GuardrailConfig {
                name: format!("guardrail-{region}-{n:06}"),
                description: None,
                blocked_input_messaging: "Sorry, I can't help with that.".into(),
                blocked_outputs_messaging: "Sorry, I can't share that.".into(),
                policies: templates[n % templates.len()].clone(),
                kms_key_arn,
            };
            let created = now - TimeDuration::minutes(rng.i64(60..500_000));
            let g = insert(world, account, region, config, created, rng);
            world
                .region_mut(account, region)
                .guardrails
                .insert(g.id.clone(), g);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_seed_names() {
        assert_eq!("demo".parse::<Seed>().unwrap(), Seed::Demo);
        assert_eq!(
            "generated:20:250".parse::<Seed>().unwrap(),
            Seed::Generated {
                regions: 20,
                per_region: 250
            }
        );
        for bad in [
            "generated",
            "generated:0:5",
            "generated:99:5",
            "generated:a:b",
            "prod",
        ] {
            assert!(bad.parse::<Seed>().is_err(), "{bad}");
        }
        assert_eq!(
            Seed::Generated {
                regions: 2,
                per_region: 3
            }
            .to_string(),
            "generated:2:3"
        );
    }

    #[test]
    fn demo_estate_loads_and_is_valid() {
        let mut world = World::default();
        let mut faults = Faults::default();
        let mut rng = fastrand::Rng::with_seed(1);
        apply(
            &Seed::Demo,
            &mut world,
            &mut faults,
            "123456789012",
            "aws",
            &mut rng,
        )
        .unwrap();
        assert!(world.guardrail_count() > 50, "{}", world.guardrail_count());
        assert!(faults.disabled_regions.contains("me-central-1"));
        assert_eq!(faults.denials.len(), 1);
        let regions: std::collections::HashSet<_> = world
            .regions()
            .filter(|(_, r)| !r.guardrails.is_empty())
            .map(|(k, _)| k.1.clone())
            .collect();
        assert!(regions.len() >= 12, "{regions:?}");
    }

    #[test]
    fn generated_estates_are_deterministic_and_share_policies() {
        let build = || {
            let mut world = World::default();
            let mut rng = fastrand::Rng::with_seed(9);
            generate(&mut world, "123456789012", &BEDROCK_REGIONS[..3], 100, &mut rng);
            world
        };
        let (a, b) = (build(), build());
        assert_eq!(a.guardrail_count(), 300);
        let ids = |w: &World| {
            let mut v: Vec<String> = w
                .regions()
                .flat_map(|(_, r)| r.guardrails.keys().cloned())
                .collect();
            v.sort();
            v
        };
        assert_eq!(ids(&a), ids(&b));
        let r = a.region("123456789012", "us-east-1").unwrap();
        let owned = r
            .guardrails
            .values()
            .filter(|g| g.draft.kms_key_arn.is_none())
            .count();
        assert!((20..60).contains(&owned), "{owned} of 100 on the AWS-owned key");
    }
}
