//! AWS KMS (JSON 1.1): the key operations guardkey audits and remediates with.
//!
//! (One file per service on purpose: every key operation with KMS's semantics, to be read
//! side by side with the API reference; a third of it is tests.)

use serde_json::{Value, json};
use time::{Duration as TimeDuration, OffsetDateTime};

use super::state::{Alias, Ctx, Key, KeyGrant, KeyState, World, alias_arn, key_arn, new_key_id, parse_arn};
use super::wire::AwsError;
use crate::model::policy::strings;

pub fn handle(world: &mut World, ctx: &mut Ctx, op: &str, req: &Value) -> Result<Value, AwsError> {
    match op {
        "CreateKey" => create_key(world, ctx, req),
        "DescribeKey" => {
            let key = resolve(world, ctx, member(req, "KeyId"), true)?;
            let replicas = if key.multi_region {
                replicas_of(world, &key.account, &key.key_id)
            } else {
                Vec::new()
            };
            Ok(json!({ "KeyMetadata": metadata(key, &replicas) }))
        }
        "ReplicateKey" => replicate_key(world, ctx, req),
        "ListKeys" => list_keys(world, ctx, req),
        "ListAliases" => list_aliases(world, ctx, req),
        "CreateAlias" => create_alias(world, ctx, req),
        "UpdateAlias" => update_alias(world, ctx, req),
        "DeleteAlias" => delete_alias(world, ctx, req),
        "EnableKeyRotation" => set_rotation(world, ctx, req, true),
        "DisableKeyRotation" => set_rotation(world, ctx, req, false),
        "GetKeyRotationStatus" => rotation_status(world, ctx, req),
        "GetKeyPolicy" => {
            policy_name(req)?;
            let key = resolve(world, ctx, member(req, "KeyId"), false)?;
            Ok(json!({"Policy": key.policy, "PolicyName": "default"}))
        }
        "PutKeyPolicy" => put_key_policy(world, ctx, req),
        "EnableKey" => set_enabled(world, ctx, req, true),
        "DisableKey" => set_enabled(world, ctx, req, false),
        "ScheduleKeyDeletion" => schedule_deletion(world, ctx, req),
        "CancelKeyDeletion" => cancel_deletion(world, ctx, req),
        "TagResource" => tag_resource(world, ctx, req),
        "ListResourceTags" => list_tags(world, ctx, req),
        "CreateGrant" => create_grant(world, ctx, req),
        "ListGrants" => list_grants(world, ctx, req),
        "RevokeGrant" => revoke_grant(world, ctx, req),
        _ => Err(AwsError::new(
            "UnknownOperationException",
            400,
            format!("Operation {op} is not supported."),
        )),
    }
}

fn member<'a>(req: &'a Value, name: &str) -> &'a str {
    req.get(name).and_then(Value::as_str).unwrap_or_default()
}

pub fn epoch(t: OffsetDateTime) -> Value {
    let millis = (t.unix_timestamp_nanos() / 1_000_000) as f64;
    json!(millis / 1000.0)
}

fn not_found(ident: &str) -> AwsError {
    AwsError::new("NotFoundException", 400, format!("Key '{ident}' does not exist"))
}

fn invalid_state(key: &Key, what: &str) -> AwsError {
    AwsError::new(
        "KMSInvalidStateException",
        400,
        format!("{} is {} and {what}.", key.arn, key.state.as_str()),
    )
}

/// Where an identifier points: (account, region, key id). Key ids, key ARNs, and, where
/// the operation takes them, alias names and alias ARNs.
fn locate(
    world: &World,
    ctx: &Ctx,
    ident: &str,
    allow_alias: bool,
) -> Result<(String, String, String), AwsError> {
    let (account, region, resource) = match ident.strip_prefix("arn:") {
        Some(_) => {
            let arn = parse_arn(ident)
                .filter(|a| a.service == "kms")
                .ok_or_else(|| AwsError::new("InvalidArnException", 400, format!("Invalid arn {ident}")))?;
            (
                arn.account.to_string(),
                arn.region.to_string(),
                arn.resource.to_string(),
            )
        }
        None => (ctx.account.to_string(), ctx.region.to_string(), ident.to_string()),
    };
    let state = world.region(&account, &region).ok_or_else(|| not_found(ident))?;
    if let Some(key_id) = resource.strip_prefix("key/") {
        return Ok((account, region, key_id.to_string()));
    }
    if resource.starts_with("alias/") {
        if !allow_alias {
            return Err(not_found(ident));
        }
        let alias = state.aliases.get(&resource).ok_or_else(|| {
            AwsError::new(
                "NotFoundException",
                400,
                format!("Alias {} is not found.", alias_arn(&region, &account, &resource)),
            )
        })?;
        return Ok((account, region, alias.target_key_id.clone()));
    }
    if ident.starts_with("arn:") {
        return Err(AwsError::new(
            "InvalidArnException",
            400,
            format!("Invalid arn {ident}"),
        ));
    }
    Ok((account, region, resource))
}

