//! Faults on demand: latency, per-region rate quotas, regions that are not enabled or that
//! hang, denied operations and injected server errors.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::time::{Duration, Instant};

use super::wire::Service;

/// Names an operation, optionally qualified by its service: `GetGuardrail`,
/// `kms:DescribeKey`, `bedrock:TagResource`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OperationMatcher {
    pub service: Option<Service>,
    pub operation: String,
}

impl OperationMatcher {
    pub fn matches(&self, service: Service, operation: &str) -> bool {
        self.service.is_none_or(|s| s == service) && self.operation == operation
    }

    /// The IAM action this names, for messages: `bedrock:GetGuardrail`.
    pub fn action(&self, service: Service) -> String {
        format!("{}:{}", service.signing_name(), self.operation)
    }
}

impl FromStr for OperationMatcher {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (service, operation) = match s.split_once(':') {
            Some((svc, op)) => {
                let service = Service::from_signing_name(svc).ok_or_else(|| {
                    format!("unknown service '{svc}' in '{s}': use bedrock, kms, sts or iam")
                })?;
                (Some(service), op)
            }
            None => (None, s),
        };
        let valid = operation.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && operation.chars().all(|c| c.is_ascii_alphanumeric());
        if !valid {
            return Err(format!(
                "'{operation}' is not an operation name: use the API name, e.g. GetGuardrail or kms:DescribeKey"
            ));
        }
        // A fault on an operation the simulator does not serve would never strike.
        let served = |svc: Service| match svc {
            Service::Bedrock => {
                super::model::bedrock().input_shape(operation).is_some()
                    || operation == "ApplyGuardrail"
                    || super::agents::OPERATIONS.contains(&operation)
            }
            // kms:Decrypt is checked when Bedrock reads a guardrail encrypted with a CMK.
            Service::Kms => super::model::kms().input_shape(operation).is_some() || operation == "Decrypt",
            Service::Sts => operation == "GetCallerIdentity",
            Service::Iam => matches!(
                operation,
                "GetRole" | "GetUser" | "GetAccountAuthorizationDetails"
            ),
            Service::SecurityHub => super::model::securityhub().input_shape(operation).is_some(),
            Service::Organizations => super::model::organizations().input_shape(operation).is_some(),
        };
        let known = match service {
            Some(svc) => served(svc),
            None => [
                Service::Bedrock,
                Service::Kms,
                Service::Sts,
                Service::Iam,
                Service::SecurityHub,
                Service::Organizations,
            ]
            .into_iter()
            .any(served),
        };
        if !known {
            return Err(format!(
                "'{s}': guardkey sim serves no such operation (e.g. GetGuardrail, UpdateGuardrail, kms:DescribeKey, iam:GetRole)"
            ));
        }
        Ok(OperationMatcher {
            service,
            operation: operation.to_string(),
        })
    }
}

/// `OPERATION[@REGION]=RPS`: a request-rate quota, enforced in each region separately (or
/// only in REGION), like `GetGuardrail=25` or `GetGuardrail@eu-west-1=5`.
#[derive(Debug, Clone, PartialEq)]
pub struct Quota {
    pub operation: OperationMatcher,
    pub region: Option<String>,
    pub per_second: f64,
}

impl FromStr for Quota {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (op, rps) = s
            .split_once('=')
            .ok_or_else(|| format!("'{s}' is not OPERATION=RPS, e.g. GetGuardrail=25"))?;
        let per_second: f64 = rps
            .parse()
            .ok()
            .filter(|r: &f64| r.is_finite() && *r > 0.0)
            .ok_or_else(|| format!("'{rps}' is not a positive request rate in '{s}'"))?;
        let (op, region) = match op.split_once('@') {
            Some((op, region)) => (op, Some(region.to_string())),
            None => (op, None),
        };
        Ok(Quota {
            operation: op.parse()?,
            region,
            per_second,
        })
    }
}

/// `OPERATION[@REGION]`: every principal is denied this operation (in this region).
#[derive(Debug, Clone, PartialEq)]
pub struct Denial {
    pub operation: OperationMatcher,
    pub region: Option<String>,
}

impl FromStr for Denial {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (op, region) = match s.split_once('@') {
            Some((op, region)) => (op, Some(region.to_string())),
            None => (s, None),
        };
        Ok(Denial {
            operation: op.parse()?,
            region,
        })
    }
}

/// A server error the next `remaining` matching calls get.
#[derive(Debug, Clone)]
pub struct InjectedFailure {
    pub operation: OperationMatcher,
    pub region: Option<String>,
    pub remaining: u32,
}

