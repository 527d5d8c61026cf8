//! The headless commands, and what they share: getting a session, against AWS or against
//! the embedded demo simulator.

pub mod accounts;
pub mod diff;
pub mod explore;
pub mod fix;
pub mod interrupt;
pub mod restore;
pub mod scan;
pub mod security_hub;

use std::time::Duration;

use crate::aws::{CallerIdentity, Session, SessionOptions, resolve_regions};
use crate::cli::GlobalArgs;
use crate::sim::{Faults, RunningSim, SIM_ACCESS_KEY_ID, SIM_SECRET_ACCESS_KEY, Seed, SimConfig, Simulator};

/// A failed command: what to tell the user, and the exit code (2 for errors).
#[derive(Debug)]
pub struct CommandError(pub String);

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CommandError {}

/// A command that writes to AWS (`fix`, `restore`) refuses to start where it could not:
/// under `--read-only`, or replaying a saved scan with `--load`.
pub fn refuse_unless_writable(global: &GlobalArgs, command: &str) -> Result<(), CommandError> {
    if global.read_only {
        return Err(CommandError(format!(
            "--read-only: guardkey {command} writes to AWS, so it refuses to start"
        )));
    }
    if global.load.is_some() {
        return Err(CommandError(format!(
            "--load replays a saved scan; guardkey {command} needs live access to AWS"
        )));
    }
    Ok(())
}

/// Where the calls go, and who makes them.
pub struct Target {
    pub session: Session,
    pub identity: CallerIdentity,
    pub regions: Vec<String>,
    /// The embedded simulator of `--demo`, kept alive as long as the target.
    pub demo: Option<RunningSim>,
}

/// The embedded simulator with the demo estate and a realistic latency.
pub async fn start_demo() -> Result<RunningSim, CommandError> {
    let config = SimConfig {
        seed: Seed::Demo,
        faults: Faults {
            latency: Duration::from_millis(40),
            jitter: Duration::from_millis(20),
            ..Faults::default()
        },
        ..SimConfig::default()
    };
    let sim =
        Simulator::new(config).map_err(|e| CommandError(format!("cannot seed the demo estate: {e}")))?;
    sim.serve_loopback()
        .await
        .map_err(|e| CommandError(format!("cannot start the demo simulator on loopback: {e}")))
}

/// A session on a running simulator with its own credentials.
pub async fn sim_session(sim: &RunningSim, read_only: bool) -> Session {
    sim_session_at(&sim.endpoint(), read_only).await
}

/// A session on the simulator at `endpoint` (maybe another process's) with its credentials.
pub async fn sim_session_at(endpoint: &str, read_only: bool) -> Session {
    Session::with_static_keys(endpoint, SIM_ACCESS_KEY_ID, SIM_SECRET_ACCESS_KEY, read_only).await
}

/// Resolves the shared options into a session, the caller and the regions. Region names
/// are checked before any call; the caller is asked once.
pub async fn connect(global: &GlobalArgs, read_only: bool) -> Result<Target, CommandError> {
    // Names are checked against every partition now, against the caller's one below.
    crate::aws::check_region_names(&global.regions).map_err(CommandError)?;
    if let Some(url) = &global.endpoint_url {
        crate::aws::credentials::check_endpoint_url(url).map_err(CommandError)?;
    }
    let (session, demo) = if global.demo {
        let sim = start_demo().await?;
        (sim_session(&sim, read_only || global.read_only).await, Some(sim))
    } else {
        let options = SessionOptions {
            profile: global.profile.clone(),
            endpoint_url: global.endpoint_url.clone(),
            read_only: read_only || global.read_only,
            attempt_timeout: None,
        };
        (Session::connect(options).await, None)
    };
    let identity = session.identify().await.map_err(CommandError)?;
    let regions = resolve_regions(&global.regions, identity.partition()).map_err(CommandError)?;
    Ok(Target {
        session,
        identity,
        regions,
        demo,
    })
}