fn resolve<'w>(world: &'w World, ctx: &Ctx, ident: &str, allow_alias: bool) -> Result<&'w Key, AwsError> {
    let (account, region, key_id) = locate(world, ctx, ident, allow_alias)?;
    world
        .region(&account, &region)
        .and_then(|r| r.keys.get(&key_id))
        .ok_or_else(|| not_found(ident))
}

fn resolve_mut<'w>(world: &'w mut World, ctx: &Ctx, ident: &str) -> Result<&'w mut Key, AwsError> {
    let (account, region, key_id) = locate(world, ctx, ident, false)?;
    world
        .region_mut(&account, &region)
        .keys
        .get_mut(&key_id)
        .ok_or_else(|| not_found(ident))
}

/// The key ARN a guardrail stores for `kms_key_id`, after the checks Bedrock makes: the key
/// exists in the guardrail's account and region, is enabled, and is a symmetric
/// encryption key.
pub fn key_for_guardrail(
    world: &World,
    account: &str,
    region: &str,
    kms_key_id: &str,
) -> Result<String, AwsError> {
    let mut rng = fastrand::Rng::with_seed(0);
    let ctx = Ctx {
        account,
        region,
        caller_arn: "",
        now: OffsetDateTime::now_utc(),
        instant: std::time::Instant::now(),
        settle: std::time::Duration::ZERO,
        rng: &mut rng,
    };
    let invalid = |why: &str| {
        AwsError::validation(format!(
            "The KMS key {kms_key_id} cannot be used to encrypt this guardrail: {why}"
        ))
    };
    let key = resolve(world, &ctx, kms_key_id, true).map_err(|e| match e.code.as_str() {
        "InvalidArnException" => invalid("it is not a valid key ARN"),
        _ => invalid("the key does not exist or is not accessible"),
    })?;
    if key.account != account || key.region != region {
        return Err(invalid(&format!(
            "the key must be in the guardrail's account {account} and region {region}"
        )));
    }
    if key.state != KeyState::Enabled {
        return Err(invalid(&format!("the key is {}", key.state.as_str())));
    }
    if !key.is_symmetric_encryption() {
        return Err(invalid(&format!(
            "the key is {} {}, not a symmetric encryption key (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT)",
            key.spec, key.usage
        )));
    }
    Ok(key.arn.clone())
}

/// DescribeKey's KeyMetadata; `replicas` (ARN, region): a multi-Region key's replicas.
pub fn metadata(key: &Key, replicas: &[(String, String)]) -> Value {
    let mut m = json!({
        "AWSAccountId": key.account,
        "KeyId": key.key_id,
        "Arn": key.arn,
        "CreationDate": epoch(key.created_at),
        "Enabled": key.state == KeyState::Enabled,
        "Description": key.description,
        "KeyUsage": key.usage,
        "KeyState": key.state.as_str(),
        "Origin": key.origin,
        "KeyManager": key.manager,
        "CustomerMasterKeySpec": key.spec,
        "KeySpec": key.spec,
        "MultiRegion": key.multi_region,
    });
    if key.is_symmetric_encryption() {
        m["EncryptionAlgorithms"] = json!(["SYMMETRIC_DEFAULT"]);
    }
    if let Some(d) = key.deletion_date {
        m["DeletionDate"] = epoch(d);
    }
    if let Some(w) = key.pending_window_days {
        m["PendingDeletionWindowInDays"] = json!(w);
    }
    if key.multi_region {
        // KMS: ReplicaKeys lists every replica, the key itself included when it is one.
        let (kind, primary_region) = match &key.primary_region {
            Some(r) => ("REPLICA", r.as_str()),
            None => ("PRIMARY", key.region.as_str()),
        };
        m["MultiRegionConfiguration"] = json!({
            "MultiRegionKeyType": kind,
            "PrimaryKey": {"Arn": key_arn(primary_region, &key.account, &key.key_id), "Region": primary_region},
            "ReplicaKeys": replicas.iter().map(|(arn, region)| json!({"Arn": arn, "Region": region})).collect::<Vec<_>>(),
        });
    }
    m
}

/// The default key policy KMS gives a key created without one (commercial partition).
pub fn default_policy(account: &str) -> String {
    default_policy_in("aws", account)
}

/// The default key policy in `partition`: the account root, in that partition.
pub fn default_policy_in(partition: &str, account: &str) -> String {
    serde_json::to_string_pretty(&json!({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:{partition}:iam::{account}:root")},
            "Action": "kms:*",
            "Resource": "*"
        }]
    }))
    .expect("static JSON serializes")
}

/// Every AWS principal a statement names (`"Principal": "*"` or `{"AWS": …}`).
fn aws_principals(statement: &Value) -> Vec<&str> {
    match &statement["Principal"] {
        Value::String(p) => vec![p.as_str()],
        p => strings(&p["AWS"]),
    }
}

