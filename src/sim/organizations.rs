//! AWS Organizations (JSON 1.1, `X-Amz-Target: AWSOrganizationsV20161128.<Op>`, global:
//! signed for us-east-1): the organization of the simulated accounts, its root, OUs and
//! accounts, paged as the service pages them.
//!
//! Facts (botocore's `organizations` model, the Organizations API reference):
//! - Only the management account (or a delegated administrator) lists accounts: another
//!   member gets AccessDeniedException ("You don't have permissions to access this
//!   resource."); an account in no organization gets AWSOrganizationsNotInUseException
//!   ("Your account is not a member of an organization."). Any member may DescribeOrganization.
//! - MaxResults is 1 to 20; NextToken is opaque; a token the service did not issue is
//!   InvalidInputException with Reason INVALID_PAGINATION_TOKEN. All errors are HTTP 400.
//! - Account: Id, Arn (`arn:PARTITION:organizations::MGMT:account/o-ID/ACCT`), Email, Name,
//!   Status (ACTIVE | SUSPENDED | PENDING_CLOSURE), State, JoinedMethod (CREATED | INVITED),
//!   JoinedTimestamp (epoch seconds on this protocol).
//! - A parent id that is neither the root nor an OU: ParentNotFoundException.

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::wire::AwsError;

#[derive(Debug, Clone)]
pub struct OrgAccount {
    pub id: String,
    pub name: String,
    pub email: String,
    /// ACTIVE or SUSPENDED.
    pub status: &'static str,
    /// CREATED (it has OrganizationAccountAccessRole) or INVITED.
    pub joined_method: &'static str,
    pub joined: OffsetDateTime,
    /// The root or OU it is in.
    pub parent: String,
}

#[derive(Debug, Clone)]
pub struct Ou {
    pub id: String,
    pub name: String,
    pub parent: String,
}

/// A service control policy. AWS attaches `FullAWSAccess` to the root, every OU and every
/// account when SCPs are enabled (Organizations User Guide, "Service control policies"):
/// here it is attached everywhere, the others where `targets` say.
#[derive(Debug, Clone)]
pub struct ServiceControlPolicy {
    pub id: String,
    pub name: String,
    pub description: String,
    pub content: String,
    pub aws_managed: bool,
    pub targets: Vec<String>,
    /// The targets it was detached from: AWS attaches FullAWSAccess to every root, OU and
    /// account, and an allow-list strategy detaches it where a narrower SCP takes its place.
    pub detached: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Organization {
    pub id: String,
    pub partition: String,
    pub management: String,
    pub root: String,
    pub ous: Vec<Ou>,
    pub accounts: Vec<OrgAccount>,
    pub policies: Vec<ServiceControlPolicy>,
}

/// Where an operation of this service is answered from.
pub const TARGET_PREFIX: &str = "AWSOrganizationsV20161128.";

/// InvalidInputException; its `Reason` member is named in the message.
pub fn invalid(reason: &str, message: &str) -> AwsError {
    AwsError::new("InvalidInputException", 400, format!("{message} ({reason})"))
}

impl Organization {
    pub fn new(partition: &str, management: &str, id_seed: &str) -> Self {
        let id = format!("o-{}", &id_seed[..10.min(id_seed.len())]);
        let root = format!("r-{}", &id_seed[..4.min(id_seed.len())]);
        Organization {
            id,
            partition: partition.into(),
            management: management.into(),
            root,
            ous: Vec::new(),
            accounts: Vec::new(),
            policies: vec![ServiceControlPolicy {
                id: "p-FullAWSAccess".into(),
                name: "FullAWSAccess".into(),
                description: "Allows access to every operation".into(),
                content:
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
                        .into(),
                aws_managed: true,
                targets: Vec::new(),
                detached: Vec::new(),
            }],
        }
    }

    /// Attaches a new SCP to `targets` (the root, OUs or accounts); returns its id.
    pub fn add_policy(&mut self, id: &str, name: &str, content: &str, targets: &[&str]) -> String {
        self.policies.push(ServiceControlPolicy {
            id: id.into(),
            name: name.into(),
            description: String::new(),
            content: content.into(),
            aws_managed: false,
            targets: targets.iter().map(|t| t.to_string()).collect(),
            detached: Vec::new(),
        });
        id.into()
    }

