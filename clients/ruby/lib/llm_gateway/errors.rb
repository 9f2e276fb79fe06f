# frozen_string_literal: true

module LlmGateway
  # Every error this client raises. `code` is the gateway's stable machine-readable code
  # (e.g. "invalid_input", "job_not_found"); `status` the HTTP status (nil when no answer came);
  # `details` the gateway's list of problems; `retry_after` the seconds the server asked us to wait.
  class Error < StandardError
    attr_reader :code, :status, :details, :retry_after, :body

    def initialize(message = nil, code: nil, status: nil, details: [], retry_after: nil, body: nil)
      super(message || code || self.class.name)
      @code = code
      @status = status
      @details = details || []
      @retry_after = retry_after
      @body = body
    end
  end

  # 400, 413, 415: the request itself must change before it can succeed.
  class InvalidRequest < Error; end
  # 401: missing or wrong API key.
  class Unauthorized < Error; end
  # 404: no such job for this API key (or no such route).
  class NotFound < Error; end
  # 409: idempotency-key reuse with another body, or cancelling a job that already runs.
  class Conflict < Error; end
  # 429: rate limited or budget exhausted; see #retry_after.
  class RateLimited < Error; end
  # 5xx.
  class ServerError < Error; end
  # The gateway could not be reached (connection refused, DNS, TLS, reset).
  class ConnectionError < Error; end
  # An HTTP request timed out, or #wait reached its deadline before a terminal status.
  class Timeout < Error; end

  # Maps an HTTP status to the error class raised for it.
  def self.error_class_for(status)
    case status
    when 400, 413, 415, 422 then InvalidRequest
    when 401, 403 then Unauthorized
    when 404 then NotFound
    when 409 then Conflict
    when 429 then RateLimited
    when 500..599 then ServerError
    else Error
    end
  end
end
