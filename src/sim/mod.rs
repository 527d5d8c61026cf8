//! A faithful stand-in for Amazon Bedrock's guardrail API, AWS KMS and AWS STS on loopback.
//!
//! One HTTP endpoint serves all three services in every region: the SigV4 credential scope
//! of each request says which service and region it is for, as it does for AWS's own
//! front ends. The real aws-sdk-rust clients and the real AWS CLI talk to it unchanged.
//! It is a product feature (`guardkey sim`, `guardkey --demo`) and what every test runs on.

pub mod agents;
mod authz;
pub mod bedrock;
mod dispatch;
pub mod faults;
mod front;
pub mod iam;
pub mod keyuse;
pub mod kms;
pub mod model;
pub mod organizations;
pub mod runtime;
pub mod securityhub;
pub mod seed;
pub mod seed_org;
pub mod sigv4;
mod simulate;
pub mod state;
pub mod sts;
pub mod wire;

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use parking_lot::{Mutex, RwLock};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use faults::{Denial, Faults, OperationMatcher, Quota};
pub use iam::{PATH_ROLE_NAME, PATH_ROLE_PATH, SSO_ROLE_NAME, SSO_ROLE_PATH};
pub use seed::Seed;
pub use state::{DEFAULT_ACCOUNT, World};
use wire::Service;

/// The access key the simulator knows from the start, for the default principal.
pub const SIM_ACCESS_KEY_ID: &str = "AKIAGUARDKEYSIMULATE";
/// Its secret. Not a secret: the simulator prints it for any client to use.
pub const SIM_SECRET_ACCESS_KEY: &str = "guardkeySimulatorSecretAccessKey0000000000";

/// The largest request body accepted; a guardrail with 10,000 words stays well below it.
const MAX_BODY: usize = 8 << 20;

/// A caller known to the simulator, as IAM and STS would know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub account: String,
    pub arn: String,
    pub user_id: String,
    /// Its identity policy, evaluated on every call as IAM would (see `authz`); None: an
    /// administrator, allowed everything.
    pub identity_policy: Option<Value>,
}

impl Principal {
    /// The administrator of `account` that the default access key maps to.
    pub fn admin(account: &str) -> Self {
        Self::admin_in("aws", account)
    }

    /// The administrator of `account` in `partition`.
    pub fn admin_in(partition: &str, account: &str) -> Self {
        Principal {
            access_key_id: SIM_ACCESS_KEY_ID.into(),
            secret_access_key: SIM_SECRET_ACCESS_KEY.into(),
            account: account.into(),
            arn: format!("arn:{partition}:iam::{account}:user/guardkey-admin"),
            user_id: "AIDAGUARDKEYADMIN0001".into(),
            identity_policy: None,
        }
    }
}

/// Who the simulator's default access key signs in as. Each is a principal that exists in
/// the account's IAM, as it would at AWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SimCaller {
    /// The IAM user `guardkey-admin`.
    #[default]
    User,
    /// An IAM Identity Center (SSO) session: an assumed-role session of a permission-set
    /// role under `/aws-reserved/sso.amazonaws.com/REGION/`, the usual way engineers sign in.
    Sso,
    /// An assumed-role session of a role created with a path (`/platform/security/`).
    PathRole,
}

impl std::str::FromStr for SimCaller {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "user" => Ok(SimCaller::User),
            "sso" => Ok(SimCaller::Sso),
            "path-role" => Ok(SimCaller::PathRole),
            other => Err(format!("'{other}' is not a caller: use user, sso or path-role")),
        }
    }
}

impl Principal {
    /// The principal the default access key is, for `caller` in `account`.
    pub fn default_caller(partition: &str, account: &str, caller: SimCaller) -> Self {
        let mut p = Principal::admin_in(partition, account);
        match caller {
            SimCaller::User => {}
            SimCaller::Sso => {
                p.arn = format!(
                    "arn:{partition}:sts::{account}:assumed-role/{}/alice@example.com",
                    iam::SSO_ROLE_NAME
                );
                p.user_id = "AROAGUARDKEYSSO00001:alice@example.com".into();
            }
            SimCaller::PathRole => {
                p.arn = format!(
                    "arn:{partition}:sts::{account}:assumed-role/{}/ci-session",
                    iam::PATH_ROLE_NAME
                );
                p.user_id = "AROAGUARDKEYPATH0001:ci-session".into();
            }
        }
        p
    }
}

