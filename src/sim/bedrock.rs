//! Amazon Bedrock's guardrail control plane (REST-JSON).
//!
//! (One file per service on purpose: every guardrail operation with AWS's semantics, to be
//! read side by side with the API reference.)

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::kms;
use super::state::{
    Ctx, Guardrail, GuardrailConfig, GuardrailStatus, GuardrailVersion, RegionState, World, guardrail_arn,
    new_guardrail_id, parse_arn,
};
use super::wire::AwsError;

/// A request member's name and the name the response reads it back under.
type Rename = (&'static str, &'static str);

/// Request policy members and the response members they are read back as, with their
/// renamed children. Deeper members carry the same names in both shapes.
pub const POLICY_RENAMES: &[(&str, &str, &[Rename])] = &[
    (
        "topicPolicyConfig",
        "topicPolicy",
        &[("topicsConfig", "topics"), ("tierConfig", "tier")],
    ),
    (
        "contentPolicyConfig",
        "contentPolicy",
        &[("filtersConfig", "filters"), ("tierConfig", "tier")],
    ),
    (
        "wordPolicyConfig",
        "wordPolicy",
        &[
            ("wordsConfig", "words"),
            ("managedWordListsConfig", "managedWordLists"),
        ],
    ),
    (
        "sensitiveInformationPolicyConfig",
        "sensitiveInformationPolicy",
        &[("piiEntitiesConfig", "piiEntities"), ("regexesConfig", "regexes")],
    ),
    (
        "contextualGroundingPolicyConfig",
        "contextualGroundingPolicy",
        &[("filtersConfig", "filters"), ("tierConfig", "tier")],
    ),
    ("automatedReasoningPolicyConfig", "automatedReasoningPolicy", &[]),
];

/// The routes of the REST API: the operation a method and path name, and the guardrail
/// identifier in the path (still percent-encoded).
pub fn route(method: &str, path: &str) -> Option<(&'static str, Option<String>)> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let op = match (method, segments.as_slice()) {
        ("GET", ["guardrails"]) => "ListGuardrails",
        ("POST", ["guardrails"]) => "CreateGuardrail",
        ("GET", ["guardrails", _]) => "GetGuardrail",
        ("PUT", ["guardrails", _]) => "UpdateGuardrail",
        ("POST", ["guardrails", _]) => "CreateGuardrailVersion",
        ("DELETE", ["guardrails", _]) => "DeleteGuardrail",
        ("POST", ["tagResource"]) => "TagResource",
        ("POST", ["untagResource"]) => "UntagResource",
        ("POST", ["listTagsForResource"]) => "ListTagsForResource",
        _ => return None,
    };
    let id = match segments.as_slice() {
        ["guardrails", id] => Some(
            percent_encoding::percent_decode_str(id)
                .decode_utf8_lossy()
                .into_owned(),
        ),
        _ => None,
    };
    Some((op, id))
}

pub fn handle(world: &mut World, ctx: &mut Ctx, op: &str, req: &Value) -> Result<(u16, Value), AwsError> {
    match op {
        "CreateGuardrail" => create_guardrail(world, ctx, req),
        "GetGuardrail" => get_guardrail(world, ctx, req),
        "ListGuardrails" => list_guardrails(world, ctx, req),
        "UpdateGuardrail" => update_guardrail(world, ctx, req),
        "CreateGuardrailVersion" => create_version(world, ctx, req),
        "DeleteGuardrail" => delete_guardrail(world, ctx, req),
        "TagResource" => tag_resource(world, ctx, req),
        "UntagResource" => untag_resource(world, ctx, req),
        "ListTagsForResource" => list_tags(world, ctx, req),
        _ => Err(AwsError::new(
            "UnknownOperationException",
            404,
            format!("Operation {op} is not supported."),
        )),
    }
}

pub fn iso8601(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

fn str_member<'a>(req: &'a Value, name: &str) -> Option<&'a str> {
    req.get(name).and_then(Value::as_str)
}

fn not_found(identifier: &str) -> AwsError {
    AwsError::not_found(format!(
        "The guardrail with identifier {identifier} was not found."
    ))
}

/// Finds the guardrail an identifier (id or ARN) names in the caller's account and region.
fn find<'w>(world: &'w mut World, ctx: &Ctx, identifier: &str) -> Result<&'w mut Guardrail, AwsError> {
    let region = world.region_mut(ctx.account, ctx.region);
    let id = region
        .guardrail_id(identifier, ctx.account, ctx.region)
        .ok_or_else(|| not_found(identifier))?;
    Ok(region.guardrails.get_mut(&id).expect("id was just found"))
}

