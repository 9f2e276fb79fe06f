# frozen_string_literal: true

require_relative 'lib/llm_gateway/version'

Gem::Specification.new do |spec|
  spec.name = 'llm_gateway'
  spec.version = LlmGateway::VERSION
  spec.summary = "Client for the LLM gateway's HTTP API: submit, poll, search jobs and verify signed webhooks"
  spec.description = <<~TEXT
    A plain-Ruby client for the asynchronous LLM gateway (API version 1): submit jobs with
    idempotency keys, poll them with backoff, search a user's jobs page by page, and verify the
    gateway's Standard Webhooks signatures in a Rails controller. Standard library only.
  TEXT
  spec.authors = ['LLM gateway maintainers']
  spec.required_ruby_version = '>= 3.0'
  # Only what the library needs at run time: no tests, no scripts.
  spec.files = Dir[File.join(__dir__, 'lib', '**', '*.rb')].map { |f| f.delete_prefix("#{__dir__}/") }.sort + %w[README.md CHANGELOG.md]
  spec.require_paths = ['lib']
end
