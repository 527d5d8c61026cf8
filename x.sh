#!/usr/bin/env bash
# Written by guardkey: moves 0 Bedrock guardrails to a customer managed KMS key.
# Each update-guardrail resends the guardrail's whole DRAFT as read when this was written.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