/// Turns the request's policy members into the stored, response-shaped policies.
pub fn policies_from_request(
    req: &Value,
    account: &str,
    region: &str,
) -> Result<Map<String, Value>, AwsError> {
    let mut out = Map::new();
    for (request_name, response_name, renames) in POLICY_RENAMES {
        let Some(Value::Object(config)) = req.get(*request_name) else {
            continue;
        };
        let mut policy = Map::new();
        for (k, v) in config {
            let name = renames
                .iter()
                .find(|(from, _)| from == k)
                .map_or(k.as_str(), |(_, to)| to);
            policy.insert(name.to_string(), v.clone());
        }
        out.insert(response_name.to_string(), Value::Object(policy));
    }
    if let Some(profile) = req
        .get("crossRegionConfig")
        .and_then(|c| str_member(c, "guardrailProfileIdentifier"))
    {
        let (id, arn) = match parse_arn(profile) {
            Some(arn) => (
                arn.resource.trim_start_matches("guardrail-profile/").to_string(),
                profile.to_string(),
            ),
            None => (
                profile.to_string(),
                format!(
                    "arn:{}:bedrock:{region}:{account}:guardrail-profile/{profile}",
                    crate::regions::partition_of(region)
                ),
            ),
        };
        out.insert(
            "crossRegionDetails".into(),
            json!({"guardrailProfileId": id, "guardrailProfileArn": arn}),
        );
    }
    let standard = ["topicPolicy", "contentPolicy"].iter().any(|p| {
        out.get(*p)
            .and_then(|p| p.pointer("/tier/tierName"))
            .and_then(Value::as_str)
            == Some("STANDARD")
    });
    if standard && !out.contains_key("crossRegionDetails") {
        return Err(AwsError::validation(
            "The STANDARD tier requires a cross-Region guardrail profile: set crossRegionConfig.",
        ));
    }
    Ok(out)
}

/// The request's whole configuration, as UpdateGuardrail replaces it.
fn config_from_request(world: &mut World, ctx: &Ctx, req: &Value) -> Result<GuardrailConfig, AwsError> {
    let policies = policies_from_request(req, ctx.account, ctx.region)?;
    let kms_key_arn = match str_member(req, "kmsKeyId") {
        Some(key) => Some(kms::key_for_guardrail(world, ctx.account, ctx.region, key)?),
        None => None,
    };
    Ok(GuardrailConfig {
        name: str_member(req, "name").unwrap_or_default().to_string(),
        description: str_member(req, "description").map(str::to_string),
        blocked_input_messaging: str_member(req, "blockedInputMessaging")
            .unwrap_or_default()
            .to_string(),
        blocked_outputs_messaging: str_member(req, "blockedOutputsMessaging")
            .unwrap_or_default()
            .to_string(),
        policies: world.intern(policies),
        kms_key_arn,
    })
}

fn name_taken(region: &RegionState, name: &str, except_id: Option<&str>) -> bool {
    region
        .guardrails
        .values()
        .any(|g| g.draft.name == name && Some(g.id.as_str()) != except_id)
}

fn create_guardrail(world: &mut World, ctx: &mut Ctx, req: &Value) -> Result<(u16, Value), AwsError> {
    let config = config_from_request(world, ctx, req)?;
    let region = world.region_mut(ctx.account, ctx.region);
    if name_taken(region, &config.name, None) {
        return Err(AwsError::conflict(format!(
            "A guardrail with the name {} already exists.",
            config.name
        )));
    }
    let id = loop {
        let id = new_guardrail_id(ctx.rng);
        if !region.guardrails.contains_key(&id) {
            break id;
        }
    };
    let arn = guardrail_arn(ctx.region, ctx.account, &id);
    let mut g = Guardrail::new(id.clone(), arn.clone(), config, ctx.now);
    if let Some(tags) = req.get("tags").and_then(Value::as_array) {
        for t in tags {
            if let (Some(k), Some(v)) = (str_member(t, "key"), str_member(t, "value")) {
                g.tags.insert(k.to_string(), v.to_string());
            }
        }
    }
    g.begin(GuardrailStatus::Creating, ctx.settle, ctx.instant);
    region.guardrails.insert(id.clone(), g);
    Ok((
        202,
        json!({"guardrailId": id, "guardrailArn": arn, "version": "DRAFT", "createdAt": iso8601(ctx.now)}),
    ))
}

