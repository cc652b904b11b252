// Before a broken backend gets traffic again, a TCP connection to it must succeed (vmauth does
// the same since v1.130: issue 9997). A backend still down after -failTimeout then costs no
// client request a failed attempt.
import { connect } from 'node:net';
import { pickSrvTarget, type DiscoveryResolver } from './discovery-resolver.ts';

export type Probe = (origin: string) => Promise<boolean>;

const PROBE_TIMEOUT_MS = 1000;

export function tcpProbe(resolver: DiscoveryResolver): Probe {
  return async (origin) => {
    let url: URL;
    try { url = new URL(origin); } catch { return false; }
    let host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    let port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    if (host.startsWith('srv+')) {
      try {
        const t = pickSrvTarget(await resolver.resolveSrv(host.slice(4)));
        host = t.name;
        if (url.port === '') port = t.port;
      } catch {
        return false;
      }
    }
    return new Promise<boolean>((resolve) => {
      const s = connect({ host, port });
      const done = (ok: boolean) => { clearTimeout(timer); s.destroy(); resolve(ok); };
      const timer = setTimeout(() => done(false), PROBE_TIMEOUT_MS);
      s.once('connect', () => done(true));
      s.once('error', () => done(false));
    });
  };
}
