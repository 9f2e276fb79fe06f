/**
 * Scrubs credentials out of text bound for an output line: the userinfo of any `scheme://…@` URL,
 * the values of credential-like query parameters, and the exact values of known secrets (API keys,
 * tokens, passwords), wherever they appear. Pure: the logger and the console guard carry it out.
 */

/** What a known secret value becomes. */
export const REDACTED = '[redacted]';

/** What a URL's userinfo or a credential query parameter's value becomes. */
export const MASK = '***';

/**
 * Secrets shorter than this many characters are not matched by value (the URL rules still hide
 * them inside URLs): replacing every "ab" in a log would garble it, and so short a secret protects
 * nothing anyway. @defaultValue 4
 */
export const MIN_SECRET_LENGTH = 4;

// scheme://userinfo@ — the userinfo runs to the last '@' before the authority ends, so a password
// holding an unencoded '@' is still hidden whole.
const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^\s/?#"'<>`]*@/gi;
// ?password=…, &api_key=…, ;token=… (names that end in a credential word; `authSource` does not).
const CREDENTIAL_PARAM = /([?&;][\w.~%-]*?(?:pass(?:word|wd)?|pwd|secret|token|key|auth|sig(?:nature)?|credentials?)=)[^&;#\s"'<>`]*/gi;
const SUSPECT_USERINFO = /[a-z][a-z0-9+.-]*:\/\/[^\s/?#"'<>`]*@/i;
const SUSPECT_PARAM = /[?&;][\w.~%-]*?(?:pass(?:word|wd)?|pwd|secret|token|key|auth|sig(?:nature)?|credentials?)=/i;

/** Scrubs text and output lines; built once per process from its secrets. */
export interface Redactor {
  /** Free text with every credential replaced. */
  text(text: string): string;
  /**
   * One or more output lines (`\n`-separated); a JSON line stays valid JSON with the same fields.
   * A line with nothing suspicious is returned as is, without being parsed.
   */
  lines(chunk: string): string;
}

/** A URL with its userinfo and credential query values masked: `redis://***@host:6379/0`. */
export function redactUrl(url: string): string {
  return url.replace(USERINFO, `$1${MASK}@`).replace(CREDENTIAL_PARAM, `$1${MASK}`);
}

/** `text` with credentials in URLs masked and each of `secrets` replaced by `[redacted]`. */
export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  return createRedactor(secrets).text(text);
}

/** Builds a Redactor for `secrets` (values shorter than MIN_SECRET_LENGTH are ignored). */
export function createRedactor(secrets: readonly string[] = []): Redactor {
  const values = variants(secrets);
  // Longest first, so a secret that contains another is replaced whole.
  const exact = values.length === 0 ? null : new RegExp(values.map(escapeRegExp).join('|'), 'g');
  // In a JSON line a secret may appear escaped (a '"' or '\' inside it).
  const needles = [...new Set([...values, ...values.map((v) => JSON.stringify(v).slice(1, -1))])];
  // Cheap character checks first: most lines hold no '@' and no '=' and skip both regexes.
  const suspicious = (line: string): boolean =>
    (line.includes('@') && SUSPECT_USERINFO.test(line)) || (line.includes('=') && SUSPECT_PARAM.test(line)) || needles.some((v) => line.includes(v));

  const text = (input: string): string => {
    let out = input;
    if (exact) out = out.replace(exact, REDACTED);
    return redactUrl(out);
  };
  const line = (input: string): string => {
    if (!suspicious(input)) return input;
    if (input.startsWith('{')) {
      try {
        return JSON.stringify(scrubValue(JSON.parse(input) as unknown, text));
      } catch {
        // Not JSON after all: scrub it as text.
      }
    }
    return text(input);
  };
  return {
    text,
    lines: (chunk) => {
      const newline = chunk.indexOf('\n');
      if (newline < 0) return line(chunk);
      // The usual chunk is one log line and its newline: spare the split.
      if (newline === chunk.length - 1) {
        const single = chunk.slice(0, -1);
        const out = line(single);
        return out === single ? chunk : `${out}\n`;
      }
      return chunk.split('\n').map(line).join('\n');
    },
  };
}

/**
 * The secret values in an environment, to be scrubbed by value from every output line: the keys
 * of GATEWAY_API_KEYS, the secrets of GATEWAY_WEBHOOK_SECRETS, every `*_TOKEN`, `*_SECRET`,
 * `*_PASSWORD` and `*_API_KEY` variable, the alert webhook URL, and the password and credential
 * query values of every `*_URL` / `*_URI` variable (REDIS_URL, DATABASE_URL, MONGODB_URI ...).
 * Never throws, even for malformed values: a malformed entry is taken whole.
 */
export function secretsFromEnv(env: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  for (const [name, raw] of Object.entries(env)) {
    const value = raw?.trim();
    if (!value) continue;
    if (name === 'GATEWAY_API_KEYS' || name === 'GATEWAY_WEBHOOK_SECRETS') {
      for (const item of value.split(',')) {
        const at = item.indexOf(':');
        const secret = (at < 0 ? item : item.slice(at + 1)).trim();
        out.push(secret);
        if (secret.startsWith('whsec_')) out.push(secret.slice('whsec_'.length));
      }
    } else if (name === 'GATEWAY_ALERT_WEBHOOK_URL' || /(?:_TOKEN|_SECRET|_PASSWORD|_API_KEY)$/.test(name)) {
      out.push(value);
    } else if (/(?:_URL|_URI)$/.test(name)) {
      out.push(...urlSecrets(value));
    }
  }
  return [...new Set(out)].filter((s) => s.length >= MIN_SECRET_LENGTH);
}

/** The password of a URL's userinfo and its credential query values, raw and percent-decoded. */
export function urlSecrets(url: string): string[] {
  const found: string[] = [];
  const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)@/i.exec(url)?.[1];
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    if (colon >= 0) found.push(userinfo.slice(colon + 1));
  }
  for (const match of url.matchAll(CREDENTIAL_PARAM)) found.push(url.slice(match.index + match[1]!.length, match.index + match[0].length));
  return found.flatMap((s) => [s, safeDecode(s)]).filter((s) => s !== '');
}

function variants(secrets: readonly string[]): string[] {
  const all = new Set<string>();
  for (const s of secrets) {
    if (s.length < MIN_SECRET_LENGTH) continue;
    all.add(s);
    // A password may be logged inside a URL, percent-encoded.
    all.add(encodeURIComponent(s));
  }
  return [...all].sort((a, b) => b.length - a.length);
}

function scrubValue(value: unknown, text: (s: string) => string): unknown {
  if (typeof value === 'string') return text(value);
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, text));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[text(k)] = scrubValue(v, text);
    return out;
  }
  return value;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
