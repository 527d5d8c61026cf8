//! The command line: `guardkey [OPTIONS] [COMMAND]`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::sim::{Denial, Quota, Seed};

#[derive(Debug, Parser)]
#[command(
    name = "guardkey",
    version,
    about = "Audit and fix the KMS encryption of Amazon Bedrock guardrails (Bedrock-003)",
    long_about = "guardkey finds every Amazon Bedrock guardrail in every region of an AWS account \
(or of every account of an organization, with --org), shows whether each is encrypted with a \
customer managed KMS key (CMK) as Bedrock-003 requires, and who uses it, and fixes it: it creates \
a CMK with a sound key policy and applies it without losing any guardrail setting or any user's access.\n\n\
Run without a command to open the interactive explorer; `guardkey --demo` does the same on the \
embedded simulator, with no AWS account needed (`guardkey --demo --org`: its organization).",
    after_help = "Credentials come from the standard AWS chain (environment, ~/.aws files, SSO, \
credential_process, web identity, instance metadata), like the AWS CLI."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Use the embedded simulator, seeded with a demo estate, instead of AWS (no account, no
    /// credentials); without a command, the explorer opens on it.
    #[arg(help_heading = "Account and regions", long, global = true)]
    pub demo: bool,

    /// The named profile of ~/.aws/config to use.
    #[arg(
        help_heading = "Account and regions",
        long,
        global = true,
        env = "AWS_PROFILE"
    )]
    pub profile: Option<String>,

    /// Regions to cover: a comma-separated list, or `all`. Default: every Bedrock region.
    #[arg(
        help_heading = "Account and regions",
        long,
        global = true,
        alias = "region",
        value_delimiter = ','
    )]
    pub regions: Vec<String>,

    /// Send every AWS call to this endpoint instead of AWS (e.g. a `guardkey sim`).
    #[arg(help_heading = "Account and regions", long, global = true)]
    pub endpoint_url: Option<String>,

    /// Refuse every call that would change anything in AWS.
    #[arg(help_heading = "Account and regions", long, global = true)]
    pub read_only: bool,

    /// Replay a scan saved with `scan --save`, with no AWS call.
    #[arg(help_heading = "Inputs", long, global = true, value_name = "FILE")]
    pub load: Option<PathBuf>,

    /// Every account of the caller's organization (AWS Organizations ListAccounts): run it
    /// from the management account or a delegated administrator. Each account is reached by
    /// assuming --role-name in it (the management account itself with the caller's
    /// credentials); suspended accounts are reported, not scanned.
    #[arg(help_heading = "Many accounts", long, global = true)]
    pub org: bool,

    /// With --org: only the accounts of this OU and the OUs beneath it (ou-…).
    #[arg(
        help_heading = "Many accounts",
        long,
        global = true,
        value_name = "OU_ID",
        requires = "org"
    )]
    pub ou: Option<String>,

    /// With --org: the role assumed in each account [default: OrganizationAccountAccessRole,
    /// which Organizations creates in the accounts it creates]. An audit role with the
    /// SecurityAudit managed policy (or `guardkey policy scan`), trusted by the management
    /// account, is the usual choice for scans.
    #[arg(
        help_heading = "Many accounts",
        long,
        global = true,
        value_name = "NAME",
        requires = "org"
    )]
    pub role_name: Option<String>,

    /// Only these accounts (12-digit ids, comma-separated), of --org or --role-arns.
    #[arg(
        help_heading = "Many accounts",
        long,
        global = true,
        value_delimiter = ',',
        value_name = "IDS"
    )]
    pub accounts: Vec<String>,

    /// Leave these accounts out (12-digit ids, comma-separated).
    #[arg(
        help_heading = "Many accounts",
        long,
        global = true,
        value_delimiter = ',',
        value_name = "IDS"
    )]
    pub exclude_accounts: Vec<String>,

    /// Without Organizations access: one account per named profile (comma-separated; SSO
    /// profiles per account are common).
    #[arg(help_heading = "Many accounts", long, global = true, value_delimiter = ',', value_name = "PROFILES", conflicts_with_all = ["org", "profile"])]
    pub profiles: Vec<String>,

    /// Without Organizations access: assume each role ARN of FILE (one per line, an optional
    /// account name after it; `#` comments) with the caller's credentials.
    #[arg(help_heading = "Many accounts", long, global = true, value_name = "FILE", conflicts_with_all = ["org", "profiles"])]
    pub role_arns: Option<PathBuf>,

    /// Accounts scanned at once (each with all its regions, against its own quotas).
    #[arg(help_heading = "Many accounts", long, global = true, default_value_t = 256, value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub account_concurrency: u16,

    /// The explorer marks what changed since this saved scan (`scan --save`): ↑ fixed,
    /// ↓ regressed, ~ changed, + new; the table's title counts them and those gone. With
    /// --load, compares two saved scans. Headless, use `guardkey diff OLD NEW`.
    #[arg(help_heading = "Inputs", long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Defaults from this TOML file (default: $XDG_CONFIG_HOME/guardkey/config.toml).
    #[arg(help_heading = "Inputs", long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Accepted risks: a TOML file of exceptions, each with what it matches (guardrail,
    /// name glob, account, region, posture ids), a reason, an owner and an expiry. A matched
    /// FAIL or WARN is muted: shown and counted apart, not counted by the exit code; never
    /// an UNKNOWN. Default: `exceptions` in the configuration, else exceptions.toml beside
    /// it when it exists.
    #[arg(
        help_heading = "Inputs",
        long,
        global = true,
        value_name = "FILE",
        env = "GUARDKEY_EXCEPTIONS"
    )]
    pub exceptions: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan headless and report every guardrail's encryption posture (for CI).
    ///
    /// Exit codes: 0 every guardrail passes, 1 a finding (FAIL, or what --fail-on adds),
    /// 2 an error (bad input, no or invalid credentials, no region could be read),
    /// 3 incomplete: a region or a guardrail's posture could not be read, so the scan is
    /// not a pass whatever it found (--allow-incomplete accepts it; a region that is not
    /// enabled for the account does not count).
    Scan(ScanArgs),
    /// Create or choose a customer managed key and apply it to guardrails, losslessly.
    ///
    /// Every guardrail's whole DRAFT is read, journaled, resent with the new key, read back
    /// and compared: only the key may change, or the guardrail is put back. Without --yes
    /// nothing is written. Exit codes: 0 done, 1 a guardrail failed, 2 an error.
    Fix(FixArgs),
    /// Put guardrails back as a fix journal recorded them before the fix.
    Restore(RestoreArgs),
    /// Run the AWS simulator (Bedrock, KMS, STS, IAM) on loopback for the AWS CLI, SDKs and tests.
    Sim(SimArgs),
    /// What changed between two saved scans: fixed, regressed, changed, new, gone.
    ///
    /// Accepted risks saved with the scans are told apart: newly muted, exception ended.
    /// Exit codes: 0 nothing regressed, 1 a guardrail regressed (or its accepted risk
    /// ended), 2 an error.
    Diff(DiffArgs),
    /// Print shell completions: bash, zsh, fish, powershell or elvish.
    ///
    /// For example: guardkey completions bash > ~/.local/share/bash-completion/completions/guardkey
    Completions(CompletionsArgs),
    /// Print the man page (roff), e.g. guardkey man > ~/.local/share/man/man1/guardkey.1
    Man,
    /// Print the IAM policy guardkey needs: `scan` (read-only) or `fix`.
    ///
    /// For example: aws iam create-policy --policy-name guardkey-scan --policy-document "$(guardkey policy scan)"
    Policy(PolicyArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Readable, with a summary per region and totals.
    Table,
    /// guardkey's versioned JSON (schema guardkey.scan/v1), the same as --save.
    Json,
    /// One row per guardrail.
    Csv,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// OCSF Detection Findings (class 2004), for Security Lake and Prowler pipelines.
    Ocsf,
    /// AWS Security Finding Format, for Security Hub (aws securityhub batch-import-findings).
    Asff,
    /// One self-contained HTML page for people: totals, a chart per region, top reasons,
    /// every guardrail (filterable), unreadable regions. Works offline, prints well.
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Also exit 1 when a guardrail has a warning.
    Warn,
    /// Also exit 1 when a guardrail's posture is unknown.
    Unknown,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Output format. Default: table on a terminal, json otherwise.
    #[arg(help_heading = "Output", long, value_enum)]
    pub format: Option<ReportFormat>,

    /// Write the report to FILE instead of standard output.
    #[arg(help_heading = "Output", long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also save the scan as JSON to FILE, to replay later with --load.
    #[arg(help_heading = "Output", long, value_name = "FILE")]
    pub save: Option<PathBuf>,

    /// Also read every numbered version and report those on another key than the DRAFT.
    #[arg(help_heading = "What to read", long)]
    pub versions: bool,

    /// Also read who uses each guardrail: agents and prompt flows configured with it (their
    /// service roles), and IAM roles and users allowed bedrock:ApplyGuardrail on it, each
    /// with whether it can decrypt with the guardrail's key. Costs IAM
    /// GetAccountAuthorizationDetails once per account, ListAgents/ListFlows per region and
    /// a call per agent and flow. A source that cannot be read is named, never "nobody".
    #[arg(help_heading = "What to read", long)]
    pub usage: bool,

    /// Exit 1 on more than FAIL: warn, unknown, or both (comma-separated).
    #[arg(help_heading = "Exit code", long, value_enum, value_delimiter = ',')]
    pub fail_on: Vec<FailOn>,

    /// Overwrite --output / --save files that exist already.
    #[arg(help_heading = "Output", long)]
    pub force: bool,

    /// Accept a scan that could not read every region or guardrail: exit 0 or 1 on what it
    /// saw instead of 3. The reports still say what was not seen.
    #[arg(help_heading = "Exit code", long)]
    pub allow_incomplete: bool,

    /// GetGuardrail calls in flight per region (per account and region with many accounts).
    /// Default: 8 for one account; 4 for many, whose hundreds of regions in flight at once
    /// would otherwise meet their quotas in a storm of throttles.
    #[arg(help_heading = "Pace", long, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: Option<u16>,

    /// Give up on a region after this many seconds.
    #[arg(help_heading = "Pace", long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub region_timeout: u64,

    /// Also import the findings (the --format asff document) into AWS Security Hub with
    /// BatchImportFindings: each region's findings into that region's hub, 100 a call.
    /// Security Hub must be enabled in those regions; the caller needs
    /// `guardkey policy security-hub`. With --load, imports a saved scan (same account).
    /// Exits 2 if any finding could not be imported.
    #[arg(help_heading = "Output", long)]
    pub security_hub: bool,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("selection").required(true).args(["filter", "guardrails"])))]
