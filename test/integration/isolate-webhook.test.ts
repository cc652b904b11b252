// The admission webhook over real HTTPS with a test CA (generated here with @peculiar/x509):
// AdmissionReview v1 fixtures in, AdmissionReview out; mutation as base64 JSON patches that
// produce the hardened object; denial with the reason for what cannot be made safe.
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import type { Server } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import 'reflect-metadata'; // @peculiar/x509 (tsyringe) needs the Reflect metadata API
import * as x509 from '@peculiar/x509';
import { hardenObject } from '../../src/isolate/harden.ts';
import { makeOptions } from '../../src/isolate/options.ts';
import { applyPatch, type PatchOp } from '../../src/isolate/webhook/jsonpatch.ts';
import { createWebhookServer } from '../../src/isolate/webhook/server.ts';
import { startProcess, tempDir } from '../helpers/processes.ts';

const FIX = join(import.meta.dirname, '../fixtures/isolate/admission');
const fixture = (name: string) => JSON.parse(readFileSync(join(FIX, name), 'utf8')) as { request: { uid: string; object?: Record<string, unknown>; namespace?: string } };
const opts = makeOptions({ label: 'tenant' });

interface Pki { caPem: string; certPem: string; keyPem: string }

async function makePki(): Promise<Pki> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 3600_000);
  const caKeys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01', name: 'CN=tenantgate test CA', notBefore, notAfter, keys: caKeys, signingAlgorithm: alg,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '02', subject: 'CN=tenantgate-webhook.monitoring.svc', issuer: ca.subject, notBefore, notAfter,
    signingKey: caKeys.privateKey, publicKey: keys.publicKey, signingAlgorithm: alg,
    extensions: [
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'tenantgate-webhook.monitoring.svc' }, { type: 'ip', value: '127.0.0.1' }]),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { caPem: ca.toString('pem'), certPem: cert.toString('pem'), keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
}

function post(port: number, path: string, body: unknown, ca: string | undefined, contentType = 'application/json'): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const data = typeof body === 'string' ? body : JSON.stringify(body);
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', ca, headers: { 'content-type': contentType, 'content-length': Buffer.byteLength(data) }, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try { parsed = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end(data);
  });
}

let pki: Pki;
let server: Server;
let port = 0;

before(async () => {
  pki = await makePki();
  server = createWebhookServer({ cert: pki.certPem, key: pki.keyPem, isolate: opts });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as { port: number }).port;
});
after(() => new Promise<void>((r) => { server?.close(() => r()); server?.closeAllConnections(); }));

function patchOf(response: { patchType?: string; patch?: string }): PatchOp[] {
  assert.equal(response.patchType, 'JSONPatch');
  return JSON.parse(Buffer.from(response.patch!, 'base64').toString('utf8')) as PatchOp[];
}

describe('TLS', () => {
  it('a client trusting the test CA connects; one without it is refused', async () => {
    const ok = await post(port, '/mutate', fixture('delete.json'), pki.caPem);
    assert.equal(ok.status, 200);
    await assert.rejects(post(port, '/mutate', fixture('delete.json'), undefined), /self.signed|unable to (get|verify)|certificate/i);
  });
});

