import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { GatewayError } from '../../errors/index.ts';

/** What the worker's small HTTP server serves. */
export interface MetricsServerOptions {
  registry: Registry;
  /** TCP port; 0 lets the OS choose one (see the answer's `port`). @defaultValue 9101 */
  port?: number;
  /** Bind address. @defaultValue '0.0.0.0' (Prometheus scrapes from another host) */
  host?: string;
  /** Whether the process can do its work (Redis, the store); /readyz answers 503 when false or when it throws. */
  ready: () => Promise<boolean>;
  /** More fields for the /readyz body (e.g. the running config's version). @defaultValue none */
  describe?: () => Record<string, unknown>;
}

/** A listening metrics server. */
export interface MetricsServer {
  /** The port it listens on (the OS's choice when asked for 0). */
  port: number;
  close(): Promise<void>;
}

/** Serves /metrics (Prometheus text), /healthz (alive) and /readyz (ready or 503) with node:http; nothing else. Throws GatewayError `metrics_port_unavailable` when it cannot listen. */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { registry, ready } = options;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, type: string, body: string) => res.writeHead(status, { 'content-type': type }).end(body);
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'application/json', '{"error":{"code":"method_not_allowed"}}');
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => reply(200, registry.contentType, text),
        () => reply(500, 'application/json', '{"error":{"code":"metrics_failed"}}'),
      );
      return;
    }
    if (path === '/healthz') return reply(200, 'application/json', '{"status":"ok"}');
    if (path === '/readyz') {
      ready()
        .catch(() => false)
        .then((ok) => reply(ok ? 200 : 503, 'application/json', JSON.stringify({ status: ok ? 'ready' : 'not_ready', ...options.describe?.() })));
      return;
    }
    reply(404, 'application/json', '{"error":{"code":"not_found"}}');
  });
  // A scrape that hangs must not hold a worker's shutdown.
  server.keepAliveTimeout = 5000;
  const port = options.port ?? 9101;
  server.listen(port, options.host ?? '0.0.0.0');
  try {
    await once(server, 'listening');
  } catch (error) {
    // Two workers on one host need distinct ports (or 0): say which setting to change.
    throw new GatewayError('metrics_port_unavailable', `Cannot serve metrics on port ${port} (${(error as Error).message}); set WORKER_METRICS_PORT to a free port, or 0 for any.`, { status: 500, cause: error });
  }
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