#[command(group(clap::ArgGroup::new("key_choice").required(true).args(["create_key", "key"])))]
pub struct FixArgs {
    /// Fix the guardrails a scan finds matching this filter (as in the explorer), e.g.
    /// 'status:fail key:none' or 'region:eu-*'.
    #[arg(help_heading = "Selection: which guardrails", long, value_name = "EXPR")]
    pub filter: Option<String>,

    /// Fix this guardrail (id or ARN; repeatable).
    #[arg(
        help_heading = "Selection: which guardrails",
        long = "guardrail",
        value_name = "ID_OR_ARN"
    )]
    pub guardrails: Vec<String>,

    /// Create a new customer managed key in each region (recommended).
    #[arg(help_heading = "Key: which key, and a new one's settings", long)]
    pub create_key: bool,

    /// Use this existing key (key id, ARN, alias name or alias ARN) instead.
    #[arg(help_heading = "Key: which key, and a new one's settings", long, value_name = "KEY", conflicts_with_all = ["alias", "description", "admins", "managers", "users", "external_accounts", "tags", "rotation_days", "no_rotation"])]
    pub key: Option<String>,

    /// The alias of the new key [default: alias/bedrock-guardrails].
    #[arg(help_heading = "Key: which key, and a new one's settings", long)]
    pub alias: Option<String>,

    /// The new key's description [default: Encrypts Amazon Bedrock guardrails (created by guardkey)].
    #[arg(help_heading = "Key: which key, and a new one's settings", long)]
    pub description: Option<String>,

    /// Key administrator (IAM ARN; repeatable). Default: the caller.
    #[arg(
        help_heading = "Key: which key, and a new one's settings",
        long = "admin",
        value_name = "ARN"
    )]
    pub admins: Vec<String>,

    /// Principal that creates and updates guardrails (IAM ARN; repeatable). Default: the caller.
    #[arg(
        help_heading = "Key: which key, and a new one's settings",
        long = "manager",
        value_name = "ARN"
    )]
    pub managers: Vec<String>,

    /// Principal that uses guardrails at inference (IAM ARN; repeatable).
    #[arg(
        help_heading = "Key: which key, and a new one's settings",
        long = "user",
        value_name = "ARN"
    )]
    pub users: Vec<String>,

    /// Another account whose principals may use the key (repeatable).
    #[arg(
        help_heading = "Key: which key, and a new one's settings",
        long = "external-account",
        value_name = "ACCOUNT_ID"
    )]
    pub external_accounts: Vec<String>,

    /// A tag of the new key, KEY=VALUE (repeatable; managed-by=guardkey is always added).
    #[arg(help_heading = "Key: which key, and a new one's settings", long = "tag", value_name = "KEY=VALUE", value_parser = parse_tag)]
    pub tags: Vec<(String, String)>,

    /// Automatic rotation period of the new key, in days [default: 365].
    #[arg(help_heading = "Key: which key, and a new one's settings", long, value_parser = clap::value_parser!(i32).range(90..=2560))]
    pub rotation_days: Option<i32>,

    /// With --create-key: one multi-Region key for every region of the plan instead of a key
    /// per region: a primary, and a replica in each other region (the same key id and key
    /// material; each replica its region's own policy, alias and tags; rotation set on the
    /// primary applies to all). One key id and audit trail, but one key's policy for many
    /// regions' users.
    #[arg(
        help_heading = "Key: which key, and a new one's settings",
        long,
        requires = "create_key"
    )]
    pub multi_region: bool,

    /// With --multi-region: the primary key's region [default: the plan's first region].
    #[arg(
        help_heading = "Key: which key, and a new one's settings",
        long,
        value_name = "REGION",
        requires = "multi_region"
    )]
    pub primary_region: Option<String>,

    /// Leave automatic rotation off on the new key (not recommended).
    #[arg(
        help_heading = "Key: which key, and a new one's settings",
        long,
        conflicts_with = "rotation_days"
    )]
    pub no_rotation: bool,

    /// Also move guardrails that pass already (on a healthy customer managed key) to the
    /// chosen key; left out by default, as in the wizard.
    #[arg(help_heading = "Selection: which guardrails", long)]
    pub include_compliant: bool,

    /// Also move guardrails an accepted risk mutes (`--exceptions`): left out by default,
    /// and the plan says how many.
    #[arg(help_heading = "Selection: which guardrails", long)]
    pub include_muted: bool,

    /// The accepted risks, read from `--exceptions` before the command runs.
    #[arg(skip)]
    pub exceptions: Option<crate::model::exceptions::Exceptions>,

    /// Also rewrite guardrails that are FAILED before the fix (left out by default, since
    /// their failure is not the key's; the plan lists them with Bedrock's reasons).
    #[arg(help_heading = "Selection: which guardrails", long)]
    pub include_failed: bool,

    /// Also move guardrails a CloudFormation stack manages (left out by default: the stack
    /// would drift, and its next update may put the AWS-owned key back; set KmsKeyArn in the
    /// template instead).
    #[arg(help_heading = "Selection: which guardrails", long)]
    pub include_managed: bool,

    /// With --key: when the existing key's policy (or, through its account-root statement,
    /// their IAM policies) would not let the guardrails' users decrypt (agents' and flows'
    /// roles, principals allowed bedrock:ApplyGuardrail), add a statement naming them to the
    /// key policy (kms:PutKeyPolicy; the old policy is journaled, `restore` puts it back).
    /// Without it, the plan names them and prints the statement. A new key (--create-key)
    /// names them always. kms:PutKeyPolicy is not in `guardkey policy fix` (changing a key's
    /// policy is a key administrator's right): the caller needs it on the key.
    #[arg(
        help_heading = "Safety and what is written",
        long,
        conflicts_with = "create_key"
    )]
    pub grant_users: bool,

    /// Move a guardrail even though a known user of it (an agent's or flow's role, a
    /// principal allowed bedrock:ApplyGuardrail) would lose kms:Decrypt with the key. Without
    /// it such a guardrail is held back, with the ways out, and the exit code says not all was
    /// fixed. Said in the plan, the journal and the summary.
    #[arg(help_heading = "Safety and what is written", long)]
    pub allow_lockout: bool,

    /// Prove each moved guardrail live: apply it once (Bedrock Runtime ApplyGuardrail, the
    /// word "hello" as input, one text unit billed) as the caller. It must decrypt with the
    /// new key and answer; a failed probe is a failed fix, and the guardrail is put back.
    #[arg(help_heading = "Safety and what is written", long)]
    pub probe: bool,

    /// Publish a new guardrail version after the key is applied.
    #[arg(help_heading = "Safety and what is written", long)]
    pub publish_version: bool,

    /// Show the plan (and write --emit-* files) without changing anything.
    #[arg(help_heading = "Apply", long, conflicts_with = "yes")]
    pub dry_run: bool,

    /// Apply the plan.
    #[arg(help_heading = "Apply", long)]
    pub yes: bool,

    /// Write the equivalent AWS CLI script (bash) to FILE.
    #[arg(help_heading = "Output", long, value_name = "FILE")]
    pub emit_cli: Option<PathBuf>,

    /// Write the keys as Terraform to FILE.
    #[arg(help_heading = "Output", long, value_name = "FILE")]
    pub emit_terraform: Option<PathBuf>,

    /// Where the journal goes (default: $XDG_STATE_HOME/guardkey).
    #[arg(help_heading = "Output", long, value_name = "DIR")]
    pub journal_dir: Option<PathBuf>,

    /// Overwrite --emit-cli / --emit-terraform files that exist already.
    #[arg(help_heading = "Output", long)]
    pub force: bool,
}

