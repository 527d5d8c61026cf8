//! Each distinct KMS key is looked up once per scan, however many guardrails use it, and
//! each region's aliases are listed once.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::OnceCell;

use super::{Governor, paced};
use crate::aws::Session;
use crate::model::{CallError, KeyInfo, KeyLookup, Rotation};

type Aliases = Result<Vec<(String, String)>, CallError>;

#[derive(Default)]
pub struct KeyCache {
    keys: Mutex<HashMap<String, Arc<OnceCell<KeyLookup>>>>,
    aliases: Mutex<HashMap<String, Arc<OnceCell<Aliases>>>>,
    pace: Mutex<HashMap<String, Arc<KmsPace>>>,
}

/// KMS quotas are per region and operation; so is the pace.
#[derive(Default)]
struct KmsPace {
    describe: Governor,
    rotation: Governor,
    aliases: Governor,
}

fn region_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| !r.is_empty())
}

impl KeyCache {
    fn pace(&self, region: &str) -> Arc<KmsPace> {
        self.pace.lock().entry(region.to_string()).or_default().clone()
    }

    pub async fn lookup(&self, session: &Session, key_arn: &str) -> KeyLookup {
        let cell = self.keys.lock().entry(key_arn.to_string()).or_default().clone();
        cell.get_or_init(|| describe(self, session, key_arn))
            .await
            .clone()
    }

    async fn aliases(&self, session: &Session, region: &str) -> Aliases {
        let cell = self.aliases.lock().entry(region.to_string()).or_default().clone();
        let pace = self.pace(region);
        let kms = session.kms_without_retries(region);
        cell.get_or_init(|| async { paced(&pace.aliases, || session.list_aliases(&kms)).await })
            .await
            .clone()
    }
}

async fn describe(cache: &KeyCache, session: &Session, key_arn: &str) -> KeyLookup {
    let Some(region) = region_of(key_arn) else {
        return KeyLookup::Failed {
            arn: key_arn.to_string(),
            error: CallError::Other {
                code: "InvalidArn".into(),
                message: format!("{key_arn} is not a key ARN"),
            },
        };
    };
    let kms = session.kms_without_retries(region);
    let pace = cache.pace(region);
    let d = match paced(&pace.describe, || session.describe_key(&kms, key_arn)).await {
        Ok(d) => d,
        Err(error) => {
            return KeyLookup::Failed {
                arn: key_arn.to_string(),
                error,
            };
        }
    };
    let (rotation, aliases) = futures::join!(
        paced(&pace.rotation, || session.key_rotation(&kms, key_arn)),
        cache.aliases(session, region)
    );
    // ListAliases shows the caller's own account: a key of another account has none here.
    let (aliases, aliases_error) = match aliases {
        Ok(all) => (
            all.into_iter()
                .filter(|(_, target)| *target == d.key_id)
                .map(|(name, _)| name)
                .collect(),
            None,
        ),
        Err(e) => (Vec::new(), Some(e)),
    };
    let rotation = match rotation {
        Ok(r) => r,
        // AWS managed keys rotate every year, whatever the call could say.
        Err(_) if d.manager == "AWS" => Rotation::Enabled {
            period_days: Some(365),
        },
        Err(error) => Rotation::Unknown { error },
    };
    KeyLookup::Found(std::sync::Arc::new(KeyInfo {
        arn: d.arn,
        key_id: d.key_id,
        account: d.account,
        region: region.to_string(),
        aliases,
        manager: d.manager,
        state: d.state,
        spec: d.spec,
        usage: d.usage,
        multi_region: d.multi_region,
        multi_region_key: d.multi_region_key,
        created_at: d.created_at,
        deletion_date: d.deletion_date,
        rotation,
        description: d.description,
        aliases_error,
    }))
}
