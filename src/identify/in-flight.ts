// Requests in flight, re-identified against each new config snapshot. A reload that removes a
// user (or changes its password, token or certificate rule) must also end what that user already
// has open: a live tail (/select/logsql/tail) or a long export would otherwise keep flowing for
// as long as the client keeps the connection. After every swap each tracked request presents its
// credentials to the new snapshot again; one that no longer identifies any user is closed at once.
import type { IncomingMessage } from 'node:http';
import { clientIp } from '../listen/client-address.ts';
import type { CompiledConfig, CompiledUser } from '../config/model.ts';
import type { Logger } from '../observe/logger.ts';
import { matchClientCertificate } from './client-certificate.ts';
import { credentialDigest, requestCredentialKeys } from './credentials.ts';

/** A request in flight: what identified it, and how to end it. */
export interface TrackedRequest {
  readonly req: IncomingMessage;
  readonly user: CompiledUser;
  close(): void;
}

export class InFlightRequests {
  readonly #entries = new Set<TrackedRequest>();
  readonly #authHeaderNames: readonly string[];

  constructor(authHeaderNames: readonly string[]) {
    this.#authHeaderNames = authHeaderNames;
  }

  get size(): number { return this.#entries.size; }

  /** Tracks a request until the returned function is called. */
  track(req: IncomingMessage, user: CompiledUser, close: () => void): () => void {
    const e: TrackedRequest = { req, user, close };
    this.#entries.add(e);
    return () => { this.#entries.delete(e); };
  }

  /** Tracks `r` itself until `remove(r)`: no wrapper or closure per request on the hot path. */
  add(r: TrackedRequest): void { this.#entries.add(r); }

  remove(r: TrackedRequest): void { this.#entries.delete(r); }

  /** Closes every tracked request whose credentials identify no user of `config`; resolves with how many. */
  async revalidate(config: CompiledConfig, log: Logger): Promise<number> {
    let closed = 0;
    for (const e of [...this.#entries]) {
      if (!this.#entries.has(e)) continue;
      let ok: boolean;
      try {
        ok = await stillIdentified(config, e.req, e.user, this.#authHeaderNames);
      } catch {
        ok = false;
      }
      if (ok || !this.#entries.has(e)) continue;
      this.#entries.delete(e);
      closed++;
      log.warn(`closing a request of user ${e.user.logName} that the reloaded -auth.config no longer authorizes`);
      e.close();
    }
    return closed;
  }
}

/** Whether the request's credentials identify some user in `config`, the way the gateway identifies them. */
export async function stillIdentified(config: CompiledConfig, req: IncomingMessage, user: CompiledUser, authHeaderNames: readonly string[]): Promise<boolean> {
  if (user.kind === 'unauthorized') return config.unauthorizedUser !== null && config.unauthorizedUser.hasAnyUrls;
  if (user.kind === 'mtls') return matchClientCertificate(req, config.mtlsUsers) !== null;
  const keys = requestCredentialKeys(req.headers, authHeaderNames);
  for (const k of keys) if (config.usersByCredential.has(credentialDigest(k))) return true;
  if (user.kind === 'basic' && config.hashedPasswordUsers.size > 0) {
    // A login limit in force says nothing about whether the user still exists: keep the stream.
    for (const k of keys) if (await config.hashedPasswordUsers.verify(k.slice('http_auth:'.length), clientIp(req)) !== null) return true;
  }
  if (user.kind === 'jwt' && config.jwt !== null) {
    const prefix = 'http_auth:Bearer ';
    for (const k of keys) {
      if (!k.startsWith(prefix)) continue;
      const r = await config.jwt.authenticator.authenticate(k.slice(prefix.length));
      if (r.ok && config.jwt.users.has(r.index)) return true;
    }
  }
  return false;
}
