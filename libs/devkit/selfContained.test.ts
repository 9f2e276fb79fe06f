/**
 * The repository explains itself: no file points at documents that live outside it (planning
 * notes, tickets, shared folders), and every relative link in its Markdown leads to a file it holds.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './processes.ts';

const SKIP_DIRS = new Set(['node_modules', '.git', 'data', 'coverage']);
const TEXT = /\.(ts|js|mjs|md|json|ya?ml|rb|lua|gemspec|sh|txt)$|(^|\/)(Dockerfile|Gemfile|\.dockerignore)$/;

function repositoryFiles(dir = ROOT): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return SKIP_DIRS.has(entry.name) ? [] : repositoryFiles(path);
    return TEXT.test(path) && entry.name !== 'package-lock.json' ? [path] : [];
  });
}

// Written in pieces so that this file does not match itself.
const OUTSIDE = [
  new RegExp(`\\b${'DES'}IGN(\\.md)?\\b`),
  new RegExp(`\\b${'PITF'}ALLS(\\.md)?\\b`),
  new RegExp(`\\b${'STY'}LE\\.md\\b`),
  new RegExp(`/work/${'sha'}red`),
  new RegExp(`\\b${'iss'}ue\\s*#?\\d+`, 'i'),
];

const files = repositoryFiles();

describe('the repository is self-contained', () => {
  it('finds the files it checks', () => {
    expect(files.map((f) => relative(ROOT, f))).toEqual(expect.arrayContaining(['README.md', 'docs/architecture.md', 'docs/operations.md', 'apps/api/main.ts']));
  });

  it('no file refers to documents outside the repository', () => {
    const found = files.flatMap((file) => {
      const lines = readFileSync(file, 'utf8').split('\n');
      return lines.flatMap((line, i) => (OUTSIDE.some((re) => re.test(line)) ? [`${relative(ROOT, file)}:${i + 1}: ${line.trim().slice(0, 120)}`] : []));
    });
    expect(found, `references to documents outside the repository:\n${found.join('\n')}`).toEqual([]);
  });

  it('every relative Markdown link leads to a file of the repository', () => {
    const broken = files
      .filter((file) => file.endsWith('.md'))
      .flatMap((file) =>
        [...readFileSync(file, 'utf8').matchAll(/\]\(([^)\s]+)\)/g)]
          .map((m) => m[1]!.split('#')[0]!)
          .filter((target) => target !== '' && !/^[a-z][a-z0-9+.-]*:/i.test(target))
          .filter((target) => !existsSync(resolve(dirname(file), target)))
          .map((target) => `${relative(ROOT, file)} -> ${target}`),
      );
    expect(broken, `broken links:\n${broken.join('\n')}`).toEqual([]);
  });
});
