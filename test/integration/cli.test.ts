// The tenantgate binary as a user runs it: flags, -help, -version, -dryRun.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI } from '../helpers/gateway.ts';
import { tempDir } from '../helpers/processes.ts';

const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

test('the "Auth config" example of the vmauth docs passes -dryRun unchanged', () => {
  const r = run(`-auth.config=${fixture('vmauth-docs-auth-config.yml')}`, '-dryRun');
  assert.equal(r.status, 0, r.stderr);
});

test('the default config passes -dryRun', () => {
  const r = run(`-auth.config=${fileURLToPath(new URL('../../config/default.yml', import.meta.url))}`, '-dryRun');
  assert.equal(r.status, 0, r.stderr);
});

test('-dryRun on a broken config exits 1 with file, line and field', () => {
  const dir = tempDir();
  try {
    const p = join(dir.path, 'auth.yml');
    writeFileSync(p, 'users:\n- username: a\n  password: b\n  url_prefix: "http://127.0.0.1:1/"\n  max_concurrent_request: 3\n');
    const r = run(`-auth.config=${p}`, '-dryRun');
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`${p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:5:3: users\\[0\\]\\.max_concurrent_request: unknown field`));
  } finally { dir.remove(); }
});

test('unknown flag: exit code 2 and a clear message', () => {
  const r = run('-auth.confg=x');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /flag provided but not defined: -auth.confg/);
});

test('vmauth flag not supported yet: exit code 2, never silently ignored', () => {
  const r = run('-auth.config=x', '-tlsAutocertHosts=example.com');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /-tlsAutocertHosts is a vmauth flag that tenantgate does not support yet/);
});

test('-help lists every flag with its default; -version prints the version', () => {
  const h = run('-help');
  assert.equal(h.status, 0);
  for (const f of ['-auth.config', '-httpListenAddr', '-maxRequestBodySizeToRetry', '-loadBalancingPolicy']) assert.ok(h.stdout.includes(`  ${f} `), f);
  assert.match(h.stdout, /\(default "16KiB"\)/);
  const v = run('-version');
  assert.equal(v.status, 0);
  assert.match(v.stdout, /^tenantgate-v\d+\.\d+\.\d+/);
});

test('missing -auth.config is an error', () => {
  const r = run();
  assert.equal(r.status, 1);
  assert.match(r.stderr, /missing required `-auth.config`/);
});

test('-tenantDefaults and TLS flags given as URLs: exit code 2 and a clear message', () => {
  const bad = run('-tenantDefaults=open', '-auth.config=x');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /invalid value "open" for flag -tenantDefaults: must be secure or vmauth/);
  const url = run('-backend.TLSCAFile=https://config/ca.pem', '-auth.config=x');
  assert.equal(url.status, 2);
  assert.match(url.stderr, /flag -backend.TLSCAFile is an http\(s\) URL; tenantgate reads TLS material from local files only/);
});

test('the README quick start configs (tenant: style, vmauth style, with the editor schema line) pass -dryRun', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('## Authentication'));
  const blocks = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  assert.equal(blocks.length, 3);
  assert.match(blocks[0] as string, /tenant: \{enforce: victoriametrics/);
  assert.match(blocks[1] as string, /\?extra_label=tenant=team-a/);
  assert.match(blocks[2] as string, /^# yaml-language-server: \$schema=/);
  const dir = tempDir();
  try {
    for (const [i, yaml] of blocks.entries()) {
      const p = join(dir.path, `quick-${i}.yml`);
      writeFileSync(p, yaml);
      const r = spawnSync(process.execPath, [CLI, `-auth.config=${p}`, '-dryRun'], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, TEAM_A_PASSWORD: 'a-secret', TEAM_B_PASSWORD: 'b-secret' } });
      assert.equal(r.status, 0, r.stderr);
    }
  } finally { dir.remove(); }
});
