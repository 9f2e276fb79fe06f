# frozen_string_literal: true

require_relative 'test_helper'
require 'json'
require 'socket'

# Client behaviour that a healthy gateway rarely shows (429/503 with Retry-After, timeouts,
# error mapping), against a tiny scripted HTTP server on 127.0.0.1. No gateway needed.
class ClientOfflineTest < Minitest::Test
  # Answers each request with the next scripted [status, headers, body]; records the requests.
  class ScriptedServer
    attr_reader :requests

    def initialize(responses)
      @responses = responses.dup
      @requests = []
      @server = TCPServer.new('127.0.0.1', 0)
      @thread = Thread.new { serve }
    end

    def url = "http://127.0.0.1:#{@server.addr[1]}"

    def close
      @server.close
      @thread.join(1)
    end

    private

    def serve
      loop do
        socket = @server.accept
        handle(socket)
      ensure
        socket&.close
      end
    rescue IOError, Errno::EBADF
      nil
    end

    def handle(socket)
      request_line = socket.gets or return
      headers = {}
      while (line = socket.gets) && line != "\r\n"
        name, value = line.split(':', 2)
        headers[name.downcase] = value.strip
      end
      body = headers['content-length'] ? socket.read(headers['content-length'].to_i) : nil
      @requests << { line: request_line.strip, headers: headers, body: body, at: Time.now }
      status, extra, payload = @responses.shift || [500, {}, { error: { code: 'script_exhausted', message: 'no more' } }]
      text = JSON.generate(payload)
      head = ["HTTP/1.1 #{status} X", 'Content-Type: application/json', "Content-Length: #{text.bytesize}", 'Connection: close']
      extra.each { |k, v| head << "#{k}: #{v}" }
      socket.write("#{head.join("\r\n")}\r\n\r\n#{text}")
    end
  end

  def with_server(responses, **client_options)
    server = ScriptedServer.new(responses)
    yield LlmGateway::Client.new(base_url: server.url, api_key: 'gk_test', **client_options), server
  ensure
    server&.close
  end

  def error(code, message = code)
    { error: { code: code, message: message, details: [{ path: '/input', message: 'bad' }] } }
  end

  def test_submit_sends_json_auth_and_idempotency_key
    with_server([[202, {}, { id: 'j1', status: 'queued', links: { self: '/v1/jobs/j1' } }]]) do |client, server|
      job = client.submit(feature: 'f', input: { a: 1 }, user_id: 'u', metadata: { 'm' => 1 }, idempotency_key: 'k-1')
      assert_equal 'j1', job['id']
      request = server.requests.first
      assert_equal 'POST /v1/jobs HTTP/1.1', request[:line]
      assert_equal 'Bearer gk_test', request[:headers]['authorization']
      assert_equal 'k-1', request[:headers]['idempotency-key']
      assert_match %r{application/json}, request[:headers]['content-type']
      assert_equal({ 'feature' => 'f', 'input' => { 'a' => 1 }, 'user_id' => 'u', 'metadata' => { 'm' => 1 } }, JSON.parse(request[:body]))
    end
  end

  def test_statuses_map_to_typed_errors
    {
      400 => LlmGateway::InvalidRequest, 413 => LlmGateway::InvalidRequest, 415 => LlmGateway::InvalidRequest,
      401 => LlmGateway::Unauthorized, 404 => LlmGateway::NotFound, 409 => LlmGateway::Conflict,
      500 => LlmGateway::ServerError
    }.each do |status, klass|
      with_server([[status, {}, error("code_#{status}")]]) do |client, _|
        e = assert_raises(klass) { client.cancel('j1') }
        assert_equal status, e.status
        assert_equal "code_#{status}", e.code
        assert_equal [{ 'path' => '/input', 'message' => 'bad' }], e.details
      end
    end
  end

  def test_rate_limited_submit_without_idempotency_key_is_not_retried
    with_server([[429, { 'Retry-After' => '7' }, error('rate_limited')]]) do |client, server|
      e = assert_raises(LlmGateway::RateLimited) { client.submit(feature: 'f', input: {}, user_id: 'u') }
      assert_equal 7.0, e.retry_after
      assert_equal 'rate_limited', e.code
      assert_equal 1, server.requests.size
    end
  end

  def test_safe_requests_retry_after_503_honouring_retry_after
    responses = [[503, { 'Retry-After' => '1' }, error('unavailable')], [200, {}, { id: 'j1', status: 'queued' }]]
    with_server(responses) do |client, server|
      assert_equal 'queued', client.job('j1')['status']
      assert_equal 2, server.requests.size
      assert_operator server.requests[1][:at] - server.requests[0][:at], :>=, 0.9
    end
  end

  def test_a_retry_after_longer_than_max_retry_delay_is_raised_not_waited
    with_server([[429, { 'Retry-After' => '3600' }, error('budget_exhausted')]], max_retry_delay: 30) do |client, server|
      e = assert_raises(LlmGateway::RateLimited) { client.job('j1') }
      assert_equal 3600.0, e.retry_after
      assert_equal 1, server.requests.size
    end
  end

  def test_wait_polls_with_backoff_until_terminal_and_honours_retry_after
    responses = [
      [200, {}, { id: 'j1', status: 'queued' }],
      [429, { 'Retry-After' => '1' }, error('rate_limited')],
      [200, {}, { id: 'j1', status: 'active' }],
      [200, {}, { id: 'j1', status: 'completed', result: { text: 'done' } }]
    ]
    with_server(responses) do |client, server|
      job = client.wait('j1', timeout: 10, initial_interval: 0.05, max_interval: 0.2)
      assert_equal 'done', job.dig('result', 'text')
      assert_equal 4, server.requests.size
      assert_operator server.requests[2][:at] - server.requests[1][:at], :>=, 0.9, 'waited Retry-After'
    end
  end

  def test_wait_returns_failed_jobs_and_raises_not_found
    with_server([[200, {}, { id: 'j1', status: 'failed', error: { code: 'x' } }]]) do |client, _|
      assert_equal 'failed', client.wait('j1')['status']
    end
    with_server([[404, {}, error('job_not_found')]]) do |client, _|
      assert_raises(LlmGateway::NotFound) { client.wait('j1') }
    end
  end

  def test_wait_times_out
    responses = Array.new(50) { [200, {}, { id: 'j1', status: 'active' }] }
    with_server(responses) do |client, _|
      started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      e = assert_raises(LlmGateway::Timeout) { client.wait('j1', timeout: 0.5, initial_interval: 0.05, max_interval: 0.1) }
      assert_equal 'wait_timeout', e.code
      assert_operator Process.clock_gettime(Process::CLOCK_MONOTONIC) - started, :<, 2
    end
  end

  def test_search_page_sends_the_filters_as_query_parameters
    with_server([[200, {}, { jobs: [{ id: 'j2' }], next_cursor: nil }]]) do |client, server|
      page = client.search_page(user_id: 'u 1', status: %w[completed failed], since: Time.utc(2025, 3, 1, 10),
                                before: Date.new(2025, 4, 1), metadata: { 'plan' => 'pro' }, limit: 10, cursor: 'abc')
      assert_equal({ 'jobs' => [{ 'id' => 'j2' }], 'next_cursor' => nil }, page)
      path = server.requests.first[:line].split(' ')[1]
      assert_equal '/v1/jobs', path.split('?').first
      assert_equal [%w[user_id u\ 1], %w[status completed,failed], %w[since 2025-03-01T10:00:00.000Z], %w[until 2025-04-01],
                    %w[metadata.plan pro], %w[limit 10], %w[cursor abc]], URI.decode_www_form(path.split('?', 2).last)
    end
  end

  def test_search_enumerates_pages_lazily_following_next_cursor
    responses = [
      [200, {}, { jobs: [{ id: 'j3' }, { id: 'j2' }], next_cursor: 'c1' }],
      [200, {}, { jobs: [{ id: 'j1' }], next_cursor: nil }]
    ]
    with_server(responses) do |client, server|
      jobs = client.search(user_id: 'u1', page_size: 2)
      assert_kind_of Enumerator, jobs
      assert_empty server.requests, 'nothing is fetched before the first job is asked for'
      assert_equal %w[j3], jobs.first(1).map { |j| j['id'] }
      assert_equal 1, server.requests.size
    end
    with_server(responses) do |client, server|
      assert_equal %w[j3 j2 j1], client.search(user_id: 'u1', page_size: 2).map { |j| j['id'] }
      queries = server.requests.map { |r| URI.decode_www_form(r[:line].split(' ')[1].split('?', 2).last).to_h }
      assert_equal [{ 'user_id' => 'u1', 'limit' => '2' }, { 'user_id' => 'u1', 'limit' => '2', 'cursor' => 'c1' }], queries
    end
  end

  def test_search_raises_invalid_request_for_a_bad_filter
    with_server([[400, {}, error('invalid_query')]]) do |client, _|
      e = assert_raises(LlmGateway::InvalidRequest) { client.search(status: 'done').first }
      assert_equal 'invalid_query', e.code
    end
  end

  def test_connection_refused_is_a_connection_error
    port = TCPServer.new('127.0.0.1', 0).then { |s| s.addr[1].tap { s.close } }
    client = LlmGateway::Client.new(base_url: "http://127.0.0.1:#{port}", api_key: 'k', max_retries: 0)
    e = assert_raises(LlmGateway::ConnectionError) { client.job('j1') }
    assert_equal 'connection_failed', e.code
    assert_nil e.status
  end

  def test_constructor_validates_arguments
    assert_raises(ArgumentError) { LlmGateway::Client.new(base_url: '', api_key: 'k') }
    assert_raises(ArgumentError) { LlmGateway::Client.new(base_url: 'ftp://x', api_key: 'k') }
    assert_raises(ArgumentError) { LlmGateway::Client.new(base_url: 'http://x', api_key: nil) }
  end
end
