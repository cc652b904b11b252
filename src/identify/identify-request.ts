// Who is calling: static credentials (by digest), bcrypt-hashed passwords, a verified client
// certificate, a JWT, else `unauthorized_user`. Static credentials answer synchronously so the
// common case costs no promise; the slower kinds resolve asynchronously.
import type { IncomingMessage } from 'node:http';
import type { CompiledConfig, CompiledUser } from '../config/model.ts';
import { clientIp } from '../listen/client-address.ts';
import { matchClientCertificate } from './client-certificate.ts';
import { credentialDigest, requestCredentialKeys } from './credentials.ts';
import type { VmAccess } from './jwt/index.ts';

export type Identity =
  | { readonly kind: 'user'; readonly user: CompiledUser; readonly access: VmAccess | null }
  /** No credentials at all, and no unauthorized_user to take the request. */
  | { readonly kind: 'missing' }
  /** Credentials that match nobody, and no unauthorized_user to take the request. */
  | { readonly kind: 'invalid' }
  /** Too many failed password logins from this address or for this username (login-guard.ts). */
  | { readonly kind: 'limited'; readonly message: string; readonly retryAfterSeconds: number };

export interface JwtRefusal { readonly code: string; readonly detail: string }

/** Largest number of remembered credential → user matches per config snapshot. */
const KNOWN_MAX = 10_000;

export class RequestIdentifier {
  readonly #authHeaderNames: readonly string[];
  readonly #onJwtRefused: (req: IncomingMessage, refusal: JwtRefusal) => void;
  /**
   * Credentials that matched a user in the current snapshot → that user, so known clients skip
   * hashing. Only successful matches are stored (bounded), and the cache belongs to one snapshot.
   */
  #known = new Map<string, CompiledUser>();
  #knownFor: CompiledConfig | null = null;

  constructor(authHeaderNames: readonly string[], onJwtRefused: (req: IncomingMessage, refusal: JwtRefusal) => void) {
    this.#authHeaderNames = authHeaderNames;
    this.#onJwtRefused = onJwtRefused;
  }

  identify(config: CompiledConfig, req: IncomingMessage): Identity | Promise<Identity> {
    const keys = requestCredentialKeys(req.headers, this.#authHeaderNames);
    for (const k of keys) {
      const user = this.#lookup(config, k);
      if (user !== undefined) return { kind: 'user', user, access: null };
    }
    const certUser = matchClientCertificate(req, config.mtlsUsers);
    if (certUser !== null) return { kind: 'user', user: certUser, access: null };
    const uu = config.unauthorizedUser;
    if (keys.length === 0) return uu !== null && uu.hasAnyUrls ? { kind: 'user', user: uu, access: null } : MISSING;
    if (config.hashedPasswordUsers.size > 0) return this.#identifyHashed(config, req, keys);
    return this.#afterStaticCredentials(config, req, keys);
  }

  #lookup(config: CompiledConfig, key: string): CompiledUser | undefined {
    if (this.#knownFor !== config) { this.#known = new Map(); this.#knownFor = config; }
    const known = this.#known;
    const hit = known.get(key);
    if (hit !== undefined) return hit;
    const user = config.usersByCredential.get(credentialDigest(key));
    if (user !== undefined) {
      if (known.size >= KNOWN_MAX) known.clear();
      known.set(key, user);
    }
    return user;
  }

  async #identifyHashed(config: CompiledConfig, req: IncomingMessage, keys: readonly string[]): Promise<Identity> {
    for (const k of keys) {
      const r = await config.hashedPasswordUsers.verify(k.slice('http_auth:'.length), clientIp(req));
      if (r === null) continue;
      if (r.kind === 'limited') return { kind: 'limited', message: r.message, retryAfterSeconds: r.retryAfterSeconds };
      return { kind: 'user', user: r, access: null };
    }
    return this.#afterStaticCredentials(config, req, keys);
  }

  /** No static, hashed or certificate user matched: a JWT, else unauthorized_user, else invalid. */
  async #afterStaticCredentials(config: CompiledConfig, req: IncomingMessage, keys: readonly string[]): Promise<Identity> {
    const token = config.jwt !== null ? bearerJwt(keys) : null;
    if (token !== null) {
      const jwt = config.jwt as NonNullable<CompiledConfig['jwt']>;
      const r = await jwt.authenticator.authenticate(token);
      if (r.ok) {
        const user = jwt.users.get(r.index);
        if (user !== undefined) return { kind: 'user', user, access: r.access };
      } else {
        this.#onJwtRefused(req, { code: r.code, detail: r.detail });
      }
    }
    const uu = config.unauthorizedUser;
    return uu !== null && uu.hasAnyUrls ? { kind: 'user', user: uu, access: null } : INVALID;
  }
}

const MISSING: Identity = { kind: 'missing' };
const INVALID: Identity = { kind: 'invalid' };

/** The bare token of an `Authorization: Bearer a.b.c` credential (scheme in any case), if it looks like a JWT. */
function bearerJwt(keys: readonly string[]): string | null {
  const prefix = 'http_auth:bearer ';
  for (const k of keys) {
    if (k.length <= prefix.length || k.slice(0, prefix.length).toLowerCase() !== prefix) continue;
    const t = k.slice(prefix.length);
    const dot = t.indexOf('.');
    if (dot > 0 && t.indexOf('.', dot + 1) > dot + 1) return t;
  }
  return null;
}
