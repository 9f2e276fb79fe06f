# frozen_string_literal: true

module LlmGateway
  VERSION = '0.2.0'
end