    fn policies_of(&self, target: &str) -> Vec<&ServiceControlPolicy> {
        self.policies
            .iter()
            .filter(|p| {
                (p.aws_managed && !p.detached.iter().any(|t| t == target))
                    || p.targets.iter().any(|t| t == target)
            })
            .collect()
    }

    /// The parent of an account or OU (None: the root, or not in the organization).
    fn parent_of(&self, child: &str) -> Option<&str> {
        self.accounts
            .iter()
            .find(|a| a.id == child)
            .map(|a| a.parent.as_str())
            .or_else(|| self.ous.iter().find(|o| o.id == child).map(|o| o.parent.as_str()))
    }

    /// The targets whose SCPs apply to an account: the root, its OUs, the account.
    pub fn path_of(&self, account: &str) -> Vec<String> {
        let mut path = vec![account.to_string()];
        let mut at = account.to_string();
        while let Some(parent) = self.parent_of(&at) {
            path.push(parent.to_string());
            if parent == self.root {
                break;
            }
            at = parent.to_string();
        }
        path.reverse();
        path
    }

    /// Why the SCPs keep `request` from a principal of `account` (an explicit deny names its
    /// policy; a level whose policies allow nothing names the level), or None. They do not
    /// apply to the management account (Organizations User Guide).
    pub fn scp_denial(&self, account: &str, request: &super::authz::Request) -> Option<String> {
        if account == self.management || self.member(account).is_none() {
            return None;
        }
        for target in self.path_of(account) {
            let attached = self.policies_of(&target);
            let documents: Vec<Value> = attached
                .iter()
                .filter_map(|p| serde_json::from_str(&p.content).ok())
                .collect();
            let refs: Vec<&Value> = documents.iter().collect();
            match super::authz::verdict(&refs, request) {
                Some(true) => {}
                Some(false) => {
                    let name = attached
                        .iter()
                        .zip(&documents)
                        .find(|(_, d)| super::authz::verdict(&[d], request) == Some(false))
                        .map_or("an SCP".to_string(), |(p, _)| p.name.clone());
                    return Some(name);
                }
                None => return Some(format!("no SCP attached to {target} allows it")),
            }
        }
        None
    }

    fn policy_summary(&self, p: &ServiceControlPolicy) -> Value {
        let arn = if p.aws_managed {
            format!(
                "arn:{}:organizations::aws:policy/service_control_policy/{}",
                self.partition, p.id
            )
        } else {
            self.arn("policy", &format!("/service_control_policy/{}", p.id))
        };
        json!({"Id": p.id, "Arn": arn, "Name": p.name, "Description": p.description,
               "Type": "SERVICE_CONTROL_POLICY", "AwsManaged": p.aws_managed})
    }

    fn arn(&self, kind: &str, rest: &str) -> String {
        format!(
            "arn:{}:organizations::{}:{kind}/{}{rest}",
            self.partition, self.management, self.id
        )
    }

    pub fn add_ou(&mut self, id: &str, name: &str, parent: &str) -> String {
        self.ous.push(Ou {
            id: id.into(),
            name: name.into(),
            parent: parent.into(),
        });
        id.into()
    }

    pub fn member(&self, account: &str) -> Option<&OrgAccount> {
        self.accounts.iter().find(|a| a.id == account)
    }

    fn account_json(&self, a: &OrgAccount) -> Value {
        json!({
            "Id": a.id,
            "Arn": self.arn("account", &format!("/{}", a.id)),
            "Email": a.email,
            "Name": a.name,
            "Status": a.status,
            "State": a.status,
            "JoinedMethod": a.joined_method,
            "JoinedTimestamp": a.joined.unix_timestamp(),
        })
    }

