// Basic-auth users whose password is stored as a bcrypt hash (`password_hash:`), so the config
// holds no plaintext secret. bcrypt is deliberately slow, so it never runs on the event loop
// (offload pool, one verification per client address at a time), a verified Authorization value
// is remembered (by digest) for a while, and failures are limited by the login guard.
//
// Timing says nothing about which usernames exist: an unknown username is verified against a
// configured hash of the highest cost, and the answer ignored. bcrypt reads only the first 72
// bytes of a password, so a longer password is refused outright rather than half-checked.
import type { CompiledUser } from '../config/model.ts';
import { bcryptCompare } from '../offload/offload.ts';
import { credentialDigest } from './credentials.ts';
import { loginGuard } from './login-guard.ts';

const BCRYPT = /^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$/;
const CACHE_TTL_MS = 5 * 60_000;
const CACHE_MAX = 10_000;
const FAILED_TTL_MS = 5 * 60_000;
/** bcrypt ignores every byte after the 72nd. */
export const BCRYPT_MAX_PASSWORD_BYTES = 72;

export const isBcryptHash = (s: string) => BCRYPT.test(s);

const cost = (hash: string) => Number(BCRYPT.exec(hash)?.[1] ?? 0);

/** A login that may not even be tried now (429), with the seconds after which it may. */
export interface LoginLimited {
  readonly kind: 'limited';
  readonly message: string;
  readonly retryAfterSeconds: number;
}

export type VerifyResult = CompiledUser | null | LoginLimited;

export class HashedPasswordUsers {
  readonly #byUsername: ReadonlyMap<string, { readonly hash: string; readonly user: CompiledUser }>;
  readonly #verified = new Map<string, { readonly user: CompiledUser; readonly until: number }>();
  /** Authorization digests that failed lately: the same wrong secret fails again without hashing. */
  readonly #failed = new Map<string, number>();
  /** What an unknown username is checked against, so it costs what a known one does. */
  readonly #dummyHash: string | null = null;

  constructor(entries: ReadonlyMap<string, { readonly hash: string; readonly user: CompiledUser }>) {
    this.#byUsername = entries;
    for (const { hash } of entries.values()) {
      if (this.#dummyHash === null || cost(hash) > cost(this.#dummyHash)) this.#dummyHash = hash;
    }
  }

  get size(): number { return this.#byUsername.size; }

  /** The user a `Basic …` Authorization value identifies, null, or a refusal to try now. */
  async verify(authorization: string, clientIp: string): Promise<VerifyResult> {
    if (!authorization.startsWith('Basic ') || this.#dummyHash === null) return null;
    const key = credentialDigest(authorization);
    const hit = this.#verified.get(key);
    if (hit !== undefined && hit.until > Date.now()) return hit.user;
    const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return null;
    const username = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const guard = loginGuard();
    const limited = guard.limited(clientIp, username);
    if (limited !== null) return { kind: 'limited', message: limited, retryAfterSeconds: guard.retryAfterSeconds(clientIp, username) };
    if (this.#failedRecently(key)) { guard.recordFailure(clientIp, username); return null; }
    if (Buffer.byteLength(password, 'utf8') > BCRYPT_MAX_PASSWORD_BYTES) { this.#fail(clientIp, username, key); return null; }
    const entry = this.#byUsername.get(username);
    const ok = await bcryptCompare(password, entry?.hash ?? this.#dummyHash, `ip\0${clientIp}`);
    if (ok === 'queue-full') {
      return { kind: 'limited', message: 'too many logins are waiting to be verified (-auth.maxQueuedLoginsPerIP per address, -auth.bcryptConcurrency × 64 in all); retry later', retryAfterSeconds: 1 };
    }
    if (!ok || entry === undefined) { this.#fail(clientIp, username, key); return null; }
    if (this.#verified.size >= CACHE_MAX) this.#verified.delete(this.#verified.keys().next().value as string);
    this.#verified.set(key, { user: entry.user, until: Date.now() + CACHE_TTL_MS });
    return entry.user;
  }

  #failedRecently(key: string): boolean {
    const until = this.#failed.get(key);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.#failed.delete(key);
    return false;
  }

  #fail(ip: string, username: string, key: string): void {
    loginGuard().recordFailure(ip, username);
    this.#failed.delete(key);
    if (this.#failed.size >= CACHE_MAX) this.#failed.delete(this.#failed.keys().next().value as string);
    this.#failed.set(key, Date.now() + FAILED_TTL_MS);
  }
}
