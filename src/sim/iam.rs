//! AWS IAM (query protocol, XML responses, global): the users and roles of each account,
//! with their paths, so that KMS can refuse a key policy that names a principal that does
//! not exist, and clients can read a role's real ARN (`GetRole`) as they would from AWS.
//!
//! Facts this follows (IAM API reference, KMS developer guide):
//! - A role's ARN carries its path: `arn:aws:iam::ACCT:role/PATH/NAME`; the assumed-role
//!   session ARN STS returns (`arn:aws:sts::ACCT:assumed-role/NAME/SESSION`) does not.
//! - IAM Identity Center permission-set roles live under `/aws-reserved/sso.amazonaws.com/`
//!   (newer instances add the region) and are named `AWSReservedSSO_<set>_<16 hex>`.
//! - GetRole / GetUser of a name that does not exist: 404 `NoSuchEntity`, "The role with
//!   name NAME cannot be found." / "The user with name NAME cannot be found."

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::wire::{AwsError, xml_escape};

/// A role or user of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamEntity {
    pub name: String,
    pub path: String,
    pub arn: String,
    pub id: String,
}

/// Every account's users and roles.
#[derive(Debug, Clone, Default)]
pub struct Iam {
    roles: BTreeMap<(String, String), IamEntity>,
    users: BTreeMap<(String, String), IamEntity>,
    /// Who may assume a role (its trust policy's AWS principals: an account root, a role
    /// or a user ARN). A role with no entry trusts no one.
    trust: BTreeMap<(String, String), Vec<String>>,
    /// A role's inline identity policy (one, named `POLICY_NAME`).
    role_policies: BTreeMap<(String, String), serde_json::Value>,
    /// Roles and users with AWS's `AdministratorAccess` attached: allowed everything.
    /// By kind (`role`, `user`), account and name, as the other maps are keyed.
    administrators: std::collections::BTreeSet<(&'static str, String, String)>,
    /// A role's permissions boundary: the ARN of a customer managed policy of its account.
    boundaries: BTreeMap<(String, String), String>,
    /// Customer managed policies, by ARN: their (one) version's document.
    managed_policies: BTreeMap<String, serde_json::Value>,
}

/// The name of the inline policy a seeded role carries.
pub const POLICY_NAME: &str = "permissions";

/// AWS's managed `AdministratorAccess` policy, as GetAccountAuthorizationDetails lists it.
const ADMIN_POLICY: &str = "AdministratorAccess";

/// The role Organizations creates in every account it creates, trusted by the management account.
pub const ORG_ACCESS_ROLE: &str = "OrganizationAccountAccessRole";

/// The SSO permission-set role every seeded account has (a newer, regional instance).
pub const SSO_ROLE_NAME: &str = "AWSReservedSSO_AdministratorAccess_4f8e2a1b9c3d5e7f";
pub const SSO_ROLE_PATH: &str = "/aws-reserved/sso.amazonaws.com/eu-west-1/";
/// A role created with a path, as platform teams do.
pub const PATH_ROLE_NAME: &str = "GuardrailOps";
pub const PATH_ROLE_PATH: &str = "/platform/security/";

fn entity(partition: &str, account: &str, kind: &str, path: &str, name: &str, id: String) -> IamEntity {
    IamEntity {
        name: name.into(),
        path: path.into(),
        arn: format!("arn:{partition}:iam::{account}:{kind}{path}{name}"),
        id,
    }
}

impl Iam {
    pub fn add_role(&mut self, partition: &str, account: &str, path: &str, name: &str) -> IamEntity {
        let id = format!("AROA{}", id_suffix(account, name));
        let e = entity(partition, account, "role", path, name, id);
        self.roles.insert((account.into(), name.into()), e.clone());
        e
    }

    pub fn add_user(&mut self, partition: &str, account: &str, path: &str, name: &str) -> IamEntity {
        let id = format!("AIDA{}", id_suffix(account, name));
        let e = entity(partition, account, "user", path, name, id);
        self.users.insert((account.into(), name.into()), e.clone());
        e
    }