impl FixArgs {
    pub fn alias(&self) -> &str {
        self.alias.as_deref().unwrap_or("alias/bedrock-guardrails")
    }

    pub fn description(&self) -> &str {
        self.description
            .as_deref()
            .unwrap_or("Encrypts Amazon Bedrock guardrails (created by guardkey)")
    }

    pub fn rotation(&self) -> i32 {
        self.rotation_days.unwrap_or(365)
    }
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier scan (saved with `scan --save` or `--format json`).
    pub old: PathBuf,
    /// The later scan.
    pub new: PathBuf,
    /// Output format. Default: table on a terminal, json otherwise.
    #[arg(long, value_parser = ["table", "json", "md", "html"])]
    pub format: Option<String>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// Which policy: scan (read-only: scan and the explorer), fix (fix, restore, the
    /// wizard) or security-hub (scan --security-hub, beside scan).
    #[arg(value_parser = ["scan", "fix", "security-hub"])]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The journal file(s) that `guardkey fix` printed (one per account for a fix of many);
    /// each account is reached as the fix reached it.
    #[arg(required = true, value_name = "JOURNAL")]
    pub journals: Vec<PathBuf>,

    /// Restore only this guardrail (id or ARN; repeatable).
    #[arg(long = "guardrail", value_name = "ID_OR_ARN")]
    pub guardrails: Vec<String>,

