// The static backend both proxies forward to. nginx (Debian's package, installed here when
// missing and we are root) is preferred: it answers ~35k small GETs/s on one core, so it does not
// limit proxies that reach ~15k. Without it a node:http server is used, and the report says so.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { READ_BODY, WRITE_PATH } from './backend-responses.ts';
import { hasCommand, start, waitForPort, type Proc } from './processes.ts';

export interface Backend {
  readonly kind: 'nginx' | 'node';
  readonly port: number;
  readonly proc: Proc;
}

function installNginx(log: (s: string) => void): boolean {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) return false;
  log('backend: nginx is missing; installing Debian\'s nginx package');
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'nginx'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  } catch {
    try {
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
      execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'nginx'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    } catch { return false; }
  }
  return hasCommand('nginx');
}

function nginxConfig(dir: string, port: number): string {
  const q = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return `worker_processes 1;
daemon off;
master_process off;
error_log stderr error;
pid ${dir}/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  client_max_body_size 64m;
  client_body_buffer_size 1m;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    location = ${WRITE_PATH} { return 204; }
    location / { default_type application/json; return 200 ${q(READ_BODY)}; }
  }
}
`;
}

export async function startBackend(dir: string, port: number, core: number | null, log: (s: string) => void): Promise<Backend> {
  const want = (process.env['BENCH_BACKEND'] ?? 'nginx').toLowerCase();
  if (want !== 'node' && (hasCommand('nginx') || installNginx(log))) {
    const d = join(dir, 'nginx');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'nginx.conf'), nginxConfig(d, port));
    const proc = start('nginx', core, 'nginx', ['-e', 'stderr', '-p', d, '-c', join(d, 'nginx.conf')]);
    await waitForPort(port, proc);
    return { kind: 'nginx', port, proc };
  }
  if (want !== 'node') log('backend: nginx unavailable; falling back to a node:http backend (check the "direct" line: it may limit the proxies)');
  const script = new URL('./node-backend.ts', import.meta.url).pathname;
  const proc = start('node-backend', core, process.execPath, [script, String(port)]);
  await waitForPort(port, proc);
  return { kind: 'node', port, proc };
}
