//! The per-service dispatch: a call that passed the front (credentials, signature, faults)
//! is counted, validated against the service's model and served from the world.

use axum::body::Body;
use axum::http::{HeaderValue, Response};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

use super::front::Call;
use super::wire::{self, AwsError, Service};
use super::{
    AfterList, Principal, Simulator, World, agents, bedrock, iam, kms, model, organizations, runtime,
    securityhub, simulate, state, sts,
};

/// Serves a call that the front let through.
pub(super) async fn dispatch(
    sim: &Simulator,
    service: Service,
    principal: &Principal,
    region: &str,
    call: Call,
    request_id: &str,
) -> Result<Response<Body>, (String, AwsError)> {
    let op = call.operation.clone();
    let fail = |e: AwsError| (op.clone(), e);
    *sim.inner
        .calls
        .lock()
        .entry(format!("{}:{op}", service.signing_name()))
        .or_default() += 1;

    if service == Service::Sts && op == "AssumeRole" {
        let params = query_params(&call.input);
        let assumed = {
            let world = sim.inner.world.lock();
            let mut rng = sim.inner.rng.lock();
            sts::assume_role(
                &world,
                principal,
                &params,
                &mut rng,
                OffsetDateTime::now_utc(),
                request_id,
            )
        }
        .map_err(fail)?;
        sim.record(service, &op, 200, None, &assumed.json);
        sim.inner.sessions.write().insert(
            assumed.principal.access_key_id.clone(),
            (assumed.session_token.clone(), assumed.expires),
        );
        sim.inner
            .principals
            .write()
            .insert(assumed.principal.access_key_id.clone(), assumed.principal);
        return Ok(xml_response(assumed.xml, request_id));
    }
    if service == Service::Sts {
        let xml = sts::get_caller_identity(principal, request_id);
        sim.record(
            service,
            &op,
            200,
            None,
            &json!({
                "Account": principal.account, "Arn": principal.arn, "UserId": principal.user_id
            }),
        );
        return Ok(xml_response(xml, request_id));
    }

    if service == Service::Iam {
        let params = query_params(&call.input);
        let answer = {
            let world = sim.inner.world.lock();
            if op == "SimulatePrincipalPolicy" {
                simulate::simulate_principal_policy(&world, &principal.account, &params, request_id)
            } else {
                iam::handle(&world.iam, &principal.account, &op, &params, request_id)
            }
        };
        let (xml, json) = answer.map_err(fail)?;
        sim.record(service, &op, 200, None, &json);
        return Ok(xml_response(xml, request_id));
    }

    let model = match service {
        Service::Bedrock if op == "ApplyGuardrail" => model::bedrock_runtime(),
        Service::Bedrock if agents::OPERATIONS.contains(&op.as_str()) => model::bedrock_agent(),
        Service::Bedrock => model::bedrock(),
        Service::SecurityHub => model::securityhub(),
        Service::Organizations => model::organizations(),
        _ => model::kms(),
    };
    model.validate_input(&op, &call.input).map_err(|invalid| {
        fail(match (service, invalid) {
            // Security Hub answers every malformed request with InvalidInputException.
            (Service::SecurityHub, invalid) => securityhub::invalid_input(invalid.message()),
            (Service::Organizations, invalid) => organizations::invalid("INVALID_INPUT", &invalid.message()),
            (_, model::Invalid::Serialization(m)) => AwsError::serialization(m),
            (_, invalid) => AwsError::validation(invalid.message()),
        })
    })?;

    let settle = *sim.inner.settle.read();
    let (status, body) = {
        let mut world = sim.inner.world.lock();
        let mut rng = sim.inner.rng.lock();
        let mut ctx = state::Ctx {
            account: &principal.account,
            region,
            caller_arn: &principal.arn,
            now: OffsetDateTime::now_utc(),
            instant: Instant::now(),
            settle,
            rng: &mut rng,
        };
        let result = match service {
            Service::Bedrock if op == "ApplyGuardrail" => {
                runtime::apply_guardrail(&world, &ctx, principal, &call.input).map(|v| (200, v))
            }
            Service::Bedrock if agents::OPERATIONS.contains(&op.as_str()) => {
                agents::handle(&world, &ctx, &op, &call.input).map(|v| (200, v))
            }
            Service::Bedrock => guardrail_key_use(&world, principal, region, &op, &call.input)
                .and_then(|()| bedrock::handle(&mut world, &mut ctx, &op, &call.input)),
            Service::SecurityHub => {
                securityhub::handle(&mut world, &mut ctx, &op, &call.input).map(|v| (200, v))
            }
            Service::Organizations => {
                organizations::handle(world.organization.as_ref(), ctx.account, &op, &call.input)
                    .map(|v| (200, v))
            }
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

/// A guardrail created or updated with a customer managed key: Bedrock uses the key with the
/// caller's permissions (kms:Decrypt, GenerateDataKey, DescribeKey, CreateGrant; see
/// `keyuse`), so the write is refused with AccessDeniedException when one is missing. A key
/// Bedrock cannot use at all (wrong region, disabled) is the write's own ValidationException.
fn guardrail_key_use(
    world: &World,
    principal: &super::Principal,
    region: &str,
    op: &str,
    input: &Value,
) -> Result<(), super::wire::AwsError> {
    if !matches!(op, "CreateGuardrail" | "UpdateGuardrail") {
        return Ok(());
    }
    let Some(key) = input.get("kmsKeyId").and_then(Value::as_str) else {
        return Ok(());
    };
    let Ok(arn) = kms::key_for_guardrail(world, &principal.account, region, key) else {
        return Ok(());
    };
    for action in super::keyuse::GUARDRAIL_WRITE {
        super::keyuse::check(world, principal, &arn, action, region)?;
    }
    Ok(())
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

/// A query-protocol call's parameters, as the front parsed them into a JSON object.
fn query_params(input: &Value) -> std::collections::BTreeMap<String, String> {
    input
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// A query-protocol answer (STS, IAM): XML, with the request id AWS sends.
fn xml_response(xml: String, request_id: &str) -> Response<Body> {
    let mut resp = Response::new(Body::from(xml));
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static("text/xml"));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        resp.headers_mut().insert("x-amzn-requestid", v);
    }
    resp
}
