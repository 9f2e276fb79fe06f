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

  def test_search_finds_a_users_jobs_newest_first_across_pages
    user = "ruby-search-#{SecureRandom.hex(6)}"
    ids = Array.new(3) do |i|
      @client.submit(feature: 'career_path_navigator', input: CAREER_INPUT, user_id: user,
                     metadata: { 'plan' => i.even? ? 'pro' : 'free' })['id']
    end
    other = @client.submit(feature: 'career_path_navigator', input: CAREER_INPUT, user_id: "#{user}-other")['id']

    jobs = @client.search(user_id: user, page_size: 2).to_a
    assert_equal ids.sort, jobs.map { |j| j['id'] }.sort
    refute_includes jobs.map { |j| j['id'] }, other
    times = jobs.map { |j| j['created_at'] }
    assert_equal times.sort.reverse, times, 'newest first'
    jobs.each { |j| assert_equal user, j['user_id'] }

    pro = @client.search(user_id: user, metadata: { 'plan' => 'pro' }).map { |j| j['id'] }
    assert_equal [ids[0], ids[2]].sort, pro.sort
    assert_empty @client.search(user_id: user, since: Time.now + 3600).to_a

    first = @client.search_page(user_id: user, limit: 2)
    assert_equal 2, first['jobs'].size
    refute_nil first['next_cursor']
    rest = @client.search_page(user_id: user, limit: 2, cursor: first['next_cursor'])
    assert_equal 1, rest['jobs'].size
    assert_nil rest['next_cursor']
  end

  def test_search_with_a_bad_filter_raises_invalid_request
    error = assert_raises(LlmGateway::InvalidRequest) { @client.search_page(status: 'done') }
    assert_equal 'invalid_query', error.code
    assert_equal ['status'], error.details.map { |d| d['path'] }
    error = assert_raises(LlmGateway::InvalidRequest) { @client.search_page(cursor: 'nope') }
    assert_equal 'invalid_cursor', error.code
  end

  def test_wait_on_unknown_job_raises_not_found_at_once
    assert_raises(LlmGateway::NotFound) { @client.wait(SecureRandom.uuid, timeout: 5) }
  end
end