fn parse_version(req: &Value) -> Result<Option<u32>, AwsError> {
    match str_member(req, "guardrailVersion") {
        None | Some("DRAFT") => Ok(None),
        Some(v) => v.parse::<u32>().ok().filter(|n| *n > 0).map(Some).ok_or_else(|| {
            AwsError::validation(format!(
                "1 validation error detected: Value '{v}' at 'guardrailVersion' failed to satisfy constraint: \
                 Member must satisfy regular expression pattern: (([1-9][0-9]{{0,7}})|(DRAFT))"
            ))
        }),
    }
}

fn config_body(config: &GuardrailConfig, out: &mut Map<String, Value>) {
    out.insert("name".into(), json!(config.name));
    if let Some(d) = &config.description {
        out.insert("description".into(), json!(d));
    }
    for (k, v) in config.policies.iter() {
        out.insert(k.clone(), v.clone());
    }
    out.insert(
        "blockedInputMessaging".into(),
        json!(config.blocked_input_messaging),
    );
    out.insert(
        "blockedOutputsMessaging".into(),
        json!(config.blocked_outputs_messaging),
    );
    if let Some(k) = &config.kms_key_arn {
        out.insert("kmsKeyArn".into(), json!(k));
    }
}

fn get_guardrail(world: &mut World, ctx: &mut Ctx, req: &Value) -> Result<(u16, Value), AwsError> {
    let identifier = str_member(req, "guardrailIdentifier").unwrap_or_default();
    let version = parse_version(req)?;
    let instant = ctx.instant;
    let g = find(world, ctx, identifier)?;
    let mut out = Map::new();
    out.insert("guardrailId".into(), json!(g.id));
    out.insert("guardrailArn".into(), json!(g.arn));
    match version {
        None => {
            config_body(&g.draft, &mut out);
            out.insert("version".into(), json!("DRAFT"));
            out.insert("status".into(), json!(g.status(instant).as_str()));
            if !g.status_reasons.is_empty() {
                out.insert("statusReasons".into(), json!(g.status_reasons));
            }
            if !g.failure_recommendations.is_empty() {
                out.insert("failureRecommendations".into(), json!(g.failure_recommendations));
            }
            out.insert("createdAt".into(), json!(iso8601(g.created_at)));
            out.insert("updatedAt".into(), json!(iso8601(g.updated_at)));
        }
        Some(n) => {
            let v = g.version(n).ok_or_else(|| {
                AwsError::not_found(format!(
                    "The guardrail with identifier {identifier} and version {n} was not found."
                ))
            })?;
            config_body(&v.config, &mut out);
            out.insert("version".into(), json!(n.to_string()));
            out.insert("status".into(), json!("READY"));
            out.insert("createdAt".into(), json!(iso8601(v.created_at)));
            out.insert("updatedAt".into(), json!(iso8601(v.created_at)));
        }
    }
    Ok((200, Value::Object(out)))
}

fn summary(
    g: &Guardrail,
    config: &GuardrailConfig,
    version: &str,
    status: &str,
    created: OffsetDateTime,
    updated: OffsetDateTime,
) -> Value {
    let mut s = Map::new();
    s.insert("id".into(), json!(g.id));
    s.insert("arn".into(), json!(g.arn));
    s.insert("status".into(), json!(status));
    s.insert("name".into(), json!(config.name));
    if let Some(d) = &config.description {
        s.insert("description".into(), json!(d));
    }
    s.insert("version".into(), json!(version));
    s.insert("createdAt".into(), json!(iso8601(created)));
    s.insert("updatedAt".into(), json!(iso8601(updated)));
    if let Some(c) = config.policies.get("crossRegionDetails") {
        s.insert("crossRegionDetails".into(), c.clone());
    }
    Value::Object(s)
}

fn bad_token() -> AwsError {
    AwsError::validation("The pagination token is invalid. Use the nextToken from the previous response.")
}

pub(super) fn decode_token(req: &Value) -> Result<Option<String>, AwsError> {
    match str_member(req, "nextToken") {
        None => Ok(None),
        Some(t) => {
            let bytes = URL_SAFE_NO_PAD.decode(t).map_err(|_| bad_token())?;
            let cursor = String::from_utf8(bytes).map_err(|_| bad_token())?;
            cursor
                .strip_prefix("gk1:")
                .map(|c| Some(c.to_string()))
                .ok_or_else(bad_token)
        }
    }
}

pub(super) fn encode_token(cursor: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("gk1:{cursor}"))
}

