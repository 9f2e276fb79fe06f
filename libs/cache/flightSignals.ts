import { duplicateClient, type RedisClient } from '../redis/client.ts';

/**
 * Redis pub/sub for single-flight followers: one subscriber connection per process (a duplicate of
 * the given one, opened on first use), a channel per key subscribed only while someone waits on it.
 * Leaders only PUBLISH, which costs nothing when nobody listens.
 */
export class FlightSignals {
  readonly #source: RedisClient;
  #sub: RedisClient | undefined;
  readonly #channels = new Map<string, { boxes: Set<Mailbox>; ready: Promise<unknown> }>();

  /** `source` is only duplicated, never used or closed. */
  constructor(source: RedisClient) {
    this.#source = source;
  }

  /** Subscribes to `channel`; resolves once subscribed, so no later message is missed. */
  async listen(channel: string): Promise<Mailbox> {
    const sub = this.#subscriber();
    let ch = this.#channels.get(channel);
    if (!ch) {
      ch = { boxes: new Set(), ready: sub.subscribe(channel) };
      this.#channels.set(channel, ch);
    }
    const joined = ch;
    const box: Mailbox = new Mailbox(() => this.#leave(channel, joined, box));
    joined.boxes.add(box);
    try {
      await joined.ready;
    } catch (err) {
      box.close();
      throw err;
    }
    return box;
  }

  /** Closes the subscriber connection, if one was opened. */
  async close(): Promise<void> {
    const sub = this.#sub;
    this.#sub = undefined;
    this.#channels.clear();
    if (sub) await sub.quit().catch(() => sub.disconnect());
  }

  #subscriber(): RedisClient {
    let sub = this.#sub;
    if (!sub) {
      sub = duplicateClient(this.#source, 'llm-gateway-cache-signals');
      sub.on('message', (channel: string, message: string) => {
        for (const box of this.#channels.get(channel)?.boxes ?? []) box.push(message);
      });
      // Errors surface through the commands that fail; ioredis reconnects and resubscribes.
      sub.on('error', () => {});
      this.#sub = sub;
    }
    return sub;
  }

  #leave(channel: string, ch: { boxes: Set<Mailbox> }, box: Mailbox): void {
    ch.boxes.delete(box);
    if (ch.boxes.size > 0 || this.#channels.get(channel) !== ch) return;
    this.#channels.delete(channel);
    this.#sub?.unsubscribe(channel).catch(() => {});
  }
}

/** Messages of one channel for one listener, in arrival order. */
export class Mailbox {
  readonly #queue: string[] = [];
  readonly #onClose: () => void;
  #wake: (() => void) | undefined;
  #closed = false;

  /** `onClose` runs once, on the first close(). */
  constructor(onClose: () => void) {
    this.#onClose = onClose;
  }

  /** Queues a message and wakes a waiting next(). */
  push(message: string): void {
    this.#queue.push(message);
    this.#wake?.();
  }

  /** The oldest unread message, waiting up to `ms` milliseconds for one; undefined if none came. */
  async next(ms: number): Promise<string | undefined> {
    if (this.#queue.length === 0 && !this.#closed) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.#wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, ms));
        this.#wake = done;
      });
    }
    return this.#queue.shift();
  }

  /** Stops listening; further messages are dropped. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake?.();
    this.#onClose();
  }
}
