import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { clusterMissing } from './cluster.ts';

let root: string | undefined;
afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
  root = undefined;
});

/** A tree with the given files (path -> text), as clusterMissing reads it. */
function tree(files: Record<string, string>): string {
  root = `${mkdtempSync(join(tmpdir(), 'chaos-cluster-'))}/`;
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('the cluster scenario hook', () => {
  it.each<{ files: Record<string, string>; reason: RegExp }>([
    { files: { 'libs/config/env.ts': "'REDIS_CLUSTER_NODES'" }, reason: /redisCluster\.ts is absent/ },
    { files: { 'test/helpers/redisCluster.ts': '', 'libs/config/env.ts': "'REDIS_URL'" }, reason: /does not read REDIS_CLUSTER_NODES/ },
  ])('skips with the reason: $reason', ({ files, reason }) => {
    expect(clusterMissing(tree(files))).toMatch(reason);
  });

  it('runs once the helper and the variable both exist', () => {
    expect(clusterMissing(tree({ 'test/helpers/redisCluster.ts': '', 'libs/config/env.ts': "'REDIS_CLUSTER_NODES'" }))).toBeNull();
  });
});
