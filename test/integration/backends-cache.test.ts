// The backends come from the project's cache (Debian packages unpacked by scripts/ensure-backends.ts,
// which `npm test` runs first), not from whatever the machine has installed: every program
// resolves inside the cache, runs from there with the cache's shared libraries, and a second
// ensure run downloads nothing. A machine that can get neither gets a message naming what is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir, DEFAULT_PROGRAMS, findProgram, missingLibraries, programEnv, programPath } from '../../scripts/lib/backends.ts';
import { freePort, sleep, startProcess, tempDir } from '../helpers/processes.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENSURE = join(ROOT, 'scripts', 'ensure-backends.ts');

test('every program resolves inside the cache and runs from it', () => {
  const root = cacheDir();
  for (const p of DEFAULT_PROGRAMS) {
    const path = findProgram(p);
    assert.ok(path !== null && path.startsWith(root + '/'), `${p} resolved to ${path}, not into ${root}`);
    assert.deepEqual(missingLibraries(path), [], `${p} lacks shared libraries`);
  }
  const versions: Array<[typeof DEFAULT_PROGRAMS[number], string[], RegExp]> = [
    // Debian's VictoriaMetrics builds print an empty -version; their -help names their own flags.
    ['victoria-metrics', ['-help'], /-storageDataPath/], ['vmalert', ['-help'], /-datasource\.url/], ['vmagent', ['-help'], /-remoteWrite\.url/],
    ['prometheus', ['--version'], /prometheus, version/], ['promtool', ['--version'], /promtool, version/],
    ['alertmanager', ['--version'], /alertmanager, version/], ['amtool', ['--version'], /amtool, version/],
    ['redis-server', ['--version'], /Redis server v=/], ['wrk', ['-v'], /wrk \S+ \[epoll\]/],
  ];
  for (const [p, args, want] of versions) {
    const r = spawnSync(programPath(p), args, { encoding: 'utf8', env: programEnv(), timeout: 20_000 });
    assert.match(`${r.stdout}${r.stderr}`, want, `${p} ${args.join(' ')}`);
  }
});

test('the cache\'s shared libraries come first: redis-server links jemalloc from the cache and serves', async () => {
  const ldd = spawnSync('ldd', [programPath('redis-server')], { encoding: 'utf8', env: programEnv() });
  assert.match(ldd.stdout, new RegExp(`libjemalloc\\.so\\.2 => ${cacheDir().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`));
  const port = await freePort();
  const dir = tempDir('tenantgate-redis-');
  const redis = startProcess(programPath('redis-server'), ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir.path], { env: programEnv() });
  try {
    let reply = '';
    for (let i = 0; i < 50 && !reply.includes('PONG'); i++) {
      reply = await new Promise<string>((resolve) => {
        const s = connect(port, '127.0.0.1', () => s.write('PING\r\n'));
        s.once('data', (b) => { resolve(b.toString()); s.destroy(); });
        s.once('error', () => resolve(''));
      });
      if (!reply.includes('PONG')) await sleep(100);
    }
    assert.match(reply, /\+PONG/, redis.output());
  } finally {
    await redis.stop();
    dir.remove();
  }
});

test('a second ensure run reuses the cache; unknown programs and unobtainable ones get clear messages', () => {
  const again = spawnSync(process.execPath, [ENSURE], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(again.status, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /downloading/);
  const unknown = spawnSync(process.execPath, [ENSURE, 'victoria-metric'], { encoding: 'utf8' });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown program victoria-metric; known: victoria-metrics/);
  // An empty cache on a machine without apt-get (PATH holds only node): the message names what is missing.
  const empty = tempDir('tenantgate-nocache-');
  try {
    const r = spawnSync(process.execPath, [ENSURE, 'vmalert', 'wrk'], { encoding: 'utf8', env: { PATH: dirname(process.execPath), TENANTGATE_BACKENDS_DIR: empty.path } });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /vmalert, wrk missing, and this machine has no apt-get\/dpkg-deb/);
  } finally {
    empty.remove();
  }
});
