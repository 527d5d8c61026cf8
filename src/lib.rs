//! guardkey: finds every Amazon Bedrock guardrail of an AWS account, says whether each is
//! encrypted with a customer managed KMS key (Bedrock-003), and fixes it losslessly.

pub mod cli;
pub mod regions;
pub mod sim;
