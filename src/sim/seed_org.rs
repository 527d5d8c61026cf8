//! The organizations the simulator starts with: the demo's (a management account and the
//! accounts a company has around it, some of them out of reach) and generated ones of any
//! size for benchmarks.

use time::{Duration as TimeDuration, OffsetDateTime};

use super::iam::ORG_ACCESS_ROLE;
use super::organizations::{OrgAccount, Organization};
use super::seed::generate;
use super::state::World;

/// The audit role of the demo's accounts: trusted by the management account, allowed what
/// `guardkey policy scan` allows and nothing else.
pub const AUDIT_ROLE: &str = "GuardkeyAudit";

/// A member account of the demo organization.
pub struct DemoAccount {
    pub id: &'static str,
    pub name: &'static str,
    /// The OU it sits in (by name), or the root.
    pub ou: &'static str,
    pub status: &'static str,
    pub joined_method: &'static str,
    /// Its guardrails: (region, how many).
    pub guardrails: &'static [(&'static str, usize)],
    /// Whether it has OrganizationAccountAccessRole and the audit role.
    pub roles: bool,
}

/// The demo's member accounts, besides the management account (the simulator's own).
pub const DEMO_ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        id: "111122223333",
        name: "prod",
        ou: "Prod",
        status: "ACTIVE",
        joined_method: "CREATED",
        guardrails: &[("us-east-1", 6), ("eu-west-1", 4)],
        roles: true,
    },
    DemoAccount {
        id: "444455556666",
        name: "staging",
        ou: "NonProd",
        status: "ACTIVE",
        joined_method: "CREATED",
        guardrails: &[("us-east-1", 4), ("us-west-2", 3)],
        roles: true,
    },
    DemoAccount {
        id: "777788889999",
        name: "sandbox",
        ou: "Sandbox",
        status: "ACTIVE",
        joined_method: "CREATED",
        guardrails: &[("us-west-2", 3)],
        roles: true,
    },
    // Suspended: its roles cannot be assumed; reported, never scanned.
    DemoAccount {
        id: "135792468024",
        name: "legacy-analytics",
        ou: "Suspended",
        status: "SUSPENDED",
        joined_method: "CREATED",
        guardrails: &[("us-east-1", 2)],
        roles: true,
    },
    // Invited, and nobody created the role there: AssumeRole is denied.
    DemoAccount {
        id: "246813579135",
        name: "acquired-startup",
        ou: "",
        status: "ACTIVE",
        joined_method: "INVITED",
        guardrails: &[("us-east-1", 2)],
        roles: false,
    },
];

fn org_of(world: &mut World, partition: &str, management: &str, rng: &mut fastrand::Rng) -> Organization {
    let seed: String = (0..10).map(|_| char::from(b'a' + rng.u8(..26))).collect();
    let mut org = Organization::new(partition, management, &seed);
    org.accounts.push(OrgAccount {
        id: management.into(),
        name: "management".into(),
        email: "aws-management@example.com".into(),
        status: "ACTIVE",
        joined_method: "INVITED",
        joined: OffsetDateTime::now_utc() - TimeDuration::days(2000),
        parent: org.root.clone(),
    });
    world.organization = None;
    org
}

fn add_roles(world: &mut World, partition: &str, account: &str, management: &str) {
    let trusted = vec![format!("arn:{partition}:iam::{management}:root")];
    world
        .iam
        .add_assumable_role(partition, account, ORG_ACCESS_ROLE, trusted.clone(), None);
    let scan: serde_json::Value =
        serde_json::from_str(crate::permissions::policy("scan").expect("the scan policy ships"))
            .expect("JSON");
    world
        .iam
        .add_assumable_role(partition, account, AUDIT_ROLE, trusted, Some(scan));
}

/// The demo organization: the simulator's account is its management account, with prod,
/// staging and sandbox accounts in OUs, a suspended account and an invited one without the
/// role, each with guardrails of its own.
pub fn demo_organization(world: &mut World, management: &str, rng: &mut fastrand::Rng) {
    let partition = "aws";
    let mut org = org_of(world, partition, management, rng);
    let root = org.root.clone();
    let workloads = org.add_ou(&format!("ou-{}-workload", &root[2..]), "Workloads", &root);
    let mut ous = std::collections::HashMap::new();
    ous.insert(
        "Prod",
        org.add_ou(&format!("ou-{}-prod0000", &root[2..]), "Prod", &workloads),
    );
    ous.insert(
        "NonProd",
        org.add_ou(&format!("ou-{}-nonprod0", &root[2..]), "NonProd", &workloads),
    );
    ous.insert(
        "Sandbox",
        org.add_ou(&format!("ou-{}-sandbox0", &root[2..]), "Sandbox", &root),
    );
    ous.insert(
        "Suspended",
        org.add_ou(&format!("ou-{}-suspend0", &root[2..]), "Suspended", &root),
    );
    for (n, a) in DEMO_ACCOUNTS.iter().enumerate() {
        org.accounts.push(OrgAccount {
            id: a.id.into(),
            name: a.name.into(),
            email: format!("aws-{}@example.com", a.name),
            status: a.status,
            joined_method: a.joined_method,
            joined: OffsetDateTime::now_utc() - TimeDuration::days(900 - 100 * n as i64),
            parent: ous.get(a.ou).cloned().unwrap_or_else(|| root.clone()),
        });
        world.iam.seed_account(partition, a.id);
        if a.roles {
            add_roles(world, partition, a.id, management);
        }
        for (region, count) in a.guardrails {
            generate(world, a.id, &[region], *count, rng);
        }
    }
    restrict_prod(world, &mut org, &ous["Prod"], rng);
    world.organization = Some(org);
}