describe('mutating webhook', () => {
  it('ServiceMonitor CREATE: patch adds the final relabel rules and drops the metric rule writing the label', async () => {
    const review = fixture('servicemonitor-create.json');
    const res = await post(port, '/mutate', review, pki.caPem);
    assert.equal(res.status, 200);
    assert.equal(res.body.apiVersion, 'admission.k8s.io/v1');
    assert.equal(res.body.kind, 'AdmissionReview');
    assert.equal(res.body.response.uid, review.request.uid);
    assert.equal(res.body.response.allowed, true);
    const patched = applyPatch(review.request.object, patchOf(res.body.response)) as any;
    const ep = patched.spec.endpoints[0];
    assert.deepEqual(ep.relabelings.at(-1), { targetLabel: 'tenant', replacement: 'team-a' });
    assert.deepEqual(ep.metricRelabelings, [{ action: 'labeldrop', regex: 'vm_account_id|vm_project_id' }, { targetLabel: 'tenant', replacement: 'team-a' }]);
    assert.match(res.body.response.warnings.join('\n'), /writes the enforced label/);
    // The patched object is a fixpoint: the validating webhook admits it.
    const v = await post(port, '/validate', { ...review, request: { ...review.request, object: patched } }, pki.caPem);
    assert.equal(v.body.response.allowed, true, JSON.stringify(v.body));
  });

  it('VMRule reading another namespace: expression ANDed with the admission namespace (selects nothing), label and extra_label pinned to it', async () => {
    const review = fixture('vmrule-other-namespace.json');
    const res = await post(port, '/mutate', review, pki.caPem);
    const patched = applyPatch(review.request.object, patchOf(res.body.response)) as any;
    assert.equal(patched.metadata.namespace, 'team-a');
    assert.deepEqual(patched.spec.groups[0].rules[0], { record: 'stolen', expr: 'sum(secret_total{tenant="team-b", tenant="team-a"})', labels: { tenant: 'team-a' } });
    assert.deepEqual(patched.spec.groups[0].params, { extra_label: ['tenant=team-a'] });
  });

  it('AlertmanagerConfig UPDATE: top route and inhibit rules pinned to the namespace', async () => {
    const review = fixture('alertmanagerconfig-update.json');
    const res = await post(port, '/mutate', review, pki.caPem);
    const patched = applyPatch(review.request.object, patchOf(res.body.response)) as any;
    assert.deepEqual(patched.spec.route.matchers, [{ name: 'tenant', value: 'team-b', matchType: '=' }]);
    assert.deepEqual(patched.spec.inhibitRules[0].targetMatch, [{ name: 'tenant', value: 'team-b', matchType: '=' }]);
    assert.deepEqual(patched, hardenObject(review.request.object, opts, 'team-b').object);
  });

  const denials: Array<[string, RegExp]> = [
    ['vmpodscrape-labeldrop.json', /metricRelabelConfigs\[0\]: labeldrop rule may remove or rewrite the enforced label "tenant".*ERR_ISOLATE_UNSAFE/],
    ['podmonitor-honorlabels.json', /podMetricsEndpoints\[0\]\.honorLabels/],
    ['empty-namespace-create.json', /empty namespace/],
    ['invalid-namespace.json', /not a valid DNS-1123 label/],
    ['namespace-mismatch.json', /claims namespace "team-b" but is admitted in "team-a"/],
    ['deployment.json', /not a kind this webhook handles/],
  ];
  for (const [name, reason] of denials) {
    it(`denies ${name} with the reason`, async () => {
      for (const path of ['/mutate', '/validate']) {
        const res = await post(port, path, fixture(name), pki.caPem);
        assert.equal(res.status, 200);
        assert.equal(res.body.response.allowed, false, `${path} ${JSON.stringify(res.body)}`);
        assert.equal(res.body.response.status.code, 403);
        assert.match(res.body.response.status.message, reason);
        assert.equal(res.body.response.patch, undefined);
      }
    });
  }

  it('DELETE is allowed without a patch', async () => {
    const res = await post(port, '/mutate', fixture('delete.json'), pki.caPem);
    assert.deepEqual(res.body.response, { uid: fixture('delete.json').request.uid, allowed: true });
  });
});

describe('validating webhook', () => {
  it('denies an object that has not been hardened (mutation skipped or undone later)', async () => {
    const res = await post(port, '/validate', fixture('servicemonitor-create.json'), pki.caPem);
    assert.equal(res.body.response.allowed, false);
    assert.match(res.body.response.status.message, /not in isolated form .*\/spec\/endpoints\/0/);
  });

  it('denies a hardened object whose final rule was removed again afterwards', async () => {
    const review = fixture('servicemonitor-create.json');
    const hardened = hardenObject(review.request.object, opts, 'team-a').object as any;
    hardened.spec.endpoints[0].metricRelabelings.pop();
    const res = await post(port, '/validate', { ...review, request: { ...review.request, object: hardened } }, pki.caPem);
    assert.equal(res.body.response.allowed, false);
  });
});

describe('malformed requests', () => {
  it('answer 4xx, never an allowing review (the API server then fails closed)', async () => {
    assert.equal((await post(port, '/mutate', 'not json', pki.caPem)).status, 400);
    assert.equal((await post(port, '/mutate', { apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: {} }, pki.caPem)).status, 400);
    assert.equal((await post(port, '/mutate', fixture('delete.json'), pki.caPem, 'text/plain')).status, 415);
    assert.equal((await post(port, '/other', fixture('delete.json'), pki.caPem)).status, 404);
  });
});

describe('tenantgate webhook command', () => {
  it('serves reviews with the given certificate and stops on SIGTERM', async () => {
    const dir = tempDir('tenantgate-webhook-');
    try {
      writeFileSync(join(dir.path, 'tls.crt'), pki.certPem);
      writeFileSync(join(dir.path, 'tls.key'), pki.keyPem);
      const cli = join(import.meta.dirname, '../../src/cli.ts');
      const proc = startProcess(process.execPath, [cli, 'webhook', '--label', 'tenant', '--listen', '127.0.0.1:0', '--tls-cert-file', join(dir.path, 'tls.crt'), '--tls-key-file', join(dir.path, 'tls.key'), '--loggerFormat=json']);
      const deadline = Date.now() + 15_000;
      let addr: string | undefined;
      while (addr === undefined && Date.now() < deadline) {
        addr = /"address":"127\.0\.0\.1:(\d+)"/.exec(proc.output())?.[1];
        if (addr === undefined) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(addr, proc.output());
      const res = await post(Number(addr), '/mutate', fixture('vmpodscrape-labeldrop.json'), pki.caPem);
      assert.equal(res.body.response.allowed, false);
      assert.equal(await proc.stop(), 0);
      assert.match(proc.output(), /"allowed":false/);
    } finally {
      dir.remove();
    }
  });
});
