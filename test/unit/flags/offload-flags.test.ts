// The -enforce.* and -auth.* flags of the work pools and the login guard: defaults, and values
// out of range refused at start-up with a message naming the flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlagError, parseFlags } from '../../../src/flags/parse.ts';
import { offloadFromFlags } from '../../../src/gateway/main.ts';
import { DEFAULT_OFFLOAD } from '../../../src/offload/offload.ts';
import { DEFAULT_LOGIN_GUARD } from '../../../src/identify/login-guard.ts';

test('the flag defaults are the documented defaults', () => {
  const { offload, guard } = offloadFromFlags(parseFlags([], {}));
  assert.deepEqual(offload, { ...DEFAULT_OFFLOAD });
  assert.deepEqual(guard, { ...DEFAULT_LOGIN_GUARD });
});

test('values are read', () => {
  const { offload, guard } = offloadFromFlags(parseFlags(['-enforce.threads=0', '-enforce.offloadThreshold=1MiB', '-auth.maxFailedLoginsPerIP=0', '-auth.failedLoginWindow=30s'], {}));
  assert.equal(offload.threads, 0);
  assert.equal(offload.thresholdBytes, 1 << 20);
  assert.equal(guard.maxPerIp, 0);
  assert.equal(guard.windowMs, 30_000);
});

test('out-of-range values are refused, naming the flag', () => {
  for (const [arg, name] of [
    ['-enforce.threads=65', 'enforce.threads'], ['-enforce.maxQueuedPerUser=0', 'enforce.maxQueuedPerUser'],
    ['-auth.bcryptConcurrency=0', 'auth.bcryptConcurrency'], ['-auth.maxQueuedLoginsPerIP=0', 'auth.maxQueuedLoginsPerIP'],
    ['-auth.maxFailedLoginsPerUser=-1', 'auth.maxFailedLoginsPerUser'], ['-auth.failedLoginWindow=0s', 'auth.failedLoginWindow'],
  ] as const) {
    assert.throws(() => offloadFromFlags(parseFlags([arg], {})), (e: unknown) => e instanceof FlagError && e.message.includes(`-${name}`), arg);
  }
});