/// Whether KMS accepts `principal` in a key policy of `partition`: everyone, an account
/// (id or root ARN) of the same partition, or a user or role (or a role's session) that
/// exists. KMS checks each one: "Policy contains a statement with one or more invalid
/// principals." otherwise (MalformedPolicyDocumentException). A role named without its
/// path does not exist.
fn principal_is_valid(world: &World, principal: &str, partition: &str) -> bool {
    if principal == "*" || (principal.len() == 12 && principal.bytes().all(|b| b.is_ascii_digit())) {
        return true;
    }
    let Some(arn) = parse_arn(principal) else {
        return false;
    };
    if arn.partition != partition {
        return false;
    }
    match (arn.service, arn.resource) {
        ("iam", "root") => arn.account.len() == 12 && arn.account.bytes().all(|b| b.is_ascii_digit()),
        ("iam", r) if r.starts_with("user/") || r.starts_with("role/") => {
            world.iam.resolve(principal).is_some()
        }
        ("sts", r) if r.starts_with("assumed-role/") => world.iam.resolve(principal).is_some(),
        _ => false,
    }
}

/// The largest key policy document KMS takes.
pub const MAX_POLICY_BYTES: usize = 32_768;

/// KMS refuses a policy that is not a JSON policy document, one that names a principal
/// that does not exist, or (unless the caller bypasses the check) one that would no longer
/// let the caller change the policy.
fn check_policy(world: &World, policy: &str, ctx: &Ctx, bypass_lockout_check: bool) -> Result<(), AwsError> {
    let malformed = |why: &str| AwsError::new("MalformedPolicyDocumentException", 400, why.to_string());
    // The model allows 131,072 characters; KMS's quota on a key policy document is 32 KiB.
    // The API reference (CreateKey, PutKeyPolicy: Policy) says it: "If the key policy exceeds
    // the length constraint, KMS returns a LimitExceededException".
    if policy.len() > MAX_POLICY_BYTES {
        return Err(AwsError::new(
            "LimitExceededException",
            400,
            format!(
                "The key policy is {} bytes; the limit is {MAX_POLICY_BYTES}.",
                policy.len()
            ),
        ));
    }
    // The same reference: "A key policy document can include only the following characters":
    // printable ASCII and Latin-1 (U+0020 to U+00FF), tab, line feed and carriage return.
    if let Some(c) = policy
        .chars()
        .find(|c| !matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{ff}'))
    {
        return Err(malformed(&format!(
            "The policy contains a character KMS does not take in a key policy ({:?}).",
            c
        )));
    }
    let doc: Value = serde_json::from_str(policy).map_err(|_| malformed("The policy is not valid JSON."))?;
    let statements: Vec<&Value> = match &doc["Statement"] {
        Value::Array(a) => a.iter().collect(),
        s @ Value::Object(_) => vec![s],
        _ => return Err(malformed("The policy has no Statement.")),
    };
    let partition = parse_arn(ctx.caller_arn).map_or("aws", |a| a.partition);
    let all_valid = statements
        .iter()
        .flat_map(|s| aws_principals(s))
        .all(|p| principal_is_valid(world, p, partition));
    if !all_valid {
        return Err(malformed(
            "Policy contains a statement with one or more invalid principals.",
        ));
    }
    if bypass_lockout_check {
        return Ok(());
    }
    let root = format!("arn:{partition}:iam::{}:root", ctx.account);
    // Key policies name roles, not sessions: the caller's role, with its path.
    let caller = world
        .iam
        .resolve(ctx.caller_arn)
        .map_or(ctx.caller_arn, |e| e.arn.as_str());
    let lets_caller_manage = statements.iter().any(|s| {
        let allows = s["Effect"].as_str() == Some("Allow") && s.get("Condition").is_none();
        let names_caller = aws_principals(s)
            .iter()
            .any(|p| *p == "*" || *p == root || *p == ctx.account || *p == caller);
        let actions = strings(&s["Action"]);
        let may_put = actions
            .iter()
            .any(|a| matches!(*a, "*" | "kms:*" | "kms:Put*" | "kms:PutKeyPolicy"));
        allows && names_caller && may_put
    });
    if lets_caller_manage {
        Ok(())
    } else {
        Err(malformed(
            "The new key policy will not allow you to update the key policy in the future.",
        ))
    }
}

/// The policy of a key CreateKey or ReplicateKey makes: `Policy`, checked as KMS checks it
/// (unless `BypassPolicyLockoutSafetyCheck`), else KMS's default policy for the account.
fn new_key_policy(world: &World, ctx: &Ctx, req: &Value) -> Result<String, AwsError> {
    match req.get("Policy").and_then(Value::as_str) {
        Some(p) => {
            let bypass = req["BypassPolicyLockoutSafetyCheck"].as_bool() == Some(true);
            check_policy(world, p, ctx, bypass)?;
            Ok(p.to_string())
        }
        None => Ok(default_policy_in(
            crate::regions::partition_of(ctx.region),
            ctx.account,
        )),
    }
}

/// A request's `Tags` (TagKey, TagValue) as the key stores them.
fn request_tags(req: &Value) -> Vec<(String, String)> {
    req["Tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| (member(t, "TagKey").to_string(), member(t, "TagValue").to_string()))
        .collect()
}

fn create_key(world: &mut World, ctx: &mut Ctx, req: &Value) -> Result<Value, AwsError> {
    let spec = req
        .get("KeySpec")
        .or_else(|| req.get("CustomerMasterKeySpec"))
        .and_then(Value::as_str)
        .unwrap_or("SYMMETRIC_DEFAULT");
    let usage = req
        .get("KeyUsage")
        .and_then(Value::as_str)
        .unwrap_or("ENCRYPT_DECRYPT");
    let origin = req.get("Origin").and_then(Value::as_str).unwrap_or("AWS_KMS");
    if origin != "AWS_KMS" {
        return Err(AwsError::new(
            "UnsupportedOperationException",
            400,
            format!("Origin {origin} is not supported by this endpoint."),
        ));
    }
    let usage_fits = match spec {
        "SYMMETRIC_DEFAULT" => usage == "ENCRYPT_DECRYPT",
        s if s.starts_with("HMAC_") => usage == "GENERATE_VERIFY_MAC",
        _ => true,
    };
    if !usage_fits {
        return Err(AwsError::validation(format!(
            "KeyUsage {usage} is not compatible with KeySpec {spec}"
        )));
    }
    let policy = new_key_policy(world, ctx, req)?;
    let multi_region = req["MultiRegion"].as_bool() == Some(true);
    let key_id = if multi_region {
        format!("mrk-{}", new_key_id(ctx.rng).replace('-', ""))
    } else {
        new_key_id(ctx.rng)
    };
    let tags = request_tags(req);
    let key = Key {
        arn: key_arn(ctx.region, ctx.account, &key_id),
        key_id: key_id.clone(),
        account: ctx.account.to_string(),
        region: ctx.region.to_string(),
        description: member(req, "Description").to_string(),
        state: KeyState::Enabled,
        manager: "CUSTOMER".into(),
        spec: spec.to_string(),
        usage: usage.to_string(),
        origin: origin.to_string(),
        multi_region,
        primary_region: None,
        created_at: ctx.now,
        deletion_date: None,
        pending_window_days: None,
        rotation_days: None,
        policy,
        tags,
        grants: Vec::new(),
    };
    let out = json!({ "KeyMetadata": metadata(&key, &[]) });
    world.region_mut(ctx.account, ctx.region).keys.insert(key_id, key);
    Ok(out)
}

/// The replicas of a multi-Region key (its ARN and region each), wherever they are.
fn replicas_of(world: &World, account: &str, key_id: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = world
        .regions()
        .filter(|((a, _), _)| a == account)
        .filter_map(|(_, r)| r.keys.get(key_id))
        .filter(|k| k.primary_region.is_some())
        .map(|k| (k.arn.clone(), k.region.clone()))
        .collect();
    out.sort();
    out
}

/// ReplicateKey (KMS API reference): called in the primary's region, it makes a replica in
/// `ReplicaRegion` of the same partition, with the same key id and key material. The replica's
/// policy is its own (`Policy`, else the default policy: KMS does not copy the primary's), and
/// so are its description and tags. Errors: the key is not a multi-Region primary
/// (UnsupportedOperationException), a replica is there already (AlreadyExistsException), the
/// region is this one, of another partition or unknown (ValidationException), the key is
/// disabled (DisabledException).
fn replicate_key(world: &mut World, ctx: &mut Ctx, req: &Value) -> Result<Value, AwsError> {
    let target = member(req, "ReplicaRegion").to_string();
    let primary = resolve(world, ctx, member(req, "KeyId"), false)?.clone();
    if !primary.multi_region || primary.primary_region.is_some() {
        return Err(AwsError::new(
            "UnsupportedOperationException",
            400,
            format!("{} is not a multi-Region primary key.", primary.arn),
        ));
    }
    if primary.state == KeyState::Disabled {
        return Err(AwsError::new(
            "DisabledException",
            400,
            format!("{} is disabled.", primary.arn),
        ));
    }
    let partition = crate::regions::partition_of(&primary.region);
    let known = crate::regions::regions_of(partition).is_some_and(|r| r.contains(&target.as_str()));
    if target == primary.region || !known {
        return Err(AwsError::validation(format!(
            "{target} is not a valid replica region for {} (a region of partition {partition} other than {})",
            primary.arn, primary.region
        )));
    }
    if world
        .region(&primary.account, &target)
        .is_some_and(|r| r.keys.contains_key(&primary.key_id))
    {
        return Err(AwsError::new(
            "AlreadyExistsException",
            400,
            format!("Replica key {} already exists in {target}.", primary.key_id),
        ));
    }
    // The caller's region is the primary's: the same account and partition.
    let policy = new_key_policy(world, ctx, req)?;
    let replica = Key {
        arn: key_arn(&target, &primary.account, &primary.key_id),
        region: target.clone(),
        primary_region: Some(primary.region.clone()),
        description: req
            .get("Description")
            .and_then(Value::as_str)
            .unwrap_or(&primary.description)
            .to_string(),
        state: KeyState::Enabled,
        created_at: ctx.now,
        deletion_date: None,
        pending_window_days: None,
        // Rotation is the primary's (KMS rotates a multi-Region key's material everywhere).
        rotation_days: primary.rotation_days,
        policy: policy.clone(),
        tags: request_tags(req),
        grants: Vec::new(),
        ..primary.clone()
    };
    let tags: Vec<Value> = replica
        .tags
        .iter()
        .map(|(k, v)| json!({"TagKey": k, "TagValue": v}))
        .collect();
    world
        .region_mut(&primary.account, &target)
        .keys
        .insert(primary.key_id.clone(), replica.clone());
    let replicas = replicas_of(world, &primary.account, &primary.key_id);
    Ok(json!({
        "ReplicaKeyMetadata": metadata(&replica, &replicas),
        "ReplicaPolicy": policy,
        "ReplicaTags": tags,
    }))
}

/// CreateGrant: the grantee (a principal that exists; KMS validates it as it validates key
/// policy principals — the answer for one that does not is an assumption: InvalidArnException)
/// may do `Operations` with the key. Answers the grant's id and token.
fn create_grant(world: &mut World, ctx: &mut Ctx, req: &Value) -> Result<Value, AwsError> {
    let grantee = member(req, "GranteePrincipal").to_string();
    let partition = crate::regions::partition_of(ctx.region);
    for p in std::iter::once(grantee.as_str()).chain(req.get("RetiringPrincipal").and_then(Value::as_str)) {
        if !principal_is_valid(world, p, partition) || p == "*" {
            return Err(AwsError::new(
                "InvalidArnException",
                400,
                format!("{p} is not a valid principal for a grant."),
            ));
        }
    }
    let operations: Vec<String> = req["Operations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    let id = (0..64)
        .map(|_| char::from_digit(ctx.rng.u32(..16), 16).expect("a hex digit"))
        .collect::<String>();
    let token = format!("AQpA{}", id.chars().rev().collect::<String>());
    let now = ctx.now;
    let account = ctx.account.to_string();
    let key = resolve_mut(world, ctx, member(req, "KeyId"))?;
    if !matches!(key.state, KeyState::Enabled | KeyState::Disabled) {
        return Err(invalid_state(key, "CreateGrant"));
    }
    key.grants.push(KeyGrant {
        id: id.clone(),
        name: req.get("Name").and_then(Value::as_str).map(str::to_string),
        grantee,
        retiring: req
            .get("RetiringPrincipal")
            .and_then(Value::as_str)
            .map(str::to_string),
        operations,
        constraints: req.get("Constraints").cloned(),
        issuing_account: format!("arn:{partition}:iam::{account}:root"),
        created: now,
    });
    Ok(json!({"GrantId": id, "GrantToken": token}))
}

/// ListGrants: the key's grants, paged (Limit 1 to 100, default 50), optionally of one grant
/// or one grantee.
fn list_grants(world: &mut World, ctx: &mut Ctx, req: &Value) -> Result<Value, AwsError> {
    let key = resolve(world, ctx, member(req, "KeyId"), false)?;
    let (id, grantee) = (
        req.get("GrantId").and_then(Value::as_str),
        req.get("GranteePrincipal").and_then(Value::as_str),
    );
    let grants: Vec<&KeyGrant> = key
        .grants
        .iter()
        .filter(|g| id.is_none_or(|i| g.id == i) && grantee.is_none_or(|p| g.grantee == p))
        .collect();
    page(grants, req, 50, "Grants", |g| {
        let mut entry = json!({
            "KeyId": key.arn, "GrantId": g.id, "CreationDate": epoch(g.created),
            "GranteePrincipal": g.grantee, "IssuingAccount": g.issuing_account, "Operations": g.operations,
        });
        if let Some(n) = &g.name {
            entry["Name"] = json!(n);
        }
        if let Some(r) = &g.retiring {
            entry["RetiringPrincipal"] = json!(r);
        }
        if let Some(c) = &g.constraints {
            entry["Constraints"] = c.clone();
        }
        entry
    })
}

fn revoke_grant(world: &mut World, ctx: &mut Ctx, req: &Value) -> Result<Value, AwsError> {
    let grant = member(req, "GrantId").to_string();
    let key = resolve_mut(world, ctx, member(req, "KeyId"))?;
    let before = key.grants.len();
    key.grants.retain(|g| g.id != grant);
    if key.grants.len() == before {
        return Err(AwsError::new(
            "NotFoundException",
            400,
            format!("Grant ID {grant} not found"),
        ));
    }
    Ok(json!({}))
}

fn bad_marker() -> AwsError {
    AwsError::new("InvalidMarkerException", 400, "The marker is not valid.")
}

/// One page of `items`, starting at the marker (an offset), with KMS's paging members.
fn page<T>(
    items: Vec<T>,
    req: &Value,
    default_limit: usize,
    list_name: &str,
    render: impl Fn(T) -> Value,
) -> Result<Value, AwsError> {
    let limit = req["Limit"].as_u64().map_or(default_limit, |l| l as usize);
    let start = match req.get("Marker").and_then(Value::as_str) {
        Some(m) => m
            .strip_prefix("gk-")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= items.len())
            .ok_or_else(bad_marker)?,
        None => 0,
    };
    let total = items.len();
    let end = (start + limit).min(total);
    let rendered: Vec<Value> = items
        .into_iter()
        .skip(start)
        .take(end - start)
        .map(render)
        .collect();
    let mut out = json!({ list_name: rendered, "Truncated": end < total });
    if end < total {
        out["NextMarker"] = json!(format!("gk-{end}"));
    }
    Ok(out)
}

fn list_keys(world: &mut World, ctx: &mut Ctx, req: &Value) -> Result<Value, AwsError> {
    let keys: Vec<&Key> = world
        .region(ctx.account, ctx.region)
        .map(|r| r.keys.values().collect())
        .unwrap_or_default();
    page(
        keys,
        req,
        100,
        "Keys",
        |k| json!({"KeyId": k.key_id, "KeyArn": k.arn}),
    )
}

fn list_aliases(world: &mut World, ctx: &mut Ctx, req: &Value) -> Result<Value, AwsError> {
    let only_key = match req.get("KeyId").and_then(Value::as_str) {
        Some(k) => Some(resolve(world, ctx, k, false)?.key_id.clone()),
        None => None,
    };
    let aliases: Vec<&Alias> = world
        .region(ctx.account, ctx.region)
        .map(|r| {
            r.aliases
                .values()
                .filter(|a| only_key.as_ref().is_none_or(|k| *k == a.target_key_id))
                .collect()
        })
        .unwrap_or_default();
    let (account, region) = (ctx.account, ctx.region);
    page(aliases, req, 50, "Aliases", |a| {
        json!({
            "AliasName": a.name,
            "AliasArn": alias_arn(region, account, &a.name),
            "TargetKeyId": a.target_key_id,
            "CreationDate": epoch(a.created_at),
            "LastUpdatedDate": epoch(a.updated_at),
        })
    })
}

fn check_alias_name(name: &str) -> Result<(), AwsError> {
    let invalid = |why: &str| AwsError::new("InvalidAliasNameException", 400, format!("Alias {name} {why}"));
    if !name.starts_with("alias/") || name.len() <= "alias/".len() {
        return Err(invalid("must begin with 'alias/' followed by a name"));
    }
    if name.starts_with("alias/aws/") {
        return Err(invalid(
            "must not begin with 'alias/aws/': that prefix is reserved for AWS managed keys",
        ));
    }
    Ok(())
}

/// The customer managed key an alias may point to, in the caller's account and region.
fn alias_target(world: &World, ctx: &Ctx, target: &str) -> Result<String, AwsError> {
    let key = resolve(world, ctx, target, false)?;
    if key.account != ctx.account || key.region != ctx.region {
        return Err(not_found(target));
    }
    if key.manager != "CUSTOMER" {
        return Err(AwsError::new(
            "NotAuthorizedException",
            400,
            format!(
                "{} is an AWS managed key: aliases can only point to customer managed keys",
                key.arn
            ),
        ));
    }
    if key.state == KeyState::PendingDeletion {
        return Err(invalid_state(key, "cannot be the target of an alias"));
    }
    Ok(key.key_id.clone())
}

fn create_alias(world: &mut World, ctx: &mut Ctx, req: &Value) -> Result<Value, AwsError> {
    let name = member(req, "AliasName");
    check_alias_name(name)?;
    let target = alias_target(world, ctx, member(req, "TargetKeyId"))?;
    let now = ctx.now;
    let region = world.region_mut(ctx.account, ctx.region);
    if region.aliases.contains_key(name) {
        return Err(AwsError::new(
            "AlreadyExistsException",
            400,
            format!(
                "An alias with the name {} already exists",
                alias_arn(ctx.region, ctx.account, name)
            ),
        ));
    }
    region.aliases.insert(
        name.to_string(),
        Alias {
            name: name.to_string(),
            target_key_id: target,
            created_at: now,
            updated_at: now,
        },
    );
    Ok(json!({}))
}

fn update_alias(world: &mut World, ctx: &mut Ctx, req: &Value) -> Result<Value, AwsError> {
    let name = member(req, "AliasName");
    check_alias_name(name)?;
    let target = alias_target(world, ctx, member(req, "TargetKeyId"))?;
    let now = ctx.now;
    let alias = world
        .region_mut(ctx.account, ctx.region)
        .aliases
        .get_mut(name)
        .ok_or_else(|| AwsError::new("NotFoundException", 400, format!("Alias {name} is not found.")))?;
    alias.target_key_id = target;
    alias.updated_at = now;
    Ok(json!({}))
}

fn delete_alias(world: &mut World, ctx: &mut Ctx, req: &Value) -> Result<Value, AwsError> {
    let name = member(req, "AliasName");
    check_alias_name(name)?;
    world
        .region_mut(ctx.account, ctx.region)
        .aliases
        .remove(name)
        .map(|_| json!({}))
        .ok_or_else(|| AwsError::new("NotFoundException", 400, format!("Alias {name} is not found.")))
}

fn customer_key<'w>(
    world: &'w mut World,
    ctx: &Ctx,
    req: &Value,
    what: &str,
) -> Result<&'w mut Key, AwsError> {
    let key = resolve_mut(world, ctx, member(req, "KeyId"))?;
    if key.manager != "CUSTOMER" {
        return Err(AwsError::new(
            "UnsupportedOperationException",
            400,
            format!("{} is an AWS managed key: you cannot {what} it", key.arn),
        ));
    }
    Ok(key)
}

