//! The plan of a fix: per region, the key to create or use and the guardrails to move to
//! it. Pure: it says what will be called, and renders as a summary, a diff, an AWS CLI
//! script and a Terraform snippet.

use std::collections::HashMap;
use std::fmt::Write;

use crate::model::config::GuardrailConfig;
use crate::usage::{Access, GuardrailUser, UnknownSource};

/// A key to create in a region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    pub alias: String,
    pub description: String,
    /// The key policy document (JSON).
    pub policy: String,
    pub tags: Vec<(String, String)>,
    /// Automatic rotation period; None leaves rotation off.
    pub rotation_days: Option<i32>,
    /// One multi-Region key for every region of the plan (`--multi-region`): this region's
    /// part in it.
    pub multi_region: MultiRegion,
}

impl NewKey {
    /// The rotation period to enable on this region's key: a replica's is its primary's,
    /// set there (KMS refuses EnableKeyRotation on a replica).
    pub fn rotation_set_here(&self) -> Option<i32> {
        self.rotation_days
            .filter(|_| !matches!(self.multi_region, MultiRegion::Replica { .. }))
    }
}

/// A new key's part in a multi-Region key: KMS keeps one key id and key material in every
/// region, each replica a key of its own region (its own ARN, policy, alias and tags) that
/// the region's guardrails use; rotation is set on the primary and applies to every replica
/// (KMS Developer Guide, "Multi-Region keys in AWS KMS").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MultiRegion {
    /// A single-Region key, its region's own.
    #[default]
    No,
    /// The primary key (`CreateKey --multi-region`), created before its replicas.
    Primary,
    /// A replica of the primary in `primary_region` (`ReplicateKey`), with this region's policy.
    Replica { primary_region: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChoice {
    Create(NewKey),
    /// An existing key, as the user named it (key id, key ARN, alias name or alias ARN).
    Existing(String),
}

/// A guardrail to move to the region's key.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub arn: String,
    pub id: String,
    pub name: String,
    /// Its key when the plan was made (None: the AWS-owned key).
    pub current_key: Option<String>,
    /// Its DRAFT when the plan was made; the fix reads it again before writing.
    pub config: Option<GuardrailConfig>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RegionPlan {
    pub region: String,
    pub key: KeyChoice,
    pub targets: Vec<Target>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct FixPlan {
    pub account: String,
    pub regions: Vec<RegionPlan>,
    pub publish_version: bool,
    /// Who uses the guardrails, and what the plan's keys mean for them.
    pub usage: PlanUsage,
    /// Guardrails whose move would take kms:Decrypt from a known user: left out of
    /// `regions` (see `planner`), unless `allow_lockout`.
    pub held: Vec<super::planner::HeldBack>,
    /// The lock-outs were accepted (`--allow-lockout`): the held guardrails move too.
    pub allow_lockout: bool,
    /// What planning had to say (guardrails skipped, statements a key policy lacks).
    pub notes: Vec<String>,
}

impl FixPlan {
    /// One multi-Region key for the plan's new keys: the primary in `primary` (default: the
    /// plan's first region), a replica in each other region, each with its own region's
    /// policy, alias and tags. Every region must create its key.
    pub fn make_multi_region(&mut self, primary: Option<&str>) -> Result<(), String> {
        let Some(first) = self.regions.first().map(|r| r.region.clone()) else {
            return Ok(());
        };
        let primary = primary.map_or(first, str::to_string);
        if !self.regions.iter().any(|r| r.region == primary) {
            return Err(format!(
                "--primary-region {primary}: the plan has no guardrail there (its regions: {})",
                self.regions
                    .iter()
                    .map(|r| r.region.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        // The primary first: its replicas are made from it.
        self.regions.sort_by_key(|r| r.region != primary);
        for r in &mut self.regions {
            let KeyChoice::Create(k) = &mut r.key else {
                return Err("--multi-region makes a new key: it goes with --create-key".into());
            };
            k.multi_region = if r.region == primary {
                MultiRegion::Primary
            } else {
                MultiRegion::Replica {
                    primary_region: primary.clone(),
                }
            };
        }
        Ok(())
    }
}

/// A user of a guardrail, and whether it can decrypt with the key the plan applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedUser {
    pub user: GuardrailUser,
    pub with_key: Access,
}

/// A statement added to an existing key's policy so that the guardrails' users can decrypt
/// (`--grant-users`): the old policy is journaled before PutKeyPolicy, and put back by
/// `restore`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyGrant {
    pub region: String,
    pub key_arn: String,
    pub principals: Vec<String>,
    pub old_policy: String,
    pub new_policy: String,
}

impl PolicyGrant {
    /// The users statement naming `principals`, added to `old_policy`.
    pub fn new(
        region: &str,
        key_arn: &str,
        old_policy: String,
        principals: Vec<String>,
    ) -> Result<Self, String> {
        let new_policy = super::policy::with_users(&old_policy, &principals)?;
        Ok(PolicyGrant {
            region: region.to_string(),
            key_arn: key_arn.to_string(),
            principals,
            old_policy,
            new_policy,
        })
    }
}

/// The principals a users statement must add to an existing key's policy: the account's own
/// that a key policy can name and that the key would not let decrypt, each once.
pub fn to_grant<'a>(planned: impl IntoIterator<Item = &'a PlannedUser>, account: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in planned {
        if p.user.nameable_in(account)
            && !matches!(p.with_key, Access::Allowed { .. })
            && !out.contains(&p.user.principal)
        {
            out.push(p.user.principal.clone());
        }
    }
    out
}

/// What the plan knows of who uses its guardrails.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanUsage {
    /// Whether usage was read at all.
    pub read: bool,
    /// By guardrail ARN: its named users (administrators left out) with the planned key.
    pub users: HashMap<String, Vec<PlannedUser>>,
    /// By guardrail ARN: the sources that could not be read.
    pub unknown: HashMap<String, Vec<UnknownSource>>,
    pub grants: Vec<PolicyGrant>,
    /// The users' IAM policies and boundaries, as the plan evaluated them: the apply
    /// evaluates every user again with the key as it reads back.
    pub iam: HashMap<String, crate::usage::PrincipalPolicies>,
}

impl PlanUsage {
    /// The users of the guardrails that move whose access with the planned key is not
    /// known, by guardrail name: listed at the top of the plan and at the confirm step.
    pub fn unknown_users<'a>(&'a self, plan: &'a FixPlan) -> Vec<(&'a str, &'a PlannedUser)> {
        let mut out = Vec::new();
        for t in plan.regions.iter().flat_map(|r| &r.targets) {
            for u in self.users.get(&t.arn).into_iter().flatten() {
                if matches!(u.with_key, Access::Unknown { .. }) {
                    out.push((t.name.as_str(), u));
                }
            }
        }
        out
    }

    /// How many of a guardrail's known users (principals) keep access with the planned
    /// key, of how many.
    pub fn keeping(&self, arn: &str) -> (usize, usize) {
        let users = self.users.get(arn).map(Vec::as_slice).unwrap_or_default();
        let mut principals: Vec<(&str, bool)> = Vec::new();
        for u in users {
            let keeps = matches!(u.with_key, Access::Allowed { .. });
            match principals.iter_mut().find(|(p, _)| *p == u.user.principal) {
                Some((_, k)) => *k &= keeps,
                None => principals.push((&u.user.principal, keeps)),
            }
        }
        let keep = principals.iter().filter(|(_, k)| *k).count();
        (keep, principals.len())
    }
}

/// The first lines of the Terraform guardkey writes.
pub fn terraform_header() -> String {
    "# Written by guardkey. `terraform plan` imports each guardrail and shows one change: its\n\
     # kms_key_arn, onto the key below. Requires Terraform 1.5 or later (import blocks).\n"
        .to_string()
}

/// The start of every script guardkey writes: strict mode and a scratch directory.
pub fn script_header(guardrails: usize) -> String {
    format!(
        "#!/usr/bin/env bash\n\
         # Written by guardkey: moves {} to a customer managed KMS key.\n\
         # Each update-guardrail resends the guardrail's whole DRAFT as read when this was written.\n\
         set -euo pipefail\n\
         work=$(mktemp -d)\ntrap 'rm -rf \"$work\"' EXIT\n",
        crate::report::plural(guardrails, "Bedrock guardrail")
    )
}

pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn var(region: &str) -> String {
    format!("KEY_{}", region.replace('-', "_").to_uppercase())
}

impl FixPlan {
    pub fn guardrail_count(&self) -> usize {
        self.regions.iter().map(|r| r.targets.len()).sum()
    }

    fn key_label(choice: &KeyChoice) -> String {
        match choice {
            KeyChoice::Create(k) => format!("a new customer managed key {} (created first)", k.alias),
            KeyChoice::Existing(k) => format!("the existing key {k}"),
        }
    }

    /// What will happen, step by step, for a person to read before saying yes.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Plan: {} in {} of account {} {} to a customer managed KMS key.",
            crate::report::plural(self.guardrail_count(), "guardrail"),
            crate::report::plural(self.regions.len(), "region"),
            self.account,
            if self.guardrail_count() == 1 {
                "moves"
            } else {
                "move"
            }
        );
        self.gate_lines(&mut out);
        for r in &self.regions {
            let _ = writeln!(out, "\n{}:", r.region);
            let mut step = 1;
            match &r.key {
                KeyChoice::Create(k) => {
                    match &k.multi_region {
                        MultiRegion::Replica { primary_region } => {
                            let _ = writeln!(
                                out,
                                "  {step}. kms:ReplicateKey  the multi-Region key of {primary_region} into {}, with this region's key policy",
                                r.region
                            );
                        }
                        other => {
                            let _ = writeln!(
                                out,
                                "  {step}. kms:CreateKey  symmetric encryption key{}, \"{}\"",
                                if *other == MultiRegion::Primary {
                                    " (multi-Region primary: replicated into the plan's other regions)"
                                } else {
                                    ""
                                },
                                k.description
                            );
                        }
                    }
                    step += 1;
                    let _ = writeln!(out, "  {step}. kms:CreateAlias {}", k.alias);
                    step += 1;
                    match (&k.multi_region, k.rotation_days) {
                        // Set on the primary, it applies to every replica.
                        (MultiRegion::Replica { primary_region }, Some(_)) => {
                            let _ = writeln!(out, "     (rotation: the primary's, set in {primary_region})");
                        }
                        (_, Some(days)) => {
                            let _ = writeln!(out, "  {step}. kms:EnableKeyRotation every {days} days");
                            step += 1;
                        }
                        _ => {}
                    }
                }
                KeyChoice::Existing(k) => {
                    let _ = writeln!(
                        out,
                        "  {step}. kms:DescribeKey {k} (checked: enabled, customer managed, symmetric, this region)"
                    );
                    step += 1;
                }
            }
            for g in self.usage.grants.iter().filter(|g| g.region == r.region) {
                let _ = writeln!(
                    out,
                    "  {step}. kms:PutKeyPolicy {}: adds a statement letting {} decrypt (the current policy is journaled first)",
                    g.key_arn,
                    g.principals.join(", ")
                );
                step += 1;
            }
            for t in &r.targets {
                let _ = writeln!(
                    out,
                    "  {step}. bedrock:UpdateGuardrail {} ({}): the whole DRAFT resent, only the key changes{}",
                    t.name,
                    t.id,
                    if self.publish_version {
                        "; then CreateGuardrailVersion"
                    } else {
                        ""
                    }
                );
                step += 1;
            }
            let _ = writeln!(out, "     key: {}", Self::key_label(&r.key));
            self.usage_lines(r, &mut out);
        }
        out
    }

    /// What the gate decided, first: the guardrails held back (or moved anyway) because a
    /// known user would lose access, and the users whose access is not known.
    fn gate_lines(&self, out: &mut String) {
        let (held, accepted): (Vec<_>, Vec<_>) = self.held.iter().partition(|h| !h.moved_anyway);
        if !held.is_empty() {
            let _ = writeln!(
                out,
                "✗ Held back, not moved: {} whose move would take kms:Decrypt from a user:",
                crate::report::plural(held.len(), "guardrail")
            );
        }
        if !accepted.is_empty() {
            let _ = writeln!(
                out,
                "⚠ Lock-out accepted (--allow-lockout): {} {} although a user loses kms:Decrypt (journaled):",
                crate::report::plural(accepted.len(), "guardrail"),
                if accepted.len() == 1 { "moves" } else { "move" }
            );
        }
        for h in held.iter().chain(&accepted) {
            let _ = writeln!(out, "  {} ({}):", h.target.name, h.region);
            for p in &h.losing {
                let _ = writeln!(
                    out,
                    "    ✗ {} ({}) would lose access: {}",
                    p.user.label(),
                    p.user.principal,
                    p.with_key.reason()
                );
            }
            if !h.moved_anyway {
                let ways: Vec<String> = h.ways_out.iter().map(|w| w.describe(&h.region)).collect();
                let _ = writeln!(out, "    ways out: {}", ways.join("; or "));
            }
        }
        let unknown = self.usage.unknown_users(self);
        if !unknown.is_empty() {
            let _ = writeln!(
                out,
                "? Not known whether {} keep access (check them before applying):",
                crate::report::plural(unknown.len(), "user")
            );
            for (name, p) in unknown {
                let _ = writeln!(
                    out,
                    "  {name}: ? {} ({}): {}",
                    p.user.label(),
                    p.user.principal,
                    p.with_key.reason()
                );
            }
        }
    }

    /// Who uses each guardrail of the region, and whether they keep access with the key.
    fn usage_lines(&self, r: &RegionPlan, out: &mut String) {
        if !self.usage.read {
            return;
        }
        let mut unused = 0;
        for t in &r.targets {
            let users = self
                .usage
                .users
                .get(&t.arn)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let unknown = self
                .usage
                .unknown
                .get(&t.arn)
                .map(Vec::as_slice)
                .unwrap_or_default();
            if users.is_empty() && unknown.is_empty() {
                unused += 1;
                continue;
            }
            let _ = writeln!(out, "     {} is used by:", t.name);
            for u in users {
                let verdict = match &u.with_key {
                    Access::Allowed { how } => format!("keeps access: {how}"),
                    Access::Denied { why } => format!("WOULD LOSE ACCESS: {why}"),
                    Access::Unknown { why } => format!("may lose access (not known): {why}"),
                };
                let _ = writeln!(
                    out,
                    "       {} {} ({}): {verdict}",
                    u.with_key.mark(),
                    u.user.label(),
                    u.user.principal
                );
            }
            for s in unknown {
                let _ = writeln!(
                    out,
                    "       ? {} not read ({}): their users are not known",
                    s.source, s.reason
                );
            }
        }
        if unused > 0 {
            let _ = writeln!(
                out,
                "     {}: no agent, flow or IAM principal found using {} (administrators aside)",
                match (unused == r.targets.len(), unused) {
                    (true, n) => crate::report::plural(n, "guardrail"),
                    (false, 1) => "1 other".to_string(),
                    (false, n) => format!("{n} others"),
                },
                if unused == 1 { "it" } else { "them" }
            );
        }
    }

    /// Per guardrail, the one line that changes.
    pub fn diff(&self) -> String {
        let mut out = String::new();
        for r in &self.regions {
            let new = match &r.key {
                KeyChoice::Create(k) => format!("<new key {}>", k.alias),
                KeyChoice::Existing(k) => k.clone(),
            };
            for t in &r.targets {
                let _ = writeln!(out, "{} ({}, {})", t.name, r.region, t.arn);
                if let KeyChoice::Existing(k) = &r.key
                    && t.current_key.as_deref() == Some(k.as_str())
                {
                    // A no-op "- X / + X" would look like a change: it is none.
                    let _ = writeln!(out, "  already on {k}: skipped, nothing is sent");
                    continue;
                }
                let _ = writeln!(
                    out,
                    "- kmsKeyArn: {}",
                    t.current_key.as_deref().unwrap_or("AWS-owned key")
                );
                let _ = writeln!(out, "+ kmsKeyArn: {new}");
                let _ = writeln!(out, "  (every other setting is resent unchanged)");
            }
        }
        out
    }

    /// A bash script doing the same with the AWS CLI. update-guardrail gets the whole
    /// configuration through --cli-input-json, so the script is lossless too.
    pub fn cli_script(&self) -> String {
        let mut out = script_header(self.guardrail_count());
        out.push_str(&self.cli_steps());
        out
    }

    /// The script's steps, without its header: `$work` is the header's scratch directory.
    pub fn cli_steps(&self) -> String {
        let mut out = String::new();
        for r in &self.regions {
            let region = &r.region;
            let v = var(region);
            let _ = writeln!(out, "\n# {region}");
            match &r.key {
                KeyChoice::Create(k) => {
                    let _ = writeln!(
                        out,
                        "cat >\"$work/policy-{region}.json\" <<'POLICY'\n{}\nPOLICY",
                        k.policy
                    );
                    let tags: Vec<String> = k
                        .tags
                        .iter()
                        .map(|(key, value)| format!("TagKey={},TagValue={}", key, value))
                        .collect();
                    let tag_arg = if tags.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " --tags {}",
                            tags.iter().map(|t| shell_quote(t)).collect::<Vec<_>>().join(" ")
                        )
                    };
                    match &k.multi_region {
                        // A replica, from the primary's region; its policy and tags its own.
                        MultiRegion::Replica { primary_region } => {
                            let _ = writeln!(
                                out,
                                "{v}=$(aws kms replicate-key --region {primary_region} --key-id \"${}\" --replica-region {region} --description {} --policy \"file://$work/policy-{region}.json\"{tag_arg} --query ReplicaKeyMetadata.Arn --output text)",
                                var(primary_region),
                                shell_quote(&k.description)
                            );
                        }
                        made => {
                            let _ = writeln!(
                                out,
                                "{v}=$(aws kms create-key --region {region}{} --description {} --policy \"file://$work/policy-{region}.json\"{tag_arg} --query KeyMetadata.Arn --output text)",
                                if *made == MultiRegion::Primary {
                                    " --multi-region"
                                } else {
                                    ""
                                },
                                shell_quote(&k.description)
                            );
                        }
                    }
                    let _ = writeln!(
                        out,
                        "aws kms create-alias --region {region} --alias-name {} --target-key-id \"${v}\"",
                        shell_quote(&k.alias)
                    );
                    if let Some(days) = k.rotation_set_here() {
                        let _ = writeln!(
                            out,
                            "aws kms enable-key-rotation --region {region} --key-id \"${v}\" --rotation-period-in-days {days}"
                        );
                    }
                }
                KeyChoice::Existing(k) => {
                    let _ = writeln!(
                        out,
                        "{v}=$(aws kms describe-key --region {region} --key-id {} --query KeyMetadata.Arn --output text)",
                        shell_quote(k)
                    );
                }
            }
            for g in self.usage.grants.iter().filter(|g| g.region == *region) {
                let _ = writeln!(
                    out,
                    "aws kms get-key-policy --region {region} --key-id \"${v}\" --policy-name default --query Policy --output text >\"guardkey-old-key-policy-{region}.json\"\n\
                     echo \"guardkey: the key policy before the change is in guardkey-old-key-policy-{region}.json\" >&2\n\
                     cat >\"$work/new-policy-{region}.json\" <<'POLICY'\n{}\nPOLICY\n\
                     aws kms put-key-policy --region {region} --key-id \"${v}\" --policy-name default --policy \"file://$work/new-policy-{region}.json\"",
                    g.new_policy
                );
            }
            for t in &r.targets {
                let Some(config) = &t.config else {
                    // Never a silent gap: a script without the update is not the plan.
                    let _ = writeln!(
                        out,
                        "echo 'guardkey: the DRAFT of {} was not read when this script was written: run guardkey fix for it' >&2; exit 1",
                        t.name
                    );
                    continue;
                };
                let request = config.update_request(&t.arn, None);
                let file = format!("$work/{}.json", t.id);
                let _ = writeln!(
                    out,
                    "cat >\"{file}\" <<'GUARDRAIL'\n{}\nGUARDRAIL",
                    serde_json::to_string_pretty(&request).expect("a request serializes")
                );
                let _ = writeln!(
                    out,
                    "aws bedrock update-guardrail --region {region} --cli-input-json \"file://{file}\" --kms-key-id \"${v}\" >/dev/null"
                );
                let _ = writeln!(
                    out,
                    "until [ \"$(aws bedrock get-guardrail --region {region} --guardrail-identifier {} --query status --output text)\" = READY ]; do sleep 2; done",
                    shell_quote(&t.arn)
                );
                if self.publish_version {
                    let _ = writeln!(
                        out,
                        "aws bedrock create-guardrail-version --region {region} --guardrail-identifier {} --description 'Encrypted with a customer managed key (guardkey)'",
                        shell_quote(&t.arn)
                    );
                }
            }
        }
        out
    }

    /// The fix as Terraform, for teams that manage guardrails as code: per region a
    /// provider and the key (a new `aws_kms_key` and its alias, or the existing key as
    /// data); per guardrail an `import` block and its `aws_bedrock_guardrail` written from
    /// its DRAFT with `kms_key_arn` on that key (see `terraform`).
    pub fn terraform(&self) -> String {
        self.terraform_with_gaps().0
    }

    /// The Terraform, and per guardrail what its resource cannot express.
    pub fn terraform_with_gaps(&self) -> (String, Vec<(String, Vec<String>)>) {
        let mut out = terraform_header();
        let (body, gaps) = self.terraform_scoped("", "");
        out.push_str(&body);
        (out, gaps)
    }

    /// The Terraform of this plan, its names prefixed with `prefix` (an account's, in a fix
    /// of many) and its providers given `auth` (e.g. an `assume_role` block), no header.
    pub fn terraform_scoped(&self, prefix: &str, auth: &str) -> (String, Vec<(String, Vec<String>)>) {
        let mut out = String::new();
        let mut gaps = Vec::new();
        for r in &self.regions {
            let alias = format!("{prefix}{}", r.region.replace('-', "_"));
            let name = format!("bedrock_guardrails_{alias}");
            let _ = writeln!(
                out,
                "\nprovider \"aws\" {{\n  alias  = \"{alias}\"\n  region = \"{}\"\n{auth}}}",
                r.region
            );
            // Each key's resource, and what the guardrails of the region refer to.
            let reference = match &r.key {
                KeyChoice::Create(
                    k @ NewKey {
                        multi_region: MultiRegion::Replica { primary_region },
                        ..
                    },
                ) => {
                    // aws_kms_replica_key: the replica of the primary, its own policy and tags.
                    let primary = format!("bedrock_guardrails_{prefix}{}", primary_region.replace('-', "_"));
                    let _ = writeln!(out, "\nresource \"aws_kms_replica_key\" \"{name}\" {{");
                    let _ = writeln!(out, "  provider        = aws.{alias}");
                    let _ = writeln!(out, "  primary_key_arn = aws_kms_key.{primary}.arn");
                    let _ = writeln!(out, "  description     = {}", hcl_string(&k.description));
                    let _ = writeln!(
                        out,
                        "  policy          = <<POLICY\n{}\nPOLICY",
                        hcl_template_escape(&k.policy)
                    );
                    hcl_key_end(&mut out, k, &alias, &format!("aws_kms_replica_key.{name}"));
                    format!("aws_kms_replica_key.{name}.arn")
                }
                KeyChoice::Create(k) => {
                    let _ = writeln!(out, "\nresource \"aws_kms_key\" \"{name}\" {{");
                    let _ = writeln!(out, "  provider                = aws.{alias}");
                    if k.multi_region == MultiRegion::Primary {
                        let _ = writeln!(out, "  multi_region            = true");
                    }
                    let _ = writeln!(out, "  description             = {}", hcl_string(&k.description));
                    let _ = writeln!(out, "  key_usage               = \"ENCRYPT_DECRYPT\"");
                    let _ = writeln!(out, "  customer_master_key_spec = \"SYMMETRIC_DEFAULT\"");
                    let _ = writeln!(out, "  enable_key_rotation     = {}", k.rotation_days.is_some());
                    if let Some(days) = k.rotation_days {
                        let _ = writeln!(out, "  rotation_period_in_days = {days}");
                    }
                    let _ = writeln!(
                        out,
                        "  policy                  = <<POLICY\n{}\nPOLICY",
                        hcl_template_escape(&k.policy)
                    );
                    hcl_key_end(&mut out, k, &alias, &format!("aws_kms_key.{name}"));
                    format!("aws_kms_key.{name}.arn")
                }
                KeyChoice::Existing(k) => {
                    let _ = writeln!(out, "\ndata \"aws_kms_key\" \"{name}\" {{");
                    let _ = writeln!(out, "  provider = aws.{alias}");
                    let _ = writeln!(out, "  key_id   = {}\n}}", hcl_string(k));
                    format!("data.aws_kms_key.{name}.arn")
                }
            };
            let provider = alias.clone();
            for t in &r.targets {
                match &t.config {
                    Some(config) => {
                        let missing = super::terraform::write_guardrail(
                            &mut out, &provider, &t.name, &t.id, config, &reference,
                        );
                        if !missing.is_empty() {
                            gaps.push((t.name.clone(), missing));
                        }
                    }
                    // Never a resource guessed without its DRAFT: it would wipe what it lacks.
                    None => {
                        let _ = writeln!(
                            out,
                            "\n# {} ({}): its DRAFT was not read, so no resource is written for it.\n\
                             # Import it and set kms_key_arn = {reference}",
                            t.name, t.arn
                        );
                    }
                }
            }
        }
        (out, gaps)
    }
}

