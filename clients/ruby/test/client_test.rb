# frozen_string_literal: true

require_relative 'test_helper'
require 'securerandom'

# Integration tests against a REAL running gateway (api + worker + a provider or the simulator):
#   GATEWAY_URL=http://127.0.0.1:3000 GATEWAY_API_KEY=gk_... bin/test
# Skipped, with a notice, when either variable is unset.
class ClientTest < Minitest::Test
  URL = ENV.fetch('GATEWAY_URL', '')
  KEY = ENV.fetch('GATEWAY_API_KEY', '')
  CONFIGURED = !URL.empty? && !KEY.empty?
  warn 'ClientTest: GATEWAY_URL and GATEWAY_API_KEY are not set: gateway integration tests skipped' unless CONFIGURED

  CAREER_INPUT = {
    current_role: 'Registered Nurse',
    degree: { level: 'bachelor', field: 'Nursing' },
    years_experience: 6,
    skills: %w[triage EHR],
    target_sector: 'healthcare'
  }.freeze

  def setup
    skip 'GATEWAY_URL and GATEWAY_API_KEY not set: gateway integration tests skipped' unless CONFIGURED
    @client = LlmGateway::Client.new(base_url: URL, api_key: KEY)
  end

  def test_submit_and_wait_until_completed
    accepted = @client.submit(feature: 'career_path_navigator', input: CAREER_INPUT, user_id: 'ruby-user-1',
                              metadata: { 'source' => 'ruby-client-test' })
    assert_match(/\A[\w-]+\z/, accepted['id'])
    assert_equal 'queued', accepted['status']
    assert_kind_of Hash, accepted['links']

    polled = @client.job(accepted['id'])
    assert_equal accepted['id'], polled['id']
    assert_includes LlmGateway::Client::TERMINAL_STATUSES + %w[queued active], polled['status']

    job = @client.wait(accepted['id'], timeout: 60, initial_interval: 0.1, max_interval: 1)
    assert_equal 'completed', job['status'], "job ended #{job['status']}: #{job['error'].inspect}"
    assert_kind_of String, job.dig('result', 'text')
    refute_empty job.dig('result', 'text').strip
    assert_equal 'career_path_navigator', job['feature'] if job.key?('feature')
  end

  def test_invalid_body_raises_invalid_request_with_a_code
    error = assert_raises(LlmGateway::InvalidRequest) do
      @client.submit(feature: 'career_path_navigator', input: { current_role: 42 }, user_id: 'ruby-user-1')
    end
    assert_equal 400, error.status
    assert_kind_of String, error.code
    refute_empty error.code
    assert_kind_of Array, error.details
    refute_empty error.details, 'a 400 explains what is wrong'
  end

  def test_unknown_feature_raises_invalid_request
    error = assert_raises(LlmGateway::InvalidRequest) do
      @client.submit(feature: 'no_such_feature', input: CAREER_INPUT, user_id: 'ruby-user-1')
    end
    assert_equal 400, error.status
    refute_nil error.code
  end

  def test_wrong_api_key_raises_unauthorized
    client = LlmGateway::Client.new(base_url: URL, api_key: "gk_wrong_#{SecureRandom.hex(8)}")
    error = assert_raises(LlmGateway::Unauthorized) { client.job(SecureRandom.uuid) }
    assert_equal 401, error.status
    assert_raises(LlmGateway::Unauthorized) do
      client.submit(feature: 'career_path_navigator', input: CAREER_INPUT, user_id: 'ruby-user-1')
    end
  end

  def test_unknown_job_raises_not_found
    error = assert_raises(LlmGateway::NotFound) { @client.job(SecureRandom.uuid) }
    assert_equal 404, error.status
    refute_nil error.code
  end

  def test_wait_on_unknown_job_raises_not_found_at_once
    assert_raises(LlmGateway::NotFound) { @client.wait(SecureRandom.uuid, timeout: 5) }
  end
end