    /// A role that `trusted` principals may assume, its sessions bound by `policy` (None:
    /// an administrator).
    pub fn add_assumable_role(
        &mut self,
        partition: &str,
        account: &str,
        name: &str,
        trusted: Vec<String>,
        policy: Option<serde_json::Value>,
    ) -> IamEntity {
        let e = self.add_role(partition, account, "/", name);
        let key = (account.to_string(), name.to_string());
        self.trust.insert(key.clone(), trusted);
        match policy {
            Some(p) => {
                self.role_policies.insert(key, p);
            }
            None => {
                self.administrators
                    .insert(("role", account.to_string(), name.to_string()));
            }
        }
        e
    }

    /// Gives a role an inline identity policy (replacing the one it had).
    pub fn set_role_policy(&mut self, account: &str, role: &str, policy: serde_json::Value) {
        self.role_policies
            .insert((account.to_string(), role.to_string()), policy);
    }

    /// Sets a role's permissions boundary: the customer managed policy `policy_name` of its
    /// account, created with `document` (IAM: "PutRolePermissionsBoundary").
    pub fn set_role_boundary(
        &mut self,
        account: &str,
        role: &str,
        policy_name: &str,
        document: serde_json::Value,
    ) {
        let partition = self
            .role(account, role)
            .map_or("aws", |r| crate::regions::partition_of_arn(&r.arn))
            .to_string();
        let arn = format!("arn:{partition}:iam::{account}:policy/{policy_name}");
        self.managed_policies.insert(arn.clone(), document);
        self.boundaries
            .insert((account.to_string(), role.to_string()), arn);
    }

    /// The permissions boundary of a caller (a role's session, or the role), if it has one.
    pub fn boundary_of(&self, caller_arn: &str) -> Option<&serde_json::Value> {
        let entity = self.resolve(caller_arn)?;
        let account = super::state::parse_arn(&entity.arn)?.account;
        if !entity.arn.contains(":role/") {
            return None;
        }
        self.role_boundary(account, &entity.name)
    }

    /// A role's permissions boundary document, if it has one: its sessions may do only what
    /// both it and their identity policies allow.
    pub fn role_boundary(&self, account: &str, role: &str) -> Option<&serde_json::Value> {
        let arn = self.boundaries.get(&(account.to_string(), role.to_string()))?;
        self.managed_policies.get(arn)
    }

    fn is_administrator(&self, kind: &'static str, account: &str, name: &str) -> bool {
        self.administrators
            .contains(&(kind, account.to_string(), name.to_string()))
    }

    /// What a session of the role may do, as the simulator's callers carry it: None for an
    /// administrator, its inline policy, or a policy that allows nothing.
    pub fn session_policy(&self, account: &str, role: &str) -> Option<serde_json::Value> {
        if self.is_administrator("role", account, role) {
            return None;
        }
        Some(
            self.role_policy(account, role)
                .cloned()
                .unwrap_or_else(|| serde_json::json!({"Version": "2012-10-17", "Statement": []})),
        )
    }

    /// Whether `caller_arn` (a user, a role, or an assumed-role session, of `caller_account`)
    /// is trusted by the role: its account's root, or itself (a session by its role).
    pub fn trusts(&self, account: &str, role: &str, caller_account: &str, caller_arn: &str) -> bool {
        let Some(trusted) = self.trust.get(&(account.to_string(), role.to_string())) else {
            return false;
        };
        let partition = crate::regions::partition_of_arn(caller_arn);
        let root = format!("arn:{partition}:iam::{caller_account}:root");
        let caller = self
            .resolve(caller_arn)
            .map(|e| e.arn.as_str())
            .unwrap_or(caller_arn);
        trusted.iter().any(|t| *t == root || t == caller)
    }

