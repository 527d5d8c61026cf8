//! A fix of many accounts as one AWS CLI script or one Terraform file: each account's steps
//! run with that account's credentials (its profile, or its role assumed).

use super::plan::{FixPlan, hcl_string, script_header, shell_quote, terraform_header};
use crate::scan::accounts::{AccountTarget, Reach};

/// One script for the accounts of a fix of many: each account's steps in a subshell that
/// first takes that account's credentials (its profile, or its role assumed with the
/// credentials the script runs with).
pub fn script(planned: &[(&AccountTarget, &FixPlan)]) -> String {
    let total = planned.iter().map(|(_, p)| p.guardrail_count()).sum();
    let mut out = script_header(total);
    for (account, plan) in planned {
        out.push_str(&format!(
            "\n# account {} ({}), {}\n(\n",
            account.name,
            account.id,
            account.reach.describe()
        ));
        match &account.reach {
            Reach::Caller => {}
            Reach::Profile { name } => {
                out.push_str(&format!(
                    "export AWS_PROFILE={}\nunset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN\n",
                    shell_quote(name)
                ));
            }
            Reach::Role { arn } => {
                // STS answers in every region: the plan's first.
                let region = plan.regions.first().map_or("us-east-1", |r| r.region.as_str());
                out.push_str(&format!(
                    "creds=$(aws sts assume-role --region {region} --role-arn {} --role-session-name guardkey \\\n  \
                     --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)\n\
                     export AWS_ACCESS_KEY_ID=$(cut -f1 <<<\"$creds\") AWS_SECRET_ACCESS_KEY=$(cut -f2 <<<\"$creds\") \
                     AWS_SESSION_TOKEN=$(cut -f3 <<<\"$creds\")\n",
                    shell_quote(arn)
                ));
            }
        }
        out.push_str(&plan.cli_steps());
        out.push_str(")\n");
    }
    out
}

/// One Terraform file for the accounts of a fix of many: per account and region a provider
/// (`assume_role` into the account, or its profile) and the names prefixed with the account.
pub fn terraform(planned: &[(&AccountTarget, &FixPlan)]) -> (String, Vec<(String, Vec<String>)>) {
    let mut out = terraform_header();
    let mut gaps = Vec::new();
    for (account, plan) in planned {
        let auth = match &account.reach {
            Reach::Caller => String::new(),
            Reach::Profile { name } => format!("  profile = {}\n", hcl_string(name)),
            Reach::Role { arn } => format!("  assume_role {{\n    role_arn = {}\n  }}\n", hcl_string(arn)),
        };
        out.push_str(&format!("\n# account {} ({})\n", account.name, account.id));
        let (body, g) = plan.terraform_scoped(&format!("a{}_", account.id), &auth);
        out.push_str(&body);
        gaps.extend(g);
    }
    (out, gaps)
}
