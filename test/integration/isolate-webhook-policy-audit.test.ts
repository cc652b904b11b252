// `tenantgate webhook --policy FILE --audit-log FILE` as a process over HTTPS: real AdmissionReview
// v1 payloads for each of the 14 kinds, one allowed and one denied; denials list every reason;
// and each decision is one JSON audit line, checked field by field, without object contents.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KINDS } from '../../src/isolate/objects.ts';
import 'reflect-metadata'; // @peculiar/x509 (tsyringe) needs the Reflect metadata API
import { createAuthority } from '../helpers/tls-ca.ts';
import { startProcess, tempDir, type RunningProcess } from '../helpers/processes.ts';

type O = Record<string, unknown>;

const POLICY = `# alert-definition policy used by this test
global:
  rules:
    requiredLabels:
      severity: [critical, warning]
    requiredAnnotations: [summary]
    minFor: 1m
    metrics:
      deny: ['apiserver_.*']
  notifications:
    integrations: [webhook]
    urlHosts: [hooks.example.com]
    minRepeatInterval: 1h
`;
/** Never to appear in an audit line: object contents stay out of the log. */
const MARKER = 'T0KEN-9f8e7d';

function post(port: number, path: string, body: unknown, ca: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', ca, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) }, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try { resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }); } catch { resolve({ status: res.statusCode ?? 0, body: text }); }
      });
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end(data);
  });
}

const VERSION: Record<string, string> = { AlertmanagerConfig: 'v1alpha1', ScrapeConfig: 'v1alpha1' };
const LD = { action: 'labeldrop', regex: 'tenant' };