    /// Where the restore's own journal goes (default: $XDG_STATE_HOME/guardkey).
    #[arg(long, value_name = "DIR")]
    pub journal_dir: Option<PathBuf>,

    /// Restore guardrails changed since the fix too, overwriting those changes.
    #[arg(long)]
    pub force: bool,
}

fn parse_tag(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() && !k.starts_with("aws:") => Ok((k.to_string(), v.to_string())),
        _ => Err(format!(
            "'{s}' is not KEY=VALUE (and keys may not start with aws:)"
        )),
    }
}

#[derive(Debug, Args)]
pub struct SimArgs {
    /// Port to listen on, on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 4566)]
    pub port: u16,

    /// What the simulator starts with: empty, demo (an organization of six accounts),
    /// generated:REGIONS:PER_REGION, or generated:ACCOUNTS:REGIONS:PER_REGION (an
    /// organization, every account holding the same generated estate).
    #[arg(long, default_value = "empty", value_parser = parse_seed)]
    pub seed: Seed,

    /// The account id of the default principal.
    #[arg(long, default_value = crate::sim::DEFAULT_ACCOUNT, value_parser = parse_account)]
    pub account: String,

    /// Who the printed access key signs in as: user (the IAM user guardkey-admin), sso (an
    /// IAM Identity Center session of a permission-set role under
    /// /aws-reserved/sso.amazonaws.com/), or path-role (a session of a role with a path).
    #[arg(long, default_value = "user", value_parser = parse_caller)]
    pub caller: crate::sim::SimCaller,