/// How a simulator starts.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub account: String,
    pub seed: Seed,
    pub faults: Faults,
    /// How long CREATING, UPDATING and VERSIONING last before READY.
    pub settle: Duration,
    /// When set, every response body is appended here (JSON lines) for the conformance
    /// check against botocore's output shapes.
    pub record_dir: Option<PathBuf>,
    /// The seed of the simulator's own randomness (ids, jitter).
    pub rng_seed: u64,
    /// Check every request's SigV4 signature against the principal's secret, as AWS does.
    pub verify_signatures: bool,
    /// Who the default access key signs in as.
    pub caller: SimCaller,
    /// The partition of the account: `aws`, `aws-us-gov`, `aws-eusc`, … Its ARNs, its
    /// regions (a region of another partition does not know the credentials), and STS's
    /// answers are in it.
    pub partition: String,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            account: DEFAULT_ACCOUNT.into(),
            seed: Seed::Empty,
            faults: Faults::default(),
            settle: Duration::from_millis(300),
            record_dir: std::env::var_os("GUARDKEY_SIM_RECORD").map(PathBuf::from),
            rng_seed: 0x6775_6172_646b_6579,
            verify_signatures: true,
            caller: SimCaller::User,
            partition: "aws".into(),
        }
    }
}

/// What a ListGuardrails response sets off, to test clients that list then get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterList {
    /// The guardrail is deleted right after it was listed.
    Vanish,
    /// The guardrail's DRAFT is changed right after it was listed.
    Change,
}

struct Inner {
    world: Mutex<World>,
    faults: RwLock<Faults>,
    limiter: Mutex<faults::RateLimiter>,
    principals: RwLock<HashMap<String, Principal>>,
    /// Temporary credentials from AssumeRole: their session token and expiry, by access key.
    sessions: RwLock<HashMap<String, (String, std::time::SystemTime)>>,
    after_list: Mutex<HashMap<String, AfterList>>,
    after_get: Mutex<HashMap<String, ()>>,
    settle: RwLock<Duration>,
    rng: Mutex<fastrand::Rng>,
    recorder: Option<Mutex<std::fs::File>>,
    calls: Mutex<HashMap<String, u64>>,
    requests: AtomicU64,
    account: String,
    partition: String,
    verify_signatures: bool,
}

/// The simulator: its state, its faults, and the HTTP front end that serves them.
/// Cloning is cheap and shares everything.
#[derive(Clone)]
pub struct Simulator {
    inner: Arc<Inner>,
}

/// A simulator listening on a socket; dropping it (or `shutdown`) stops the server.
pub struct RunningSim {
    pub sim: Simulator,
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RunningSim {
    /// The URL clients use as their endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Serves until the task is cancelled or the process ends.
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Simulator {
    pub fn new(config: SimConfig) -> std::io::Result<Self> {
        let recorder = match &config.record_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                static N: AtomicU64 = AtomicU64::new(0);
                let n = N.fetch_add(1, Ordering::Relaxed);
                let path = dir.join(format!("sim-{}-{n}.jsonl", std::process::id()));
                Some(Mutex::new(std::fs::File::create(path)?))
            }
            None => None,
        };
        let mut principals = HashMap::new();
        let admin = Principal::default_caller(&config.partition, &config.account, config.caller);
        principals.insert(admin.access_key_id.clone(), admin);
        let mut faults = config.faults.clone();
        let mut world = World::default();
        world.iam.seed_account(&config.partition, &config.account);
        let mut rng = fastrand::Rng::with_seed(config.rng_seed);
        seed::apply(
            &config.seed,
            &mut world,
            &mut faults,
            &config.account,
            &config.partition,
            &mut rng,
        )
        .map_err(std::io::Error::other)?;
        Ok(Simulator {
            inner: Arc::new(Inner {
                world: Mutex::new(world),
                faults: RwLock::new(faults),
                limiter: Mutex::new(faults::RateLimiter::default()),
                principals: RwLock::new(principals),
                sessions: RwLock::new(HashMap::new()),
                after_list: Mutex::new(HashMap::new()),
                after_get: Mutex::new(HashMap::new()),
                settle: RwLock::new(config.settle),
                rng: Mutex::new(rng),
                recorder,
                calls: Mutex::new(HashMap::new()),
                requests: AtomicU64::new(0),
                account: config.account,
                partition: config.partition,
                verify_signatures: config.verify_signatures,
            }),
        })
    }

    /// The account of the default principal.
    pub fn account(&self) -> &str {
        &self.inner.account
    }

    /// The partition of the simulated account.
    pub fn partition(&self) -> &str {
        &self.inner.partition
    }

    /// Who the default access key signs in as.
    pub fn caller_arn(&self) -> String {
        self.inner
            .principals
            .read()
            .get(SIM_ACCESS_KEY_ID)
            .map(|p| p.arn.clone())
            .unwrap_or_default()
    }