    /// The identity policies of a role or user named by its ARN (path included), as IAM
    /// evaluates them: AdministratorAccess's document for an administrator, a role's inline
    /// policy. None: no such principal.
    pub fn identity_documents(&self, arn: &str) -> Option<Vec<serde_json::Value>> {
        let entity = self.resolve(arn).filter(|e| e.arn == arn)?;
        let account = super::state::parse_arn(&entity.arn)?.account;
        let kind = if entity.arn.contains(":role/") {
            "role"
        } else {
            "user"
        };
        let mut documents = Vec::new();
        if self.is_administrator(kind, account, &entity.name) {
            documents.push(serde_json::json!({"Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}));
        }
        if kind == "role"
            && let Some(p) = self.role_policy(account, &entity.name)
        {
            documents.push(p.clone());
        }
        Some(documents)
    }

    pub fn role_policy(&self, account: &str, role: &str) -> Option<&serde_json::Value> {
        self.role_policies.get(&(account.to_string(), role.to_string()))
    }

    pub fn role(&self, account: &str, name: &str) -> Option<&IamEntity> {
        self.roles.get(&(account.to_string(), name.to_string()))
    }

    pub fn user(&self, account: &str, name: &str) -> Option<&IamEntity> {
        self.users.get(&(account.to_string(), name.to_string()))
    }

    /// The principals every seeded account has: its administrator user, the SSO
    /// permission-set role, a role with a path, and the roles the README's examples name.
    pub fn seed_account(&mut self, partition: &str, account: &str) {
        self.add_user(partition, account, "/", "guardkey-admin");
        // The simulator's default principal: an administrator.
        self.administrators
            .insert(("user", account.to_string(), "guardkey-admin".to_string()));
        self.add_role(partition, account, SSO_ROLE_PATH, SSO_ROLE_NAME);
        self.add_role(partition, account, PATH_ROLE_PATH, PATH_ROLE_NAME);
        for name in ["GuardrailAdmin", "ChatApp", "SecOps"] {
            self.add_role(partition, account, "/", name);
        }
        self.add_role(
            partition,
            account,
            "/service-role/",
            "AmazonBedrockExecutionRoleForAgents_support",
        );
    }

    /// The role or user ARN a principal ARN names, if it exists. An assumed-role session
    /// names its role, which must exist.
    pub fn resolve(&self, arn: &str) -> Option<&IamEntity> {
        let parsed = super::state::parse_arn(arn)?;
        let resource = parsed.resource;
        match parsed.service {
            "iam" => {
                let (kind, rest) = resource.split_once('/')?;
                let name = rest.rsplit('/').next()?;
                let found = match kind {
                    "role" => self.role(parsed.account, name),
                    "user" => self.user(parsed.account, name),
                    _ => None,
                }?;
                // The path is part of the identity: role/NAME is not role/PATH/NAME.
                (found.arn == arn).then_some(found)
            }
            "sts" => {
                let role = resource.strip_prefix("assumed-role/")?.split('/').next()?;
                self.role(parsed.account, role)
            }
            _ => None,
        }
    }
}

fn id_suffix(account: &str, name: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in account.bytes().chain(name.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016X}")[..16].to_string()
}

/// The query-protocol call: (Action, its parameters).
pub fn parse(body: &[u8]) -> Result<(String, BTreeMap<String, String>), AwsError> {
    let mut params: BTreeMap<String, String> = form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let action = params
        .remove("Action")
        .ok_or_else(|| AwsError::new("MissingAction", 400, "Missing Action"))?;
    let version = params.remove("Version").unwrap_or_default();
    if version != "2010-05-08"
        || !matches!(
            action.as_str(),
            "GetRole" | "GetUser" | "GetAccountAuthorizationDetails" | "SimulatePrincipalPolicy"
        )
    {
        return Err(AwsError::new(
            "InvalidAction",
            400,
            format!("Could not find operation {action} for version {version}"),
        ));
    }
    Ok((action, params))
}

/// RFC 3986's unreserved characters stay; everything else is percent-encoded, as IAM
/// returns policy documents from GetAccountAuthorizationDetails ("Policies returned by this
/// operation are URL-encoded compliant with RFC 3986", IAM API reference).
const RFC3986: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encoded(policy: &Value) -> String {
    percent_encoding::utf8_percent_encode(&policy.to_string(), RFC3986).to_string()
}

/// A query-protocol list parameter (`NAME.member.N`), in its members' order.
pub(super) fn members<'a>(params: &'a BTreeMap<String, String>, list: &str) -> Vec<&'a str> {
    let prefix = format!("{list}.member.");
    let mut found: Vec<(usize, &str)> = params
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?.parse().ok()?, v.as_str())))
        .collect();
    found.sort();
    found.into_iter().map(|(_, v)| v).collect()
}

