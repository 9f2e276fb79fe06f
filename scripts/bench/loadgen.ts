/**
 * A small closed-loop HTTP/1.1 load generator on raw keep-alive sockets (the machine has no wrk or
 * autocannon). Raw sockets rather than node:http's client because on a 2-core machine the
 * generator shares the CPU with the server under test: the lighter it is, the less it flatters a
 * slow server (a heavy client adds the same cost to both sides of a ratio and pulls it toward 1).
 * Requests are prebuilt buffers; responses must carry Content-Length (Express's res.json does).
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/** A prebuilt POST request with a JSON body. */
export function jsonPost(host: string, port: number, path: string, body: string, headers: Record<string, string> = {}): Buffer {
  const bytes = Buffer.from(body);
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const head = `POST ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: keep-alive\r\nContent-Type: application/json\r\n${extra}Content-Length: ${bytes.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), bytes]);
}

interface Waiter {
  resolve: (status: number) => void;
  reject: (e: Error) => void;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** A connection that closed before any byte of the answer came: the server never took the request up. */
class ClosedBeforeAnswer extends Error {
  readonly code = 'CLOSED_BEFORE_ANSWER';
}

/** One keep-alive connection that carries one request at a time. */
class Connection {
  readonly #socket: Socket;
  #buffer: Buffer = Buffer.alloc(0);
  #waiter: Waiter | null = null;
  #closed: Error | null = null;
  // Whether any byte of the current request's answer came; a close before that is retryable.
  #answering = false;
  readonly ready: Promise<void>;

  constructor(host: string, port: number) {
    this.#socket = connect({ host, port, noDelay: true });
    this.ready = new Promise((resolve, reject) => {
      this.#socket.once('connect', resolve);
      this.#socket.once('error', reject);
    });
    this.#socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#socket.on('error', (e) => this.#fail(e));
    this.#socket.on('close', () => this.#fail(new Error('connection closed by the server')));
  }

  /** True once the socket has closed or failed: the connection takes no more requests. */
  get closed(): boolean {
    return this.#closed !== null;
  }

  /** Sends one request; resolves with the response status once the whole body has arrived. */
  send(request: Buffer): Promise<number> {
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
      this.#answering = false;
      this.#socket.write(request);
    });
  }

  close(): void {
    this.#socket.destroy();
  }

  #fail(e: Error): void {
    this.#closed ??= e;
    const w = this.#waiter;
    this.#waiter = null;
    w?.reject(this.#answering ? e : new ClosedBeforeAnswer(e.message));
  }

  #onData(chunk: Buffer): void {
    this.#answering = true;
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const end = this.#buffer.indexOf(HEADER_END);
    if (end < 0) return;
    const head = this.#buffer.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const match = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!match) {
      this.#fail(new Error(`response without Content-Length: ${head.split('\r\n')[0]}`));
      this.#socket.destroy();
      return;
    }
    const total = end + 4 + Number(match[1]);
    if (this.#buffer.length < total) return;
    this.#buffer = this.#buffer.subarray(total);
    const w = this.#waiter;
    this.#waiter = null;
    w?.resolve(status);
  }
}

/** What to run: `connections` loops, each sending `request(i)` for i = 0, 1, 2, ... */
export interface ClosedLoopOptions {
  host: string;
  port: number;
  connections: number;
  request: (i: number) => Buffer;
  /** Stop after this many requests in all (e2e submission); or run for warm-up + measure. */
  total?: number;
  /** Milliseconds of warm-up whose responses are not counted. Default 0. */
  warmupMs?: number;
  /** Milliseconds measured after the warm-up (ignored when `total` is set). */
  measureMs?: number;
  /** Called after every response (e.g. to track progress). */
  onResponse?: (status: number) => void;
  /** Called once when the warm-up ends and the measured window begins. */
  onMeasureStart?: () => void;
}

/** The responses in the measured window. */
export interface ClosedLoopResult {
  /** Responses counted (ended inside the measured window). */
  count: number;
  /** Length of the measured window, ms. */
  durationMs: number;
  /** Per-request latency of the counted responses, ms. */
  latencies: number[];
  /** Counted responses by HTTP status. */
  statuses: Record<number, number>;
  /** Requests sent in all, warm-up included. */
  sent: number;
  /** Transport errors (connection closed or reset). */
  errors: number;
  firstError?: string;
}

/** Runs the closed loop: each connection sends its next request as soon as the previous answered. */
export async function closedLoop(o: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const conns = Array.from({ length: o.connections }, () => new Connection(o.host, o.port));
  await Promise.all(conns.map((c) => c.ready));
  const started = performance.now();
  const measureFrom = started + (o.warmupMs ?? 0);
  const measureTo = o.total === undefined ? measureFrom + (o.measureMs ?? 10_000) : Infinity;
  const startTimer = setTimeout(() => o.onMeasureStart?.(), Math.max(0, measureFrom - performance.now()));
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  let lastEnd = measureFrom;
  const loop = async (conn: Connection) => {
    for (;;) {
      const t0 = performance.now();
      if (t0 >= measureTo) return;
      if (o.total !== undefined && next >= o.total) return;
      const i = next++;
      try {
        const status = await conn.send(o.request(i));
        const t1 = performance.now();
        o.onResponse?.(status);
        if (t1 >= measureFrom && t1 <= measureTo) {
          latencies.push(t1 - t0);
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (t1 > lastEnd) lastEnd = t1;
        }
      } catch (e) {
        errors++;
        firstError ??= e instanceof Error ? e.message : String(e);
        return;
      }
    }
  };
  try {
    await Promise.all(conns.map(loop));
  } finally {
    clearTimeout(startTimer);
    for (const c of conns) c.close();
  }
  const durationMs = o.total === undefined ? measureTo - measureFrom : lastEnd - measureFrom;
  return { count: latencies.length, durationMs, latencies, statuses, sent: next, errors, firstError };
}

/** An open loop over keep-alive connections: `rate` requests per second, whether or not earlier ones answered. */
export interface OpenLoopOptions {
  host: string;
  port: number;
  /** Connections in the pool; a request due while all are busy waits for the first free one. */
  connections: number;
  rate: number;
  durationMs: number;
  request: (i: number) => Buffer;
}

/** Runs the open loop; latencies are from when each request was due (waiting for a connection counts). */
export async function openLoop(o: OpenLoopOptions): Promise<ClosedLoopResult> {
  const conns = Array.from({ length: o.connections }, () => new Connection(o.host, o.port));
  await Promise.all(conns.map((c) => c.ready));
  const idle = [...conns];
  const backlog: Array<{ i: number; due: number }> = [];
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  let errors = 0;
  let firstError: string | undefined;
  let inFlight = 0;
  const total = Math.round((o.rate * o.durationMs) / 1000);
  const interval = 1000 / o.rate;
  const start = performance.now() + 5;
  let next = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const fresh = () => {
    const conn = new Connection(o.host, o.port);
    // A failed connect also fails the request sent on it, which counts it; the rejection is no crash.
    conn.ready.catch(() => {});
    conns.push(conn);
    return conn;
  };
  const send = (conn: Connection, i: number, due: number, retried = false) => {
    inFlight++;
    conn.send(o.request(i)).then(
      (status) => {
        latencies.push(performance.now() - due);
        statuses[status] = (statuses[status] ?? 0) + 1;
        done(conn);
      },
      (e: unknown) => {
        if (!retried && e instanceof ClosedBeforeAnswer) {
          // The server closed an idle keep-alive connection as the request went out (the
          // keep-alive race): it never read it, so sending it once more on a new one is safe.
          inFlight--;
          send(fresh(), i, due, true);
          return;
        }
        errors++;
        firstError ??= e instanceof Error ? e.message : String(e);
        if (idle.length === 0 && inFlight === 1) {
          // Every connection is gone: count what is left as failed instead of waiting forever.
          errors += backlog.length + (total - next);
          backlog.length = 0;
          next = total;
        }
        done(null);
      },
    );
  };
  const done = (conn: Connection | null) => {
    inFlight--;
    const waiting = backlog.shift();
    if (conn && waiting) send(conn, waiting.i, waiting.due);
    else if (conn) idle.push(conn);
    if (next >= total && inFlight === 0 && backlog.length === 0) finish();
  };
  // A connection left idle longer than the server's keep-alive timeout (Node's default: 5 s) is
  // closed by the server; a long run at a low rate meets such ones, which are replaced, not counted as errors.
  const takeIdle = (): Connection | undefined => {
    const conn = idle.pop();
    return conn?.closed ? fresh() : conn;
  };
  const tick = () => {
    const now = performance.now();
    while (next < total && start + next * interval <= now) {
      const due = start + next * interval;
      const conn = takeIdle();
      if (conn) send(conn, next, due);
      else backlog.push({ i: next, due });
      next++;
    }
    if (next < total) setTimeout(tick, Math.max(0, start + next * interval - performance.now() - 0.5));
    else if (inFlight === 0 && backlog.length === 0) finish();
  };
  setTimeout(tick, 5);
  try {
    await finished;
  } finally {
    for (const c of conns) c.close();
  }
  return { count: latencies.length, durationMs: performance.now() - start, latencies, statuses, sent: next, errors, firstError };
}