fn set_rotation(world: &mut World, ctx: &mut Ctx, req: &Value, enable: bool) -> Result<Value, AwsError> {
    let period = req["RotationPeriodInDays"].as_i64().unwrap_or(365);
    let key = customer_key(world, ctx, req, "change the rotation of")?;
    if key.primary_region.is_some() {
        return Err(AwsError::new(
            "UnsupportedOperationException",
            400,
            format!(
                "{} is a multi-Region replica key: its rotation is set on the primary key and applies to every replica.",
                key.arn
            ),
        ));
    }
    match key.state {
        KeyState::Enabled => {}
        KeyState::Disabled => {
            return Err(AwsError::new(
                "DisabledException",
                400,
                format!("{} is disabled.", key.arn),
            ));
        }
        _ => return Err(invalid_state(key, "its rotation cannot be changed")),
    }
    if !key.is_symmetric_encryption() {
        return Err(AwsError::new(
            "UnsupportedOperationException",
            400,
            format!("{} does not support automatic rotation", key.arn),
        ));
    }
    key.rotation_days = enable.then_some(period);
    Ok(json!({}))
}

fn rotation_status(world: &mut World, ctx: &mut Ctx, req: &Value) -> Result<Value, AwsError> {
    let now = ctx.now;
    let key = resolve(world, ctx, member(req, "KeyId"), false)?;
    if key.state == KeyState::PendingDeletion {
        return Err(invalid_state(key, "its rotation status cannot be read"));
    }
    // AWS managed keys rotate every year, always. A multi-Region replica rotates with its
    // primary: KMS answers the primary's setting (KMS Developer Guide, "Rotating multi-Region keys").
    let days = if key.manager == "AWS" {
        Some(365)
    } else if let Some(primary) = key
        .primary_region
        .as_ref()
        .and_then(|r| world.region(&key.account, r))
        .and_then(|r| r.keys.get(&key.key_id))
    {
        primary.rotation_days
    } else {
        key.rotation_days
    };
    let mut out = json!({"KeyRotationEnabled": days.is_some(), "KeyId": key.arn});
    if let Some(d) = days {
        out["RotationPeriodInDays"] = json!(d);
        out["NextRotationDate"] = epoch(next_rotation(key.created_at, d, now));
    }
    Ok(out)
}

