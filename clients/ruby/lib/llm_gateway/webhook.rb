# frozen_string_literal: true

require 'json'
require 'openssl'

module LlmGateway
  # Verifies the gateway's webhooks, which follow the Standard Webhooks specification
  # (https://www.standardwebhooks.com): headers `webhook-id`, `webhook-timestamp` and
  # `webhook-signature`, the last a space-separated list of `v1,<base64 HMAC-SHA256>` over
  # "#{webhook_id}.#{timestamp}.#{raw_body}", keyed with the base64-decoded secret after `whsec_`.
  #
  #   verifier = LlmGateway::Webhook.new(ENV.fetch('GATEWAY_WEBHOOK_SECRET').split(','))
  #   event = verifier.verify!(request.raw_post, request.headers)
  #   event['type']  # "job.completed" | "job.failed" | "job.rejected"
  #   event['data']  # the job
  #
  # Give it every secret currently valid (during a rotation, the old and the new one): a
  # signature made with any of them is accepted.
  class Webhook
    # Raised on a missing or malformed header, a signature that matches none of the secrets,
    # or a timestamp further than the tolerance from now (a replay or a badly skewed clock).
    class InvalidSignature < LlmGateway::Error; end

    SECRET_PREFIX = 'whsec_'
    DEFAULT_TOLERANCE = 5 * 60

    attr_reader :tolerance

    # secrets: one `whsec_...` String or several (an Array, or a comma-separated String).
    # tolerance: seconds a timestamp may differ from now, either way.
    def initialize(secrets, tolerance: DEFAULT_TOLERANCE)
      list = Array(secrets).flat_map { |s| s.to_s.split(',') }.map(&:strip).reject(&:empty?)
      raise ArgumentError, 'at least one webhook secret is required' if list.empty?

      @keys = list.map { |s| decode_secret(s) }.freeze
      @tolerance = tolerance
    end

    # Checks the signature and timestamp of a delivery and returns its parsed JSON payload.
    # body: the raw request body exactly as received (in Rails: request.raw_post), never a
    #       re-serialised Hash. headers: a Hash (any key case), Rack env, or Rails request.headers.
    def verify!(body, headers, now: Time.now)
      raise ArgumentError, 'body must be the raw request body String' unless body.is_a?(String)

      id = header(headers, 'webhook-id')
      timestamp = header(headers, 'webhook-timestamp')
      signatures = header(headers, 'webhook-signature')
      raise invalid('missing webhook-id header', 'missing_header') if blank?(id)
      raise invalid('missing webhook-timestamp header', 'missing_header') if blank?(timestamp)
      raise invalid('missing webhook-signature header', 'missing_header') if blank?(signatures)

      check_timestamp(timestamp.strip, now)
      expected = @keys.map { |key| sign_with(key, id, timestamp.strip, body) }
      candidates = signatures.split(' ').filter_map do |entry|
        version, signature = entry.split(',', 2)
        signature if version == 'v1' && signature && !signature.empty?
      end
      # Compare against every candidate and every key without stopping early.
      matched = false
      candidates.each do |candidate|
        expected.each { |e| matched = true if OpenSSL.secure_compare(e, candidate) }
      end
      raise invalid('no signature matches', 'signature_mismatch') unless matched

      parse(body)
    end

    # True when #verify! would succeed.
    def valid?(body, headers, now: Time.now)
      verify!(body, headers, now: now)
      true
    rescue InvalidSignature
      false
    end

    # The `webhook-signature` value for a payload, signed with every configured secret.
    # Handy for testing a receiver; the gateway does this itself in production.
    def sign(id, timestamp, body)
      @keys.map { |key| "v1,#{sign_with(key, id.to_s, timestamp.to_i.to_s, body)}" }.join(' ')
    end

    private

    def decode_secret(secret)
      raw = secret.start_with?(SECRET_PREFIX) ? secret[SECRET_PREFIX.length..] : secret
      # Strict base64 (`m0`) through pack/unpack: the base64 library leaves the default gems in Ruby 3.4.
      key = raw.unpack1('m0')
      raise ArgumentError, 'webhook secret is empty' if key.empty?

      key
    rescue ArgumentError
      raise ArgumentError, 'webhook secret must be "whsec_" followed by base64'
    end

    def sign_with(key, id, timestamp, body)
      # Work in bytes: a body with non-ASCII characters may arrive as ASCII-8BIT.
      payload = "#{id}.#{timestamp}.".b + body.b
      [OpenSSL::HMAC.digest('SHA256', key, payload)].pack('m0')
    end

    def check_timestamp(value, now)
      raise invalid('webhook-timestamp is not a Unix time in seconds', 'invalid_timestamp') unless value.match?(/\A\d+\z/)

      skew = now.to_i - value.to_i
      raise invalid('webhook-timestamp is too old', 'timestamp_too_old') if skew > @tolerance
      raise invalid('webhook-timestamp is in the future', 'timestamp_in_future') if skew < -@tolerance
    end

    def parse(body)
      JSON.parse(body.dup.force_encoding(Encoding::UTF_8))
    rescue JSON::ParserError
      raise invalid('payload is not valid JSON', 'invalid_payload')
    end

    # Case-insensitive header lookup that also understands Rack/CGI names (HTTP_WEBHOOK_ID),
    # so a plain Hash, a Rack env and ActionDispatch::Http::Headers all work.
    def header(headers, name)
      return nil if headers.nil?

      direct = headers[name] if headers.respond_to?(:[])
      return flatten(direct) unless direct.nil?

      wanted = name.downcase
      if headers.respond_to?(:each)
        headers.each do |key, value|
          normalised = key.to_s.downcase.tr('_', '-').delete_prefix('http-')
          return flatten(value) if normalised == wanted
        end
      end
      nil
    end

    def flatten(value)
      value.is_a?(Array) ? value.join(' ') : value.to_s
    end

    def blank?(value)
      value.nil? || value.strip.empty?
    end

    def invalid(message, code)
      InvalidSignature.new(message, code: code, status: 400)
    end
  end
end
