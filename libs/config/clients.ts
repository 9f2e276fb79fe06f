/** Per-client settings of rate_limits.json, looked up safely: client ids are own keys, never prototype members. */
import type { ClientLimits, GatewayConfig } from './types.ts';

/**
 * The limits of `clientId`: its own entry in rate_limits.json, else `default`, else none. Looked
 * up as an own key, so a client named `constructor` or `__proto__` gets no prototype's members.
 */
export function clientLimits(config: GatewayConfig, clientId: string): ClientLimits | undefined {
  const { clients } = config.rateLimits;
  if (Object.hasOwn(clients, clientId)) return clients[clientId];
  return Object.hasOwn(clients, 'default') ? clients.default : undefined;
}

/** Hosts `clientId` may call back despite the SSRF rules: its own entry only (`default` exempts no one). */
export function clientCallbackAllowlist(config: GatewayConfig, clientId: string): string[] {
  const { clients } = config.rateLimits;
  return (Object.hasOwn(clients, clientId) ? clients[clientId]?.callback_allowlist : undefined) ?? [];
}