fn next_rotation(created: OffsetDateTime, period_days: i64, now: OffsetDateTime) -> OffsetDateTime {
    let period = TimeDuration::days(period_days.max(1));
    let mut at = created + period;
    while at <= now {
        at += period;
    }
    at
}

fn policy_name(req: &Value) -> Result<(), AwsError> {
    match req.get("PolicyName").and_then(Value::as_str) {
        None | Some("default") => Ok(()),
        Some(other) => Err(AwsError::new(
            "NotFoundException",
            400,
            format!("Policy {other} does not exist; keys have one policy, named default."),
        )),
    }
}

fn put_key_policy(world: &mut World, ctx: &mut Ctx, req: &Value) -> Result<Value, AwsError> {
    policy_name(req)?;
    let policy = member(req, "Policy");
    check_policy(
        world,
        policy,
        ctx,
        req["BypassPolicyLockoutSafetyCheck"].as_bool() == Some(true),
    )?;
    let key = customer_key(world, ctx, req, "change the key policy of")?;
    if key.state == KeyState::PendingDeletion {
        return Err(invalid_state(key, "its policy cannot be changed"));
    }
    key.policy = policy.to_string();
    Ok(json!({}))
}

fn set_enabled(world: &mut World, ctx: &mut Ctx, req: &Value, enable: bool) -> Result<Value, AwsError> {
    let key = customer_key(world, ctx, req, if enable { "enable" } else { "disable" })?;
    match key.state {
        KeyState::Enabled | KeyState::Disabled => {
            key.state = if enable {
                KeyState::Enabled
            } else {
                KeyState::Disabled
            };
            Ok(json!({}))
        }
        _ => Err(invalid_state(key, "cannot be enabled or disabled")),
    }
}

