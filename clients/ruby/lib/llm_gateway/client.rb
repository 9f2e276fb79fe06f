# frozen_string_literal: true

require 'json'
require 'net/http'
require 'openssl'
require 'securerandom'
require 'time'
require 'uri'

module LlmGateway
  # A client for the gateway's HTTP API (version 1).
  #
  #   client = LlmGateway::Client.new(base_url: ENV['GATEWAY_URL'], api_key: ENV['GATEWAY_API_KEY'])
  #   job = client.submit(feature: 'career_path_navigator', input: {...}, user_id: user.id.to_s)
  #   done = client.wait(job['id'])
  #   done['result']['text'] if done['status'] == 'completed'
  #
  # Every method returns the parsed JSON body (a Hash with String keys) or raises an
  # LlmGateway::Error subclass. One instance may be shared between threads: each request
  # opens its own connection.
  class Client
    TERMINAL_STATUSES = %w[completed failed rejected cancelled].freeze
    # Statuses worth retrying for requests that are safe to repeat.
    RETRYABLE_STATUSES = [429, 502, 503, 504].freeze

    attr_reader :base_url

    # max_retries:     retries of a safe request (GET, DELETE, POST with an Idempotency-Key)
    #                  after a 429/502/503/504 or a connection failure.
    # max_retry_delay: a Retry-After longer than this (seconds) is not waited for: the error is
    #                  raised at once with #retry_after set, so the caller can reschedule.
    def initialize(base_url:, api_key:, open_timeout: 5, read_timeout: 10, max_retries: 2, max_retry_delay: 30,
                   user_agent: "llm-gateway-ruby/#{VERSION}")
      raise ArgumentError, 'base_url is required' if base_url.nil? || base_url.to_s.empty?
      raise ArgumentError, 'api_key is required' if api_key.nil? || api_key.to_s.empty?

      @base_url = base_url.to_s.chomp('/')
      @base_uri = URI.parse(@base_url)
      unless @base_uri.is_a?(URI::HTTP) && @base_uri.host
        raise ArgumentError, "base_url must be an http(s) URL, got #{base_url.inspect}"
      end

      @api_key = api_key.to_s
      @open_timeout = open_timeout
      @read_timeout = read_timeout
      @max_retries = max_retries
      @max_retry_delay = max_retry_delay
      @user_agent = user_agent
    end

    # POST /v1/jobs. Returns the 202 body: {"id", "status" => "queued", "links"}.
    # With an idempotency_key the same key and body return the same job (so the request is
    # retried on transient failures); the same key with another body raises Conflict.
    def submit(feature:, input:, user_id:, callback_url: nil, metadata: nil, idempotency_key: nil)
      body = { feature: feature, input: input, user_id: user_id }
      body[:callback_url] = callback_url unless callback_url.nil?
      body[:metadata] = metadata unless metadata.nil?
      headers = {}
      headers['Idempotency-Key'] = idempotency_key.to_s if idempotency_key
      request(:post, '/v1/jobs', body: body, headers: headers, retryable: !idempotency_key.nil?)
    end

    # GET /v1/jobs/:id. Returns the job as the gateway shows it.
    def job(id)
      request(:get, "/v1/jobs/#{escape(id)}", retryable: true)
    end

    # DELETE /v1/jobs/:id: cancels a job still queued. Raises Conflict once it runs or is done.
    def cancel(id)
      request(:delete, "/v1/jobs/#{escape(id)}", retryable: true)
    end

    # Polls GET /v1/jobs/:id until the job reaches a terminal status (completed, failed,
    # rejected, cancelled) and returns it; raises LlmGateway::Timeout after `timeout` seconds.
    # The interval starts at initial_interval and doubles up to max_interval, with jitter so
    # that many waiting clients do not poll in step; a 429/503 answer's Retry-After is honoured.
    # A failed or rejected job is returned, not raised: look at job['status'] and job['error'].
    def wait(id, timeout: 120, initial_interval: 0.5, max_interval: 5)
      deadline = monotonic + timeout
      interval = initial_interval.to_f
      loop do
        delay = nil
        begin
          current = request(:get, "/v1/jobs/#{escape(id)}", retryable: false)
          return current if TERMINAL_STATUSES.include?(current['status'])
        rescue RateLimited, ServerError, ConnectionError, Timeout => e
          raise unless transient?(e)

          delay = e.retry_after
        end
        delay ||= jitter(interval)
        interval = [interval * 2, max_interval.to_f].min
        remaining = deadline - monotonic
        if remaining <= 0
          raise LlmGateway::Timeout.new("job #{id} did not finish within #{timeout}s", code: 'wait_timeout')
        end

        # Sleep no later than the deadline: one last look happens right at it.
        pause([delay, remaining].min)
      end
    end

    # GET /v1/jobs, one page: the client's jobs matching every filter given, newest first.
    # Returns {"jobs" => [job, ...], "next_cursor" => String or nil}; pass next_cursor back as
    # `cursor:` (with the same filters) for the next page. Filters:
    #   user_id:  the job's user_id
    #   status:   a status or several (Array): queued, active, completed, failed, rejected, cancelled
    #   since:    created at or after (Time, Date, DateTime or ISO-8601 String)
    #   before:   created before (sent as `until`)
    #   metadata: {key => String value}, each top-level metadata key must equal its value
    #   limit:    jobs per page, 1 to 200 (the gateway's default is 50)
    # With status or metadata filters a page may hold fewer than `limit` jobs, even none, and
    # still carry a next_cursor (the gateway examines a bounded number of jobs per page).
    # A bad filter raises InvalidRequest with code `invalid_query` (`invalid_cursor` for a cursor).
    def search_page(user_id: nil, status: nil, since: nil, before: nil, metadata: nil, limit: nil, cursor: nil)
      params = search_params(user_id: user_id, status: status, since: since, before: before, metadata: metadata)
      params << ['limit', limit.to_s] unless limit.nil?
      params << ['cursor', cursor.to_s] unless cursor.nil?
      path = params.empty? ? '/v1/jobs' : "/v1/jobs?#{URI.encode_www_form(params)}"
      request(:get, path, retryable: true)
    end

    # Every job matching the filters (see search_page), newest first, as an Enumerator that
    # fetches the next page of `page_size` only when the caller gets that far:
    #   client.search(user_id: user.id.to_s, status: %w[completed failed]).first(20)
    #   client.search(metadata: { 'plan' => 'pro' }).each { |job| ... }
    def search(user_id: nil, status: nil, since: nil, before: nil, metadata: nil, page_size: 50)
      filters = { user_id: user_id, status: status, since: since, before: before, metadata: metadata }
      Enumerator.new do |yielder|
        cursor = nil
        loop do
          page = search_page(**filters, limit: page_size, cursor: cursor)
          page.fetch('jobs', []).each { |job| yielder << job }
          cursor = page['next_cursor']
          break if cursor.nil?
        end
      end
    end

    private

    # The query parameters of a search, in the gateway's names, as [name, value] pairs.
    def search_params(user_id:, status:, since:, before:, metadata:)
      params = []
      params << ['user_id', user_id.to_s] unless user_id.nil?
      params << ['status', Array(status).map(&:to_s).join(',')] unless status.nil?
      params << ['since', iso_time(since)] unless since.nil?
      params << ['until', iso_time(before)] unless before.nil?
      (metadata || {}).each { |key, value| params << ["metadata.#{key}", value.to_s] }
      params
    end

    # Times go out as ISO-8601 UTC with milliseconds, a Date as its day (midnight UTC); a String is
    # passed on as given.
    def iso_time(value)
      return value if value.is_a?(String)
      return value.iso8601 if value.is_a?(Date) && !value.is_a?(DateTime)

      value = value.to_time unless value.is_a?(Time)
      value.getutc.iso8601(3)
    end

    def request(method, path, body: nil, headers: {}, retryable: false)
      attempt = 0
      begin
        attempt += 1
        perform(method, path, body, headers)
      rescue Error => e
        raise unless retryable && attempt <= @max_retries && transient?(e)

        delay = e.retry_after || jitter(0.5 * (2**(attempt - 1)))
        raise if delay > @max_retry_delay

        pause(delay)
        retry
      end
    end

    def perform(method, path, body, headers)
      uri = URI.parse(@base_url + path)
      req = build_request(method, uri, body, headers)
      response = Net::HTTP.start(uri.host, uri.port, use_ssl: uri.scheme == 'https',
                                                     open_timeout: @open_timeout, read_timeout: @read_timeout,
                                                     write_timeout: @read_timeout) do |http|
        http.request(req)
      end
      handle(response)
    rescue Net::OpenTimeout, Net::ReadTimeout, Net::WriteTimeout => e
      raise LlmGateway::Timeout.new("#{method.upcase} #{path} timed out (#{e.class})", code: 'request_timeout')
    rescue SocketError, SystemCallError, IOError, OpenSSL::SSL::SSLError, EOFError => e
      raise ConnectionError.new("#{method.upcase} #{path} failed: #{e.message}", code: 'connection_failed')
    end

    def build_request(method, uri, body, headers)
      klass = { get: Net::HTTP::Get, post: Net::HTTP::Post, delete: Net::HTTP::Delete }.fetch(method)
      req = klass.new(uri)
      req['Authorization'] = "Bearer #{@api_key}"
      req['Accept'] = 'application/json'
      req['User-Agent'] = @user_agent
      headers.each { |k, v| req[k] = v }
      unless body.nil?
        req['Content-Type'] = 'application/json'
        req.body = JSON.generate(body)
      end
      req
    end

    def handle(response)
      status = response.code.to_i
      parsed = parse_json(response.body)
      return parsed if status.between?(200, 299)

      error = parsed.is_a?(Hash) && parsed['error'].is_a?(Hash) ? parsed['error'] : {}
      code = error['code'] || "http_#{status}"
      message = error['message'] || "HTTP #{status}"
      raise LlmGateway.error_class_for(status).new(
        "#{message} (#{code}, HTTP #{status})",
        code: code, status: status, details: error['details'] || [],
        retry_after: parse_retry_after(response['retry-after']), body: parsed
      )
    end

    def parse_json(text)
      return {} if text.nil? || text.empty?

      JSON.parse(text)
    rescue JSON::ParserError
      { 'raw' => text }
    end

    # Retry-After is either delay-seconds or an HTTP date.
    def parse_retry_after(value)
      return nil if value.nil? || value.strip.empty?
      return [value.to_f, 0.0].max if value.strip.match?(/\A\d+(\.\d+)?\z/)

      [Time.httpdate(value.strip) - Time.now, 0.0].max
    rescue ArgumentError
      nil
    end

    def transient?(error)
      case error
      when ConnectionError, Timeout then error.code != 'wait_timeout'
      else RETRYABLE_STATUSES.include?(error.status)
      end
    end

    # "Equal jitter": half the interval fixed, half random.
    def jitter(interval)
      (interval / 2.0) + (rand * interval / 2.0)
    end

    def escape(id)
      URI.encode_www_form_component(id.to_s).gsub('+', '%20')
    end

    def pause(seconds)
      sleep(seconds) if seconds.positive?
    end

    def monotonic
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end
  end
end
