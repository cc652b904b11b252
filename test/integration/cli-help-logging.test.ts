// Every command's --help lists every option it accepts, and one log format switch
// (`-loggerFormat` / `--loggerFormat`, default text, `json` for JSON lines) works for all of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ISOLATE_OPTIONS } from '../../src/isolate/cli.ts';
import { WEBHOOK_OPTIONS } from '../../src/isolate/webhook/main.ts';
import { FLAG_DEFINITIONS as FLAGS } from '../../src/flags/definitions.ts';
import { CLI } from '../helpers/gateway.ts';
import { tempDir } from '../helpers/processes.ts';

const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });

for (const [name, options] of [['isolate', ISOLATE_OPTIONS], ['webhook', WEBHOOK_OPTIONS]] as const) {
  test(`tenantgate ${name} --help lists every option`, () => {
    const r = run(name, '--help');
    assert.equal(r.status, 0, r.stderr);
    for (const [opt, spec] of Object.entries(options)) {
      assert.ok(r.stdout.includes(`--${opt}`), `--${opt} missing from ${name} --help:\n${r.stdout}`);
      if ('short' in spec) assert.ok(r.stdout.includes(`-${spec.short}`), `-${spec.short} missing`);
    }
  });
}

test('tenantgate -help lists every gateway flag', () => {
  const r = run('-help');
  const text = r.stdout + r.stderr;
  for (const f of FLAGS) assert.ok(text.includes(`-${f.name}`), `-${f.name} missing from -help`);
});

test('one log format switch: text by default, JSON with loggerFormat=json, for the gateway and both tools', () => {
  const dir = tempDir('tenantgate-logfmt-');
  try {
    const cfg = join(dir.path, 'auth.yml');
    writeFileSync(cfg, 'users:\n- username: u\n  password: p-secret-1\n  url_prefix: "http://127.0.0.1:1/"\n');
    const gwText = run(`-auth.config=${cfg}`, '-dryRun');
    const gwJson = run(`-auth.config=${cfg}`, '-dryRun', '--loggerFormat=json');
    const isoText = run('isolate', '--label', 'tenant', join(import.meta.dirname, '../fixtures/isolate'));
    // The gateway's spelling, one dash, works for the tools too.
    const isoJson = run('isolate', '--label', 'tenant', '-loggerFormat=json', join(import.meta.dirname, '../fixtures/isolate'));
    for (const [what, r, json] of [['gateway', gwText, false], ['gateway', gwJson, true], ['isolate', isoText, false], ['isolate', isoJson, true]] as const) {
      const lines = (r.stdout + r.stderr).split('\n').filter((l) => l.trim() !== '');
      assert.ok(lines.length > 0, `${what}: no log lines`);
      for (const l of lines) {
        let parsed = true;
        try { JSON.parse(l); } catch { parsed = false; }
        assert.equal(parsed, json, `${what} ${json ? 'json' : 'default'}: ${l}`);
      }
    }
    const bad = run('webhook', '--label', 'tenant', '--tls-cert-file', cfg, '--tls-key-file', cfg, '--loggerFormat=xml');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /loggerFormat/);
    const badIso = run('isolate', '--label', 'tenant', '--loggerFormat=xml', cfg);
    assert.equal(badIso.status, 2);
  } finally {
    dir.remove();
  }
});
