/**
 * Keeps docker-compose.yml and the Dockerfile consistent with the code: the services exist, each
 * command runs the right entry point, every environment variable is one the process reads, and the
 * image holds every directory the processes load at run time.
 *
 * docker-compose.yml is written in a plain YAML subset (block mappings and sequences, flow lists in
 * JSON form, no anchors or block scalars) so that the small reader below can parse it without a
 * YAML dependency; the reader throws on anything outside that subset.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_VARS, readEnv } from '../config/env.ts';
import { ROOT } from './processes.ts';

// ---------------------------------------------------------------------------------------------
// A reader for the YAML subset docker-compose.yml is written in.

type Yaml = string | null | Yaml[] | { [key: string]: Yaml };

interface Line {
  indent: number;
  text: string;
  number: number;
}

/** Parses the YAML subset; throws naming the line for anything it does not understand. */
export function parseYamlSubset(source: string): Yaml {
  const lines: Line[] = [];
  source.split(/\r?\n/).forEach((raw, i) => {
    if (raw.includes('\t')) throw new Error(`yaml line ${i + 1}: tabs are not allowed`);
    const text = raw.trim();
    if (text === '' || text.startsWith('#')) return;
    lines.push({ indent: raw.length - raw.trimStart().length, text, number: i + 1 });
  });
  let pos = 0;

  const fail = (line: Line, why: string): never => {
    throw new Error(`yaml line ${line.number}: ${why}: ${line.text}`);
  };

  const scalar = (text: string, line: Line): Yaml => {
    if (/^[&*!|>]/.test(text) || text.startsWith('<<')) fail(line, 'anchors, aliases, tags and block scalars are outside the subset');
    if (text.startsWith('[') || text.startsWith('{')) {
      try {
        return JSON.parse(text) as Yaml;
      } catch {
        return fail(line, 'flow collections must be written as JSON');
      }
    }
    if (text.startsWith('"')) {
      try {
        return JSON.parse(text) as string;
      } catch {
        return fail(line, 'bad double-quoted string');
      }
    }
    if (text.startsWith("'")) {
      if (!/^'(?:[^']|'')*'$/.test(text)) fail(line, 'bad single-quoted string');
      return text.slice(1, -1).replaceAll("''", "'");
    }
    if (/\s#/.test(text)) fail(line, 'trailing comments are outside the subset');
    return text;
  };

  const block = (indent: number): Yaml => {
    const first = lines[pos];
    if (!first || first.indent < indent) return null;
    if (first.indent !== indent) fail(first, `expected indentation ${indent}`);
    /** The next line if it sits at this block's indentation. */
    const here = (): Line | undefined => (lines[pos]?.indent === indent ? lines[pos] : undefined);
    if (first.text === '-' || first.text.startsWith('- ')) {
      const list: Yaml[] = [];
      for (let line = here(); line; line = here()) {
        if (!line.text.startsWith('- ')) fail(line, 'expected a sequence item');
        const item = line.text.slice(2).trim();
        if (/^[A-Za-z0-9_.-]+:(\s|$)/.test(item)) fail(line, 'mappings inside sequences are outside the subset');
        list.push(scalar(item, line));
        pos++;
      }
      return list;
    }
    const map: { [key: string]: Yaml } = {};
    for (let line = here(); line; line = here()) {
      const match = /^([A-Za-z0-9_.-]+):(?:\s+(.*))?$/.exec(line.text);
      if (!match) return fail(line, 'expected "key: value"');
      const key = match[1] ?? '';
      const value = match[2];
      if (key in map) fail(line, `duplicate key "${key}"`);
      pos++;
      if (value !== undefined && value !== '') {
        map[key] = scalar(value, line);
      } else {
        const next = lines[pos];
        map[key] = next && next.indent > indent ? block(next.indent) : null;
      }
    }
    const next = lines[pos];
    if (next && next.indent > indent) fail(next, 'unexpected indentation');
    return map;
  };

  const doc = block(0);
  const rest = lines[pos];
  if (rest) fail(rest, 'unexpected indentation');
  return doc;
}

// ---------------------------------------------------------------------------------------------
// Helpers over the parsed file.

