//! The HTTP front of the simulator, as AWS's front ends work: the SigV4 credential scope
//! names the service and region, the access key names the caller, the signature is
//! checked, then the faults in the order a real front end meets them (hang, latency, a
//! region not enabled, denials, quotas, injected failures). What passes goes to `dispatch`.

use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{Method, Response};
use futures::FutureExt;
use serde_json::{Map, Value, json};

use super::wire::{AwsError, CredentialScope, Service};
use super::{
    MAX_BODY, Principal, Simulator, agents, authz, bedrock, dispatch, iam, model, organizations, runtime,
    securityhub, sigv4, sts,
};

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

pub(super) async fn handle(State(sim): State<Simulator>, req: Request) -> Response<Body> {
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
                "guardkey sim serves Bedrock, KMS, STS, IAM, Organizations and Security Hub only, not '{}'.",
                scope.service
            ),
        )
        .into_response(guessed, &request_id);
    };
    // A bug in the simulator is a 500 InternalServerException, as AWS answers its own
    // failures (clients retry or say so), not a connection closed mid-request.
    let served = std::panic::AssertUnwindSafe(serve_call(&sim, service, scope, req, &request_id))
        .catch_unwind()
        .await;
    match served {
        Err(_) => AwsError::internal().into_response(service, &request_id),
        Ok(Ok(resp)) => resp,
        Ok(Err((op, e))) => {
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

/// A JSON body as an object (an empty body is `{}`), or `not_an_object` in the protocol's words.
fn json_object(body: &Bytes, not_an_object: impl FnOnce() -> AwsError) -> Result<Value, AwsError> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    match serde_json::from_slice(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(not_an_object()),
    }
}

/// A JSON 1.1 call (KMS, Organizations): the operation from `X-Amz-Target` (`PREFIX.Op`, one
/// the service's model has), the input from the body.
fn json11_call(
    headers: &axum::http::HeaderMap,
    body: &Bytes,
    prefix: &str,
    model: &model::ServiceModel,
) -> Result<Call, AwsError> {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let op = target
        .strip_prefix(prefix)
        .filter(|op| model.has_operation(op))
        .ok_or_else(|| {
            AwsError::new(
                "UnknownOperationException",
                400,
                format!("Unknown operation '{target}'"),
            )
        })?;
    let input = json_object(body, || {
        AwsError::serialization("Start of structure or map found where not expected.")
    })?;
    Ok(Call {
        operation: op.to_string(),
        input,
    })
}

/// A parsed call: the operation and its input members as one JSON object.
pub(super) struct Call {
    pub(super) operation: String,
    pub(super) input: Value,
}

fn parse_call(
    service: Service,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &axum::http::HeaderMap,
    body: &Bytes,
) -> Result<Call, AwsError> {
    match service {
        // Bedrock Runtime signs as `bedrock` too: its path tells it apart.
        Service::Bedrock if runtime::route(method.as_str(), uri.path()).is_some() => {
            let (id, version) = runtime::route(method.as_str(), uri.path()).unwrap_or_default();
            let mut input = json_object(body, || {
                AwsError::serialization("The request body is not a JSON object.")
            })?;
            input["guardrailIdentifier"] = json!(id);
            input["guardrailVersion"] = json!(version);
            Ok(Call {
                operation: "ApplyGuardrail".into(),
                input,
            })
        }
        // So do Agents for Amazon Bedrock.
        Service::Bedrock if agents::route(method.as_str(), uri.path()).is_some() => {
            let (op, id) = agents::route(method.as_str(), uri.path()).unwrap_or(("", None));
            let mut input = if body.is_empty() {
                Map::new()
            } else {
                match serde_json::from_slice(body) {
                    Ok(Value::Object(m)) => m,
                    _ => return Err(AwsError::serialization("The request body is not a JSON object.")),
                }
            };
            for (k, v) in form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
                let value = match k.as_ref() {
                    "maxResults" => v.parse::<i64>().map(Value::from).map_err(|_| {
                        AwsError::serialization(format!("'{v}' is not a number for 'maxResults'"))
                    })?,
                    _ => Value::String(v.into_owned()),
                };
                input.insert(k.into_owned(), value);
            }
            if let Some(id) = id {
                input.insert(agents::path_member(op).into(), Value::String(id));
            }
            Ok(Call {
                operation: op.to_string(),
                input: Value::Object(input),
            })
        }
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
        Service::Kms => json11_call(headers, body, "TrentService.", model::kms()),
        Service::Organizations => json11_call(
            headers,
            body,
            organizations::TARGET_PREFIX,
            model::organizations(),
        ),
        Service::SecurityHub => {
            let op = securityhub::route(method.as_str(), uri.path()).ok_or_else(|| {
                AwsError::new(
                    "UnknownOperationException",
                    404,
                    format!("No operation at {method} {}", uri.path()),
                )
            })?;
            let input = json_object(body, || {
                securityhub::invalid_input("The request body is not a JSON object.")
            })?;
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
            if op != "GetCallerIdentity" && op != "AssumeRole" {
                return Err(AwsError::new(
                    "InvalidAction",
                    400,
                    format!("Could not find operation {op} for version 2011-06-15"),
                ));
            }
            let input: Map<String, Value> = form_urlencoded::parse(body)
                .filter(|(k, _)| k != "Action" && k != "Version")
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect();
            Ok(Call {
                operation: op,
                input: Value::Object(input),
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
    // Temporary credentials are only good with their session token, and until they expire.
    let session = sim.inner.sessions.read().get(&scope.access_key).cloned();
    if let Some((token, expires)) = session {
        let sent = req
            .headers()
            .get("x-amz-security-token")
            .and_then(|v| v.to_str().ok());
        if sent != Some(token.as_str()) {
            return Err((String::new(), AwsError::unrecognized_client_for(service)));
        }
        if std::time::SystemTime::now() >= expires {
            let code = match service {
                Service::Sts | Service::Iam => "ExpiredToken",
                _ => "ExpiredTokenException",
            };
            return Err((
                String::new(),
                AwsError::new(code, 403, "The security token included in the request is expired"),
            ));
        }
    }
    let region = scope.region.clone();
    // Each partition is its own world: its credentials are unknown in another's regions.
    if crate::regions::partition_of(&region) != sim.partition() {
        return Err((String::new(), AwsError::unrecognized_client_for(service)));
    }
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
            // The resource the call is on, as the identity-policy check names it.
            let resource = authz::required(
                service.signing_name(),
                &op,
                &region,
                &principal.account,
                &call.input,
                None,
            )
            .into_iter()
            .next()
            .map_or_else(|| principal.arn.clone(), |(_, resource, _)| resource);
            let action = format!("{}:{op}", service.signing_name());
            return Err(fail(AwsError::access_denied(&principal.arn, &action, &resource)));
        }
        if let Some(rps) = faults.quota(service, &op, &region)
            && !sim
                .inner
                .limiter
                .lock()
                .admit(service, &op, &principal.account, &region, rps, Instant::now())
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
    // The caller's own identity policy and permissions boundary, evaluated as IAM does: the
    // call must be allowed by both.
    let boundary = sim.inner.world.lock().iam.boundary_of(&principal.arn).cloned();
    if principal.identity_policy.is_some() || boundary.is_some() {
        let key = match service {
            Service::Bedrock => guardrail_key(sim, &principal, &region, &call.input),
            _ => None,
        };
        let needs = authz::required(
            service.signing_name(),
            &op,
            &region,
            &principal.account,
            &call.input,
            key.as_deref(),
        );
        for (action, resource, via) in needs {
            let request = authz::Request {
                action: &action,
                resource: &resource,
                via_service: via.as_deref(),
                principal_arn: None,
            };
            let allowed = principal
                .identity_policy
                .as_ref()
                .is_none_or(|p| authz::allows(p, &request))
                && boundary.as_ref().is_none_or(|b| authz::allows(b, &request));
            if !allowed {
                return Err(fail(AwsError::access_denied(&principal.arn, &action, &resource)));
            }
        }
    }
    // The SCPs of the caller's account (a member of an organization): they cap every call.
    {
        let world = sim.inner.world.lock();
        if let Some(org) = world
            .organization
            .as_ref()
            .filter(|o| o.management != principal.account && o.member(&principal.account).is_some())
        {
            let key = match service {
                Service::Bedrock => guardrail_key_of(&world, &principal, &region, &call.input),
                _ => None,
            };
            let needs = authz::required(
                service.signing_name(),
                &op,
                &region,
                &principal.account,
                &call.input,
                key.as_deref(),
            );
            // aws:PrincipalArn: a role session's role.
            let role_arn = world.iam.resolve(&principal.arn).map(|e| e.arn.clone());
            for (action, resource, via) in needs {
                let request = authz::Request {
                    action: &action,
                    resource: &resource,
                    via_service: via.as_deref(),
                    principal_arn: Some(role_arn.as_deref().unwrap_or(&principal.arn)),
                };
                if let Some(policy) = org.scp_denial(&principal.account, &request) {
                    return Err(fail(AwsError::new(
                        "AccessDeniedException",
                        403,
                        format!(
                            "User: {} is not authorized to perform: {action} on resource: {resource} with an explicit deny in a service control policy ({policy})",
                            principal.arn
                        ),
                    )));
                }
            }
        }
    }
    dispatch::dispatch(sim, service, &principal, &region, call, request_id).await
}

/// The key of the guardrail a Bedrock call names, if it has one.
fn guardrail_key(sim: &Simulator, principal: &Principal, region: &str, input: &Value) -> Option<String> {
    guardrail_key_of(&sim.inner.world.lock(), principal, region, input)
}

fn guardrail_key_of(
    world: &super::state::World,
    principal: &Principal,
    region: &str,
    input: &Value,
) -> Option<String> {
    let identifier = input.get("guardrailIdentifier")?.as_str()?;
    let state = world.region(&principal.account, region)?;
    let id = state.guardrail_id(identifier, &principal.account, region)?;
    state.guardrails.get(&id)?.draft.kms_key_arn.clone()
}