/// The Prod OU's SCP: kms:Decrypt only with the keys the account had when it was approved
/// (administrators' and auditors' roles exempt, as such SCPs are written), and a risk-scoring
/// agent in prod whose guardrail is on the AWS-owned key: a new key would lock it out.
fn restrict_prod(world: &mut World, org: &mut Organization, prod_ou: &str, rng: &mut fastrand::Rng) {
    const PROD: &str = "111122223333";
    let approved: Vec<String> = DEMO_ACCOUNTS
        .iter()
        .filter(|a| a.id == PROD)
        .flat_map(|a| a.guardrails.iter().map(|(r, _)| *r))
        .filter_map(|r| world.region(PROD, r))
        .flat_map(|r| r.keys.values().map(|k| k.arn.clone()))
        .collect();
    let scp = serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyDecryptOutsideApprovedKeys", "Effect": "Deny", "Action": "kms:Decrypt",
        "NotResource": approved,
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": [
            format!("arn:aws:iam::*:role/{ORG_ACCESS_ROLE}"), format!("arn:aws:iam::*:role/{AUDIT_ROLE}")]}}}]});
    org.add_policy(
        "p-prodkeys01",
        "DenyDecryptOutsideApprovedKeys",
        &scp.to_string(),
        &[prod_ou],
    );
    let Some((guardrail, guardrail_arn)) = world.region(PROD, "us-east-1").and_then(|r| {
        r.guardrails
            .values()
            .filter(|g| g.draft.kms_key_arn.is_none())
            .min_by(|a, b| a.draft.name.cmp(&b.draft.name))
            .map(|g| (g.id.clone(), g.arn.clone()))
    }) else {
        return;
    };
    let role = "RiskScoringAgentRole";
    world.iam.add_role("aws", PROD, "/service-role/", role);
    world.iam.set_role_policy(
        PROD,
        role,
        serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": "*"},
            {"Effect": "Allow", "Action": "bedrock:ApplyGuardrail", "Resource": guardrail_arn},
            {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
             "Condition": {"StringLike": {"kms:ViaService": "bedrock.*.amazonaws.com"}}}]}),
    );
    let agent = super::agents::Agent {
        id: super::seed::new_resource_id(rng),
        name: "risk-scoring-agent".into(),
        role_arn: format!("arn:aws:iam::{PROD}:role/service-role/{role}"),
        guardrail: Some(super::agents::GuardrailRef {
            identifier: guardrail,
            version: "DRAFT".into(),
        }),
        versions: Vec::new(),
        created_at: OffsetDateTime::now_utc() - TimeDuration::days(30),
    };
    world
        .region_mut(PROD, "us-east-1")
        .agents
        .insert(agent.id.clone(), agent);
}

/// `generated:ACCOUNTS:REGIONS:PER_REGION`: the simulator's account manages ACCOUNTS - 1
/// members (ids 100000000001…), every account holding the same generated estate.
pub fn generated_organization(
    world: &mut World,
    management: &str,
    partition: &str,
    accounts: usize,
    regions: &[&str],
    per_region: usize,
    rng: &mut fastrand::Rng,
) {
    let mut org = org_of(world, partition, management, rng);
    generate(world, management, regions, per_region, rng);
    for i in 1..accounts {
        let id = format!("{:012}", 100_000_000_000u64 + i as u64);
        org.accounts.push(OrgAccount {
            id: id.clone(),
            name: format!("member-{i:04}"),
            email: format!("aws-member-{i:04}@example.com"),
            status: "ACTIVE",
            joined_method: "CREATED",
            joined: OffsetDateTime::now_utc() - TimeDuration::days(100),
            parent: org.root.clone(),
        });
        world.iam.seed_account(partition, &id);
        add_roles(world, partition, &id, management);
        generate(world, &id, regions, per_region, rng);
    }
    world.organization = Some(org);
}