fn schedule_deletion(world: &mut World, ctx: &mut Ctx, req: &Value) -> Result<Value, AwsError> {
    let days = req["PendingWindowInDays"].as_i64().unwrap_or(30);
    if !(7..=30).contains(&days) {
        return Err(AwsError::validation(format!(
            "1 validation error detected: Value '{days}' at 'pendingWindowInDays' failed to satisfy constraint: \
             Member must have value between 7 and 30"
        )));
    }
    let now = ctx.now;
    let key = customer_key(world, ctx, req, "delete")?;
    if key.state == KeyState::PendingDeletion {
        return Err(invalid_state(key, "is already scheduled for deletion"));
    }
    let date = now + TimeDuration::days(days);
    key.state = KeyState::PendingDeletion;
    key.deletion_date = Some(date);
    key.pending_window_days = Some(days);
    Ok(json!({
        "KeyId": key.arn,
        "DeletionDate": epoch(date),
        "KeyState": "PendingDeletion",
        "PendingWindowInDays": days,
    }))
}

fn cancel_deletion(world: &mut World, ctx: &mut Ctx, req: &Value) -> Result<Value, AwsError> {
    let key = customer_key(world, ctx, req, "cancel the deletion of")?;
    if key.state != KeyState::PendingDeletion {
        return Err(invalid_state(key, "is not pending deletion"));
    }
    // A key whose deletion is cancelled comes back disabled, as in KMS.
    key.state = KeyState::Disabled;
    key.deletion_date = None;
    key.pending_window_days = None;
    Ok(json!({ "KeyId": key.arn }))
}

