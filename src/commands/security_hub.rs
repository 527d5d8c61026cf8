//! `scan --security-hub`: the scan's ASFF findings imported into Security Hub, each into
//! its own region's hub (as Security Hub requires), in calls of at most 100 findings.
//! Regions are imported concurrently; each region's calls one after the other.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::aws::{FailedFinding, Session};
use crate::model::CallError;
use crate::report::ScanReport;
use crate::report::asff::{finding_region, findings};

/// What the import did in one region.
#[derive(Debug)]
pub struct RegionImport {
    pub region: String,
    pub sent: usize,
    pub imported: usize,
    pub refused: Vec<FailedFinding>,
    /// A call that failed as a whole: its findings (and the region's later ones) were not imported.
    pub error: Option<CallError>,
}

impl RegionImport {
    pub fn is_complete(&self) -> bool {
        self.error.is_none() && self.refused.is_empty() && self.imported == self.sent
    }
}

/// Findings grouped by the region whose hub takes them, in region order.
pub fn by_region(findings: Vec<Value>) -> BTreeMap<String, Vec<Value>> {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for f in findings {
        out.entry(finding_region(&f).to_string()).or_default().push(f);
    }
    out
}

/// Imports every finding of `report`; never stops at a region that fails.
pub async fn import(session: &Session, report: &ScanReport) -> Vec<RegionImport> {
    let tasks = by_region(findings(report)).into_iter().map(|(region, list)| {
        let session = session.clone();
        async move {
            let client = session.security_hub(&region);
            let mut done = RegionImport {
                region: region.clone(),
                sent: list.len(),
                imported: 0,
                refused: Vec::new(),
                error: None,
            };
            for batch in list.chunks(crate::aws::SECURITY_HUB_BATCH) {
                match session.import_findings(&client, batch).await {
                    Ok(outcome) => {
                        done.imported += outcome.imported;
                        done.refused.extend(outcome.failed);
                    }
                    Err(e) => {
                        done.error = Some(e);
                        break;
                    }
                }
            }
            done
        }
    });
    futures::future::join_all(tasks).await
}

/// What to tell the user: one line for the whole, one per region that did not take all.
pub fn summary(imports: &[RegionImport]) -> Vec<String> {
    let imported: usize = imports.iter().map(|r| r.imported).sum();
    let sent: usize = imports.iter().map(|r| r.sent).sum();
    let mut lines = vec![format!(
        "Security Hub: {imported} of {sent} findings imported in {} of {} regions",
        imports.iter().filter(|r| r.is_complete()).count(),
        imports.len()
    )];
    for r in imports {
        if let Some(e) = &r.error {
            let next = match e {
                CallError::Other { code, .. } if code == "InvalidAccessException" => format!(
                    " — enable Security Hub there: aws securityhub enable-security-hub --region {}",
                    r.region
                ),
                CallError::AccessDenied { .. } => " — the caller needs securityhub:BatchImportFindings on \
                     arn:*:securityhub:*:*:product/*/default (`guardkey policy security-hub`)"
                    .to_string(),
                _ => String::new(),
            };
            lines.push(format!(
                "Security Hub {}: {} of {} findings imported, then {}: {}{next}",
                r.region,
                r.imported,
                r.sent,
                e.label(),
                e.detail()
            ));
        }
        if !r.refused.is_empty() {
            lines.push(format!(
                "Security Hub {}: {} findings refused:",
                r.region,
                r.refused.len()
            ));
            for f in r.refused.iter().take(5) {
                lines.push(format!("  {}: {}: {}", f.id, f.code, f.message));
            }
            if r.refused.len() > 5 {
                lines.push(format!("  … and {} more", r.refused.len() - 5));
            }
        }
    }
    lines
}
