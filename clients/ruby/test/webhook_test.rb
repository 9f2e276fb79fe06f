# frozen_string_literal: true

require_relative 'test_helper'
require 'base64'
require 'json'
require 'openssl'
require 'securerandom'

# Pure unit tests: every signature here is made with OpenSSL in the test itself, following the
# Standard Webhooks specification, independently of LlmGateway::Webhook#sign.
class WebhookTest < Minitest::Test
  SECRET = "whsec_#{Base64.strict_encode64('a-thirty-two-byte-secret-for-tst')}".freeze
  OTHER_SECRET = "whsec_#{Base64.strict_encode64(SecureRandom.bytes(32))}".freeze

  def setup
    @now = Time.now
    @id = "msg_#{SecureRandom.hex(8)}"
    @timestamp = @now.to_i.to_s
    @payload = {
      'type' => 'job.completed',
      'timestamp' => @now.utc.iso8601,
      'data' => { 'id' => SecureRandom.uuid, 'status' => 'completed', 'result' => { 'text' => 'Become a charge nurse — then a nurse manager.' } }
    }
    @body = JSON.generate(@payload)
  end

  def sign(secret, id, timestamp, body)
    key = Base64.strict_decode64(secret.delete_prefix('whsec_'))
    "v1,#{Base64.strict_encode64(OpenSSL::HMAC.digest('SHA256', key, "#{id}.#{timestamp}.#{body}"))}"
  end

  def headers(signature, id: @id, timestamp: @timestamp)
    { 'webhook-id' => id, 'webhook-timestamp' => timestamp, 'webhook-signature' => signature }
  end

  def test_valid_signature_returns_the_parsed_payload
    event = LlmGateway::Webhook.new(SECRET).verify!(@body, headers(sign(SECRET, @id, @timestamp, @body)))
    assert_equal @payload, event
    assert_equal 'job.completed', event['type']
  end

  def test_header_names_are_case_insensitive_and_rack_style_names_work
    signature = sign(SECRET, @id, @timestamp, @body)
    verifier = LlmGateway::Webhook.new(SECRET)
    mixed = { 'Webhook-Id' => @id, 'WEBHOOK-TIMESTAMP' => @timestamp, 'Webhook-Signature' => signature }
    rack = { 'HTTP_WEBHOOK_ID' => @id, 'HTTP_WEBHOOK_TIMESTAMP' => @timestamp, 'HTTP_WEBHOOK_SIGNATURE' => signature }
    assert_equal @payload, verifier.verify!(@body, mixed)
    assert_equal @payload, verifier.verify!(@body, rack)
  end

  def test_binary_body_with_non_ascii_characters_verifies
    signature = sign(SECRET, @id, @timestamp, @body)
    raw = @body.dup.force_encoding(Encoding::ASCII_8BIT) # what request.raw_post may hand over
    assert_equal @payload, LlmGateway::Webhook.new(SECRET).verify!(raw, headers(signature))
  end

  def test_tampered_body_is_rejected
    signature = sign(SECRET, @id, @timestamp, @body)
    tampered = @body.sub('completed', 'failed')
    error = assert_raises(LlmGateway::Webhook::InvalidSignature) do
      LlmGateway::Webhook.new(SECRET).verify!(tampered, headers(signature))
    end
    assert_equal 'signature_mismatch', error.code
  end

  def test_tampered_id_or_timestamp_is_rejected
    signature = sign(SECRET, @id, @timestamp, @body)
    verifier = LlmGateway::Webhook.new(SECRET)
    assert_raises(LlmGateway::Webhook::InvalidSignature) { verifier.verify!(@body, headers(signature, id: 'msg_other')) }
    assert_raises(LlmGateway::Webhook::InvalidSignature) do
      verifier.verify!(@body, headers(signature, timestamp: (@now.to_i - 1).to_s))
    end
  end

  def test_signature_made_with_another_secret_is_rejected
    signature = sign(OTHER_SECRET, @id, @timestamp, @body)
    assert_raises(LlmGateway::Webhook::InvalidSignature) do
      LlmGateway::Webhook.new(SECRET).verify!(@body, headers(signature))
    end
  end

  def test_missing_or_malformed_signature_is_rejected
    verifier = LlmGateway::Webhook.new(SECRET)
    good = sign(SECRET, @id, @timestamp, @body)
    [nil, '', 'garbage', good.sub('v1,', 'v2,'), 'v1,', "v1,#{good.split(',', 2)[1].reverse}"].each do |bad|
      h = headers(bad)
      h.delete('webhook-signature') if bad.nil?
      assert_raises(LlmGateway::Webhook::InvalidSignature, "accepted #{bad.inspect}") { verifier.verify!(@body, h) }
    end
    assert_raises(LlmGateway::Webhook::InvalidSignature) { verifier.verify!(@body, {}) }
    no_id = headers(good).tap { |h| h.delete('webhook-id') }
    assert_raises(LlmGateway::Webhook::InvalidSignature) { verifier.verify!(@body, no_id) }
  end

  def test_timestamp_outside_five_minutes_is_rejected
    verifier = LlmGateway::Webhook.new(SECRET)
    old = (@now.to_i - 301).to_s
    error = assert_raises(LlmGateway::Webhook::InvalidSignature) do
      verifier.verify!(@body, headers(sign(SECRET, @id, old, @body), timestamp: old))
    end
    assert_equal 'timestamp_too_old', error.code

    future = (@now.to_i + 301).to_s
    error = assert_raises(LlmGateway::Webhook::InvalidSignature) do
      verifier.verify!(@body, headers(sign(SECRET, @id, future, @body), timestamp: future))
    end
    assert_equal 'timestamp_in_future', error.code

    nearly = (@now.to_i - 299).to_s
    assert_equal @payload, verifier.verify!(@body, headers(sign(SECRET, @id, nearly, @body), timestamp: nearly), now: @now)

    assert_raises(LlmGateway::Webhook::InvalidSignature) do
      verifier.verify!(@body, headers(sign(SECRET, @id, 'soon', @body), timestamp: 'soon'))
    end
  end

  def test_rotation_any_of_several_signatures_and_any_of_several_secrets
    both = "#{sign(OTHER_SECRET, @id, @timestamp, @body)} #{sign(SECRET, @id, @timestamp, @body)}"
    # The receiver knows only one of the two secrets the gateway signs with.
    assert_equal @payload, LlmGateway::Webhook.new(SECRET).verify!(@body, headers(both))
    # The receiver knows both (old and new) and the gateway signs with only one of them.
    only_new = sign(OTHER_SECRET, @id, @timestamp, @body)
    assert_equal @payload, LlmGateway::Webhook.new([SECRET, OTHER_SECRET]).verify!(@body, headers(only_new))
    assert_equal @payload, LlmGateway::Webhook.new("#{SECRET},#{OTHER_SECRET}").verify!(@body, headers(only_new))
    # A third, unknown secret is still rejected.
    third = "whsec_#{Base64.strict_encode64(SecureRandom.bytes(24))}"
    assert_raises(LlmGateway::Webhook::InvalidSignature) do
      LlmGateway::Webhook.new([SECRET, OTHER_SECRET]).verify!(@body, headers(sign(third, @id, @timestamp, @body)))
    end
  end

  def test_sign_helper_agrees_with_openssl
    verifier = LlmGateway::Webhook.new(SECRET)
    assert_equal sign(SECRET, @id, @timestamp, @body), verifier.sign(@id, @timestamp, @body)
    assert verifier.valid?(@body, headers(verifier.sign(@id, @timestamp, @body)))
    refute verifier.valid?("#{@body} ", headers(verifier.sign(@id, @timestamp, @body)))
  end

  def test_bad_secrets_and_bodies_are_argument_errors
    assert_raises(ArgumentError) { LlmGateway::Webhook.new([]) }
    assert_raises(ArgumentError) { LlmGateway::Webhook.new('whsec_not base64!') }
    assert_raises(ArgumentError) { LlmGateway::Webhook.new(SECRET).verify!(@payload, {}) }
  end

  def test_invalid_signature_is_a_gateway_error
    assert_operator LlmGateway::Webhook::InvalidSignature, :<, LlmGateway::Error
  end
end