/// IAM's paging of a List call: where `Marker` says to start, and `MaxItems` a page (default
/// 100, 1–1000), as ValidationError when they are not valid.
pub(super) fn page(params: &BTreeMap<String, String>) -> Result<(usize, usize), AwsError> {
    let max = match params.get("MaxItems") {
        None => 100,
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|m| (1..=1000).contains(m))
            .ok_or_else(|| {
                AwsError::validation(format!(
                    "1 validation error detected: Value '{m}' at 'maxItems' failed to satisfy constraint: \
                 Member must have value between 1 and 1000"
                ))
            })?,
    };
    let start = match params.get("Marker") {
        None => 0,
        Some(m) => super::bedrock::decode_token(&json!({ "nextToken": m }))?
            .and_then(|c| c.parse::<usize>().ok())
            .ok_or_else(|| AwsError::validation("Invalid Marker."))?,
    };
    Ok((start, max))
}

/// A query-protocol XML element from its JSON form: objects are elements, lists `member`s.
pub(super) fn to_xml(name: &str, value: &Value, out: &mut String) {
    use std::fmt::Write;
    let _ = write!(out, "<{name}>");
    match value {
        Value::Object(m) => m.iter().for_each(|(k, v)| to_xml(k, v, out)),
        Value::Array(a) => a.iter().for_each(|v| to_xml("member", v, out)),
        Value::String(s) => out.push_str(&xml_escape(s)),
        other => out.push_str(&other.to_string()),
    }
    let _ = write!(out, "</{name}>");
}

const ENTITY_TYPES: &[&str] = &["User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"];
const CREATED: &str = "2025-01-15T09:30:00Z";

