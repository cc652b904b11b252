// A newcomer's first minutes, from a fresh clone: `git clone` of this working tree's HEAD into a
// temporary directory, the README's first command run as written, a tenant query answered
// through the gateway, then a SIGTERM to the command's PID: every process it started is gone and
// the port is free afterwards.
//
// To stay fast and offline, `npm ci` (the first half of the README command) is replaced by a
// symlink to this checkout's node_modules, and the backends cache is shared through
// TENANTGATE_BACKENDS_DIR (both documented in README.md); everything after `npm ci &&` runs as written.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir } from '../../scripts/lib/backends.ts';
import { freePort, sleep, tempDir } from '../helpers/processes.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = tempDir('tenantgate-clone-');
after(() => dir.remove());

function groupAlive(pgid: number): boolean {
  try { process.kill(-pgid, 0); return true; } catch { return false; }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

const isGitCheckout = spawnSync('git', ['-C', ROOT, 'rev-parse', '--git-dir'], { stdio: 'ignore' }).status === 0;

test('README demo command from a fresh clone: two tenants served, then stopped by PID with nothing left behind', { timeout: 240_000, skip: isGitCheckout ? false : 'not a git checkout' }, async () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const first = /```sh\n([^\n]+)/.exec(readme.slice(readme.indexOf('## Two commands')))?.[1] ?? '';
  const command = first.replace(/\s+#.*$/, '').trim();
  assert.match(command, /^npm ci && /, `the README's first command should install, then start: ${first}`);
  const afterInstall = command.slice('npm ci && '.length);

  const clone = join(dir.path, 'tenantgate');
  execFileSync('git', ['clone', '-q', ROOT, clone], { stdio: ['ignore', 'ignore', 'inherit'] });
  symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(clone, 'node_modules'));
  assert.ok(!existsSync(join(clone, 'dist')), 'a clone has no build');

  const port = await freePort();
  // Run as a shell would run it, but with the command itself as the child: its PID is the one a
  // user's `kill` would name.
  const argv = afterInstall.split(/\s+/);
  assert.deepEqual(argv, ['npm', 'start'], 'a simple command after the install');
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: clone,
    detached: true, // its own process group, so "everything it started" can be checked
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TENANTGATE_DEMO_PORT: String(port), TENANTGATE_BACKENDS_DIR: cacheDir() },
  });
  const pgid = child.pid!;
  let out = '';
  child.stdout!.on('data', (b: Buffer) => { out += b.toString('utf8'); });
  child.stderr!.on('data', (b: Buffer) => { out += b.toString('utf8'); });
  try {
    const deadline = Date.now() + 180_000;
    while (!out.includes('demo is ready') && Date.now() < deadline && child.exitCode === null) await sleep(200);
    assert.ok(out.includes('demo is ready'), `the demo did not become ready:\n${out}`);
    assert.match(out, /step 1\/5[\s\S]*step 5\/5/, 'progress is printed');

    const creds = [...out.matchAll(/user (team-[ab])\s+password (\S+)/g)].map((m) => [m[1]!, m[2]!] as const);
    assert.equal(creds.length, 2, out);
    for (const [user, pass] of creds) {
      const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=demo_requests_total`, {
        headers: { authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` },
        signal: AbortSignal.timeout(10_000),
      });
      const j = await r.json() as { data: { result: Array<{ metric: Record<string, string> }> } };
      assert.equal(r.status, 200);
      assert.equal(j.data.result.length, 2);
      for (const s of j.data.result) assert.equal(s.metric['namespace'], user);
    }
    const wrong = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=up`, { headers: { authorization: `Basic ${Buffer.from('team-a:wrong').toString('base64')}` }, signal: AbortSignal.timeout(10_000) });
    await wrong.arrayBuffer();
    assert.equal(wrong.status, 401);

    process.kill(child.pid!, 'SIGTERM'); // the command's PID, as a user would
    const stopDeadline = Date.now() + 30_000;
    while (groupAlive(pgid) && Date.now() < stopDeadline) await sleep(200);
    assert.equal(groupAlive(pgid), false, `processes of the demo are still running:\n${out}`);
    assert.equal(await portOpen(port), false, 'the gateway port is still open');
  } finally {
    if (groupAlive(pgid)) { try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ } }
  }
});
