// Basic-auth users whose password is stored as a bcrypt hash (`password_hash:`), so the config
// holds no plaintext secret. bcrypt is deliberately slow, so a verified Authorization value is
// remembered (by digest) for a while; failures are never cached, so guessing stays expensive.
import bcrypt from 'bcryptjs';
import type { CompiledUser } from '../config/model.ts';
import { credentialDigest } from './credentials.ts';

const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;
const CACHE_TTL_MS = 5 * 60_000;
const CACHE_MAX = 10_000;

export const isBcryptHash = (s: string) => BCRYPT.test(s);

export class HashedPasswordUsers {
  readonly #byUsername: ReadonlyMap<string, { readonly hash: string; readonly user: CompiledUser }>;
  readonly #verified = new Map<string, { readonly user: CompiledUser; readonly until: number }>();

  constructor(entries: ReadonlyMap<string, { readonly hash: string; readonly user: CompiledUser }>) {
    this.#byUsername = entries;
  }

  get size(): number { return this.#byUsername.size; }

  /** The user a `Basic …` Authorization value identifies, or null. */
  async verify(authorization: string): Promise<CompiledUser | null> {
    if (!authorization.startsWith('Basic ')) return null;
    const key = credentialDigest(authorization);
    const hit = this.#verified.get(key);
    if (hit !== undefined && hit.until > Date.now()) return hit.user;
    const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return null;
    const entry = this.#byUsername.get(decoded.slice(0, colon));
    if (entry === undefined) return null;
    if (!(await bcrypt.compare(decoded.slice(colon + 1), entry.hash))) return null;
    if (this.#verified.size >= CACHE_MAX) this.#verified.delete(this.#verified.keys().next().value as string);
    this.#verified.set(key, { user: entry.user, until: Date.now() + CACHE_TTL_MS });
    return entry.user;
  }
}