type Mapping = { [key: string]: Yaml };

const isMapping = (v: Yaml | undefined): v is Mapping => typeof v === 'object' && v !== null && !Array.isArray(v);

function mapping(v: Yaml | undefined, what: string): Mapping {
  if (!isMapping(v)) throw new Error(`docker-compose.yml: ${what} must be a mapping`);
  return v;
}

/** A service's environment as name -> value, from either the mapping or the `NAME=value` list form. */
function environment(service: Mapping, name: string): Map<string, string> {
  const env = service.environment;
  const out = new Map<string, string>();
  if (env === undefined || env === null) return out;
  if (Array.isArray(env)) {
    for (const item of env) {
      if (typeof item !== 'string') throw new Error(`docker-compose.yml: ${name}.environment items must be NAME=value strings`);
      const eq = item.indexOf('=');
      out.set(eq < 0 ? item : item.slice(0, eq), eq < 0 ? '' : item.slice(eq + 1));
    }
    return out;
  }
  for (const [key, value] of Object.entries(mapping(env, `${name}.environment`))) {
    if (value !== null && typeof value !== 'string') throw new Error(`docker-compose.yml: ${name}.environment.${key} must be a scalar`);
    out.set(key, value ?? '');
  }
  return out;
}

/** A service's command as an argv array. */
function command(service: Mapping, name: string): string[] {
  const cmd = service.command;
  if (typeof cmd === 'string') return cmd.split(/\s+/);
  if (Array.isArray(cmd) && cmd.every((c) => typeof c === 'string')) return cmd as string[];
  throw new Error(`docker-compose.yml: service "${name}" has no command`);
}

/** What compose runs with when the variable is unset: the default of a `${VAR:-default}` value. */
const unsetDefault = (value: string): string => value.replace(/^\$\{\w+:-(.*)\}$/, '$1');

/** The part of `text` before the first `separator`. */
const head = (text: string, separator: string): string => text.split(separator)[0] ?? '';

/** Names in `actual` that are not in `allowed`. */
const missingFrom = (actual: Iterable<string>, allowed: Iterable<string>): string[] => {
  const set = new Set(allowed);
  return [...actual].filter((n) => !set.has(n)).sort();
};

/** Top-level repository directories of every file `entry` loads through relative imports. */
function topLevelDirsLoadedBy(entry: string): Set<string> {
  const dirs = new Set<string>();
  const seen = new Set<string>();
  const queue = [resolve(ROOT, entry)];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!existsSync(file)) throw new Error(`${relative(ROOT, file)} is imported but does not exist`);
    dirs.add(head(relative(ROOT, file), sep));
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      queue.push(resolve(dirname(file), m[1] ?? ''));
    }
  }
  return dirs;
}

// ---------------------------------------------------------------------------------------------

