import type { AddressInfo } from 'node:net';

/** What a listening server bound, as its ready line reports it. */
export interface BoundAddress {
  /** The bound address as the OS reports it (`127.0.0.1`, `0.0.0.0`, `::`). */
  address: string;
  /** The bound TCP port (the real one when 0 was asked for). */
  port: number;
  /** `http://address:port`, IPv6 addresses in brackets. */
  url: string;
  /** True when the address is a wildcard: every interface of the host answers, not loopback alone. */
  allInterfaces: boolean;
}

/**
 * Describes what `server.address()` says was bound, so the log tells the truth about exposure
 * (a configured host name may resolve to something else). Throws for a pipe or an unbound server.
 */
export function describeBound(address: AddressInfo | string | null): BoundAddress {
  if (address === null || typeof address === 'string') throw new Error(`the server is not bound to a TCP port (${String(address)})`);
  const host = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
  return {
    address: address.address,
    port: address.port,
    url: `http://${host}:${address.port}`,
    allInterfaces: address.address === '0.0.0.0' || address.address === '::',
  };
}