/** An acceptable spec per kind, and a change to it that must be denied. */
const CASES: Record<string, { ok: O; bad: O; reason: RegExp }> = {
  VMServiceScrape: { ok: { endpoints: [{ port: 'http' }] }, bad: { endpoints: [{ port: 'http', metricRelabelConfigs: [LD] }] }, reason: /metricRelabelConfigs\[0\]: labeldrop/ },
  VMPodScrape: { ok: { podMetricsEndpoints: [{ port: 'm' }] }, bad: { podMetricsEndpoints: [{ port: 'm', honorLabels: true }] }, reason: /honorLabels/ },
  VMNodeScrape: { ok: { port: '9100' }, bad: { port: '9100', metricRelabelConfigs: [LD] }, reason: /spec\.metricRelabelConfigs\[0\]/ },
  VMStaticScrape: { ok: { targetEndpoints: [{ targets: ['a:1'] }] }, bad: { targetEndpoints: [{ targets: ['a:1'], bearerTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token' }] }, reason: /bearerTokenFile/ },
  VMProbe: { ok: { vmProberSpec: { url: 'bb:9115' }, targets: { static: { targets: ['https://example.org'] } } }, bad: { vmProberSpec: { url: 'bb:9115' }, targets: { ingress: { namespaceSelector: { any: true } } } }, reason: /selects targets in every namespace/ },
  VMScrapeConfig: { ok: { staticConfigs: [{ targets: ['a:1'] }] }, bad: { kubernetesSDConfigs: [{ role: 'pod' }] }, reason: /discovers targets in every namespace/ },
  ServiceMonitor: { ok: { endpoints: [{ port: 'http' }] }, bad: { endpoints: [{ port: 'http', honorLabels: true }] }, reason: /honorLabels/ },
  PodMonitor: { ok: { podMetricsEndpoints: [{ port: 'm' }] }, bad: { namespaceSelector: { matchNames: ['team-b'] }, podMetricsEndpoints: [{ port: 'm' }] }, reason: /namespaces \["team-b"\]/ },
  Probe: { ok: { prober: { url: 'bb:9115' }, targets: { staticConfig: { static: ['https://example.org'] } } }, bad: { prober: { url: 'bb:9115' }, targets: { staticConfig: { static: ['x'] } }, metricRelabelings: [LD] }, reason: /metricRelabelings\[0\]/ },
  ScrapeConfig: { ok: { staticConfigs: [{ targets: ['a:1'] }] }, bad: { staticConfigs: [{ targets: ['a:1'] }], metricRelabelings: [LD] }, reason: /metricRelabelings\[0\]/ },
  VMRule: {
    ok: { groups: [{ name: 'g', rules: [{ alert: 'Down', expr: 'up == 0', for: '5m', labels: { severity: 'critical' }, annotations: { summary: 'down' } }] }] },
    bad: { groups: [{ name: 'g', rules: [{ alert: 'Down', expr: 'apiserver_up == 0', for: '10s', labels: { severity: 'page' }, annotations: { description: MARKER } }] }] },
    reason: /4 problems/,
  },
  PrometheusRule: {
    ok: { groups: [{ name: 'g', rules: [{ alert: 'Down', expr: 'up == 0', for: '5m', labels: { severity: 'warning' }, annotations: { summary: 'down' } }] }] },
    bad: { groups: [{ name: 'g', rules: [{ alert: 'Down', expr: 'up == 0', labels: { severity: 'warning' }, annotations: { summary: 'down' } }] }] },
    reason: /\.for: unset/,
  },
  VMAlertmanagerConfig: {
    ok: { route: { receiver: 'r', repeat_interval: '4h' }, receivers: [{ name: 'r', webhook_configs: [{ url: `https://hooks.example.com/${MARKER}` }] }] },
    bad: { route: { receiver: 'r', repeat_interval: '1m' }, receivers: [{ name: 'r', webhook_configs: [{ url: `https://exfil.example.net/${MARKER}` }] }] },
    reason: /2 problems: \(1\) policy: spec\.receivers\[0\]\.webhook_configs\[0\]\.url: host "exfil\.example\.net" .*\(2\) policy: spec\.route\.repeat_interval/,
  },
  AlertmanagerConfig: {
    ok: { route: { receiver: 'r' }, receivers: [{ name: 'r', webhookConfigs: [{ url: `https://hooks.example.com/${MARKER}` }] }] },
    bad: { route: { receiver: 'r' }, receivers: [{ name: 'r', slackConfigs: [{ channel: '#x' }] }] },
    reason: /integration "slack" is not approved/,
  },
};

let serial = 0;
function reviewOf(kind: string, spec: O, operation = 'CREATE'): O {
  const info = KINDS[kind]!;
  const version = VERSION[kind] ?? (info.group === 'monitoring.coreos.com' ? 'v1' : 'v1beta1');
  const name = `obj-${kind.toLowerCase()}`;
  return {
    apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
    request: {
      uid: `00000000-0000-4000-8000-${String(++serial).padStart(12, '0')}`,
      kind: { group: info.group, version, kind },
      resource: { group: info.group, version, resource: `${kind.toLowerCase()}s` },
      name, namespace: 'team-a', operation,
      userInfo: { username: 'system:serviceaccount:team-a:argocd', uid: 'u-123', groups: ['system:serviceaccounts', 'system:authenticated'], extra: { 'authentication.kubernetes.io/credential-id': [`JTI=${MARKER}`] } },
      object: { apiVersion: `${info.group}/${version}`, kind, metadata: { name, namespace: 'team-a' }, spec },
      dryRun: false,
    },
  };
}

let pki: { caPem: string };
let proc: RunningProcess;
let port = 0;
const dir = tempDir('tenantgate-webhook-audit-');
const auditPath = join(dir.path, 'audit.jsonl');

function auditLines(): O[] {
  let text = '';
  try { text = readFileSync(auditPath, 'utf8'); } catch { return []; }
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as O);
}
async function auditFor(uid: string): Promise<O> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const line = auditLines().find((l) => l.uid === uid);
    if (line !== undefined) return line;
    if (Date.now() > deadline) throw new Error(`no audit line for ${uid}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

before(async () => {
  const ca = await createAuthority('tenantgate webhook test CA');
  const server = await ca.issue('tenantgate-webhook.monitoring.svc', { dns: ['tenantgate-webhook.monitoring.svc'], ips: ['127.0.0.1'], server: true });
  pki = { caPem: ca.caCert };
  writeFileSync(join(dir.path, 'tls.crt'), server.cert);
  writeFileSync(join(dir.path, 'tls.key'), server.key);
  writeFileSync(join(dir.path, 'policy.yml'), POLICY);
  const cli = join(import.meta.dirname, '../../src/cli.ts');
  proc = startProcess(process.execPath, [cli, 'webhook', '--label', 'tenant', '--listen', '127.0.0.1:0', '--tls-cert-file', join(dir.path, 'tls.crt'), '--tls-key-file', join(dir.path, 'tls.key'), '--policy', join(dir.path, 'policy.yml'), '--audit-log', auditPath]);
  const deadline = Date.now() + 15_000;
  let addr: string | undefined;
  while (addr === undefined && Date.now() < deadline) {
    addr = /"?address"?[:=]"127\.0\.0\.1:(\d+)"/.exec(proc.output())?.[1];
    if (addr === undefined) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(addr, proc.output());
  port = Number(addr);
});
after(async () => { await proc?.stop(); dir.remove(); });

describe('every kind: allowed and denied, with one audit line each', () => {
  for (const [kind, c] of Object.entries(CASES)) {
    const info = KINDS[kind]!;
    it(`${kind}: allowed (mutate), audit line field by field`, async () => {
      const review = reviewOf(kind, c.ok) as { request: O };
      const res = await post(port, '/mutate', review, pki.caPem);
      assert.equal(res.status, 200);
      assert.equal(res.body.response.allowed, true, JSON.stringify(res.body));
      const ops = JSON.parse(Buffer.from(res.body.response.patch, 'base64').toString('utf8')) as { path: string }[];
      const line = await auditFor(String(review.request.uid));
      assert.equal(typeof line.time, 'string');
      assert.ok(!Number.isNaN(Date.parse(String(line.time))));
      assert.deepEqual({ ...line, time: undefined }, {
        time: undefined, msg: 'admission decision', webhook: 'mutate', uid: review.request.uid,
        user: { username: 'system:serviceaccount:team-a:argocd', uid: 'u-123', groups: ['system:serviceaccounts', 'system:authenticated'] },
        operation: 'CREATE', kind: `${info.group}/${String((review.request.kind as O).version)}/${kind}`, namespace: 'team-a', name: `obj-${kind.toLowerCase()}`,
        allowed: true, reasons: [], patch: { operations: ops.length, paths: ops.map((o) => o.path) }, warnings: line.warnings,
      });
      assert.ok(ops.length > 0);
      assert.ok(!JSON.stringify(line).includes(MARKER), 'object contents or credentials leaked into the audit line');
    });

    it(`${kind}: denied with every reason, audit line lists them`, async () => {
      const review = reviewOf(kind, c.bad, 'UPDATE') as { request: O };
      for (const path of ['/mutate', '/validate']) {
        const r = { ...review, request: { ...review.request, uid: `${String(review.request.uid)}-${path.slice(1)}` } };
        const res = await post(port, path, r, pki.caPem);
        assert.equal(res.body.response.allowed, false, JSON.stringify(res.body));
        assert.equal(res.body.response.status.code, 403);
        assert.match(res.body.response.status.message, c.reason);
        const line = await auditFor(String(r.request.uid));
        assert.equal(line.webhook, path.slice(1));
        assert.equal(line.operation, 'UPDATE');
        assert.equal(line.allowed, false);
        assert.equal(line.patch, null);
        const reasons = line.reasons as string[];
        assert.ok(reasons.length >= 1);
        // The message lists the same reasons the audit line records.
        for (const reason of reasons) assert.ok((res.body.response.status.message as string).includes(reason), reason);
        assert.ok(!JSON.stringify(line).includes(MARKER), 'object contents leaked into the audit line');
      }
    });
  }

  it('a VMRule breaking four policy rules is denied with all four, in the message and the audit line', async () => {
    const review = reviewOf('VMRule', CASES.VMRule!.bad) as { request: O };
    const res = await post(port, '/mutate', review, pki.caPem);
    const line = await auditFor(String(review.request.uid));
    assert.deepEqual(line.reasons, [
      'policy: spec.groups[0].rules[0].expr: metric "apiserver_up" is denied by the policy [ERR_ISOLATE_POLICY]',
      'policy: spec.groups[0].rules[0].labels.severity: "page" is not allowed by the policy (one of critical, warning) [ERR_ISOLATE_POLICY]',
      'policy: spec.groups[0].rules[0].annotations.summary: required by the policy [ERR_ISOLATE_POLICY]',
      'policy: spec.groups[0].rules[0].for: "10s" is shorter than the policy\'s minimum of 1m [ERR_ISOLATE_POLICY]',
    ]);
    assert.match(res.body.response.status.message, /^tenantgate: 4 problems: \(1\) policy: .*\(4\) policy: /);
  });

  it('DELETE is allowed and audited', async () => {
    const review = reviewOf('VMRule', CASES.VMRule!.bad, 'DELETE') as { request: O };
    const res = await post(port, '/validate', review, pki.caPem);
    assert.equal(res.body.response.allowed, true);
    const line = await auditFor(String(review.request.uid));
    assert.deepEqual([line.operation, line.allowed, line.reasons, line.patch], ['DELETE', true, [], null]);
  });

  it('a malformed review is refused (400) and logged without a decision', async () => {
    const before = auditLines().length;
    const res = await post(port, '/mutate', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, pki.caPem);
    assert.equal(res.status, 400);
    const deadline = Date.now() + 5000;
    while (auditLines().length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const last = auditLines().at(-1)!;
    assert.deepEqual([last.msg, last.status, last.path], ['admission request refused', 400, '/mutate']);
  });

  it('a policy file with an error stops the webhook at start with file:line', async () => {
    writeFileSync(join(dir.path, 'bad-policy.yml'), 'global:\n  rules:\n    minFor: soon\n');
    const cli = join(import.meta.dirname, '../../src/cli.ts');
    const p = startProcess(process.execPath, [cli, 'webhook', '--label', 'tenant', '--tls-cert-file', join(dir.path, 'tls.crt'), '--tls-key-file', join(dir.path, 'tls.key'), '--policy', join(dir.path, 'bad-policy.yml')]);
    const code = await p.exited;
    assert.equal(code, 2);
    assert.match(p.output(), /bad-policy\.yml:3: global\.rules\.minFor: must be a duration/);
  });
});
