/**
 * Daily JSONL files (`<kind>-YYYY-MM-DD.jsonl`, UTC date) written through a small in-memory
 * buffer: lines are appended to memory at once and written in batches, off the job's path. Many
 * processes may append to the same file: it is opened with O_APPEND and each write() holds whole
 * lines only, so lines of different processes never interleave.
 */
import { constants } from 'node:fs';
import { access, mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { GatewayError } from '../errors/index.ts';

/** The file name of `kind`'s lines of the UTC day of `at`, e.g. `jobs-2026-12-02.jsonl`. */
export function dailyFileName(kind: string, at: Date): string {
  return `${kind}-${at.toISOString().slice(0, 10)}.jsonl`;
}

/**
 * Creates `dir` if missing and checks that this process may write there, so a process with a bad
 * TELEMETRY_DIR stops at start with one clear line instead of losing every line later. Throws
 * GatewayError `telemetry_dir_unwritable`.
 */
export async function prepareTelemetryDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
  } catch (cause) {
    throw new GatewayError('telemetry_dir_unwritable', `TELEMETRY_DIR ${dir} cannot be created or written (${(cause as Error).message}): fix the path or its permissions.`, { status: 500, cause });
  }
}

/** Options of DailyJsonlAppender. */
export interface DailyJsonlAppenderOptions {
  /** Milliseconds between background flushes; 0 flushes after every append. @defaultValue 1000 */
  flushIntervalMs?: number;
  /** Buffered bytes that start a flush at once. @defaultValue 65536 */
  flushBytes?: number;
  /** Lines held in memory at most; further lines are dropped (and counted) until a flush frees room. @defaultValue 10000 */
  maxBufferedLines?: number;
  /** Told when lines were dropped (buffer full) or a write failed; must not throw. */
  onProblem?: (problem: { kind: 'dropped'; lines: number } | { kind: 'write_failed'; file: string; lines: number; err: unknown }) => void;
  now?: () => Date;
}

// One write() stays below this many bytes, so a write is never split by the kernel mid-line.
const MAX_WRITE_BYTES = 64 * 1024;

/** Appends JSON lines to `<dir>/<kind>-YYYY-MM-DD.jsonl`, one file per UTC day (see the module comment). */
export class DailyJsonlAppender {
  readonly dir: string;
  readonly kind: string;
  readonly #flushIntervalMs: number;
  readonly #flushBytes: number;
  readonly #maxLines: number;
  readonly #onProblem: NonNullable<DailyJsonlAppenderOptions['onProblem']>;
  readonly #now: () => Date;
  #pending: { file: string; line: string }[] = [];
  #pendingBytes = 0;
  #dropped = 0;
  #flushing: Promise<void> = Promise.resolve();
  #queued = false;
  #timer: NodeJS.Timeout | undefined;
  #open: { file: string; handle: FileHandle } | undefined;
  #closed = false;

  constructor(dir: string, kind: string, options: DailyJsonlAppenderOptions = {}) {
    this.dir = dir;
    this.kind = kind;
    this.#flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.#flushBytes = options.flushBytes ?? 65_536;
    this.#maxLines = options.maxBufferedLines ?? 10_000;
    this.#onProblem = options.onProblem ?? (() => {});
    this.#now = options.now ?? (() => new Date());
  }

  /** Buffers one line (the JSON of `record`) for the file of today (UTC); false when the buffer was full and it was dropped. */
  append(record: object): boolean {
    if (this.#closed || this.#pending.length >= this.#maxLines) {
      this.#dropped++;
      return false;
    }
    // JSON.stringify escapes newlines inside strings, so one record is always one line.
    const line = `${JSON.stringify(record)}\n`;
    this.#pending.push({ file: dailyFileName(this.kind, this.#now()), line });
    this.#pendingBytes += Buffer.byteLength(line);
    if (this.#flushIntervalMs === 0 || this.#pendingBytes >= this.#flushBytes) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), this.#flushIntervalMs).unref();
    return true;
  }

  /** Writes every buffered line; resolves once they are written (or reported as failed). Never rejects. */
  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    // A write not yet started takes every line buffered by then: one waiting write is enough.
    if (this.#queued) return this.#flushing;
    this.#queued = true;
    // One write at a time, in order, so lines reach the file in the order they were appended.
    this.#flushing = this.#flushing.then(() => {
      this.#queued = false;
      return this.#write();
    });
    return this.#flushing;
  }

  /** Flushes and closes the file; later appends are dropped. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    await this.#open?.handle.close().catch(() => undefined);
    this.#open = undefined;
  }

  async #write(): Promise<void> {
    const batch = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    if (this.#dropped > 0) {
      this.#onProblem({ kind: 'dropped', lines: this.#dropped });
      this.#dropped = 0;
    }
    // A batch spans two files only around midnight: write each file's lines in order.
    for (const file of [...new Set(batch.map((b) => b.file))]) {
      const lines = batch.filter((b) => b.file === file).map((b) => b.line);
      try {
        const handle = await this.#handle(file);
        for (const chunk of chunks(lines)) await handle.write(chunk);
      } catch (err) {
        this.#onProblem({ kind: 'write_failed', file: join(this.dir, file), lines: lines.length, err });
        // Open again next time: the file may have been removed or its disk remounted.
        await this.#open?.handle.close().catch(() => undefined);
        this.#open = undefined;
      }
    }
  }

  async #handle(file: string): Promise<FileHandle> {
    if (this.#open?.file === file) return this.#open.handle;
    await this.#open?.handle.close().catch(() => undefined);
    this.#open = undefined;
    await mkdir(this.dir, { recursive: true });
    // 'a' is O_APPEND: every write lands at the end of the file, whoever else appends to it.
    const handle = await open(join(this.dir, file), 'a', 0o640);
    this.#open = { file, handle };
    return handle;
  }
}

/** Whole lines joined into buffers of at most MAX_WRITE_BYTES (a longer line is a buffer of its own). */
function* chunks(lines: string[]): Generator<Buffer> {
  let parts: string[] = [];
  let size = 0;
  for (const line of lines) {
    const bytes = Buffer.byteLength(line);
    if (size > 0 && size + bytes > MAX_WRITE_BYTES) {
      yield Buffer.from(parts.join(''));
      parts = [];
      size = 0;
    }
    parts.push(line);
    size += bytes;
  }
  if (size > 0) yield Buffer.from(parts.join(''));
}
