//! Amazon Bedrock Runtime: applying a guardrail, to prove it works on its key.

use aws_config::Region;
use aws_sdk_bedrockruntime::types::{GuardrailContentBlock, GuardrailContentSource, GuardrailTextBlock};

use super::{Session, classify};
use crate::model::CallError;

/// The text a probe applies the guardrail to: one word, one text unit.
pub const PROBE_TEXT: &str = "hello";

impl Session {
    fn bedrock_runtime(&self, region: &str) -> aws_sdk_bedrockruntime::Client {
        let conf = aws_sdk_bedrockruntime::config::Builder::from(&self.sdk)
            .region(Region::new(region.to_string()))
            .retry_partition(self.partition("bedrock-runtime", region))
            .build();
        aws_sdk_bedrockruntime::Client::from_conf(conf)
    }

    /// ApplyGuardrail on the DRAFT of `arn` with a one-word input: Ok when the guardrail
    /// answered (whatever it decided), the error (e.g. kms:Decrypt denied) otherwise.
    /// It changes nothing, so the read-only guard does not apply to it.
    pub async fn probe_guardrail(&self, region: &str, arn: &str) -> Result<(), CallError> {
        let text = GuardrailTextBlock::builder()
            .text(PROBE_TEXT)
            .build()
            .map_err(|e| CallError::Other {
                code: "ClientError".into(),
                message: e.to_string(),
            })?;
        self.bedrock_runtime(region)
            .apply_guardrail()
            .guardrail_identifier(arn)
            .guardrail_version("DRAFT")
            .source(GuardrailContentSource::Input)
            .content(GuardrailContentBlock::Text(text))
            .send()
            .await
            .map_err(|e| classify(e, "bedrock:ApplyGuardrail"))?;
        Ok(())
    }
}
