// `tenantgate check alertmanager`: the built CLI on good and bad files (exit codes, file:line
// messages), with real amtool validating the files and showing where the flagged routes deliver;
// and the Alertmanager configuration `tenantgate isolate` writes passes it.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CLI } from '../helpers/gateway.ts';
import { tempDir } from '../helpers/processes.ts';

const FIX = join(import.meta.dirname, '../fixtures/alertmanager');
const check = (...args: string[]) => spawnSync(process.execPath, [CLI, 'check', 'alertmanager', ...args], { encoding: 'utf8', timeout: 30_000 });
const routeOf = (file: string, ...labels: string[]) =>
  spawnSync('amtool', ['config', 'routes', 'test', `--config.file=${file}`, ...labels], { encoding: 'utf8', timeout: 10_000 }).stdout.trim();

const dir = tempDir('tenantgate-check-am-');
after(() => dir.remove());

describe('tenantgate check alertmanager', () => {
  test('an unsafe file: exit 1, one file:line message per finding', () => {
    const file = join(FIX, 'unsafe.yml');
    const r = check('--label', 'namespace', file);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(lines.slice(0, -1).map((l) => l.split(': ').slice(0, 3).join(': ')), [
      `${file}:5: group_by: route.group_by`,
      `${file}:8: route: route.routes[0]`,
      `${file}:12: route: route.routes[0].routes[0]`,
      `${file}:15: route: route.routes[1]`,
      `${file}:19: inhibit_rule: inhibit_rules[0]`,
    ]);
    assert.match(lines.at(-1)!, /UNSAFE: 5 findings/);
    // What the finding at line 12 means, by Alertmanager's own routing: team-a's alert reaches team-b's pager.
    assert.equal(routeOf(file, 'namespace=team-a', 'service=database', 'owner=team-b'), 'team-b-pager');
  });

  test('a safe file: exit 0, and amtool routes each tenant to its own receivers', () => {
    const file = join(FIX, 'safe.yml');
    const r = check('--label', 'namespace', file);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /OK: keeps tenants/);
    assert.equal(routeOf(file, 'namespace=team-a', 'service=database'), 'team-a-db');
    assert.equal(routeOf(file, 'namespace=team-b', 'severity=critical', 'service=database'), 'team-b-pager');
    assert.equal(routeOf(file, 'namespace=team-c', 'severity=critical'), 'ops');
  });

  test('another tenant label makes the safe file unsafe: the check is per label set', () => {
    assert.equal(check('--label', 'namespace,team', join(FIX, 'safe.yml')).status, 1);
  });

  test('a file amtool refuses is not OK even if it keeps tenants apart', () => {
    const file = join(FIX, 'safe-but-invalid.yml');
    const r = check('--label', 'namespace', file);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /amtool check-config refuses the file:[\s\S]*undefined receiver "nowhere"/);
    assert.equal(check('--label', 'namespace', '--amtool=', file).status, 0);
  });

  test('Debian\'s default Alertmanager configuration is unsafe for tenants', { skip: !existsSync('/etc/prometheus/alertmanager.yml') && 'no Debian prometheus-alertmanager config' }, () => {
    const r = check('--label', 'namespace', '/etc/prometheus/alertmanager.yml');
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /inhibit_rules\[0\]: inhibit rule without "namespace" in equal/);
  });

  test('usage errors exit 2', () => {
    assert.equal(check(join(FIX, 'safe.yml')).status, 2, 'no --label');
    assert.equal(check('--label', 'name space', join(FIX, 'safe.yml')).status, 2);
    assert.equal(check('--label', 'namespace').status, 2, 'no file');
    assert.equal(check('--label', 'namespace', join(FIX, 'missing.yml')).status, 2);
    assert.equal(check('--label', 'namespace', '--amtool', '/nonexistent/amtool', join(FIX, 'safe.yml')).status, 2);
    assert.equal(spawnSync(process.execPath, [CLI, 'check', 'prometheus'], { encoding: 'utf8', timeout: 30_000 }).status, 2);
  });

  test('the Alertmanager configuration tenantgate isolate writes passes the check (and amtool)', () => {
    const out = join(dir.path, 'out');
    const iso = spawnSync(process.execPath, [CLI, 'isolate', '--label', 'tenant', '--out', out, join(import.meta.dirname, '../fixtures/isolate')], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(iso.status, 0, iso.stdout + iso.stderr);
    const r = check('--label', 'tenant', join(out, 'alertmanager.yml'));
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.ok(!r.stderr.includes('amtool not found'));
  });
});