    /// The partition of the simulated account: aws, aws-us-gov (GovCloud), aws-eusc (European
    /// Sovereign Cloud), aws-iso, aws-iso-b, aws-iso-f. ARNs, regions and STS answers are in it.
    #[arg(long, default_value = "aws", value_parser = parse_partition)]
    pub partition: String,

    /// Latency added to every response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,

    /// Random variation of the latency, plus or minus, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub jitter_ms: u64,

    /// How long a guardrail stays CREATING/UPDATING/VERSIONING, in milliseconds.
    #[arg(long, default_value_t = 300)]
    pub settle_ms: u64,

    /// OPERATION[@REGION]=RPS: a request-rate quota per region answering 429
    /// ThrottlingException (repeatable), e.g. GetGuardrail=25 or kms:DescribeKey@eu-west-1=10.
    #[arg(long = "quota", value_name = "OPERATION[@REGION]=RPS", value_parser = parse_quota)]
    pub quotas: Vec<Quota>,

    /// A region not enabled for the account: every call answers 403 UnrecognizedClientException.
    #[arg(long = "disabled-region", value_name = "REGION", value_parser = parse_region)]
    pub disabled_regions: Vec<String>,

    /// OPERATION[@REGION]: deny it to every caller with 403 AccessDeniedException (repeatable).
    #[arg(long = "deny", value_name = "OPERATION[@REGION]", value_parser = parse_denial)]
    pub denials: Vec<Denial>,

