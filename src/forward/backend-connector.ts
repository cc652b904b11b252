// How a backend pool opens a connection: the TLS name to verify is the configured one (never
// the Host header a request carries), CA/cert/key come from files that are re-read when they
// change, and `srv+name` hosts are resolved through DNS SRV for every new connection, as
// vmauth's dialer does.
import { buildConnector } from 'undici';
import { pickSrvTarget, type DiscoveryResolver } from './discovery-resolver.ts';
import type { TlsFiles, TlsMaterial } from './tls-material.ts';

export interface ConnectorOptions {
  /** TLS files of an HTTPS backend; null for plain HTTP. */
  readonly material: TlsMaterial | null;
  readonly insecureSkipVerify: boolean;
  /** Name sent as SNI and verified; '' = the connected host's name (or its IP for IP URLs). */
  readonly serverName: string;
  readonly srv: { readonly name: string; readonly explicitPort: string; readonly resolver: DiscoveryResolver } | null;
  readonly timeoutMs?: number | undefined;
}

type Connect = buildConnector.connector;

export class BackendConnector {
  readonly #o: ConnectorOptions;
  #tls: { version: number; connect: Connect } | null = null;
  readonly #plain: Connect;

  constructor(o: ConnectorOptions) {
    this.#o = o;
    this.#plain = buildConnector(o.timeoutMs !== undefined ? { timeout: o.timeoutMs } : {});
  }

  readonly connect: Connect = (opts, callback) => {
    const o = this.#o;
    const material = o.material?.get();
    // The common case (plain host, material unchanged) connects without a microtask hop.
    if (o.srv === null && !(material instanceof Promise)) {
      this.#open(opts.hostname, opts.port, material, opts, callback);
      return;
    }
    void (async () => {
      let hostname = opts.hostname;
      let port = opts.port;
      if (o.srv !== null) {
        const t = pickSrvTarget(await o.srv.resolver.resolveSrv(o.srv.name));
        hostname = t.name;
        port = o.srv.explicitPort !== '' ? o.srv.explicitPort : String(t.port);
      }
      this.#open(hostname, port, await material, opts, callback);
    })().catch((err: Error) => callback(err, null));
  };

  #open(hostname: string, port: string, material: TlsFiles | undefined, opts: buildConnector.Options, callback: buildConnector.Callback): void {
    const o = this.#o;
    if (material === undefined) {
      this.#plain({ ...opts, hostname, port }, callback);
      return;
    }
    const sni = o.serverName !== '' ? o.serverName : o.srv !== null ? hostname : '';
    this.#tlsConnect(material)({ ...opts, hostname, port, servername: sni }, callback);
  }

  #tlsConnect(m: TlsFiles): Connect {
    if (this.#tls === null || this.#tls.version !== m.version) {
      const o = this.#o;
      this.#tls = {
        version: m.version,
        connect: buildConnector({
          ...(o.timeoutMs !== undefined ? { timeout: o.timeoutMs } : {}),
          rejectUnauthorized: !o.insecureSkipVerify,
          ...(m.ca ? { ca: m.ca } : {}),
          ...(m.cert ? { cert: m.cert } : {}),
          ...(m.key ? { key: m.key } : {}),
        }),
      };
    }
    return this.#tls.connect;
  }
}
