// The gateway's Kubernetes manifests: hardened pod settings, the internal port kept off the
// Service, the Deployment's own flags plus the ConfigMap's auth.yml accepted by -dryRun, and
// replicas sharing rate limits through the Redis / Valkey store, scaled by an HPA.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { CLI } from '../helpers/gateway.ts';
import { tempDir } from '../helpers/processes.ts';

const text = (name: string) => readFileSync(new URL(`../../deploy/gateway/${name}`, import.meta.url), 'utf8');
const read = (name: string) => parse(text(name)) as Record<string, any>;
/** Every document of a multi-document manifest file. */
const readAll = (name: string) => parseAllDocuments(text(name)).map((d) => d.toJS() as Record<string, any>);
const ofKind = (name: string, kind: string) => readAll(name).find((d) => d['kind'] === kind) as Record<string, any>;
const gatewayArgs = () => read('deployment.yaml')['spec']['template']['spec']['containers'][0]['args'] as string[];
const redisPasswordFile = '/etc/tenantgate-redis/password';

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
    const password = join(dir.path, 'redis-password');
    writeFileSync(password, readAll('secret.example.yaml').find((d) => d['metadata']['name'] === 'tenantgate-redis')!['stringData']['password']);
    const args = gatewayArgs()
      .map((a) => (a.startsWith('-auth.config=') ? `-auth.config=${auth}` : a))
      .map((a) => (a === `-ratelimit.redis.password=file://${redisPasswordFile}` ? `-ratelimit.redis.password=file://${password}` : a));
    const env = { ...process.env, ...readAll('secret.example.yaml').find((d) => d['metadata']['name'] === 'tenantgate-credentials')!['stringData'] };
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

test('replicas share rate limits through the Redis store, which only tenantgate pods can reach', () => {
  const args = gatewayArgs();
  assert.ok(args.includes('-ratelimit.store=redis'));
  assert.ok(args.some((a) => /^-ratelimit\.failMode=(open|closed)$/.test(a)));
  const redisSvc = ofKind('redis.yaml', 'Service');
  const port = redisSvc['spec']['ports'][0]['port'] as number;
  assert.ok(args.includes(`-ratelimit.redis.addr=${redisSvc['metadata']['name']}.${redisSvc['metadata']['namespace']}.svc:${port}`), 'the address names the Redis Service');
  // The password is read from the mounted Secret that Redis itself uses.
  assert.ok(args.includes(`-ratelimit.redis.password=file://${redisPasswordFile}`));
  const pod = read('deployment.yaml')['spec']['template']['spec'];
  const mount = pod.containers[0].volumeMounts.find((m: { mountPath: string }) => redisPasswordFile.startsWith(m.mountPath + '/'));
  const volume = pod.volumes.find((v: { name: string }) => v.name === mount.name);
  const redisPod = ofKind('redis.yaml', 'Deployment')['spec']['template']['spec'];
  assert.equal(volume.secret.secretName, redisPod.volumes.find((v: { secret?: unknown }) => v.secret !== undefined).secret.secretName);
  assert.ok(readAll('secret.example.yaml').some((d) => d['metadata']['name'] === volume.secret.secretName && typeof d['stringData']['password'] === 'string'));
  // Redis keeps no data on disk, needs a password and is hardened like the gateway.
  const cmd = redisPod.containers[0].args.join(' ') as string;
  assert.match(cmd, /--save ''/);
  assert.match(cmd, /--appendonly no/);
  assert.match(cmd, /--requirepass/);
  assert.equal(redisPod.securityContext.runAsNonRoot, true);
  assert.equal(redisPod.containers[0].securityContext.readOnlyRootFilesystem, true);
  assert.deepEqual(redisPod.containers[0].securityContext.capabilities.drop, ['ALL']);
  assert.ok(redisPod.containers[0].resources.limits.memory);
  const np = ofKind('redis.yaml', 'NetworkPolicy');
  assert.deepEqual(np['spec']['podSelector']['matchLabels'], ofKind('redis.yaml', 'Deployment')['spec']['selector']['matchLabels']);
  assert.deepEqual(np['spec']['ingress'], [{ from: [{ podSelector: { matchLabels: read('deployment.yaml')['spec']['selector']['matchLabels'] } }], ports: [{ port, protocol: 'TCP' }] }]);
});

test('a HorizontalPodAutoscaler scales the Deployment, never below two replicas', () => {
  const hpa = read('hpa.yaml');
  assert.equal(hpa['apiVersion'], 'autoscaling/v2');
  assert.deepEqual(hpa['spec']['scaleTargetRef'], { apiVersion: 'apps/v1', kind: 'Deployment', name: read('deployment.yaml')['metadata']['name'] });
  assert.ok(hpa['spec']['minReplicas'] >= 2 && hpa['spec']['maxReplicas'] > hpa['spec']['minReplicas']);
  assert.ok(hpa['spec']['minReplicas'] > read('poddisruptionbudget.yaml')['spec']['minAvailable'], 'a voluntary disruption leaves a replica serving');
  const resources = read('kustomization.yaml')['resources'] as string[];
  for (const f of ['deployment.yaml', 'service.yaml', 'hpa.yaml', 'redis.yaml']) assert.ok(resources.includes(f), `${f} in kustomization.yaml`);
  for (const f of resources) assert.doesNotThrow(() => text(f), `${f} exists`);
  assert.ok(!resources.includes('secret.example.yaml'));
});
