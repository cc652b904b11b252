// Backend TLS files: validated when the pool is made, re-read when they change (checked at most
// once a second, driven here by explicit clock values), and a file missing mid-rotation keeps
// the last good material.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { BackendTlsFileError, TlsMaterial } from '../../../src/forward/tls-material.ts';

function dir() {
  const d = mkdtempSync(join(tmpdir(), 'tg-tls-'));
  return { path: (n: string) => join(d, n), remove: () => rmSync(d, { recursive: true, force: true }) };
}

test('a missing file fails at once with the option and the file named', () => {
  const d = dir();
  try {
    assert.throws(() => new TlsMaterial(d.path('nope-ca.pem'), '', ''), (err: unknown) => {
      assert.ok(err instanceof BackendTlsFileError);
      assert.equal(err.code, 'ERR_BACKEND_TLS_FILE');
      assert.equal(err.option, 'caFile');
      assert.match(err.message, /CA file ".*nope-ca\.pem"/);
      return true;
    });
  } finally { d.remove(); }
});

test('changed files are picked up on the next check; unchanged ones keep the version', async () => {
  const d = dir();
  try {
    writeFileSync(d.path('ca.pem'), 'first');
    writeFileSync(d.path('cert.pem'), 'cert');
    writeFileSync(d.path('key.pem'), 'key');
    const t0 = Date.now();
    const m = new TlsMaterial(d.path('ca.pem'), d.path('cert.pem'), d.path('key.pem'), t0);
    const v0 = await m.get(t0);
    assert.equal(v0.ca?.toString(), 'first');
    assert.equal(v0.version, 0);

    writeFileSync(d.path('ca.pem'), 'second, longer');
    assert.equal((await m.get(t0 + 10)).ca?.toString(), 'first', 'not checked again within a second');
    const v1 = await m.get(Date.now() + 1500);
    assert.equal(v1.ca?.toString(), 'second, longer');
    assert.equal(v1.cert?.toString(), 'cert');
    assert.equal(v1.version, 1);
    const v2 = await m.get(Date.now() + 3000);
    assert.equal(v2.version, 1, 'no change, same version');
  } finally { d.remove(); }
});

test('a file that disappears during rotation keeps the last good content', async () => {
  const d = dir();
  try {
    writeFileSync(d.path('ca.pem'), 'good');
    const m = new TlsMaterial(d.path('ca.pem'), '', '');
    rmSync(d.path('ca.pem'));
    const v = await m.get(Date.now() + 1500);
    assert.equal(v.ca?.toString(), 'good');
    assert.ok(m.lastError instanceof BackendTlsFileError);
  } finally { d.remove(); }
});

test('no files: nothing to watch', () => {
  const m = new TlsMaterial('', '', '');
  assert.equal(m.hasFiles, false);
  const v = m.get(Date.now() + 10_000);
  assert.ok(!(v instanceof Promise));
  assert.equal(v.ca, undefined);
});