/// The ids a ListGuardrails page returned, for faults that strike between list and get.
pub fn listed_ids(response: &Value) -> Vec<String> {
    response["guardrails"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

const DEFAULT_PAGE_SIZE: usize = 20;

fn list_guardrails(world: &mut World, ctx: &mut Ctx, req: &Value) -> Result<(u16, Value), AwsError> {
    let max = req
        .get("maxResults")
        .and_then(Value::as_u64)
        .map_or(DEFAULT_PAGE_SIZE, |n| n as usize);
    let cursor = decode_token(req)?;
    let instant = ctx.instant;
    let mut page = Vec::new();
    let mut next = None;
    if let Some(identifier) = str_member(req, "guardrailIdentifier") {
        // The versions of one guardrail: DRAFT first, then each number.
        let g = find(world, ctx, identifier)?;
        let start: usize = match cursor {
            Some(c) => c.parse().map_err(|_| bad_token())?,
            None => 0,
        };
        let mut entries = vec![summary(
            g,
            &g.draft,
            "DRAFT",
            g.status(instant).as_str(),
            g.created_at,
            g.updated_at,
        )];
        entries.extend(g.versions.iter().map(|v| {
            summary(
                g,
                &v.config,
                &v.number.to_string(),
                "READY",
                v.created_at,
                v.created_at,
            )
        }));
        let total = entries.len();
        if start > total {
            return Err(bad_token());
        }
        let end = (start + max).min(total);
        page.extend(entries.drain(start..end));
        if end < total {
            next = Some(encode_token(&end.to_string()));
        }
    } else {
        let region = world.region_mut(ctx.account, ctx.region);
        let mut iter = match &cursor {
            Some(c) => region.guardrails.range(c.clone()..),
            None => region.guardrails.range(String::new()..),
        };
        for (_, g) in iter.by_ref().take(max) {
            page.push(summary(
                g,
                &g.draft,
                "DRAFT",
                g.status(instant).as_str(),
                g.created_at,
                g.updated_at,
            ));
        }
        if let Some((id, _)) = iter.next() {
            next = Some(encode_token(id));
        }
    }
    let mut out = json!({ "guardrails": page });
    if let Some(t) = next {
        out["nextToken"] = json!(t);
    }
    Ok((200, out))
}

fn update_guardrail(world: &mut World, ctx: &mut Ctx, req: &Value) -> Result<(u16, Value), AwsError> {
    let identifier = str_member(req, "guardrailIdentifier").unwrap_or_default();
    let config = config_from_request(world, ctx, req)?;
    let (now, instant, settle) = (ctx.now, ctx.instant, ctx.settle);
    let id = find(world, ctx, identifier)?.id.clone();
    let region = world.region_mut(ctx.account, ctx.region);
    if name_taken(region, &config.name, Some(&id)) {
        return Err(AwsError::conflict(format!(
            "A guardrail with the name {} already exists.",
            config.name
        )));
    }
    let g = region.guardrails.get_mut(&id).expect("found above");
    let status = g.status(instant);
    if !matches!(status, GuardrailStatus::Ready | GuardrailStatus::Failed) {
        return Err(AwsError::conflict(format!(
            "The guardrail {identifier} is {} and cannot be updated now. Try again when it is READY.",
            status.as_str()
        )));
    }
    // The whole DRAFT is replaced: what the request leaves out is gone.
    g.draft = config;
    g.updated_at = now;
    g.status_reasons.clear();
    g.failure_recommendations.clear();
    match g.fail_next_update.take() {
        Some((reasons, recommendations)) => {
            g.status_reasons = reasons;
            g.failure_recommendations = recommendations;
            g.begin_then(
                GuardrailStatus::Updating,
                GuardrailStatus::Failed,
                settle,
                instant,
            );
        }
        None => g.begin(GuardrailStatus::Updating, settle, instant),
    }
    Ok((
        202,
        json!({"guardrailId": g.id, "guardrailArn": g.arn, "version": "DRAFT", "updatedAt": iso8601(now)}),
    ))
}

fn create_version(world: &mut World, ctx: &mut Ctx, req: &Value) -> Result<(u16, Value), AwsError> {
    let identifier = str_member(req, "guardrailIdentifier").unwrap_or_default();
    let (now, instant, settle) = (ctx.now, ctx.instant, ctx.settle);
    let description = str_member(req, "description").map(str::to_string);
    let g = find(world, ctx, identifier)?;
    let status = g.status(instant);
    if status != GuardrailStatus::Ready {
        return Err(AwsError::conflict(format!(
            "The guardrail {identifier} is {} and cannot be versioned now. Try again when it is READY.",
            status.as_str()
        )));
    }
    let number = g.next_version;
    let mut config = g.draft.clone();
    if description.is_some() {
        config.description = description;
    }
    g.versions.push(GuardrailVersion {
        number,
        config,
        created_at: now,
    });
    g.next_version += 1;
    g.begin(GuardrailStatus::Versioning, settle, instant);
    Ok((202, json!({"guardrailId": g.id, "version": number.to_string()})))
}

fn delete_guardrail(world: &mut World, ctx: &mut Ctx, req: &Value) -> Result<(u16, Value), AwsError> {
    let identifier = str_member(req, "guardrailIdentifier").unwrap_or_default();
    let version = parse_version(req)?;
    let id = find(world, ctx, identifier)?.id.clone();
    let region = world.region_mut(ctx.account, ctx.region);
    match version {
        None => {
            region.guardrails.remove(&id);
        }
        Some(n) => {
            let g = region.guardrails.get_mut(&id).expect("found above");
            let before = g.versions.len();
            g.versions.retain(|v| v.number != n);
            if g.versions.len() == before {
                return Err(AwsError::not_found(format!(
                    "The guardrail with identifier {identifier} and version {n} was not found."
                )));
            }
        }
    }
    Ok((202, json!({})))
}

fn tagged<'w>(world: &'w mut World, ctx: &Ctx, req: &Value) -> Result<&'w mut Guardrail, AwsError> {
    let arn = str_member(req, "resourceARN").unwrap_or_default();
    let is_guardrail = parse_arn(arn).is_some_and(|a| a.resource.starts_with("guardrail/"));
    if !is_guardrail {
        return Err(AwsError::not_found(format!("The resource {arn} was not found.")));
    }
    find(world, ctx, arn).map_err(|_| AwsError::not_found(format!("The resource {arn} was not found.")))
}