    fn is_parent(&self, id: &str) -> bool {
        id == self.root || self.ous.iter().any(|o| o.id == id)
    }
}

/// One page of `items` from the request's NextToken, at most its MaxResults (1 to 20).
fn page(items: Vec<Value>, input: &Value, member: &str) -> Result<Value, AwsError> {
    let max = input["MaxResults"].as_u64().unwrap_or(20) as usize;
    let start = match input["NextToken"].as_str() {
        None => 0,
        Some(t) => t
            .strip_prefix("gk-")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= items.len())
            .ok_or_else(|| invalid("INVALID_PAGINATION_TOKEN", "You specified an invalid value for nextToken. You must get the value from the response to a previous call to the API."))?,
    };
    let end = (start + max).min(items.len());
    let mut out = json!({ member: items[start..end] });
    if end < items.len() {
        out["NextToken"] = json!(format!("gk-{end}"));
    }
    Ok(out)
}

pub fn handle(
    org: Option<&Organization>,
    caller_account: &str,
    op: &str,
    input: &Value,
) -> Result<Value, AwsError> {
    let not_in_use = || {
        AwsError::new(
            "AWSOrganizationsNotInUseException",
            400,
            "Your account is not a member of an organization.",
        )
    };
    let org = org.ok_or_else(not_in_use)?;
    if caller_account != org.management && org.member(caller_account).is_none() {
        return Err(not_in_use());
    }
    if op == "DescribeOrganization" {
        let mgmt = org.member(&org.management);
        return Ok(json!({"Organization": {
            "Id": org.id,
            "Arn": format!("arn:{}:organizations::{}:organization/{}", org.partition, org.management, org.id),
            "FeatureSet": "ALL",
            "MasterAccountArn": org.arn("account", &format!("/{}", org.management)),
            "MasterAccountId": org.management,
            "MasterAccountEmail": mgmt.map(|m| m.email.clone()).unwrap_or_default(),
            "AvailablePolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}],
        }}));
    }
    if caller_account != org.management {
        return Err(AwsError::new(
            "AccessDeniedException",
            400,
            "You don't have permissions to access this resource.",
        ));
    }
    let parent = || -> Result<String, AwsError> {
        let id = input["ParentId"].as_str().unwrap_or_default().to_string();
        if org.is_parent(&id) {
            Ok(id)
        } else {
            Err(AwsError::new(
                "ParentNotFoundException",
                400,
                "We can't find a root or OU with the ParentId that you specified.",
            ))
        }
    };
    match op {
        "ListRoots" => page(
            vec![json!({
                "Id": org.root,
                "Arn": org.arn("root", &format!("/{}", org.root)),
                "Name": "Root",
                "PolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}],
            })],
            input,
            "Roots",
        ),
        "ListAccounts" => page(
            org.accounts.iter().map(|a| org.account_json(a)).collect(),
            input,
            "Accounts",
        ),
        "ListAccountsForParent" => {
            let p = parent()?;
            page(
                org.accounts
                    .iter()
                    .filter(|a| a.parent == p)
                    .map(|a| org.account_json(a))
                    .collect(),
                input,
                "Accounts",
            )
        }
        "ListOrganizationalUnitsForParent" => {
            let p = parent()?;
            page(
                org.ous
                    .iter()
                    .filter(|o| o.parent == p)
                    .map(|o| json!({"Id": o.id, "Arn": org.arn("ou", &format!("/{}", o.id)), "Name": o.name}))
                    .collect(),
                input,
                "OrganizationalUnits",
            )
        }
        "ListParents" => {
            let child = input["ChildId"].as_str().unwrap_or_default();
            let parent = org.parent_of(child).ok_or_else(|| {
                AwsError::new(
                    "ChildNotFoundException",
                    400,
                    "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.",
                )
            })?;
            let kind = if parent == org.root {
                "ROOT"
            } else {
                "ORGANIZATIONAL_UNIT"
            };
            page(vec![json!({"Id": parent, "Type": kind})], input, "Parents")
        }
        "ListPoliciesForTarget" => {
            let target = input["TargetId"].as_str().unwrap_or_default();
            if !org.is_parent(target) && org.member(target).is_none() {
                return Err(AwsError::new(
                    "TargetNotFoundException",
                    400,
                    "We can't find a root, OU, account, or policy with the TargetId that you specified.",
                ));
            }
            let policies = match input["Filter"].as_str() {
                Some("SERVICE_CONTROL_POLICY") => org.policies_of(target),
                _ => Vec::new(),
            };
            page(
                policies.into_iter().map(|p| org.policy_summary(p)).collect(),
                input,
                "Policies",
            )
        }
        "DescribePolicy" => {
            let id = input["PolicyId"].as_str().unwrap_or_default();
            let p = org.policies.iter().find(|p| p.id == id).ok_or_else(|| {
                AwsError::new(
                    "PolicyNotFoundException",
                    400,
                    "We can't find a policy with the PolicyId that you specified.",
                )
            })?;
            Ok(json!({"Policy": {"PolicySummary": org.policy_summary(p), "Content": p.content}}))
        }
        "ListChildren" => {
            let p = parent()?;
            let children: Vec<Value> = match input["ChildType"].as_str() {
                Some("ACCOUNT") => org
                    .accounts
                    .iter()
                    .filter(|a| a.parent == p)
                    .map(|a| json!({"Id": a.id, "Type": "ACCOUNT"}))
                    .collect(),
                _ => org
                    .ous
                    .iter()
                    .filter(|o| o.parent == p)
                    .map(|o| json!({"Id": o.id, "Type": "ORGANIZATIONAL_UNIT"}))
                    .collect(),
            };
            page(children, input, "Children")
        }
        other => Err(AwsError::new(
            "UnknownOperationException",
            400,
            format!("guardkey sim does not serve Organizations {other}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org() -> Organization {
        let mut o = Organization::new("aws", "123456789012", "abcdefghij");
        let ou = o.add_ou("ou-abcd-11111111", "Workloads", "r-abcd");
        for (i, parent) in [(1, "r-abcd"), (2, ou.as_str()), (3, ou.as_str())] {
            o.accounts.push(OrgAccount {
                id: format!("{i:012}"),
                name: format!("a{i}"),
                email: format!("a{i}@example.com"),
                status: "ACTIVE",
                joined_method: "CREATED",
                joined: OffsetDateTime::UNIX_EPOCH,
                parent: parent.into(),
            });
        }
        o
    }

    #[test]
    fn pages_and_parents_and_who_may_ask() {
        let o = org();
        let first = handle(
            Some(&o),
            "123456789012",
            "ListAccounts",
            &json!({"MaxResults": 2}),
        )
        .unwrap();
        assert_eq!(first["Accounts"].as_array().unwrap().len(), 2);
        let token = first["NextToken"].as_str().unwrap();
        let rest = handle(
            Some(&o),
            "123456789012",
            "ListAccounts",
            &json!({"MaxResults": 2, "NextToken": token}),
        )
        .unwrap();
        assert_eq!(rest["Accounts"].as_array().unwrap().len(), 1);
        assert!(rest.get("NextToken").is_none());
        let bad = handle(
            Some(&o),
            "123456789012",
            "ListAccounts",
            &json!({"NextToken": "x"}),
        )
        .unwrap_err();
        assert_eq!(bad.code, "InvalidInputException");
        let in_ou = handle(
            Some(&o),
            "123456789012",
            "ListAccountsForParent",
            &json!({"ParentId": "ou-abcd-11111111"}),
        )
        .unwrap();
        assert_eq!(in_ou["Accounts"].as_array().unwrap().len(), 2);
        let nowhere = handle(
            Some(&o),
            "123456789012",
            "ListChildren",
            &json!({"ParentId": "ou-x", "ChildType": "ACCOUNT"}),
        )
        .unwrap_err();
        assert_eq!(nowhere.code, "ParentNotFoundException");
        let member = handle(Some(&o), "000000000001", "ListAccounts", &json!({})).unwrap_err();
        assert_eq!(member.code, "AccessDeniedException");
        assert!(handle(Some(&o), "000000000001", "DescribeOrganization", &json!({})).is_ok());
        let outsider = handle(Some(&o), "999999999999", "DescribeOrganization", &json!({})).unwrap_err();
        assert_eq!(outsider.code, "AWSOrganizationsNotInUseException");
        assert_eq!(
            handle(None, "123456789012", "ListAccounts", &json!({}))
                .unwrap_err()
                .code,
            "AWSOrganizationsNotInUseException"
        );
    }
}
