//! What the benchmarks share: the process's memory, as the kernel counts it.
#![allow(dead_code)]

/// A line of /proc/self/status in MiB (`VmRSS`: resident now, `VmHWM`: its peak).
fn status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Resident memory now, MiB.
pub fn rss_mib() -> f64 {
    status_mib("VmRSS:")
}

/// The peak of resident memory so far, MiB.
pub fn peak_rss_mib() -> f64 {
    status_mib("VmHWM:")
}
