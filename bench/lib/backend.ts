// The static backend both proxies forward to. nginx (Debian's package, unpacked into the backends
// cache, never installed system-wide) is preferred: it answers ~35k small GETs/s on one core, so it does not
// limit proxies that reach ~15k. Without it a node:http server is used, and the report says so.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { READ_BODY, WRITE_PATH } from './backend-responses.ts';
import { BackendUnavailableError, ensurePrograms, findProgram, programEnv } from '../../scripts/lib/backends.ts';
import { start, waitForPort, type Proc } from './processes.ts';

export interface Backend {
  readonly kind: 'nginx' | 'node';
  readonly port: number;
  readonly proc: Proc;
}

/** nginx from the backends cache (Debian's package unpacked, nothing installed); null when it cannot be had. */
function cachedNginx(log: (s: string) => void): string | null {
  const found = findProgram('nginx');
  if (found !== null) return found;
  try {
    ensurePrograms(['nginx'], { log });
    return findProgram('nginx');
  } catch (err) {
    if (err instanceof BackendUnavailableError) { log(err.message); return null; }
    throw err;
  }
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
  # A remote-write receiver reads the whole body before it answers. nginx's \`return\` answers at
  # once, and a proxy still sending the body must then drop the connection (both Node proxies
  # reconnected for one batch in six to eight). Proxying, even without the body, makes nginx read
  # the body first.
  upstream answer_204 { server 127.0.0.1:${port}; keepalive 32; }
  server {
    listen 127.0.0.1:${port};
    location = ${WRITE_PATH} {
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header Connection "";
      proxy_http_version 1.1;
      proxy_pass http://answer_204/__answer_204;
    }
    location = /__answer_204 { return 204; }
    location / { default_type application/json; return 200 ${q(READ_BODY)}; }
  }
}
`;
}

export async function startBackend(dir: string, port: number, core: number | null, log: (s: string) => void): Promise<Backend> {
  const want = (process.env['BENCH_BACKEND'] ?? 'nginx').toLowerCase();
  const nginx = want === 'node' ? null : cachedNginx(log);
  if (nginx !== null) {
    const d = join(dir, 'nginx');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'nginx.conf'), nginxConfig(d, port));
    const proc = start('nginx', core, nginx, ['-e', 'stderr', '-p', d, '-c', join(d, 'nginx.conf')], programEnv());
    await waitForPort(port, proc);
    return { kind: 'nginx', port, proc };
  }
  if (want !== 'node') log('backend: nginx unavailable; falling back to a node:http backend (check the "direct" line: it may limit the proxies)');
  const script = new URL('./node-backend.ts', import.meta.url).pathname;
  const proc = start('node-backend', core, process.execPath, [script, String(port)]);
  await waitForPort(port, proc);
  return { kind: 'node', port, proc };
}
