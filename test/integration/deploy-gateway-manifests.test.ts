// The gateway's Kubernetes manifests: hardened pod settings, the internal port kept off the
// Service, and the Deployment's own flags plus the ConfigMap's auth.yml accepted by -dryRun.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CLI } from '../helpers/gateway.ts';
import { tempDir } from '../helpers/processes.ts';

const read = (name: string) => parse(readFileSync(new URL(`../../deploy/gateway/${name}`, import.meta.url), 'utf8')) as Record<string, any>;

test('the Deployment runs unprivileged, read-only, without a service-account token', () => {
  const pod = read('deployment.yaml')['spec']['template']['spec'];
  assert.equal(pod.automountServiceAccountToken, false);
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
  for (const c of pod.containers) {
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
    assert.ok(c.resources.limits.memory, 'memory limit set');
  }
});

test('the Service exposes only the proxy port; internal endpoints stay inside', () => {
  const ports = read('service.yaml')['spec']['ports'] as { port: number }[];
  assert.deepEqual(ports.map((p) => p.port), [8427]);
  const args = read('deployment.yaml')['spec']['template']['spec']['containers'][0]['args'] as string[];
  assert.ok(args.includes('-httpInternalListenAddr=:8426'));
});

test('the Deployment flags and the ConfigMap auth.yml pass -dryRun', () => {
  const dir = tempDir();
  try {
    const auth = join(dir.path, 'auth.yml');
    writeFileSync(auth, read('configmap.yaml')['data']['auth.yml']);
    const args = (read('deployment.yaml')['spec']['template']['spec']['containers'][0]['args'] as string[])
      .map((a) => (a.startsWith('-auth.config=') ? `-auth.config=${auth}` : a));
    const env = { ...process.env, ...read('secret.example.yaml')['stringData'] };
    const r = spawnSync(process.execPath, [CLI, ...args, '-dryRun'], { encoding: 'utf8', env, timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    // The shipped config isolates its tenants with `tenant:` sections, not bare extra_label args.
    const users = parse(read('configmap.yaml')['data']['auth.yml'])['users'] as { tenant?: unknown; url_prefix: string }[];
    assert.ok(users.length > 0 && users.every((u) => u.tenant !== undefined && !u.url_prefix.includes('extra_label')));
    // Without the Secret's variables the config is refused rather than run with literal placeholders.
    const bare = spawnSync(process.execPath, [CLI, ...args, '-dryRun'], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' }, timeout: 30_000 });
    assert.equal(bare.status, 1);
    assert.match(bare.stderr, /environment variable TEAM_A_PASSWORD referenced by %\{TEAM_A_PASSWORD\} is not set/);
  } finally {
    dir.remove();
  }
});