/// GetAccountAuthorizationDetails: the account's users, roles and the managed policies
/// attached to them, with their documents, `MaxItems` entities a page (default 100, 1–1000)
/// from `Marker`. Groups: the simulator has none.
fn authorization_details(
    iam: &Iam,
    account: &str,
    params: &BTreeMap<String, String>,
    request_id: &str,
) -> Result<(String, Value), AwsError> {
    let filter = members(params, "Filter");
    if let Some(bad) = filter.iter().find(|f| !ENTITY_TYPES.contains(f)) {
        return Err(AwsError::validation(format!(
            "1 validation error detected: Value '[{bad}]' at 'filter' failed to satisfy constraint: \
             Member must satisfy constraint: [Member must satisfy enum value set: [{}]]",
            ENTITY_TYPES.join(", ")
        )));
    }
    let wants = |t: &str| filter.is_empty() || filter.contains(&t);
    let (start, max) = page(params)?;
    let partition = iam
        .users
        .values()
        .chain(iam.roles.values())
        .find(|e| super::state::parse_arn(&e.arn).is_some_and(|a| a.account == account))
        .map_or("aws", |e| crate::regions::partition_of_arn(&e.arn));
    let admin_arn = format!("arn:{partition}:iam::aws:policy/{ADMIN_POLICY}");
    let attached = |admin: bool| {
        if admin {
            json!([{ "PolicyName": ADMIN_POLICY, "PolicyArn": admin_arn }])
        } else {
            json!([])
        }
    };
    let mut items: Vec<(&str, Value)> = Vec::new();
    let mut admins = 0;
    for ((acct, name), user) in &iam.users {
        let admin = iam.is_administrator("user", acct, name);
        if acct != account {
            continue;
        }
        admins += usize::from(admin);
        if wants("User") {
            items.push((
                "UserDetailList",
                json!({
                    "Path": user.path, "UserName": user.name, "UserId": user.id, "Arn": user.arn,
                    "CreateDate": CREATED, "UserPolicyList": [], "GroupList": [],
                    "AttachedManagedPolicies": attached(admin), "Tags": [],
                }),
            ));
        }
    }
    for ((acct, name), role) in &iam.roles {
        if acct != account {
            continue;
        }
        let admin = iam.is_administrator("role", acct, name);
        admins += usize::from(admin);
        if !wants("Role") {
            continue;
        }
        let key = (acct.clone(), name.clone());
        let mut detail = json!({
            "Path": role.path, "RoleName": role.name, "RoleId": role.id, "Arn": role.arn,
            "CreateDate": CREATED, "InstanceProfileList": [],
            "RolePolicyList": iam.role_policies.get(&key).map_or(json!([]), |p| {
                json!([{ "PolicyName": POLICY_NAME, "PolicyDocument": encoded(p) }])
            }),
            "AttachedManagedPolicies": attached(admin), "Tags": [],
        });
        if let Some(boundary) = iam.boundaries.get(&key) {
            detail["PermissionsBoundary"] = json!({
                "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
                "PermissionsBoundaryArn": boundary,
            });
        }
        if let Some(trusted) = iam.trust.get(&key) {
            detail["AssumeRolePolicyDocument"] = json!(encoded(&json!({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"AWS": trusted}, "Action": "sts:AssumeRole"}]
            })));
        }
        items.push(("RoleDetailList", detail));
    }
    if admins > 0 && wants("AWSManagedPolicy") {
        let document = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
        items.push((
            "Policies",
            json!({
                "PolicyName": ADMIN_POLICY, "PolicyId": "ANPAIWMBCKSKIEE64ZLYK", "Arn": admin_arn,
                "Path": "/", "DefaultVersionId": "v1", "AttachmentCount": admins,
                "PermissionsBoundaryUsageCount": 0, "IsAttachable": true,
                "Description": "Provides full access to AWS services and resources.",
                "CreateDate": "2015-02-06T18:39:46Z", "UpdateDate": "2015-02-06T18:39:46Z",
                "PolicyVersionList": [{
                    "Document": encoded(&document), "VersionId": "v1", "IsDefaultVersion": true,
                    "CreateDate": "2015-02-06T18:39:46Z"
                }]
            }),
        ));
    }
    // The account's customer managed policies (here, the boundaries), each with its document.
    if wants("LocalManagedPolicy") {
        let prefix = format!("arn:{partition}:iam::{account}:policy/");
        for (arn, document) in iam.managed_policies.range(prefix.clone()..) {
            let Some(name) = arn.strip_prefix(&prefix) else {
                break;
            };
            let used = iam.boundaries.values().filter(|b| *b == arn).count();
            items.push((
                "Policies",
                json!({
                    "PolicyName": name, "PolicyId": format!("ANPA{}", id_suffix(account, name)), "Arn": arn,
                    "Path": "/", "DefaultVersionId": "v1", "AttachmentCount": 0,
                    "PermissionsBoundaryUsageCount": used, "IsAttachable": true,
                    "CreateDate": CREATED, "UpdateDate": CREATED,
                    "PolicyVersionList": [{
                        "Document": encoded(document), "VersionId": "v1", "IsDefaultVersion": true,
                        "CreateDate": CREATED
                    }]
                }),
            ));
        }
    }
    let end = (start + max).min(items.len());
    let mut result = serde_json::Map::new();
    for list in ["UserDetailList", "GroupDetailList", "RoleDetailList", "Policies"] {
        let members: Vec<Value> = items
            .get(start..end)
            .unwrap_or_default()
            .iter()
            .filter(|(l, _)| *l == list)
            .map(|(_, v)| v.clone())
            .collect();
        result.insert(list.into(), Value::Array(members));
    }
    result.insert("IsTruncated".into(), json!(end < items.len()));
    if end < items.len() {
        result.insert(
            "Marker".into(),
            json!(super::bedrock::encode_token(&end.to_string())),
        );
    }
    let json = Value::Object(result);
    let mut xml = String::from(
        "<GetAccountAuthorizationDetailsResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">",
    );
    to_xml("GetAccountAuthorizationDetailsResult", &json, &mut xml);
    xml.push_str(&format!(
        "<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></GetAccountAuthorizationDetailsResponse>\n"
    ));
    Ok((xml, json))
}

