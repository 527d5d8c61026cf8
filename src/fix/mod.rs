//! Remediation: create (or choose) a customer managed key and apply it to guardrails,
//! losslessly, journaled, verified and reversible.
//!
//! `plan` is pure: what calls, in what order, with what inputs; it renders as a summary, a
//! diff, an AWS CLI script and Terraform. `apply` carries a plan out: it journals each
//! guardrail's pre-image before writing, waits for READY, reads back and proves that only
//! the key changed, and restores what it cannot prove.

pub mod accounts;
pub mod apply;
pub mod journal;
pub mod plan;
pub mod planner;
pub mod policy;
pub mod prepare;
pub mod principals;
pub mod terraform;
