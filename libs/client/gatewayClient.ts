/** A small HTTP client for the gateway's API, as the Rails app uses it; for the demo and tests. */

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

export class GatewayClient {
  readonly baseUrl: string;
  readonly #apiKey: string;

  constructor(baseUrl: string, apiKey: string) {
    this.baseUrl = baseUrl.replace(/\/$/, '');
    this.#apiKey = apiKey;
  }

  /** Any request; the body, when given, is sent as JSON. */
  async request<T = Record<string, unknown>>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer<T>> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.#apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as T, headers: response.headers };
  }

  /**
   * POST /v1/jobs; throws unless the gateway accepted the job. A 503 `redis_unavailable` (nothing
   * was enqueued) is retried after its Retry-After, up to `retries` times. @defaultValue retries 3
   */
  async submit(submission: unknown, { retries = 3 }: { retries?: number } = {}): Promise<string> {
    const answer = await this.#retrying<{ id: string; error?: { code?: string } }>('POST', '/v1/jobs', submission, retries, (a) => a.status === 503 && a.body.error?.code === 'redis_unavailable');
    if (answer.status === 202) return answer.body.id;
    throw new Error(`submit answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }

  /**
   * POST /v1/jobs/:id/feedback: a user's rating (1-5) of a completed job's answer; throws unless
   * the gateway recorded it (201). A 429 (the client's read budget is spent) is retried after its
   * Retry-After, up to `retries` times. @defaultValue retries 5
   */
  async feedback(id: string, feedback: { rating: number; helpful?: boolean; comment?: string }, { retries = 5 }: { retries?: number } = {}): Promise<void> {
    const answer = await this.#retrying('POST', `/v1/jobs/${encodeURIComponent(id)}/feedback`, feedback, retries, (a) => a.status === 429);
    if (answer.status !== 201) throw new Error(`feedback on ${id} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }

  /** Sends a request, and again after the answer's Retry-After (seconds, default 1) while `retryable` says so, at most `retries` more times. */
  async #retrying<T>(method: string, path: string, body: unknown, retries: number, retryable: (answer: ApiAnswer<T>) => boolean): Promise<ApiAnswer<T>> {
    for (let attempt = 0; ; attempt++) {
      const answer = await this.request<T>(method, path, body);
      if (!retryable(answer) || attempt >= retries) return answer;
      await new Promise((resolve) => setTimeout(resolve, (Number(answer.headers.get('retry-after')) || 1) * 1000));
    }
  }

  /** GET /v1/jobs/:id. */
  async get(id: string): Promise<ApiAnswer> {
    return this.request('GET', `/v1/jobs/${encodeURIComponent(id)}`);
  }

  /**
   * Polls until every job is finished (not queued or active) or `timeoutMs` passes; resolves with
   * the finished jobs by id. Polls at most `concurrency` jobs at a time, with backoff between rounds,
   * and waits what `Retry-After` asks when the client's read budget is spent (429).
   */
  async waitForAll(
    ids: string[],
    options: { timeoutMs?: number; concurrency?: number; onProgress?: (done: number) => void } = {},
  ): Promise<Map<string, Record<string, unknown>>> {
    const deadline = Date.now() + (options.timeoutMs ?? 120_000);
    const done = new Map<string, Record<string, unknown>>();
    let pending = [...ids];
    let delay = 100;
    while (pending.length > 0) {
      const stillPending: string[] = [];
      // Seconds the gateway asked us to wait (429 on the read budget): the rest of the round waits too.
      let retryAfterS = 0;
      for (let i = 0; i < pending.length; i += options.concurrency ?? 25) {
        const slice = pending.slice(i, i + (options.concurrency ?? 25));
        if (retryAfterS > 0) {
          stillPending.push(...slice);
          continue;
        }
        const answers = await Promise.all(slice.map((id) => this.get(id)));
        answers.forEach((answer, k) => {
          const status = answer.body.status;
          if (answer.status === 429) retryAfterS = Math.max(retryAfterS, Number(answer.headers.get('retry-after')) || 1);
          if (answer.status === 200 && status !== 'queued' && status !== 'active') done.set(slice[k]!, answer.body);
          else stillPending.push(slice[k]!);
        });
      }
      pending = stillPending;
      options.onProgress?.(done.size);
      if (pending.length === 0) break;
      if (Date.now() > deadline) throw new Error(`${pending.length} of ${ids.length} jobs were not finished in time (first: ${pending[0]})`);
      const wait = retryAfterS > 0 ? Math.min(retryAfterS * 1000, Math.max(0, deadline - Date.now()) + 1) : delay;
      await new Promise((resolve) => setTimeout(resolve, wait));
      delay = Math.min(delay * 2, 1000);
    }
    return done;
  }
}