/// GetRole / GetUser / GetAccountAuthorizationDetails: the XML answer and the same data as
/// JSON (for the recorder).
pub fn handle(
    iam: &Iam,
    account: &str,
    action: &str,
    params: &BTreeMap<String, String>,
    request_id: &str,
) -> Result<(String, serde_json::Value), AwsError> {
    if action == "GetAccountAuthorizationDetails" {
        return authorization_details(iam, account, params, request_id);
    }
    let (what, key) = match action {
        "GetRole" => ("role", "RoleName"),
        _ => ("user", "UserName"),
    };
    let name = params
        .get(key)
        .filter(|n| !n.is_empty() && n.len() <= 128)
        .ok_or_else(|| {
            AwsError::validation(format!(
                "1 validation error detected: Value at '{}' failed to satisfy constraint: \
                 Member must have length between 1 and 128",
                key[..1].to_lowercase() + &key[1..]
            ))
        })?;
    let found = match action {
        "GetRole" => iam.role(account, name),
        _ => iam.user(account, name),
    }
    .ok_or_else(|| {
        AwsError::new(
            "NoSuchEntity",
            404,
            format!("The {what} with name {name} cannot be found."),
        )
    })?;
    let created = "2025-01-15T09:30:00Z";
    let (element, id_name, name_name) = match action {
        "GetRole" => ("Role", "RoleId", "RoleName"),
        _ => ("User", "UserId", "UserName"),
    };
    let xml = format!(
        "<{action}Response xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n  <{action}Result>\n    <{element}>\n      \
         <Path>{}</Path>\n      <{name_name}>{}</{name_name}>\n      <{id_name}>{}</{id_name}>\n      <Arn>{}</Arn>\n      \
         <CreateDate>{created}</CreateDate>\n    </{element}>\n  </{action}Result>\n  <ResponseMetadata>\n    \
         <RequestId>{request_id}</RequestId>\n  </ResponseMetadata>\n</{action}Response>\n",
        xml_escape(&found.path),
        xml_escape(&found.name),
        xml_escape(&found.id),
        xml_escape(&found.arn),
    );
    let json = serde_json::json!({
        element: {"Path": found.path, name_name: found.name, id_name: found.id, "Arn": found.arn, "CreateDate": created}
    });
    Ok((xml, json))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_resolve_with_their_paths() {
        let mut iam = Iam::default();
        iam.seed_account("aws", "123456789012");
        let sso = format!("arn:aws:iam::123456789012:role{SSO_ROLE_PATH}{SSO_ROLE_NAME}");
        assert_eq!(iam.resolve(&sso).map(|e| e.arn.as_str()), Some(sso.as_str()));
        // Without its path the role does not exist: KMS would refuse it.
        assert!(
            iam.resolve(&format!("arn:aws:iam::123456789012:role/{SSO_ROLE_NAME}"))
                .is_none()
        );
        let session = format!("arn:aws:sts::123456789012:assumed-role/{SSO_ROLE_NAME}/alice@example.com");
        assert_eq!(iam.resolve(&session).map(|e| e.arn.as_str()), Some(sso.as_str()));
        assert!(
            iam.resolve("arn:aws:iam::123456789012:user/guardkey-admin")
                .is_some()
        );
        assert!(iam.resolve("arn:aws:iam::123456789012:role/NoSuchRole").is_none());
        assert!(iam.resolve("arn:aws:iam::210987654321:role/ChatApp").is_none());
    }
}