/// `${` and `%{` open template sequences in every HCL string and heredoc: doubled, they
/// are the literal characters (Terraform's "Strings and Templates").
/// The end of a new key's resource (its tags), and its alias's resource, pointing at `key`
/// (`aws_kms_key.NAME` or `aws_kms_replica_key.NAME`) through the provider `alias`.
fn hcl_key_end(out: &mut String, k: &NewKey, alias: &str, key: &str) {
    if !k.tags.is_empty() {
        let _ = writeln!(out, "  tags = {{");
        for (tag, value) in &k.tags {
            let _ = writeln!(out, "    {} = {}", hcl_string(tag), hcl_string(value));
        }
        let _ = writeln!(out, "  }}");
    }
    let _ = writeln!(out, "}}");
    let name = key.rsplit('.').next().unwrap_or(key);
    let _ = writeln!(out, "\nresource \"aws_kms_alias\" \"{name}\" {{");
    let _ = writeln!(out, "  provider      = aws.{alias}");
    let _ = writeln!(out, "  name          = {}", hcl_string(&k.alias));
    let _ = writeln!(out, "  target_key_id = {key}.key_id\n}}");
}

fn hcl_template_escape(s: &str) -> String {
    s.replace("${", "$${").replace("%{", "%%{")
}

/// A quoted HCL string holding exactly `s`: HCL's escapes (`\"`, `\\`, `\n`, `\r`,
/// `\t`, `\uNNNN` for other control characters), templates escaped. Rust's `{:?}` is
/// not HCL (it writes `\u{1b}`, and leaves `${` to be interpolated).
pub fn hcl_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in hcl_template_escape(s).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Groups targets by region, keeping the regions' first-seen order.
pub fn by_region(targets: Vec<(String, Target)>) -> Vec<(String, Vec<Target>)> {
    let mut order: Vec<String> = Vec::new();
    let mut groups: HashMap<String, Vec<Target>> = HashMap::new();
    for (region, t) in targets {
        if !groups.contains_key(&region) {
            order.push(region.clone());
        }
        groups.entry(region).or_default().push(t);
    }
    order
        .into_iter()
        .map(|r| {
            let targets = groups.remove(&r).unwrap_or_default();
            (r, targets)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_names_the_accounts_own_locked_out_users_that_exist_once_each() {
        let denied = Access::Denied {
            why: "no grant".into(),
        };
        let planned = |principal: &str, with_key: Access, missing: bool| PlannedUser {
            user: GuardrailUser {
                missing,
                ..crate::usage::claims_agent(
                    principal,
                    Access::Allowed {
                        how: "AWS-owned".into(),
                    },
                )
            },
            with_key,
        };
        let users = [
            planned("arn:aws:iam::111122223333:role/A", denied.clone(), false),
            planned("arn:aws:iam::111122223333:role/A", denied.clone(), false),
            planned("arn:aws:iam::111122223333:role/Deleted", denied.clone(), true),
            planned("arn:aws:iam::444455556666:role/Partner", denied.clone(), false),
            planned(
                "arn:aws:iam::111122223333:role/Fine",
                Access::Allowed { how: "named".into() },
                false,
            ),
            planned(
                "arn:aws:iam::111122223333:role/Maybe",
                Access::Unknown { why: "IAM".into() },
                false,
            ),
        ];
        assert_eq!(
            to_grant(&users, "111122223333"),
            [
                "arn:aws:iam::111122223333:role/A",
                "arn:aws:iam::111122223333:role/Maybe"
            ]
        );
        let old = r#"{"Version":"2012-10-17","Statement":[]}"#.to_string();
        let grant = PolicyGrant::new(
            "us-east-1",
            "arn:aws:kms:us-east-1:111122223333:key/k",
            old.clone(),
            to_grant(&users, "111122223333"),
        )
        .unwrap();
        assert_eq!(grant.old_policy, old);
        assert!(grant.new_policy.contains("role/Maybe"), "{}", grant.new_policy);
    }

    #[test]
    fn hcl_strings_hold_hostile_text_literally() {
        assert_eq!(hcl_string("plain"), "\"plain\"");
        assert_eq!(hcl_string("${var.x}"), "\"$${var.x}\"");
        assert_eq!(
            hcl_string("%{ if true }x%{ endif }"),
            "\"%%{ if true }x%%{ endif }\""
        );
        assert_eq!(hcl_string("say \"hi\" \\ bye"), "\"say \\\"hi\\\" \\\\ bye\"");
        assert_eq!(hcl_string("a\nb\tc\u{1b}"), "\"a\\nb\\tc\\u001B\"");
        // Already doubled stays literal too: $${ is written $$${.
        assert_eq!(hcl_string("$${x}"), "\"$$${x}\"");
    }

    fn plan() -> FixPlan {
        let config = GuardrailConfig {
            name: "support-bot".into(),
            description: None,
            blocked_input_messaging: "no".into(),
            blocked_outputs_messaging: "no".into(),
            topic_policy: None,
            content_policy: None,
            word_policy: Some(crate::model::config::WordPolicy {
                words: vec![crate::model::config::Word {
                    text: "it's".into(),
                    directions: Default::default(),
                }],
                managed_word_lists: vec![],
            }),
            sensitive_information_policy: None,
            contextual_grounding_policy: None,
            automated_reasoning_policy: None,
            cross_region_details: None,
            kms_key_arn: None,
        };
        FixPlan {
            account: "123456789012".into(),
            publish_version: true,
            usage: Default::default(),
            held: Vec::new(),
            allow_lockout: false,
            notes: Vec::new(),
            regions: vec![
                RegionPlan {
                    region: "us-east-1".into(),
                    key: KeyChoice::Create(NewKey {
                        alias: "alias/bedrock-guardrails".into(),
                        description: "Bedrock guardrails".into(),
                        policy: "{\"Statement\": []}".into(),
                        tags: vec![("managed-by".into(), "guardkey".into())],
                        rotation_days: Some(365),
                        multi_region: Default::default(),
                    }),
                    targets: vec![Target {
                        arn: "arn:aws:bedrock:us-east-1:123456789012:guardrail/abc".into(),
                        id: "abc".into(),
                        name: "support-bot".into(),
                        current_key: None,
                        config: Some(config),
                    }],
                },
                RegionPlan {
                    region: "eu-west-1".into(),
                    key: KeyChoice::Existing("alias/shared".into()),
                    targets: vec![Target {
                        arn: "arn:aws:bedrock:eu-west-1:123456789012:guardrail/def".into(),
                        id: "def".into(),
                        name: "claims".into(),
                        current_key: Some("arn:aws:kms:eu-west-1:123456789012:key/old".into()),
                        config: None,
                    }],
                },
            ],
        }
    }

    #[test]
    fn renders_summary_diff_script_and_terraform() {
        let p = plan();
        assert_eq!(p.guardrail_count(), 2);
        insta::assert_snapshot!("summary", p.summary());
        insta::assert_snapshot!("diff", p.diff());
        let script = p.cli_script();
        assert!(
            script.contains("--cli-input-json \"file://$work/abc.json\" --kms-key-id \"$KEY_US_EAST_1\"")
        );
        assert!(
            script.contains("\"text\": \"it's\""),
            "quoted heredocs keep the config verbatim"
        );
        insta::assert_snapshot!("script", script);
        insta::assert_snapshot!("terraform", p.terraform());
    }

    #[test]
    fn groups_by_region_in_order() {
        let t = |id: &str| Target {
            arn: id.into(),
            id: id.into(),
            name: id.into(),
            current_key: None,
            config: None,
        };
        let groups = by_region(vec![
            ("b".into(), t("1")),
            ("a".into(), t("2")),
            ("b".into(), t("3")),
        ]);
        let shape: Vec<(String, Vec<String>)> = groups
            .into_iter()
            .map(|(r, ts)| (r, ts.into_iter().map(|t| t.id).collect()))
            .collect();
        assert_eq!(
            shape,
            [
                ("b".to_string(), vec!["1".to_string(), "3".to_string()]),
                ("a".to_string(), vec!["2".to_string()])
            ]
        );
    }
}
