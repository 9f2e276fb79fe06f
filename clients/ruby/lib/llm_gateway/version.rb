# frozen_string_literal: true

module LlmGateway
  VERSION = '0.1.0'
end
