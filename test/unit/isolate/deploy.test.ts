// The shipped webhook manifests: fail-closed, covering every kind the webhook handles, and a
// hardened pod. Catches drift between deploy/webhook/ and the code.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { KINDS } from '../../../src/isolate/objects.ts';
import { parsePolicy } from '../../../src/isolate/policy/load.ts';

const DIR = join(import.meta.dirname, '../../../deploy/webhook');
const docs = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).flatMap((f) => parseAllDocuments(readFileSync(join(DIR, f), 'utf8')).map((d) => {
  assert.deepEqual(d.errors, [], f);
  return d.toJS() as any;
}));
const byKind = (kind: string) => docs.filter((d) => d?.kind === kind);

describe('deploy/webhook manifests', () => {
  for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
    it(`${kind} fails closed and covers every handled kind`, () => {
      const [cfg] = byKind(kind);
      assert.ok(cfg, kind);
      for (const w of cfg.webhooks) {
        assert.equal(w.failurePolicy, 'Fail');
        assert.equal(w.sideEffects, 'None');
        assert.deepEqual(w.admissionReviewVersions, ['v1']);
        assert.equal(w.clientConfig.service.path, kind.startsWith('Mutating') ? '/mutate' : '/validate');
        const covered = new Set<string>();
        for (const r of w.rules) {
          // Validation also sees DELETE (always allowed) so the audit trail records deletions.
          assert.deepEqual(r.operations, kind.startsWith('Mutating') ? ['CREATE', 'UPDATE'] : ['CREATE', 'UPDATE', 'DELETE']);
          for (const g of r.apiGroups) for (const res of r.resources) covered.add(`${g}/${res}`);
        }
        for (const [k, info] of Object.entries(KINDS)) assert.ok(covered.has(`${info.group}/${k.toLowerCase()}s`), `${k} not covered`);
      }
    });
  }

  it('the Deployment runs hardened: non-root, read-only root, no capabilities, RuntimeDefault seccomp, no token', () => {
    const [dep] = byKind('Deployment');
    const pod = dep.spec.template.spec;
    assert.equal(pod.automountServiceAccountToken, false);
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
    for (const c of pod.containers) {
      assert.equal(c.securityContext.runAsNonRoot, true);
      assert.equal(c.securityContext.readOnlyRootFilesystem, true);
      assert.equal(c.securityContext.allowPrivilegeEscalation, false);
      assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
      assert.equal(c.securityContext.seccompProfile.type, 'RuntimeDefault');
      assert.ok(c.args.includes('webhook') && c.args.some((a: string) => a.startsWith('--label=')));
    }
    assert.ok(dep.spec.replicas >= 2);
  });

  it('the shipped policy is valid and mounted where --policy points', () => {
    const [cm] = byKind('ConfigMap');
    const policy = parsePolicy(cm.data['policy.yml'], 'deploy/webhook/policy.yaml');
    assert.ok(policy.forNamespace('payments').integrations?.has('pagerduty_configs'));
    const [dep] = byKind('Deployment');
    const pod = dep.spec.template.spec;
    assert.ok(pod.containers[0].args.includes('--policy=/policy/policy.yml'));
    assert.equal(pod.containers[0].volumeMounts.find((m: any) => m.name === 'policy').mountPath, '/policy');
    assert.equal(pod.volumes.find((v: any) => v.name === 'policy').configMap.name, cm.metadata.name);
    // The documented example is the shipped one.
    const docs = readFileSync(join(import.meta.dirname, '../../../docs/namespace-isolation.md'), 'utf8');
    const section = docs.slice(docs.indexOf('## Alert-definition policy'));
    const example = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    assert.equal(example, cm.data['policy.yml']);
  });

  it('the Service targets the container port and the webhook namespace is exempt from itself', () => {
    const [svc] = byKind('Service');
    const [dep] = byKind('Deployment');
    const port = dep.spec.template.spec.containers[0].ports.find((p: any) => p.name === svc.spec.ports[0].targetPort);
    assert.ok(port);
    assert.equal(svc.spec.ports[0].port, 443);
    const [mut] = byKind('MutatingWebhookConfiguration');
    assert.equal(mut.webhooks[0].clientConfig.service.namespace, svc.metadata.namespace);
    assert.deepEqual(mut.webhooks[0].namespaceSelector.matchExpressions[0], { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [svc.metadata.namespace] });
  });
});