const compose = parseYamlSubset(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'));
const services = mapping(mapping(compose, 'the document').services, 'services');
const service = (name: string): Mapping => mapping(services[name], `service "${name}"`);
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

const APP_SERVICES = ['api', 'worker', 'simulator'] as const;
const GATEWAY_SERVICES = ['api', 'worker'] as const;
const REQUIRED_ENV = ['REDIS_URL', 'DATABASE_URL', 'GATEWAY_API_KEYS', 'OPENAI_BASE_URL', 'ANTHROPIC_BASE_URL'];

describe('the YAML subset reader', () => {
  it('reads mappings, sequences, quoted scalars and JSON flow lists', () => {
    const doc = parseYamlSubset(['# c', 'a:', '  b: "x: y"', '  c:', '    - 1', "    - 'it''s'", '  d: ["p", "q"]', 'e:', ''].join('\n'));
    expect(doc).toEqual({ a: { b: 'x: y', c: ['1', "it's"], d: ['p', 'q'] }, e: null });
  });

  it('refuses what it does not understand', () => {
    expect(() => parseYamlSubset('a: &x 1\nb: *x')).toThrow(/line 1/);
    expect(() => parseYamlSubset('a:\n  - b: 1')).toThrow(/mappings inside sequences/);
    expect(() => parseYamlSubset('a: 1\n  b: 2')).toThrow(/indentation/);
    expect(() => parseYamlSubset('a: 1\na: 2')).toThrow(/duplicate/);
  });
});

describe('docker-compose.yml', () => {
  it('has the services redis, mongo, api, worker and simulator', () => {
    const missing = missingFrom(['redis', 'mongo', 'api', 'worker', 'simulator'], Object.keys(services));
    expect(missing, `services missing from docker-compose.yml: ${missing.join(', ')}`).toEqual([]);
  });

  it('runs redis with the append-only file on, a volume and a healthcheck', () => {
    const redis = service('redis');
    const argv = command(redis, 'redis').join(' ');
    expect(argv, `redis command "${argv}" lacks --appendonly yes`).toMatch(/--appendonly yes\b/);
    expect(argv, `redis command "${argv}" lacks --appendfsync everysec`).toMatch(/--appendfsync everysec\b/);
    expect(Array.isArray(redis.volumes) && redis.volumes.length > 0, 'redis has no volume').toBe(true);
    const test = mapping(redis.healthcheck, 'redis.healthcheck').test;
    expect(JSON.stringify(test), 'redis healthcheck does not run redis-cli ping').toMatch(/redis-cli.*ping/);
  });

  it.each(APP_SERVICES)('runs the %s entry point, which exists', (name) => {
    const argv = command(service(name), name);
    const expected = `apps/${name}/main.ts`;
    expect(argv[0], `${name} command "${argv.join(' ')}" does not start with node`).toBe('node');
    expect(argv[1], `${name} command runs "${argv[1]}" instead of ${expected}`).toBe(expected);
    expect(existsSync(join(ROOT, argv[1] ?? '')), `${name} command names ${argv[1]}, which does not exist`).toBe(true);
    expect(packageJson.scripts[`start:${name}`], `package.json start:${name} disagrees with the compose command`).toBe(argv.join(' '));
    expect(service(name).build, `${name} is not built from the Dockerfile (build: .)`).toBe('.');
  });

  it.each(GATEWAY_SERVICES)('sets only environment variables that %s reads, and the important ones', (name) => {
    const env = environment(service(name), name);
    const unknown = missingFrom(env.keys(), ENV_VARS);
    expect(unknown, `${name} sets variables that are not in ENV_VARS (libs/config/env.ts): ${unknown.join(', ')}`).toEqual([]);
    const absent = missingFrom(REQUIRED_ENV, env.keys());
    expect(absent, `${name} does not set ${absent.join(', ')}`).toEqual([]);
  });

  it('gives api and worker the same store, Redis, providers and queue prefix', () => {
    const api = environment(service('api'), 'api');
    const worker = environment(service('worker'), 'worker');
    for (const key of ['REDIS_URL', 'DATABASE_URL', 'OPENAI_BASE_URL', 'ANTHROPIC_BASE_URL', 'GATEWAY_QUEUE_PREFIX', 'CONFIG_DIR']) {
      expect(worker.get(key), `api and worker disagree on ${key}`).toBe(api.get(key));
    }
    expect(api.get('PORT'), 'api has no PORT').toBeDefined();
  });

  it('keeps the store where api and worker share it: MongoDB they wait for, or SQLite on one volume', () => {
    // `${VAR:-default}` is what compose runs with when the variable is unset.
    const url = (environment(service('api'), 'api').get('DATABASE_URL') ?? '').replace(/^\$\{\w+:-(.*)\}$/, '$1');
    expect(url).toBe((environment(service('worker'), 'worker').get('DATABASE_URL') ?? '').replace(/^\$\{\w+:-(.*)\}$/, '$1'));
    if (/^mongodb/.test(url)) {
      for (const name of GATEWAY_SERVICES) expect(JSON.stringify(service(name).depends_on ?? {}), `${name} must wait for mongo`).toContain('mongo');
      return;
    }
    const path = url.replace(/^sqlite:\/\//, '').replace(/^file:\/\//, '');
    expect(path.startsWith('/'), `DATABASE_URL ${url} should be an absolute path on a volume`).toBe(true);
    for (const name of GATEWAY_SERVICES) {
      const volumes = (service(name).volumes ?? []) as Yaml[];
      const mounted = volumes.some((v) => typeof v === 'string' && path.startsWith(`${v.split(':')[1]}/`));
      expect(mounted, `${name} has no volume holding ${path}`).toBe(true);
    }
    const apiVolumes = JSON.stringify(service('api').volumes);
    expect(JSON.stringify(service('worker').volumes), 'api and worker mount different store volumes').toBe(apiVolumes);
  });

  it('sets only the simulator variables the simulator reads, and listens on all interfaces', () => {
    const source = ['apps/simulator/main.ts', 'apps/simulator/knobs.ts'].map((f) => readFileSync(join(ROOT, f), 'utf8')).join('\n');
    const read = new Set([...source.matchAll(/process\.env\.(SIMULATOR_[A-Z0-9_]+)|\b(SIMULATOR_[A-Z0-9_]+)\b/g)].map((m) => m[1] ?? m[2] ?? ''));
    const env = environment(service('simulator'), 'simulator');
    const unknown = missingFrom(env.keys(), read);
    expect(unknown, `simulator sets variables its source never mentions: ${unknown.join(', ')}`).toEqual([]);
    expect(env.get('SIMULATOR_HOST'), 'the simulator must listen on 0.0.0.0 inside compose').toBe('0.0.0.0');
    const port = env.get('SIMULATOR_PORT');
    const openai = environment(service('api'), 'api').get('OPENAI_BASE_URL') ?? '';
    expect(openai, `OPENAI_BASE_URL ${openai} does not default to the simulator's port ${port}`).toContain(`simulator:${port}`);
  });

  it('starts api and worker after Redis is healthy', () => {
    for (const name of GATEWAY_SERVICES) {
      const deps = mapping(service(name).depends_on, `${name}.depends_on`);
      expect(mapping(deps.redis, `${name}.depends_on.redis`).condition, `${name} does not wait for a healthy redis`).toBe('service_healthy');
      expect(deps.simulator, `${name} does not depend on the simulator`).toBeDefined();
    }
  });

  it("matches compose's stop grace to the worker's shutdown grace", () => {
    const period = String(service('worker').stop_grace_period ?? '');
    const match = /^(\d+)(ms|s|m)$/.exec(period);
    expect(match, `worker stop_grace_period "${period}" is not a plain duration like 30s`).not.toBeNull();
    const periodMs = Number(match![1]) * { ms: 1, s: 1000, m: 60_000 }[match![2] as 'ms' | 's' | 'm'];
    const graceMs = Number(unsetDefault(environment(service('worker'), 'worker').get('WORKER_SHUTDOWN_GRACE_MS') ?? ''));
    expect(graceMs, 'the worker passes WORKER_SHUTDOWN_GRACE_MS with the default readEnv uses').toBe(readEnv({}).workerShutdownGraceMs);
    expect(graceMs, `WORKER_SHUTDOWN_GRACE_MS ${graceMs} outlasts stop_grace_period ${period}: compose would SIGKILL jobs mid-call`).toBeLessThanOrEqual(periodMs);
    // A much longer period only delays every `docker compose stop`: the worker is gone by then.
    expect(periodMs, `stop_grace_period ${period} does not match WORKER_SHUTDOWN_GRACE_MS ${graceMs}`).toBeLessThanOrEqual(graceMs + 5000);
  });

  it('binds the API on every interface inside its container, with a healthcheck on /readyz', () => {
    const api = service('api');
    expect(environment(api, 'api').get('HOST'), 'the API must bind 0.0.0.0 in a container, or the published port reaches nothing').toBe('0.0.0.0');
    const port = environment(api, 'api').get('PORT');
    const test = JSON.stringify(mapping(api.healthcheck, 'api.healthcheck').test);
    expect(test, `the api healthcheck ${test} does not ask /readyz on port ${port}`).toContain(`127.0.0.1:${port}/readyz`);
  });

  it("checks the worker's health on its metrics port's /readyz", () => {
    const worker = service('worker');
    const port = unsetDefault(environment(worker, 'worker').get('WORKER_METRICS_PORT') ?? '');
    expect(port, 'the worker sets WORKER_METRICS_PORT').not.toBe('');
    const test = JSON.stringify(mapping(worker.healthcheck, 'worker.healthcheck').test);
    expect(test, `the worker healthcheck ${test} does not ask /readyz on port ${port}`).toContain(`127.0.0.1:${port}/readyz`);
  });

  it.each(GATEWAY_SERVICES)('mounts config/ where %s reads CONFIG_DIR, so edits reload without a rebuild', (name) => {
    const configDir = environment(service(name), name).get('CONFIG_DIR') ?? '';
    const volumes = (service(name).volumes ?? []) as Yaml[];
    const mount = volumes.find((v): v is string => typeof v === 'string' && v.split(':')[1] === configDir);
    expect(mount, `${name} mounts nothing at CONFIG_DIR ${configDir}`).toBeDefined();
    expect(head(mount!, ':'), `${name} mounts ${mount} instead of the repository's config/`).toBe('./config');
  });

  it('declares every named volume it mounts', () => {
    const declared = Object.keys(mapping(mapping(compose, 'the document').volumes, 'volumes'));
    const used = Object.entries(services).flatMap(([, s]) => ((isMapping(s) ? s.volumes : []) ?? []) as Yaml[]);
    const named = used.filter((v): v is string => typeof v === 'string' && /^[A-Za-z0-9_-]+:/.test(v)).map((v) => head(v, ':'));
    const undeclared = missingFrom(new Set(named), declared);
    expect(undeclared, `volumes mounted but not declared: ${undeclared.join(', ')}`).toEqual([]);
  });
});

describe('Dockerfile', () => {
  const instructions = dockerfile
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  it('builds on node:24-slim', () => {
    const from = instructions.filter((l) => /^FROM\s/i.test(l));
    expect(from.at(-1), `the final stage is "${from.at(-1)}", not FROM node:24-slim`).toMatch(/^FROM\s+node:24-slim(\s|$)/i);
  });

  it('installs production dependencies from the lockfile and runs as the node user', () => {
    expect(dockerfile, 'Dockerfile does not copy package-lock.json').toMatch(/^COPY\s.*package-lock\.json/m);
    expect(dockerfile, 'Dockerfile does not run npm ci --omit=dev').toMatch(/npm ci\b.*--omit=dev/);
    expect(dockerfile, 'Dockerfile does not set NODE_ENV=production').toMatch(/^ENV\s+NODE_ENV=production/m);
    const users = instructions.filter((l) => /^USER\s/i.test(l));
    expect(users.at(-1), 'the image does not run as the node user').toMatch(/^USER\s+node$/i);
    expect(dockerfile, 'Dockerfile WORKDIR is not /app').toMatch(/^WORKDIR\s+\/app$/m);
  });

  it('copies every top-level directory the compose commands load', () => {
    const copied = new Set(
      instructions
        .filter((l) => /^COPY\s/i.test(l))
        .flatMap((l) => l.split(/\s+/).slice(1, -1))
        .filter((src) => !src.startsWith('--'))
        .map((src) => head(src.replace(/^\.\//, ''), '/')),
    );
    const needed = new Set<string>();
    for (const name of APP_SERVICES) {
      for (const dir of topLevelDirsLoadedBy(command(service(name), name)[1] ?? '')) needed.add(dir);
    }
    // The JSON config (and its schemas, which libs/config/load.ts reads) is read at run time.
    const configDir = environment(service('api'), 'api').get('CONFIG_DIR') ?? './config';
    needed.add(head(configDir.replace(/^\/app\//, '').replace(/^\.\//, ''), '/'));
    needed.add('config');
    const missing = missingFrom(needed, copied);
    expect(missing, `Dockerfile does not COPY ${missing.join(', ')}, which the processes load`).toEqual([]);
  });

  it('has a .dockerignore that keeps local state out of the image', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split(/\r?\n/).map((l) => l.trim());
    const missing = missingFrom(['node_modules', 'data', '.git', 'coverage', 'test'], ignore);
    expect(missing, `.dockerignore lacks ${missing.join(', ')}`).toEqual([]);
  });
});