    /// Serves on `addr` (port 0 picks a free port) until the returned handle is dropped.
    pub async fn serve(&self, addr: SocketAddr) -> std::io::Result<RunningSim> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let app = Router::new().fallback(front::handle).with_state(self.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(RunningSim {
            sim: self.clone(),
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// Serves on a free loopback port.
    pub async fn serve_loopback(&self) -> std::io::Result<RunningSim> {
        self.serve(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    // ---- the test and control API -------------------------------------------------

    pub fn set_faults(&self, f: impl FnOnce(&mut Faults)) {
        f(&mut self.inner.faults.write());
    }

    pub fn faults(&self) -> Faults {
        self.inner.faults.read().clone()
    }

    pub fn set_settle(&self, settle: Duration) {
        *self.inner.settle.write() = settle;
    }

    /// Makes the next `count` calls of `operation` (in `region`, or anywhere) fail with a
    /// 500 InternalServerException.
    pub fn fail_next(&self, operation: &str, region: Option<&str>, count: u32) {
        let operation = operation.parse().expect("operation name");
        self.inner.faults.write().failures.push(faults::InjectedFailure {
            operation,
            region: region.map(str::to_string),
            remaining: count,
        });
    }

    /// Makes the next UpdateGuardrail of `guardrail_id` end FAILED (after UPDATING), with
    /// these status reasons and failure recommendations. False if there is no such guardrail.
    pub fn fail_next_update(&self, guardrail_id: &str, reasons: &[&str], recommendations: &[&str]) -> bool {
        self.with_world(|w| match w.guardrail_mut(guardrail_id) {
            Some(g) => {
                let list = |l: &[&str]| l.iter().map(|s| s.to_string()).collect();
                g.fail_next_update = Some((list(reasons), list(recommendations)));
                true
            }
            None => false,
        })
    }

    /// Arms another writer's UpdateGuardrail of `guardrail_id`, made right after the next
    /// GetGuardrail of its DRAFT returns: the DRAFT changes (its blocked-input message) and
    /// is UPDATING for the settle time, so a write in between gets ConflictException.
    pub fn concurrent_update_after_get(&self, guardrail_id: &str) {
        self.inner.after_get.lock().insert(guardrail_id.to_string(), ());
    }

    /// Arms a change that strikes the guardrail right after a ListGuardrails returns it.
    pub fn after_list(&self, guardrail_id: &str, what: AfterList) {
        self.inner
            .after_list
            .lock()
            .insert(guardrail_id.to_string(), what);
    }

    /// Adds a caller; its IAM user or role is created too (at the root path) when the
    /// account does not have it yet, since AWS only signs for principals that exist.
    pub fn add_principal(&self, principal: Principal) {
        self.with_world(|w| {
            if w.iam.resolve(&principal.arn).is_some() {
                return;
            }
            let Some(arn) = state::parse_arn(&principal.arn) else {
                return;
            };
            let (partition, account) = (arn.partition.to_string(), arn.account.to_string());
            if let Some(name) = arn.resource.strip_prefix("user/") {
                let name = name.rsplit('/').next().unwrap_or(name).to_string();
                w.iam.add_user(&partition, &account, "/", &name);
            } else if let Some(rest) = arn.resource.strip_prefix("assumed-role/") {
                let name = rest.split('/').next().unwrap_or(rest).to_string();
                w.iam.add_role(&partition, &account, "/", &name);
            }
        });
        self.inner
            .principals
            .write()
            .insert(principal.access_key_id.clone(), principal);
    }

    /// Ends every session AssumeRole gave out, as if their hour were over.
    pub fn expire_sessions(&self) {
        let past = std::time::SystemTime::now() - std::time::Duration::from_secs(1);
        for (_, expires) in self.inner.sessions.write().values_mut() {
            *expires = past;
        }
    }

    /// Reads or changes the world directly, outside any API call.
    pub fn with_world<T>(&self, f: impl FnOnce(&mut World) -> T) -> T {
        f(&mut self.inner.world.lock())
    }

    /// How many calls of each operation (`bedrock:GetGuardrail`) reached the services.
    pub fn calls(&self) -> HashMap<String, u64> {
        self.inner.calls.lock().clone()
    }

    /// How many HTTP requests arrived, whatever became of them.
    pub fn request_count(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    fn record(&self, service: Service, operation: &str, status: u16, error: Option<&str>, body: &Value) {
        if let Some(rec) = &self.inner.recorder {
            let line = json!({
                "service": service.signing_name(),
                "operation": operation,
                "status": status,
                "errorType": error,
                "body": body,
            });
            let mut f = rec.lock();
            let _ = writeln!(f, "{line}");
        }
    }
}