const MAX_KEY_TAGS: usize = 50;

fn tag_resource(world: &mut World, ctx: &mut Ctx, req: &Value) -> Result<Value, AwsError> {
    let key = customer_key(world, ctx, req, "tag")?;
    if key.state == KeyState::PendingDeletion {
        return Err(invalid_state(key, "cannot be tagged"));
    }
    let mut tags = key.tags.clone();
    for t in req["Tags"].as_array().into_iter().flatten() {
        let (k, v) = (member(t, "TagKey"), member(t, "TagValue"));
        if k.starts_with("aws:") {
            return Err(AwsError::new(
                "TagException",
                400,
                format!("Tag key {k} uses the reserved prefix aws:"),
            ));
        }
        match tags.iter_mut().find(|(tk, _)| tk == k) {
            Some(existing) => existing.1 = v.to_string(),
            None => tags.push((k.to_string(), v.to_string())),
        }
    }
    if tags.len() > MAX_KEY_TAGS {
        return Err(AwsError::new(
            "LimitExceededException",
            400,
            format!("A key can have at most {MAX_KEY_TAGS} tags."),
        ));
    }
    key.tags = tags;
    Ok(json!({}))
}

fn list_tags(world: &mut World, ctx: &mut Ctx, req: &Value) -> Result<Value, AwsError> {
    let key = resolve(world, ctx, member(req, "KeyId"), false)?;
    let tags: Vec<&(String, String)> = key.tags.iter().collect();
    page(
        tags,
        req,
        50,
        "Tags",
        |(k, v)| json!({"TagKey": k, "TagValue": v}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_must_exist_with_their_paths() {
        let mut world = World::default();
        world.iam.seed_account("aws", "123456789012");
        let valid = |p: &str| principal_is_valid(&world, p, "aws");
        assert!(valid("arn:aws:iam::123456789012:root"));
        assert!(valid("210987654321"));
        assert!(valid("arn:aws:iam::123456789012:user/guardkey-admin"));
        assert!(valid(
            "arn:aws:iam::123456789012:role/platform/security/GuardrailOps"
        ));
        assert!(
            !valid("arn:aws:iam::123456789012:role/GuardrailOps"),
            "the path was dropped"
        );
        assert!(!valid("arn:aws:iam::123456789012:role/NoSuchRole"));
        assert!(
            !valid("arn:aws-us-gov:iam::123456789012:root"),
            "another partition"
        );
        assert!(!valid("not-an-arn"));
    }

    #[test]
    fn a_key_policy_is_refused_as_kms_refuses_it() {
        let mut world = World::default();
        world.iam.seed_account("aws", "123456789012");
        let mut rng = fastrand::Rng::with_seed(1);
        let ctx = Ctx {
            account: "123456789012",
            region: "us-east-1",
            caller_arn: "arn:aws:iam::123456789012:root",
            now: OffsetDateTime::now_utc(),
            instant: std::time::Instant::now(),
            settle: std::time::Duration::ZERO,
            rng: &mut rng,
        };
        let policy = |sid: &str| default_policy("123456789012").replace("Enable IAM User Permissions", sid);
        assert!(check_policy(&world, &policy("Root"), &ctx, false).is_ok());
        let code = |p: &str| check_policy(&world, p, &ctx, false).unwrap_err().code;
        // Beyond 32 KiB: a quota, LimitExceededException.
        assert_eq!(
            code(&policy(&"x".repeat(MAX_POLICY_BYTES))),
            "LimitExceededException"
        );
        // Latin-1 is taken; beyond it, and control characters, are not.
        assert!(check_policy(&world, &policy("Schlüssel"), &ctx, false).is_ok());
        assert_eq!(code(&policy("clé→")), "MalformedPolicyDocumentException");
        assert_eq!(code(&policy("a\u{1}b")), "MalformedPolicyDocumentException");
    }

    #[test]
    fn next_rotation_is_after_now() {
        let created = OffsetDateTime::from_unix_timestamp(0).unwrap();
        let now = OffsetDateTime::from_unix_timestamp(400 * 86_400).unwrap();
        let next = next_rotation(created, 365, now);
        assert_eq!(next.unix_timestamp(), 730 * 86_400);
    }
}
