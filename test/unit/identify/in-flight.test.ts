// Requests in flight are re-identified against a reloaded config; those left without a user close.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { compileDefaultsFromFlags } from '../../../src/gateway/main.ts';
import { parseFlags } from '../../../src/flags/parse.ts';
import { parseConfigText } from '../../../src/config/load.ts';
import { InFlightRequests } from '../../../src/identify/in-flight.ts';
import { Logger } from '../../../src/observe/logger.ts';

const defaults = compileDefaultsFromFlags(parseFlags([], {}));
const compile = (yaml: string) => parseConfigText(yaml, 'auth.yml', defaults, {});
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const req = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization }, socket: {} }) as unknown as IncomingMessage;

test('after a reload only requests whose credentials still name a user stay open', async () => {
  const lines: string[] = [];
  const log = new Logger({ level: 'INFO', format: 'default', output: 'stderr', disableTimestamps: true, sink: (l) => lines.push(l) });
  const before = compile(`users:
- {username: alice, password: "Alice-Pass-1", url_prefix: "http://127.0.0.1:1/"}
- {username: bob, password: "Bob-Pass-1", url_prefix: "http://127.0.0.1:1/"}
- {bearer_token: "Carol-Token-1", url_prefix: "http://127.0.0.1:1/"}
unauthorized_user: {url_prefix: "http://127.0.0.1:1/"}
`);
  const after = compile(`users:
- {username: bob, password: "Bob-Pass-1", url_prefix: "http://127.0.0.1:2/"}
- {bearer_token: "Carol-Token-2", url_prefix: "http://127.0.0.1:1/"}
`);
  const inFlight = new InFlightRequests(['authorization']);
  const closed: string[] = [];
  const userOf = (i: number) => before.users[i]!;
  inFlight.track(req(basic('alice', 'Alice-Pass-1')), userOf(0), () => closed.push('alice'));
  inFlight.track(req(basic('bob', 'Bob-Pass-1')), userOf(1), () => closed.push('bob'));
  inFlight.track(req('Bearer Carol-Token-1'), userOf(2), () => closed.push('carol, whose token was rotated'));
  inFlight.track(req(), before.unauthorizedUser!, () => closed.push('anonymous'));
  const untrack = inFlight.track(req(basic('alice', 'Alice-Pass-1')), userOf(0), () => closed.push('finished before the reload'));
  untrack();
  assert.equal(await inFlight.revalidate(after, log), 3);
  assert.deepEqual(closed.sort(), ['alice', 'anonymous', 'carol, whose token was rotated']);
  assert.equal(inFlight.size, 1, 'bob stays tracked');
  assert.ok(lines.every((l) => !l.includes('Alice-Pass-1') && !l.includes('Carol-Token-1')));
  for (const c of [before, after]) for (const s of c.backendSets) s.retire();
});
