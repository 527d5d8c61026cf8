//! `guardkey scan` across the accounts of the demo organization, end to end with the
//! binary: `--org` reaches every account by its role, says which could not be reached and
//! why, and does not exit 0 for a partial view; `--accounts`/`--exclude-accounts` narrow it;
//! `--role-arns FILE` and `--profiles` (roles assumed through the AWS config file) reach
//! accounts without Organizations.

mod common;

use std::process::Output;

use common::*;
use guardkey::sim::{RunningSim, SIM_ACCESS_KEY_ID, SIM_SECRET_ACCESS_KEY, Seed, SimConfig};
use serde_json::Value;

async fn demo() -> RunningSim {
    start(SimConfig {
        seed: Seed::Demo,
        ..SimConfig::default()
    })
    .await
}

fn scan(sim: &RunningSim, args: &[&str]) -> Output {
    guardkey_command(Some((SIM_ACCESS_KEY_ID, SIM_SECRET_ACCESS_KEY)), "us-east-1")
        .args([
            "scan",
            "--format",
            "json",
            "--regions",
            "us-east-1,us-west-2,eu-west-1",
        ])
        .args(args)
        .args(["--endpoint-url", &sim.endpoint()])
        .output()
        .unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", said(out)))
}

fn per_account(report: &Value) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = report["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let id = a["id"].as_str().unwrap().to_string();
            let n = report["guardrails"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|g| g["account"] == id.as_str())
                .count();
            (id, n)
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn the_organization_is_scanned_account_by_account_and_what_was_not_reached_is_said() {
    let sim = demo().await;
    let out = scan(&sim, &["--org"]);
    let text = said(&out);
    // The invited account has no role: the view is partial, and exits 3.
    assert_eq!(out.status.code(), Some(3), "{text}");
    let report = json(&out);
    assert_eq!(
        per_account(&report),
        [
            ("111122223333".to_string(), 10),
            ("123456789012".to_string(), 43),
            ("135792468024".to_string(), 0),
            ("246813579135".to_string(), 0),
            ("444455556666".to_string(), 7),
            ("777788889999".to_string(), 3),
        ]
    );
    let accounts = report["accounts"].as_array().unwrap();
    let by = |id: &str| accounts.iter().find(|a| a["id"] == id).unwrap();
    assert_eq!(by("123456789012")["reach"]["kind"], "caller");
    assert_eq!(
        by("111122223333")["reach"]["arn"],
        "arn:aws:iam::111122223333:role/OrganizationAccountAccessRole"
    );
    assert_eq!(by("135792468024")["suspended"], true);
    assert_eq!(
        by("246813579135")["error"]["kind"],
        "access-denied",
        "{}",
        by("246813579135")
    );
    assert_eq!(
        report["totals"]["unreadable_accounts"], 1,
        "suspended is not unreadable"
    );
    assert_eq!(report["totals"]["complete"], false);
    // Every region outcome names its account.
    assert!(
        report["regions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["account"].as_str().is_some_and(|a| a.len() == 12))
    );
    assert!(
        text.contains("account acquired-startup (246813579135): denied: sts:AssumeRole"),
        "{text}"
    );
    assert!(text.contains("--exclude-accounts 246813579135"), "{text}");
    assert!(
        text.contains("account legacy-analytics (135792468024): suspended"),
        "{text}"
    );

    // Leave the unreachable account out: a complete view of the rest, exit 1 for its FAILs.
    let out = scan(&sim, &["--org", "--exclude-accounts", "246813579135"]);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert_eq!(json(&out)["totals"]["complete"], true);

    // An OU and the OUs beneath it; an audit role bound by the scan policy.
    let workloads = sim.sim.with_world(|w| {
        let org = w.organization.as_ref().unwrap();
        org.ous.iter().find(|o| o.name == "Workloads").unwrap().id.clone()
    });
    let out = scan(
        &sim,
        &["--org", "--ou", &workloads, "--role-name", "GuardkeyAudit"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    let report = json(&out);
    assert_eq!(
        per_account(&report),
        [("111122223333".to_string(), 10), ("444455556666".to_string(), 7)]
    );
    // Only named accounts, and a name that is not there is an error before any scan.
    let out = scan(&sim, &["--org", "--accounts", "777788889999"]);
    assert_eq!(per_account(&json(&out)), [("777788889999".to_string(), 3)]);
    let out = scan(&sim, &["--org", "--accounts", "999999999999"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(said(&out).contains("999999999999 is not among the accounts to scan"));
}

#[tokio::test(flavor = "multi_thread")]
async fn without_organizations_role_arns_and_profiles_reach_the_accounts() {
    let sim = demo().await;
    let dir = tempfile::tempdir().unwrap();
    let roles = dir.path().join("roles.txt");
    std::fs::write(
        &roles,
        "# the accounts we audit\narn:aws:iam::111122223333:role/GuardkeyAudit prod\narn:aws:iam::777788889999:role/GuardkeyAudit sandbox\n",
    )
    .unwrap();
    let out = scan(&sim, &["--role-arns", roles.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    let report = json(&out);
    assert_eq!(
        per_account(&report),
        [("111122223333".to_string(), 10), ("777788889999".to_string(), 3)]
    );
    assert_eq!(report["accounts"][0]["name"], "prod");

    // Profiles that assume roles from a source profile, as SSO and CLI users set them up.
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        format!(
            "[profile org]\naws_access_key_id = {SIM_ACCESS_KEY_ID}\naws_secret_access_key = {SIM_SECRET_ACCESS_KEY}\nregion = us-east-1\n\
             [profile staging]\nrole_arn = arn:aws:iam::444455556666:role/GuardkeyAudit\nsource_profile = org\nregion = us-east-1\n\
             [profile startup]\nrole_arn = arn:aws:iam::246813579135:role/GuardkeyAudit\nsource_profile = org\nregion = us-east-1\n"
        ),
    )
    .unwrap();
    let out = guardkey_command(None, "us-east-1")
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_ENDPOINT_URL", sim.endpoint())
        .args(["scan", "--format", "json", "--regions", "us-east-1,us-west-2"])
        .args(["--profiles", "staging,startup"])
        .args(["--endpoint-url", &sim.endpoint()])
        .output()
        .unwrap();
    let text = said(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    let report = json(&out);
    let accounts = report["accounts"].as_array().unwrap();
    assert_eq!(accounts[0]["id"], "444455556666", "{text}");
    assert_eq!(accounts[0]["reach"]["name"], "staging");
    assert!(accounts[0]["error"].is_null(), "{text}");
    assert_eq!(
        report["guardrails"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|g| g["account"] == "444455556666")
            .count(),
        7
    );
    assert!(
        !accounts[1]["error"].is_null(),
        "the startup has no audit role: {text}"
    );
    assert!(text.contains("account startup"), "{text}");

    // Flags that would be ignored are refused.
    for (args, says) in [
        (vec!["--profiles", "a", "--profile", "b"], "cannot be used with"),
        (
            vec!["--profiles", "a", "--accounts", "111122223333"],
            "with --profiles, name only the profiles",
        ),
        (
            vec!["--org", "--security-hub"],
            "--security-hub imports an account's findings",
        ),
    ] {
        let out = scan(&sim, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(said(&out).contains(says), "{args:?}: {}", said(&out));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fix_across_two_accounts_is_journaled_per_account_and_restored_the_same_way() {
    let sim = demo().await;
    let dir = tempfile::tempdir().unwrap();
    let journals = dir.path().join("journals");
    let run = |args: &[&str]| {
        guardkey_command(Some((SIM_ACCESS_KEY_ID, SIM_SECRET_ACCESS_KEY)), "us-east-1")
            .args(args)
            .args(["--endpoint-url", &sim.endpoint()])
            .output()
            .unwrap()
    };
    let on_aws_owned = |account: &str| {
        sim.sim.with_world(|w| {
            ["us-east-1", "us-west-2"]
                .iter()
                .filter_map(|r| w.region(account, r))
                .flat_map(|r| r.guardrails.values())
                .filter(|g| g.draft.kms_key_arn.is_none())
                .count()
        })
    };
    let before = (on_aws_owned("444455556666"), on_aws_owned("777788889999"));
    assert!(before.0 > 0 && before.1 > 0);
    let out = run(&[
        "fix",
        "--org",
        "--accounts",
        "444455556666,777788889999",
        "--regions",
        "us-east-1,us-west-2",
        "--filter",
        "key:none",
        "--create-key",
        "--alias",
        "alias/guardrails-org",
        "--yes",
        "--journal-dir",
        journals.to_str().unwrap(),
    ]);
    let text = said(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(
        (on_aws_owned("444455556666"), on_aws_owned("777788889999")),
        (0, 0),
        "{text}"
    );
    // Each account's guardrails are on a key of that account, whose policy names the role
    // the fix worked as.
    sim.sim.with_world(|w| {
        for account in ["444455556666", "777788889999"] {
            let state = w.region(account, "us-west-2").unwrap();
            let key = state
                .aliases
                .get("alias/guardrails-org")
                .map(|a| &state.keys[&a.target_key_id])
                .unwrap_or_else(|| panic!("{account} has the new alias"));
            assert_eq!(key.account, account);
            assert!(
                key.policy.contains(&format!(
                    "arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
                )),
                "{}",
                key.policy
            );
        }
    });
    let mut files: Vec<_> = std::fs::read_dir(&journals)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "one journal per account: {files:?}");
    for f in &files {
        let first = std::fs::read_to_string(f).unwrap();
        let started: Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
        assert_eq!(started["reach"]["kind"], "role", "{started}");
    }
    assert!(text.contains("To undo every account: guardkey restore"), "{text}");

    // Restore reaches each account the way the journal says.
    let mut args = vec!["restore".to_string()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    args.extend(["--journal-dir".into(), journals.display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(&args);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert_eq!(
        (on_aws_owned("444455556666"), on_aws_owned("777788889999")),
        before
    );

    // The same fix as code: one script and one Terraform file for both accounts, each
    // account's part reached through its role.
    let script = dir.path().join("fix.sh");
    let terraform = dir.path().join("fix.tf");
    let out = run(&[
        "fix",
        "--org",
        "--accounts",
        "444455556666,777788889999",
        "--regions",
        "us-west-2",
        "--filter",
        "key:none",
        "--create-key",
        "--alias",
        "alias/guardrails-as-code",
        "--dry-run",
        "--emit-cli",
        script.to_str().unwrap(),
        "--emit-terraform",
        terraform.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let sh = std::fs::read_to_string(&script).unwrap();
    for account in ["444455556666", "777788889999"] {
        assert!(
            sh.contains(&format!(
                "aws sts assume-role --region us-west-2 --role-arn 'arn:aws:iam::{account}:role/OrganizationAccountAccessRole'"
            )),
            "{sh}"
        );
    }
    assert_eq!(sh.matches("aws bedrock update-guardrail").count(), 2, "{sh}");
    let tf: Value = hcl::from_str(&std::fs::read_to_string(&terraform).unwrap()).unwrap();
    let providers = tf["provider"]["aws"].as_array().unwrap();
    assert_eq!(providers.len(), 2);
    assert_eq!(
        providers[0]["assume_role"]["role_arn"],
        "arn:aws:iam::444455556666:role/OrganizationAccountAccessRole"
    );
    assert_eq!(providers[1]["alias"], "a777788889999_us_west_2");
    // No account with a plan (the default alias exists in both): no file, not an empty one.
    let nothing = dir.path().join("nothing.sh");
    let out = run(&[
        "fix",
        "--org",
        "--accounts",
        "444455556666,777788889999",
        "--regions",
        "us-west-2",
        "--filter",
        "key:none",
        "--create-key",
        "--dry-run",
        "--emit-cli",
        nothing.to_str().unwrap(),
    ]);
    assert!(said(&out).contains("No account has a plan"), "{}", said(&out));
    assert!(!nothing.exists());
}