const MAX_TAGS: usize = 200;

fn tag_resource(world: &mut World, ctx: &mut Ctx, req: &Value) -> Result<(u16, Value), AwsError> {
    let g = tagged(world, ctx, req)?;
    let mut tags = g.tags.clone();
    for t in req["tags"].as_array().into_iter().flatten() {
        if let (Some(k), Some(v)) = (str_member(t, "key"), str_member(t, "value")) {
            tags.insert(k.to_string(), v.to_string());
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(AwsError::new(
            "TooManyTagsException",
            400,
            format!("A resource can have at most {MAX_TAGS} tags."),
        ));
    }
    g.tags = tags;
    Ok((200, json!({})))
}

fn untag_resource(world: &mut World, ctx: &mut Ctx, req: &Value) -> Result<(u16, Value), AwsError> {
    let g = tagged(world, ctx, req)?;
    for k in req["tagKeys"].as_array().into_iter().flatten() {
        if let Some(k) = k.as_str() {
            g.tags.remove(k);
        }
    }
    Ok((200, json!({})))
}

fn list_tags(world: &mut World, ctx: &mut Ctx, req: &Value) -> Result<(u16, Value), AwsError> {
    let g = tagged(world, ctx, req)?;
    let tags: Vec<Value> = g
        .tags
        .iter()
        .map(|(k, v)| json!({"key": k, "value": v}))
        .collect();
    Ok((200, json!({ "tags": tags })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_the_rest_api() {
        assert_eq!(route("GET", "/guardrails"), Some(("ListGuardrails", None)));
        assert_eq!(
            route(
                "GET",
                "/guardrails/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Aguardrail%2Fabc"
            ),
            Some((
                "GetGuardrail",
                Some("arn:aws:bedrock:us-east-1:123456789012:guardrail/abc".into())
            ))
        );
        assert_eq!(
            route("POST", "/guardrails/abc").unwrap().0,
            "CreateGuardrailVersion"
        );
        assert_eq!(route("PATCH", "/guardrails/abc"), None);
        assert_eq!(route("GET", "/models"), None);
    }

    #[test]
    fn timestamps_are_iso8601_with_milliseconds() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_000_000).unwrap();
        assert_eq!(iso8601(t), "2023-11-14T22:13:20.123Z");
    }

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        let t = encode_token("abc123");
        assert_eq!(
            decode_token(&json!({"nextToken": t})).unwrap().as_deref(),
            Some("abc123")
        );
        assert!(decode_token(&json!({"nextToken": "garbage!"})).is_err());
    }
}
