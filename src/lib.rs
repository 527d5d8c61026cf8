//! guardkey: finds every Amazon Bedrock guardrail of an AWS account, says whether each is
//! encrypted with a customer managed KMS key (Bedrock-003), and fixes it losslessly.

pub mod aws;
pub mod cli;
pub mod commands;
pub mod config;
pub mod fix;
pub mod model;
pub mod permissions;
pub mod regions;
pub mod report;
pub mod scan;
pub mod sim;
pub mod tui;
pub mod usage;
