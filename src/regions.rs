//! The AWS regions where Amazon Bedrock exists.

/// botocore's endpoints list Bedrock in these commercial regions. The busiest come first,
/// so that "the first N regions" of a generated estate are the ones most accounts use.
pub const BEDROCK_REGIONS: &[&str] = &[
    "us-east-1",
    "us-west-2",
    "eu-central-1",
    "eu-west-1",
    "ap-northeast-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "eu-west-2",
    "us-east-2",
    "ap-south-1",
    "ca-central-1",
    "eu-west-3",
    "eu-north-1",
    "sa-east-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "us-west-1",
    "eu-south-1",
    "eu-south-2",
    "eu-central-2",
    "ap-south-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ap-east-2",
    "ca-west-1",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "af-south-1",
];

/// Bedrock's regions in the AWS GovCloud (US) partition.
pub const GOVCLOUD_REGIONS: &[&str] = &["us-gov-west-1", "us-gov-east-1"];

/// Bedrock's regions in every partition that has it, from botocore's endpoints (1.44.8):
/// the commercial partition, GovCloud (US), the European Sovereign Cloud and the ISO
/// partitions. The first region of each is its home (where IAM and STS are signed).
pub const PARTITIONS: &[(&str, &[&str])] = &[
    ("aws", BEDROCK_REGIONS),
    ("aws-us-gov", GOVCLOUD_REGIONS),
    ("aws-eusc", &["eusc-de-east-1"]),
    ("aws-iso", &["us-iso-east-1"]),
    ("aws-iso-b", &["us-isob-east-1"]),
    ("aws-iso-f", &["us-isof-south-1", "us-isof-east-1"]),
];

/// The Bedrock regions of a partition, if Bedrock is there.
pub fn regions_of(partition: &str) -> Option<&'static [&'static str]> {
    PARTITIONS.iter().find(|(p, _)| *p == partition).map(|(_, r)| *r)
}

/// The partition an ARN names (`arn:PARTITION:…`); "aws" for anything that is not an ARN.
pub fn partition_of_arn(arn: &str) -> &str {
    arn.split(':').nth(1).unwrap_or("aws")
}

/// The partition a region belongs to: from the lists above, else by AWS's naming
/// (`us-gov-`, `eusc-`, `us-iso-`, `us-isob-`, `us-isof-`, `cn-`), else commercial.
pub fn partition_of(region: &str) -> &'static str {
    if let Some((p, _)) = PARTITIONS.iter().find(|(_, r)| r.contains(&region)) {
        return p;
    }
    match region {
        r if r.starts_with("us-gov-") => "aws-us-gov",
        r if r.starts_with("eusc-") => "aws-eusc",
        r if r.starts_with("us-isob-") => "aws-iso-b",
        r if r.starts_with("us-isof-") => "aws-iso-f",
        r if r.starts_with("us-iso-") => "aws-iso",
        r if r.starts_with("cn-") => "aws-cn",
        _ => "aws",
    }
}

/// Whether `name` looks like a region name at all (`eu-west-1`, `us-gov-west-1`).
pub fn is_region_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    parts.len() >= 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        && parts
            .last()
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_each_region_once() {
        let mut seen = std::collections::HashSet::new();
        for r in BEDROCK_REGIONS.iter().chain(GOVCLOUD_REGIONS) {
            assert!(is_region_name(r), "{r}");
            assert!(seen.insert(r), "{r} twice");
        }
    }

    #[test]
    fn rejects_what_is_not_a_region() {
        for bad in ["", "eu-west", "EU-WEST-1", "eu_west_1", "eu-west-x", "us--1"] {
            assert!(!is_region_name(bad), "{bad}");
        }
    }
}
