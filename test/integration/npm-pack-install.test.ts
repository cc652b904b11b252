// The installable command: `npm pack` produces a package that `npm install -g` installs, with a
// working `tenantgate` on PATH; on a Node older than 24 it says so in one line instead of a stack
// trace. The package is packed from this checkout's build (pretest builds it; --ignore-scripts
// keeps the pack from rebuilding dist/ under tests running in parallel) and installed into a
// temporary prefix, preferring npm's cache so the run stays offline when the cache is warm.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/processes.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = tempDir('tenantgate-pack-');
after(() => dir.remove());

test('npm pack + npm install -g gives a working tenantgate on PATH; an old Node gets one clear line', { timeout: 240_000 }, () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; engines: { node: string } };
  assert.equal(pkg.engines.node, '>=24', 'engines says what the code needs');
  execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir.path], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const tgz = readdirSync(dir.path).find((f) => f.endsWith('.tgz'));
  assert.equal(tgz, `tenantgate-${pkg.version}.tgz`);
  const prefix = join(dir.path, 'global');
  execFileSync('npm', ['install', '-g', '--prefix', prefix, join(dir.path, tgz), '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: dir.path, stdio: ['ignore', 'ignore', 'inherit'], timeout: 200_000,
  });

  // The command as a user runs it: found on PATH, run by the `node` on PATH (Node 24 here).
  const bin = join(prefix, 'bin');
  const env = { ...process.env, PATH: [bin, dirname(process.execPath), process.env['PATH'] ?? ''].join(delimiter) };
  const v = spawnSync('tenantgate', ['-version'], { encoding: 'utf8', env, cwd: dir.path });
  assert.equal(v.status, 0, v.stderr);
  assert.equal(v.stdout.trim(), `tenantgate-v${pkg.version}`);
  const cfg = join(dir.path, 'auth.yml');
  writeFileSync(cfg, 'users:\n- username: u\n  password: pack-secret\n  url_prefix: "http://127.0.0.1:1/"\n');
  const dry = spawnSync('tenantgate', [`-auth.config=${cfg}`, '-dryRun'], { encoding: 'utf8', env, cwd: dir.path });
  assert.equal(dry.status, 0, dry.stderr);
  const iso = spawnSync('tenantgate', ['isolate', '--help'], { encoding: 'utf8', env, cwd: dir.path });
  assert.equal(iso.status, 0, iso.stderr);

  // The machine's own Node, when it is older than 24 (this project's CI machine has Node 20).
  const system = spawnSync('/usr/bin/node', ['-p', 'process.versions.node'], { encoding: 'utf8' });
  if (system.status !== 0 || Number(system.stdout.split('.')[0]) >= 24) return;
  const old = spawnSync(join(bin, 'tenantgate'), ['-version'], { encoding: 'utf8', env: { ...process.env, PATH: ['/usr/bin', bin].join(delimiter) }, cwd: dir.path });
  assert.equal(old.status, 1);
  assert.equal(old.stdout, '');
  const lines = old.stderr.trim().split('\n');
  assert.equal(lines.length, 1, old.stderr);
  assert.match(lines[0]!, /^tenantgate needs Node\.js 24 or newer; this is Node\.js v\d+\./);
});
