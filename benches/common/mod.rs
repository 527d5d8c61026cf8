//! What the benchmarks share: the process's memory, as the kernel counts it, and the
//! simulator in a process of its own.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

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

/// `guardkey sim` in a process of its own, so that its memory and CPU are not the scanner's.
pub struct SimProcess {
    child: Child,
    pub endpoint: String,
    /// Kept open: the simulator's banner goes on after the line read here.
    _stdout: BufReader<std::process::ChildStdout>,
}

impl SimProcess {
    pub fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_guardkey"))
            .args(["sim", "--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start guardkey sim");
        let mut first = String::new();
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        stdout.read_line(&mut first).expect("banner");
        let endpoint = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .expect("the banner names the endpoint")
            .to_string();
        SimProcess {
            child,
            endpoint,
            _stdout: stdout,
        }
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
