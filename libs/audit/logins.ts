/**
 * Which successful admin logins the audit log records. The operator endpoints take the token on
 * every request (Bull Board's page polls its API every few seconds), so each request is not a
 * login: a success is recorded once per client address per window, like the start of a session.
 */

/** Options of LoginMemory. */
export interface LoginMemoryOptions {
  /** Milliseconds a recorded login covers for its address. @defaultValue 1800000 (30 minutes) */
  windowMs?: number;
  /** Addresses remembered at most; the oldest is forgotten first. @defaultValue 1000 */
  maxEntries?: number;
}

/** Remembers recent successful logins by client address. */
export class LoginMemory {
  readonly #windowMs: number;
  readonly #max: number;
  // Insertion order is age order: a recorded address is deleted and inserted again.
  readonly #seen = new Map<string, number>();

  constructor(options: LoginMemoryOptions = {}) {
    this.#windowMs = options.windowMs ?? 30 * 60_000;
    this.#max = options.maxEntries ?? 1000;
  }

  /** True when a login from `address` at `nowMs` (epoch ms) should be recorded (none recorded in the window); then remembers it. */
  shouldRecord(address: string, nowMs: number): boolean {
    const last = this.#seen.get(address);
    if (last !== undefined && nowMs - last < this.#windowMs) return false;
    this.#seen.delete(address);
    this.#seen.set(address, nowMs);
    if (this.#seen.size > this.#max) this.#seen.delete(this.#seen.keys().next().value!);
    return true;
  }
}
