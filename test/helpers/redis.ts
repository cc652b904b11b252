// A real redis-server (Debian's package, or $REDIS_SERVER) on 127.0.0.1 with no persistence,
// started and stopped by PID. Restartable on the same port, for store-outage tests.
import { programEnv, programPath } from '../../scripts/lib/backends.ts';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { freePort, sleep, startProcess, tempDir, type RunningProcess } from './processes.ts';

export interface RedisServer {
  readonly port: number;
  readonly addr: string;
  readonly proc: RunningProcess;
  /** SIGKILL: the store disappears as in a crash. */
  kill(): Promise<void>;
  /** Starts a fresh (empty) server on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** $REDIS_SERVER, else the project's backends cache (scripts/lib/backends.ts), else PATH. */
export function redisServerBinary(): string {
  const fromEnv = process.env.REDIS_SERVER;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return programPath('redis-server');
}

/** Sends PING; true when the server answers +PONG. */
function ping(port: number, tls: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tls ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : connect(port, '127.0.0.1');
    const done = (ok: boolean) => { s.destroy(); resolve(ok); };
    s.setTimeout(1000, () => done(false));
    s.once('error', () => done(false));
    s.once(tls ? 'secureConnect' : 'connect', () => s.write('PING\r\n'));
    // A server with a password answers -NOAUTH: it is up all the same.
    s.once('data', (b: Buffer) => done(b.toString().startsWith('+PONG') || b.toString().startsWith('-NOAUTH')));
  });
}

export interface RedisOptions {
  /** More redis-server options, e.g. ['--requirepass', 'secret']. */
  readonly args?: readonly string[];
  /** Serve TLS only (no plain port), with these PEM files; clients are not asked for certificates. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile: string };
}

export async function startRedis(opts: RedisOptions = {}): Promise<RedisServer> {
  const bin = redisServerBinary();
  const port = await freePort();
  const dir = tempDir('tenantgate-redis-');
  const launch = async (): Promise<RunningProcess> => {
    const t = opts.tls;
    const listen = t === undefined ? ['--port', String(port)]
      : ['--port', '0', '--tls-port', String(port), '--tls-cert-file', t.certFile, '--tls-key-file', t.keyFile, '--tls-ca-cert-file', t.caFile, '--tls-auth-clients', 'no'];
    const proc = startProcess(bin, ['--bind', '127.0.0.1', ...listen, '--save', '', '--appendonly', 'no', '--dir', dir.path, '--loglevel', 'warning', ...(opts.args ?? [])], { env: programEnv() });
    for (let i = 0; i < 100; i++) {
      if (await ping(port, t !== undefined)) return proc;
      if (proc.child.exitCode !== null) break;
      await sleep(50);
    }
    await proc.stop();
    throw new Error(`redis-server did not answer on 127.0.0.1:${port}:\n${proc.output()}`);
  };
  let proc = await launch();
  return {
    port,
    addr: `127.0.0.1:${port}`,
    get proc() { return proc; },
    async kill() {
      try { process.kill(proc.pid, 'SIGKILL'); } catch { /* already gone */ }
      await proc.exited;
    },
    async restart() { proc = await launch(); },
    async stop() { await proc.stop(); dir.remove(); },
  };
}