#[derive(Debug, Clone, Default)]
pub struct Faults {
    pub latency: Duration,
    pub jitter: Duration,
    pub quotas: Vec<Quota>,
    pub disabled_regions: HashSet<String>,
    pub hang_regions: HashSet<String>,
    pub denials: Vec<Denial>,
    pub failures: Vec<InjectedFailure>,
}

impl Faults {
    /// The delay before a response: the base latency plus or minus up to the jitter.
    pub fn delay(&self, rng: &mut fastrand::Rng) -> Duration {
        if self.jitter.is_zero() {
            return self.latency;
        }
        let jitter = self.jitter.as_micros() as i64;
        let offset = rng.i64(-jitter..=jitter);
        let micros = (self.latency.as_micros() as i64 + offset).max(0);
        Duration::from_micros(micros as u64)
    }

    pub fn is_denied(&self, service: Service, operation: &str, region: &str) -> bool {
        self.denials.iter().any(|d| {
            d.operation.matches(service, operation) && d.region.as_deref().is_none_or(|r| r == region)
        })
    }

    pub fn quota(&self, service: Service, operation: &str, region: &str) -> Option<f64> {
        self.quotas
            .iter()
            .find(|q| {
                q.operation.matches(service, operation) && q.region.as_deref().is_none_or(|r| r == region)
            })
            .map(|q| q.per_second)
    }

    /// Takes one injected failure for this call, if any is armed.
    pub fn take_failure(&mut self, service: Service, operation: &str, region: &str) -> bool {
        let hit = self.failures.iter_mut().find(|f| {
            f.remaining > 0
                && f.operation.matches(service, operation)
                && f.region.as_deref().is_none_or(|r| r == region)
        });
        match hit {
            Some(f) => {
                f.remaining -= 1;
                true
            }
            None => false,
        }
    }
}

/// A token bucket holding up to one second of requests, refilled continuously.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub fn new(per_second: f64, now: Instant) -> Self {
        TokenBucket {
            tokens: per_second.max(1.0),
            last: now,
        }
    }

    pub fn try_take(&mut self, per_second: f64, now: Instant) -> bool {
        let capacity = per_second.max(1.0);
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * per_second).min(capacity);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The buckets of every (service, operation, region) under a quota.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: HashMap<(Service, String, String, String), TokenBucket>,
}

impl RateLimiter {
    /// Quotas are per account and region, as at AWS: one account's calls never use
    /// another's.
    pub fn admit(
        &mut self,
        service: Service,
        operation: &str,
        account: &str,
        region: &str,
        per_second: f64,
        now: Instant,
    ) -> bool {
        self.buckets
            .entry((
                service,
                operation.to_string(),
                account.to_string(),
                region.to_string(),
            ))
            .or_insert_with(|| TokenBucket::new(per_second, now))
            .try_take(per_second, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fault_flags() {
        let q: Quota = "GetGuardrail=25".parse().unwrap();
        assert_eq!(q.per_second, 25.0);
        assert!(q.operation.matches(Service::Bedrock, "GetGuardrail"));
        let q: Quota = "kms:DescribeKey@eu-west-1=2.5".parse().unwrap();
        assert_eq!((q.region.as_deref(), q.per_second), (Some("eu-west-1"), 2.5));
        let d: Denial = "kms:DescribeKey@eu-west-1".parse().unwrap();
        assert!(d.operation.matches(Service::Kms, "DescribeKey"));
        assert!(!d.operation.matches(Service::Bedrock, "DescribeKey"));
        assert_eq!(d.region.as_deref(), Some("eu-west-1"));
        assert!("GetGuardrail=0".parse::<Quota>().is_err());
        assert!("GetGuardrail".parse::<Quota>().is_err());
        assert!("s3:GetObject".parse::<Denial>().is_err());
        assert!("get guardrail".parse::<Denial>().is_err());
    }

    #[test]
    fn bucket_admits_the_rate_and_no_more() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(5.0, start);
        let admitted = (0..10).filter(|_| bucket.try_take(5.0, start)).count();
        assert_eq!(admitted, 5);
        assert!(bucket.try_take(5.0, start + Duration::from_millis(200)));
        assert!(!bucket.try_take(5.0, start + Duration::from_millis(200)));
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let faults = Faults {
            latency: Duration::from_millis(40),
            jitter: Duration::from_millis(10),
            ..Faults::default()
        };
        let mut rng = fastrand::Rng::with_seed(1);
        for _ in 0..1000 {
            let d = faults.delay(&mut rng);
            assert!(d >= Duration::from_millis(30) && d <= Duration::from_millis(50));
        }
    }
}
