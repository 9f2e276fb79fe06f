/**
 * Bench-only preload (`NODE_OPTIONS=--import <this file>`, with BENCH_REDIS_TRACE=<folder>): records
 * every Redis command the process sends through ioredis, with its connection's name, its command or
 * Lua script name, and when it was sent and answered, as JSON lines in <folder>/<pid>.jsonl. The
 * bench (trace.ts) reads them to count a job's sequential round trips. Nothing in the gateway imports
 * this file: a process started without the flag pays nothing.
 *
 * Wrapped: Redis.prototype.sendCommand, which every command goes through (plain, auto-pipelined,
 * MULTI and pipelines alike), and Redis.prototype.defineCommand, to name an EVALSHA by its script
 * (BullMQ's and ours all load through defineCommand).
 */
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { BLOCKING_COMMANDS, type TraceRecord } from './roundTrips.ts';

/** Milliseconds between writes of the buffered records. @defaultValue 100 */
const FLUSH_EVERY_MS = 100;

const folder = process.env.BENCH_REDIS_TRACE;
if (folder) install(folder);

function install(dir: string): void {
  mkdirSync(dir, { recursive: true });
  // apps/<name>/main.ts: the folder says which process this is.
  const proc = basename(dirname(process.argv[1] ?? 'unknown'));
  const file = join(dir, `${proc}-${process.pid}.jsonl`);
  const scripts = new Map<string, string>();
  let buffer: string[] = [];
  const flush = () => {
    if (buffer.length === 0) return;
    appendFileSync(file, buffer.join(''));
    buffer = [];
  };
  setInterval(flush, FLUSH_EVERY_MS).unref();
  process.on('exit', flush);
  // Wall-clock milliseconds with sub-millisecond resolution, comparable across processes.
  const now = () => performance.timeOrigin + performance.now();

  type Definition = { lua: string; numberOfKeys?: number };
  type Sendable = { name: string; args: unknown[]; promise: Promise<unknown> };
  const proto = Redis.prototype as unknown as {
    defineCommand(name: string, definition: Definition): void;
    sendCommand(command: Sendable, ...rest: unknown[]): unknown;
    options: { connectionName?: string };
  };
  const define = proto.defineCommand;
  proto.defineCommand = function (this: unknown, name: string, definition: Definition) {
    // BullMQ names its scripts `moveToActive:<version>`: the version says nothing here.
    scripts.set(createHash('sha1').update(definition.lua).digest('hex'), name.split(':')[0]!);
    return define.call(this, name, definition);
  };
  const send = proto.sendCommand;
  proto.sendCommand = function (this: typeof proto, command: Sendable, ...rest: unknown[]) {
    const start = now();
    const name = command.name.toLowerCase();
    const script = name === 'evalsha' || name === 'eval' ? scripts.get(name === 'eval' ? createHash('sha1').update(String(command.args[0])).digest('hex') : String(command.args[0])) : undefined;
    const blocking = BLOCKING_COMMANDS.has(name) || ((name === 'xread' || name === 'xreadgroup') && command.args.some((a) => String(a).toUpperCase() === 'BLOCK'));
    // The first key says what a command is about (config poll, queue, budget); a script's follows its sha and key count.
    const rawKey = script !== undefined ? (Number(command.args[1]) > 0 ? command.args[2] : undefined) : command.args[0];
    const key = typeof rawKey === 'string' || Buffer.isBuffer(rawKey) ? String(rawKey).slice(0, 160) : undefined;
    const result = send.call(this, command, ...rest);
    const record = (ok: boolean, reply?: unknown) => {
      const r: TraceRecord = { proc, conn: this.options.connectionName ?? '', cmd: script ?? name, start, end: now(), ok, ...(key !== undefined ? { key } : {}), ...(blocking ? { blocking } : {}) };
      // BullMQ's moveToActive answers [job fields, id, ...] when it took a job, and zeros when there was none.
      if (script === 'moveToActive') r.took = Array.isArray(reply) && Array.isArray(reply[0]) && reply[0].length > 0;
      buffer.push(`${JSON.stringify(r)}\n`);
    };
    command.promise.then(
      (reply) => record(true, reply),
      () => record(false),
    );
    return result;
  };
}