    /// A region that accepts connections and never answers.
    #[arg(long = "hang-region", value_name = "REGION", value_parser = parse_region)]
    pub hang_regions: Vec<String>,
}

fn parse_partition(s: &str) -> Result<String, String> {
    match crate::regions::regions_of(s) {
        Some(_) => Ok(s.to_string()),
        None => Err(format!(
            "'{s}' is not a partition with Amazon Bedrock: use {}",
            crate::regions::PARTITIONS
                .iter()
                .map(|(p, _)| *p)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn parse_caller(s: &str) -> Result<crate::sim::SimCaller, String> {
    s.parse()
}

fn parse_seed(s: &str) -> Result<Seed, String> {
    s.parse()
}

fn parse_quota(s: &str) -> Result<Quota, String> {
    let q: Quota = s.parse()?;
    if let Some(r) = &q.region {
        parse_region(r)?;
    }
    Ok(q)
}

fn parse_denial(s: &str) -> Result<Denial, String> {
    let d: Denial = s.parse()?;
    if let Some(r) = &d.region {
        parse_region(r)?;
    }
    Ok(d)
}

pub fn parse_region(s: &str) -> Result<String, String> {
    if crate::regions::is_region_name(s) {
        Ok(s.to_string())
    } else {
        Err(format!("'{s}' is not a region name (like eu-west-1)"))
    }
}

fn parse_account(s: &str) -> Result<String, String> {
    if crate::fix::policy::is_account_id(s) {
        Ok(s.to_string())
    } else {
        Err(format!("'{s}' is not an AWS account id (12 digits)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn sim_flags_parse() {
        let cli = Cli::try_parse_from([
            "guardkey",
            "sim",
            "--port",
            "0",
            "--seed",
            "generated:2:10",
            "--quota",
            "GetGuardrail=25",
            "--deny",
            "kms:DescribeKey@eu-west-1",
            "--disabled-region",
            "me-central-1",
        ])
        .unwrap();
        let Some(Command::Sim(args)) = cli.command else {
            panic!("not sim")
        };
        assert_eq!(
            args.seed,
            Seed::Generated {
                regions: 2,
                per_region: 10
            }
        );
        assert_eq!(args.quotas.len(), 1);
        assert_eq!(args.disabled_regions, vec!["me-central-1"]);
    }

    #[test]
    fn bad_sim_flags_are_errors() {
        for args in [
            vec!["guardkey", "sim", "--seed", "prod"],
            vec!["guardkey", "sim", "--quota", "GetGuardrail"],
            vec!["guardkey", "sim", "--disabled-region", "mars"],
            vec!["guardkey", "sim", "--account", "42"],
            vec!["guardkey", "sim", "--deny", "GetGuardrail@nowhere"],
        ] {
            assert!(Cli::try_parse_from(&args).is_err(), "{args:?}");
        }
    }
}
