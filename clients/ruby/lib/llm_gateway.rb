# frozen_string_literal: true

# Plain-Ruby client for the LLM gateway: submit jobs, poll them with backoff, and verify the
# signed (Standard Webhooks) callbacks. Standard library only: net/http, json, openssl, uri, time, securerandom.
module LlmGateway
end

require_relative 'llm_gateway/version'
require_relative 'llm_gateway/errors'
require_relative 'llm_gateway/client'
require_relative 'llm_gateway/webhook'
