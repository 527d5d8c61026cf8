//! A faithful stand-in for Amazon Bedrock's guardrail API, AWS KMS and AWS STS on loopback.
//!
//! One HTTP endpoint serves all three services in every region: the SigV4 credential scope
//! of each request says which service and region it is for, as it does for AWS's own
//! front ends. The real aws-sdk-rust clients and the real AWS CLI talk to it unchanged.
//! It is a product feature (`guardkey sim`, `guardkey --demo`) and what every test runs on.

pub mod bedrock;
pub mod faults;
pub mod iam;
pub mod kms;
pub mod model;
pub mod seed;
pub mod sigv4;
pub mod state;
pub mod sts;
pub mod wire;

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, Response};
use parking_lot::{Mutex, RwLock};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use faults::{Denial, Faults, OperationMatcher, Quota};
pub use iam::{PATH_ROLE_NAME, PATH_ROLE_PATH, SSO_ROLE_NAME, SSO_ROLE_PATH};
pub use seed::Seed;
pub use state::{DEFAULT_ACCOUNT, World};
use wire::{AwsError, CredentialScope, Service};

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
}

impl Principal {
    /// The administrator of `account` that the default access key maps to.
    pub fn admin(account: &str) -> Self {
        Principal {
            access_key_id: SIM_ACCESS_KEY_ID.into(),
            secret_access_key: SIM_SECRET_ACCESS_KEY.into(),
            account: account.into(),
            arn: format!("arn:aws:iam::{account}:user/guardkey-admin"),
            user_id: "AIDAGUARDKEYADMIN0001".into(),
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
    pub fn default_caller(account: &str, caller: SimCaller) -> Self {
        let mut p = Principal::admin(account);
        match caller {
            SimCaller::User => {}
            SimCaller::Sso => {
                p.arn = format!(
                    "arn:aws:sts::{account}:assumed-role/{}/alice@example.com",
                    iam::SSO_ROLE_NAME
                );
                p.user_id = "AROAGUARDKEYSSO00001:alice@example.com".into();
            }
            SimCaller::PathRole => {
                p.arn = format!(
                    "arn:aws:sts::{account}:assumed-role/{}/ci-session",
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
    after_list: Mutex<HashMap<String, AfterList>>,
    after_get: Mutex<HashMap<String, ()>>,
    settle: RwLock<Duration>,
    rng: Mutex<fastrand::Rng>,
    recorder: Option<Mutex<std::fs::File>>,
    calls: Mutex<HashMap<String, u64>>,
    requests: AtomicU64,
    account: String,
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
        let admin = Principal::default_caller(&config.account, config.caller);
        principals.insert(admin.access_key_id.clone(), admin);
        let mut faults = config.faults.clone();
        let mut world = World::default();
        world.iam.seed_account("aws", &config.account);
        let mut rng = fastrand::Rng::with_seed(config.rng_seed);
        seed::apply(&config.seed, &mut world, &mut faults, &config.account, &mut rng)
            .map_err(std::io::Error::other)?;
        Ok(Simulator {
            inner: Arc::new(Inner {
                world: Mutex::new(world),
                faults: RwLock::new(faults),
                limiter: Mutex::new(faults::RateLimiter::default()),
                principals: RwLock::new(principals),
                after_list: Mutex::new(HashMap::new()),
                after_get: Mutex::new(HashMap::new()),
                settle: RwLock::new(config.settle),
                rng: Mutex::new(rng),
                recorder,
                calls: Mutex::new(HashMap::new()),
                requests: AtomicU64::new(0),
                account: config.account,
                verify_signatures: config.verify_signatures,
            }),
        })
    }

    /// The account of the default principal.
    pub fn account(&self) -> &str {
        &self.inner.account
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
        let app = Router::new().fallback(handle).with_state(self.clone());
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

/// The service a request that carries no usable credential scope was most likely for, so
/// that its error comes back in a format the client can read.
fn guess_service(req: &Request) -> Service {
    let headers = req.headers();
    if headers.contains_key("x-amz-target") {
        Service::Kms
    } else if headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
    {
        Service::Sts
    } else {
        Service::Bedrock
    }
}

async fn handle(State(sim): State<Simulator>, req: Request) -> Response<Body> {
    sim.inner.requests.fetch_add(1, Ordering::Relaxed);
    let request_id = uuid::Uuid::new_v4().to_string();
    let guessed = guess_service(&req);
    let scope = match CredentialScope::from_headers(req.headers()) {
        Ok(s) => s,
        Err(e) => return e.into_response(guessed, &request_id),
    };
    let Some(service) = Service::from_signing_name(&scope.service) else {
        // Another tool (a scanner calling EC2 or S3) pointed at the simulator: say plainly
        // what it serves, in the error format of the protocol the request spoke.
        return AwsError::new(
            "UnsupportedService",
            400,
            format!(
                "guardkey sim serves Bedrock, KMS, STS and IAM only, not '{}'.",
                scope.service
            ),
        )
        .into_response(guessed, &request_id);
    };
    match serve_call(&sim, service, scope, req, &request_id).await {
        Ok(resp) => resp,
        Err((op, e)) => {
            sim.record(
                service,
                &op,
                e.status.as_u16(),
                Some(&e.code),
                &json!({"message": e.message}),
            );
            e.into_response(service, &request_id)
        }
    }
}

/// A parsed call: the operation and its input members as one JSON object.
struct Call {
    operation: String,
    input: Value,
}

fn parse_call(
    service: Service,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &axum::http::HeaderMap,
    body: &Bytes,
) -> Result<Call, AwsError> {
    match service {
        Service::Bedrock => {
            let (op, id) = bedrock::route(method.as_str(), uri.path()).ok_or_else(|| {
                AwsError::new(
                    "UnknownOperationException",
                    404,
                    format!("No operation at {method} {}", uri.path()),
                )
            })?;
            let mut input = if body.is_empty() {
                Map::new()
            } else {
                match serde_json::from_slice(body) {
                    Ok(Value::Object(m)) => m,
                    _ => {
                        return Err(AwsError::serialization("The request body is not a JSON object."));
                    }
                }
            };
            let query: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            for (name, location, wire, kind) in model::bedrock().http_members(op) {
                let raw = match location.as_str() {
                    "uri" => id.clone(),
                    "querystring" => query.iter().find(|(k, _)| *k == wire).map(|(_, v)| v.clone()),
                    "header" => headers
                        .get(&wire)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string),
                    _ => None,
                };
                let Some(raw) = raw else { continue };
                let value = match kind.as_str() {
                    "integer" | "long" => raw.parse::<i64>().map(Value::from).map_err(|_| {
                        AwsError::serialization(format!("'{raw}' is not a number for '{name}'"))
                    })?,
                    _ => Value::String(raw),
                };
                input.insert(name, value);
            }
            Ok(Call {
                operation: op.to_string(),
                input: Value::Object(input),
            })
        }
        Service::Kms => {
            let target = headers
                .get("x-amz-target")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let op = target
                .strip_prefix("TrentService.")
                .filter(|op| !op.is_empty())
                .ok_or_else(|| {
                    AwsError::new(
                        "UnknownOperationException",
                        400,
                        format!("Unknown operation '{target}'"),
                    )
                })?;
            if model::kms().input_shape(op).is_none() {
                return Err(AwsError::new(
                    "UnknownOperationException",
                    400,
                    format!("Unknown operation '{target}'"),
                ));
            }
            let input = if body.is_empty() {
                json!({})
            } else {
                match serde_json::from_slice(body) {
                    Ok(v @ Value::Object(_)) => v,
                    _ => {
                        return Err(AwsError::serialization(
                            "Start of structure or map found where not expected.",
                        ));
                    }
                }
            };
            Ok(Call {
                operation: op.to_string(),
                input,
            })
        }
        Service::Iam => {
            let (op, params) = iam::parse(body)?;
            Ok(Call {
                operation: op,
                input: Value::Object(params.into_iter().map(|(k, v)| (k, Value::String(v))).collect()),
            })
        }
        Service::Sts => {
            let op = sts::operation(body)?;
            if op != "GetCallerIdentity" {
                return Err(AwsError::new(
                    "InvalidAction",
                    400,
                    format!("Could not find operation {op} for version 2011-06-15"),
                ));
            }
            Ok(Call {
                operation: op,
                input: json!({}),
            })
        }
    }
}

async fn serve_call(
    sim: &Simulator,
    service: Service,
    scope: CredentialScope,
    req: Request,
    request_id: &str,
) -> Result<Response<Body>, (String, AwsError)> {
    let principal = sim
        .inner
        .principals
        .read()
        .get(&scope.access_key)
        .cloned()
        .ok_or_else(|| (String::new(), AwsError::unrecognized_client_for(service)))?;
    let region = scope.region.clone();
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        (
            String::new(),
            AwsError::new(
                "RequestEntityTooLargeException",
                413,
                "The request body is too large.",
            ),
        )
    })?;
    if sim.inner.verify_signatures {
        let code = match service {
            Service::Sts | Service::Iam => "SignatureDoesNotMatch",
            _ => "InvalidSignatureException",
        };
        sigv4::verify(
            &scope,
            &principal.secret_access_key,
            &parts.method,
            &parts.uri,
            &parts.headers,
            &body,
            code,
        )
        .map_err(|e| (String::new(), e))?;
    }
    let call = parse_call(service, &parts.method, &parts.uri, &parts.headers, &body)
        .map_err(|e| (String::new(), e))?;
    let op = call.operation.clone();
    let fail = |e: AwsError| (op.clone(), e);

    // Faults, in the order a real front end meets them.
    let (hang, delay) = {
        let faults = sim.inner.faults.read();
        let delay = faults.delay(&mut sim.inner.rng.lock());
        (faults.hang_regions.contains(&region), delay)
    };
    if hang {
        std::future::pending::<()>().await;
    }
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    {
        let mut faults = sim.inner.faults.write();
        if faults.disabled_regions.contains(&region) {
            return Err(fail(AwsError::unrecognized_client_for(service)));
        }
        if faults.is_denied(service, &op, &region) {
            let resource = match service {
                Service::Bedrock => {
                    format!("arn:aws:bedrock:{region}:{}:guardrail/*", principal.account)
                }
                Service::Kms => format!("arn:aws:kms:{region}:{}:key/*", principal.account),
                Service::Sts => principal.arn.clone(),
                Service::Iam => {
                    let name = call
                        .input
                        .as_object()
                        .and_then(|i| i.values().next())
                        .and_then(Value::as_str);
                    match (op.as_str(), name) {
                        ("GetRole", Some(n)) => format!("arn:aws:iam::{}:role/{n}", principal.account),
                        (_, Some(n)) => format!("arn:aws:iam::{}:user/{n}", principal.account),
                        _ => format!("arn:aws:iam::{}:*", principal.account),
                    }
                }
            };
            let action = format!("{}:{op}", service.signing_name());
            return Err(fail(AwsError::access_denied(&principal.arn, &action, &resource)));
        }
        if let Some(rps) = faults.quota(service, &op, &region)
            && !sim
                .inner
                .limiter
                .lock()
                .admit(service, &op, &region, rps, Instant::now())
        {
            return Err(fail(AwsError::throttling()));
        }
        if faults.take_failure(service, &op, &region) {
            return Err(fail(AwsError::internal()));
        }
        // Bedrock decrypts a CMK-encrypted guardrail with the caller's own KMS permissions:
        // without kms:Decrypt on its key, reading or changing it is denied.
        if service == Service::Bedrock
            && faults.is_denied(Service::Kms, "Decrypt", &region)
            && let Some(key) = guardrail_key(sim, &principal, &region, &call.input)
        {
            return Err(fail(AwsError::access_denied(&principal.arn, "kms:Decrypt", &key)));
        }
    }
    *sim.inner
        .calls
        .lock()
        .entry(format!("{}:{op}", service.signing_name()))
        .or_default() += 1;

    if service == Service::Sts {
        let xml = sts::get_caller_identity(&principal, request_id);
        sim.record(
            service,
            &op,
            200,
            None,
            &json!({
                "Account": principal.account, "Arn": principal.arn, "UserId": principal.user_id
            }),
        );
        let mut resp = Response::new(Body::from(xml));
        resp.headers_mut()
            .insert("content-type", HeaderValue::from_static("text/xml"));
        if let Ok(v) = HeaderValue::from_str(request_id) {
            resp.headers_mut().insert("x-amzn-requestid", v);
        }
        return Ok(resp);
    }

    if service == Service::Iam {
        let params: std::collections::BTreeMap<String, String> = call
            .input
            .as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        let answer = {
            let world = sim.inner.world.lock();
            iam::handle(&world.iam, &principal.account, &op, &params, request_id)
        };
        let (xml, json) = answer.map_err(fail)?;
        sim.record(service, &op, 200, None, &json);
        let mut resp = Response::new(Body::from(xml));
        resp.headers_mut()
            .insert("content-type", HeaderValue::from_static("text/xml"));
        if let Ok(v) = HeaderValue::from_str(request_id) {
            resp.headers_mut().insert("x-amzn-requestid", v);
        }
        return Ok(resp);
    }

    let model = match service {
        Service::Bedrock => model::bedrock(),
        _ => model::kms(),
    };
    model.validate_input(&op, &call.input).map_err(|invalid| {
        fail(match invalid {
            model::Invalid::Serialization(m) => AwsError::serialization(m),
            model::Invalid::Constraints(_) => AwsError::validation(invalid.message()),
        })
    })?;

    let settle = *sim.inner.settle.read();
    let (status, body) = {
        let mut world = sim.inner.world.lock();
        let mut rng = sim.inner.rng.lock();
        let mut ctx = state::Ctx {
            account: &principal.account,
            region: &region,
            caller_arn: &principal.arn,
            now: OffsetDateTime::now_utc(),
            instant: Instant::now(),
            settle,
            rng: &mut rng,
        };
        let result = match service {
            Service::Bedrock => bedrock::handle(&mut world, &mut ctx, &op, &call.input),
            _ => kms::handle(&mut world, &mut ctx, &op, &call.input).map(|v| (200, v)),
        };
        let (status, body) = result.map_err(fail)?;
        if op == "ListGuardrails" && call.input.get("guardrailIdentifier").is_none() {
            strike_after_list(sim, &mut world, &ctx, &body);
        }
        if op == "GetGuardrail" && call.input.get("guardrailVersion").is_none_or(|v| v == "DRAFT") {
            strike_after_get(sim, &mut world, &ctx, &body);
        }
        (status, body)
    };
    sim.record(service, &op, status, None, &body);
    Ok(wire::json_response(service, status, &body, request_id))
}

/// The key of the guardrail a Bedrock call names, if it has one.
fn guardrail_key(sim: &Simulator, principal: &Principal, region: &str, input: &Value) -> Option<String> {
    let identifier = input.get("guardrailIdentifier")?.as_str()?;
    let world = sim.inner.world.lock();
    let state = world.region(&principal.account, region)?;
    let id = state.guardrail_id(identifier, &principal.account, region)?;
    state.guardrails.get(&id)?.draft.kms_key_arn.clone()
}

/// Another writer's update, right after a GetGuardrail of the DRAFT answered.
fn strike_after_get(sim: &Simulator, world: &mut World, ctx: &state::Ctx, body: &Value) {
    let Some(id) = body["guardrailId"].as_str() else {
        return;
    };
    if sim.inner.after_get.lock().remove(id).is_none() {
        return;
    }
    if let Some(g) = world.region_mut(ctx.account, ctx.region).guardrails.get_mut(id) {
        g.draft.blocked_input_messaging =
            format!("{} (changed by another writer)", g.draft.blocked_input_messaging);
        g.updated_at = ctx.now;
        g.begin(
            state::GuardrailStatus::Updating,
            ctx.settle.max(Duration::from_millis(50)),
            ctx.instant,
        );
    }
}

fn strike_after_list(sim: &Simulator, world: &mut World, ctx: &state::Ctx, page: &Value) {
    let mut hooks = sim.inner.after_list.lock();
    if hooks.is_empty() {
        return;
    }
    let region = world.region_mut(ctx.account, ctx.region);
    for id in bedrock::listed_ids(page) {
        match hooks.remove(&id) {
            Some(AfterList::Vanish) => {
                region.guardrails.remove(&id);
            }
            Some(AfterList::Change) => {
                if let Some(g) = region.guardrails.get_mut(&id) {
                    g.draft.blocked_input_messaging =
                        format!("{} (changed)", g.draft.blocked_input_messaging);
                    g.updated_at = ctx.now;
                }
            }
            None => {}
        }
    }
}
