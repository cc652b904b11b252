// A gateway whose enforcement work pool has started threads must still exit promptly on
// SIGTERM: the threads are stopped with the listeners, not left to keep the process alive
// until an orchestrator's kill timeout.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basic, startGateway, type Gateway } from '../helpers/gateway.ts';

let backend: Server;
let gw: Gateway | undefined;
const enforcedQueries: string[] = [];

before(async () => {
  backend = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url?.startsWith('/api/v1/query') === true) enforcedQueries.push(new URLSearchParams(Buffer.concat(chunks).toString()).get('query') ?? '');
      res.setHeader('content-type', 'application/json');
      res.end('{"status":"success","data":{"resultType":"vector","result":[]}}');
    });
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
});

after(async () => {
  await gw?.stop();
  backend.closeAllConnections();
  await new Promise<void>((r) => backend.close(() => r()));
});

test('after enforcing in worker threads, SIGTERM ends the process with code 0 well before a kill timeout', async () => {
  const url = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
  gw = await startGateway(`
users:
- username: team-a
  password: team-a-secret-pw
  url_prefix: ${url}
  tenant: {enforce: promql, labels: {namespace: team-a}}
`, { flags: ['-enforce.offloadThreshold=1'] });
  // A POSTed query: its form body is the enforcement work, which the threshold sends to a thread.
  const long = `sum(rate(http_requests_total{job="api", handler=~"${'x'.repeat(3000)}"}[5m]))`;
  for (let i = 0; i < 4; i++) {
    const res = await fetch(`${gw.url}/api/v1/query`, {
      method: 'POST',
      headers: { authorization: basic('team-a', 'team-a-secret-pw'), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: long }).toString(),
    });
    assert.equal(res.status, 200, await res.text());
  }
  assert.equal(enforcedQueries.length, 4);
  assert.ok(enforcedQueries.every((q) => q.includes('namespace="team-a"')), 'the pool enforced the queries');
  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  assert.match(metrics, /tenantgate_offload_tasks_total\{pool="enforce",result="done"\} [1-9]/, 'the work ran in the pool');
  // SIGKILL only after 8 s; a process kept alive by its threads would report 'SIGKILL'.
  const code = await gw.proc.stop(8000);
  assert.equal(code, 0);
});
