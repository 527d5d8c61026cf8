//! Defaults from a configuration file (TOML, in the XDG config directory): what a team
//! always passes, written once. Flags on the command line win over the file.
//!
//! ```toml
//! profile = "audit"
//! regions = ["eu-west-1", "eu-central-1"]
//!
//! [fix]
//! alias = "alias/bedrock-guardrails"
//! administrators = ["arn:aws:iam::123456789012:role/KeyAdmins"]
//! managers = ["arn:aws:iam::123456789012:role/GuardrailAdmin"]
//! users = ["arn:aws:iam::123456789012:role/ChatApp"]
//! rotation_days = 180
//! tags = { team = "secops" }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::cli::{FixArgs, GlobalArgs};

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub profile: Option<String>,
    /// The accepted risks' file (`--exceptions`).
    pub exceptions: Option<PathBuf>,
    #[serde(default)]
    pub regions: Vec<String>,
    #[serde(default)]
    pub fix: FixDefaults,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixDefaults {
    pub alias: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub administrators: Vec<String>,
    #[serde(default)]
    pub managers: Vec<String>,
    #[serde(default)]
    pub users: Vec<String>,
    #[serde(default)]
    pub external_accounts: Vec<String>,
    pub rotation_days: Option<i32>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// `$GUARDKEY_CONFIG`, else `$XDG_CONFIG_HOME/guardkey/config.toml` (by default
/// `~/.config/guardkey/config.toml`).
pub fn default_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GUARDKEY_CONFIG") {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .map(|base| base.join("guardkey").join("config.toml"))
}

impl Config {
    pub fn parse(text: &str) -> Result<Self, String> {
        let config: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        if let Some(d) = config.fix.rotation_days
            && !(90..=2560).contains(&d)
        {
            return Err(format!("fix.rotation_days = {d}: it must be from 90 to 2560"));
        }
        Ok(config)
    }

    /// The file at `path`; a missing default file is no configuration, a missing named one
    /// or a bad one is an error that says where and what.
    pub fn load(path: Option<&Path>) -> Result<Self, String> {
        let (path, named) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => match default_path() {
                Some(p) => (p, false),
                None => return Ok(Config::default()),
            },
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text)
                .map_err(|e| format!("the configuration {} is not valid: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !named => Ok(Config::default()),
            Err(e) => Err(format!("cannot read the configuration {}: {e}", path.display())),
        }
    }

    /// Fills what the command line left out.
    pub fn apply_global(&self, global: &mut GlobalArgs) {
        if global.profile.is_none() {
            global.profile = self.profile.clone();
        }
        if global.exceptions.is_none() {
            global.exceptions = self.exceptions.clone().or_else(|| {
                let beside = default_path()?.with_file_name("exceptions.toml");
                beside.is_file().then_some(beside)
            });
        }
        // A saved scan is replayed whole unless --regions narrows it on the command line.
        if global.regions.is_empty() && global.load.is_none() {
            global.regions = self.regions.clone();
        }
    }

    pub fn apply_fix(&self, args: &mut FixArgs) {
        let f = &self.fix;
        if args.alias.is_none() {
            args.alias = f.alias.clone();
        }
        if args.description.is_none() {
            args.description = f.description.clone();
        }
        for (list, defaults) in [
            (&mut args.admins, &f.administrators),
            (&mut args.managers, &f.managers),
            (&mut args.users, &f.users),
            (&mut args.external_accounts, &f.external_accounts),
        ] {
            if list.is_empty() {
                list.clone_from(defaults);
            }
        }
        if args.rotation_days.is_none() {
            args.rotation_days = f.rotation_days;
        }
        for (k, v) in &f.tags {
            if !args.tags.iter().any(|(tk, _)| tk == k) {
                args.tags.push((k.clone(), v.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_full_file_and_refuses_typos() {
        let c = Config::parse(
            r#"
            profile = "audit"
            regions = ["eu-west-1"]
            [fix]
            alias = "alias/team-guardrails"
            managers = ["arn:aws:iam::123456789012:role/GuardrailAdmin"]
            rotation_days = 180
            tags = { team = "secops" }
            "#,
        )
        .unwrap();
        assert_eq!(c.profile.as_deref(), Some("audit"));
        assert_eq!(c.fix.rotation_days, Some(180));
        assert_eq!(c.fix.tags.get("team").map(String::as_str), Some("secops"));
        assert!(Config::parse("regoins = []").unwrap_err().contains("regoins"));
        assert!(
            Config::parse("[fix]\nrotation_days = 30")
                .unwrap_err()
                .contains("90 to 2560")
        );
        assert!(Config::parse("profile = ").is_err());
    }

    #[test]
    fn a_missing_named_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            Config::load(Some(&dir.path().join("nope.toml")))
                .unwrap_err()
                .contains("cannot read")
        );
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "[fix\n").unwrap();
        assert!(Config::load(Some(&bad)).unwrap_err().contains("is not valid"));
    }
}
