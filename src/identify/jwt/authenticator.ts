// The per-request entry point: which `jwt:` section (if any) accepts a bearer token.
//
// Model: a section accepts a token when ALL of its conditions hold — its match_claims, its
// issuer/audience, a usable vm_access (claim or default), and a signature made by one of its
// keys. Sections are tried most-specific first (most match_claims entries; config order breaks
// ties), and the first that accepts wins. Precedence therefore only chooses among sections that
// would each accept the token on their own; it can never widen what a section accepts.
import { hash } from 'node:crypto';
import { claimSetSignature, compileMatchClaims, matchesAll, type ClaimMatcher, type ClaimsView } from './claim-match.ts';
import { jwtSectionSchema, type JwtSection, type JwtSectionConfig } from './config-schema.ts';
import { fail, JwtConfigError, type JwtErrorCode, type JwtFailure } from './errors.ts';
import { createStaticKeySource, NO_KEYS, type KeySource } from './key-source.ts';
import type { JwtLogger } from './logger.ts';
import { createOidcKeySource, DEFAULT_OIDC_TIMINGS, type OidcKeySource, type OidcTimings } from './oidc-key-source.ts';
import { checkAudience, checkIssuer, checkTimeClaims, parseToken, type ParsedToken } from './token.ts';
import { selectKeys, verifyWithKeys } from './verify-signature.ts';
import type { VerificationKey } from './keys.ts';
import { parseVmAccess, type VmAccess, type VmAccessParse } from './vm-access.ts';

export interface JwtSectionInput {
  /** Position of the user in `users[]`; reported back in results and config errors. */
  readonly index: number;
  /** The user's `name` (may be empty); for logs only. */
  readonly name: string;
  /** The `jwt:` section, raw from YAML or already parsed by jwtSectionSchema (it is validated again). */
  readonly jwt: JwtSectionConfig;
}

export interface JwtAuthenticatorOptions {
  readonly logger: JwtLogger;
  /** For OIDC discovery and JWKS; defaults to the global fetch. */
  readonly fetch?: typeof fetch;
  /** Wall clock in milliseconds since the epoch, for exp/nbf/iat. Defaults to Date.now. */
  readonly now?: () => number;
  /** Tolerance for exp/nbf/iat, in seconds. Default 30, at most 300. */
  readonly clockSkewSeconds?: number;
  /** OIDC refresh timings; see DEFAULT_OIDC_TIMINGS. */
  readonly oidc?: Partial<OidcTimings>;
}

export type JwtResult =
  | { readonly ok: true; readonly index: number; readonly name: string; readonly claims: Readonly<Record<string, unknown>>; readonly access: VmAccess }
  | { readonly ok: false; readonly code: JwtErrorCode; readonly detail: string };

export interface JwtAuthenticator {
  /** `token` is the bare compact JWT (no `Bearer ` prefix). Never rejects; failures are results. */
  authenticate(token: string): Promise<JwtResult>;
  /** Resolves once every OIDC provider has been tried once (keys loaded or failure logged). */
  ready(): Promise<void>;
  /** Stops background key refresh. */
  close(): void;
  /**
   * Which user a token with these claims would be, skipping the signature and time checks: for
   * `tenantgate explain`, which shows what a token can do without holding one.
   */
  selectByClaims(claims: Readonly<Record<string, unknown>>): JwtResult;
}

interface CompiledSection {
  readonly index: number;
  readonly name: string;
  readonly matchers: readonly ClaimMatcher[];
  readonly issuers: ReadonlySet<string> | undefined;
  readonly audiences: ReadonlySet<string> | undefined;
  readonly defaultAccess: VmAccess | undefined;
  readonly skipVerify: boolean;
  readonly keys: KeySource;
}

const DEFAULT_SKEW_SECONDS = 30;
/**
 * Verified tokens are remembered so a dashboard's repeated token does not pay for a signature
 * check on every request (RS256 verification was ~40% of a JWT request's CPU). An entry never
 * outlives the token's `exp`, lives at most VERIFIED_TTL_MS, and is dropped as soon as the
 * section's key set was refreshed, so a key withdrawn at the provider stops working at the next
 * refresh (see OidcTimings.refreshIntervalMs); only successes are stored, keyed by SHA-256.
 */
const VERIFIED_TTL_MS = 30_000;
const VERIFIED_MAX = 10_000;
/** Longer tokens are refused by parseToken anyway; no point hashing them for the cache. */
const MAX_CACHEABLE = 16 * 1024;
const MAX_SKEW_SECONDS = 300;

function asSet(v: string | readonly string[] | undefined): Set<string> | undefined {
  if (v === undefined) return undefined;
  return new Set(typeof v === 'string' ? [v] : v);
}

function validateSection(input: JwtSectionInput): JwtSection {
  const parsed = jwtSectionSchema.safeParse(input.jwt);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = ['jwt', ...issue.path.map(String)].join('.');
    throw new JwtConfigError(input.index, field, issue.message);
  }
  return parsed.data;
}

function overlap(a: ReadonlySet<string> | undefined, b: ReadonlySet<string> | undefined): boolean {
  if (a === undefined || b === undefined) return true;
  for (const x of a) if (b.has(x)) return true;
  return false;
}

export function createJwtAuthenticator(sections: readonly JwtSectionInput[], opts: JwtAuthenticatorOptions): JwtAuthenticator {
  const { logger } = opts;
  const now = opts.now ?? Date.now;
  const skew = opts.clockSkewSeconds ?? DEFAULT_SKEW_SECONDS;
  if (!(skew >= 0 && skew <= MAX_SKEW_SECONDS)) throw new JwtConfigError(undefined, 'clockSkewSeconds', `must be between 0 and ${MAX_SKEW_SECONDS}`);
  const timings: OidcTimings = { ...DEFAULT_OIDC_TIMINGS, ...opts.oidc };
  const fetchFn = opts.fetch ?? globalThis.fetch;
  const oidcSources = new Map<string, OidcKeySource>();
  const compiled: CompiledSection[] = [];
  const signatures = new Map<string, CompiledSection[]>();

  try {
    for (const input of sections) {
      const s = validateSection(input);
      const matchClaims = s.match_claims ?? {};
      const matchers = compileMatchClaims(matchClaims);
      let issuers = asSet(s.issuer);
      if (s.oidc !== undefined) issuers = new Set([s.oidc.issuer]); // the schema ensured `issuer` includes it
      let keys: KeySource;
      if (s.oidc !== undefined) {
        let src = oidcSources.get(s.oidc.issuer);
        if (src === undefined) {
          src = createOidcKeySource(s.oidc.issuer, { fetch: fetchFn, logger, timings, jwksHosts: s.oidc.jwks_hosts ?? [] });
          oidcSources.set(s.oidc.issuer, src);
        }
        keys = src;
      } else if (s.skip_verify === true) {
        keys = NO_KEYS;
        logger.warn(
          `jwt: users[${input.index}] has skip_verify: true — token signatures are NOT verified, anyone can forge a token for this user; never use this in production`,
          { index: input.index, name: input.name },
        );
      } else {
        keys = createStaticKeySource(input.index, s.public_keys ?? [], s.public_key_files ?? []);
      }
      const defaultParse = s.default_vm_access_claim === undefined ? undefined : parseVmAccess(s.default_vm_access_claim, 'default');
      if (defaultParse !== undefined && !defaultParse.ok) throw new JwtConfigError(input.index, 'jwt.default_vm_access_claim', defaultParse.detail);
      const section: CompiledSection = Object.freeze({
        index: input.index,
        name: input.name,
        matchers,
        issuers,
        audiences: asSet(s.audience),
        defaultAccess: defaultParse?.access,
        skipVerify: s.skip_verify === true,
        keys,
      });

      // Two sections with the same match_claims and overlapping issuers would tie on every
      // token they both accept: refuse at load rather than pick one silently (as vmauth does).
      const sig = claimSetSignature(matchClaims);
      for (const other of signatures.get(sig) ?? []) {
        if (overlap(other.issuers, issuers)) {
          throw new JwtConfigError(input.index, 'jwt.match_claims', `same match_claims as users[${other.index}]${other.name ? ` (${other.name})` : ''} with overlapping issuers; a token matching one would match both — make the claim sets differ`);
        }
      }
      signatures.set(sig, [...(signatures.get(sig) ?? []), section]);
      compiled.push(section);
    }
  } catch (err) {
    for (const src of oidcSources.values()) src.close();
    throw err;
  }

  // most match_claims entries first; Array.prototype.sort is stable, so config order breaks ties
  const ordered = Object.freeze([...compiled].sort((a, b) => b.matchers.length - a.matchers.length));
  // Tokens that only a skip_verify user may accept (unsigned, or an algorithm never verified).
  const unverifiedOnly = Object.freeze(ordered.filter((s) => s.skipVerify));

  function resolveAccess(s: CompiledSection, token: ParsedToken, cache: { parsed?: VmAccessParse }): VmAccess | JwtFailure {
    const raw = token.claims['vm_access'];
    if (raw === undefined || raw === null) {
      // vmauth: a token without vm_access is only served by a user with default_vm_access_claim
      return s.defaultAccess ?? fail('ERR_JWT_NO_VM_ACCESS', 'token has no "vm_access" claim and the user has no default_vm_access_claim');
    }
    cache.parsed ??= parseVmAccess(raw, 'token');
    return cache.parsed.ok ? cache.parsed.access : fail('ERR_JWT_VM_ACCESS', cache.parsed.detail);
  }

  async function verify(s: CompiledSection, token: ParsedToken): Promise<JwtFailure | undefined> {
    if (s.skipVerify) return undefined;
    for (let attempt = 0; ; attempt++) {
      const available = s.keys.keys();
      const selection = available.length === 0 ? fail('ERR_JWT_NO_KEYS', 'no keys known yet for this user (OIDC provider not reached)') : selectKeys(token, available);
      if (!('keys' in selection)) {
        // A new kid (key rotation) or no keys at all: ask the provider once, then look again.
        const retry = attempt === 0 && (selection.code === 'ERR_JWT_UNKNOWN_KID' || selection.code === 'ERR_JWT_NO_KEYS') && (await s.keys.refreshForUnknownKid());
        if (retry) continue;
        return selection;
      }
      return verifyWithKeys(token, selection.keys);
    }
  }

  async function trySection(s: CompiledSection, token: ParsedToken, cache: { parsed?: VmAccessParse }): Promise<JwtResult> {
    const issuerFailure = checkIssuer(token.claims, s.issuers);
    if (issuerFailure !== undefined) return issuerFailure;
    const audienceFailure = checkAudience(token.claims, s.audiences);
    if (audienceFailure !== undefined) return audienceFailure;
    const access = resolveAccess(s, token, cache);
    if ('ok' in access) return access;
    const sigFailure = await verify(s, token);
    if (sigFailure !== undefined) return sigFailure;
    return { ok: true, index: s.index, name: s.name, claims: token.claims, access };
  }

  const verified = new Map<string, { readonly result: JwtResult; readonly until: number; readonly source: KeySource; readonly keys: readonly VerificationKey[] }>();
  return {
    async authenticate(compact: string): Promise<JwtResult> {
      const nowMs = now();
      const cacheKey = compact.length <= MAX_CACHEABLE ? hash('sha256', compact, 'base64') : null;
      if (cacheKey !== null) {
        const hit = verified.get(cacheKey);
        if (hit !== undefined) {
          // A refreshed key set may have withdrawn the key that verified this token: check again.
          if (hit.until > nowMs && hit.source.keys() === hit.keys) return hit.result;
          verified.delete(cacheKey);
        }
      }
      let parsed = parseToken(compact);
      let candidates = ordered;
      if (!parsed.ok && unverifiedOnly.length > 0) {
        const loose = parseToken(compact, true);
        if (loose.ok) { parsed = loose; candidates = unverifiedOnly; }
      }
      if (!parsed.ok) return parsed;
      const token = parsed.token;
      const timeFailure = checkTimeClaims(token.claims, nowMs / 1000, skew);
      if (timeFailure !== undefined) return timeFailure;
      const view: ClaimsView = { claims: token.claims, vmAccessObject: token.vmAccessObject };
      const cache: { parsed?: VmAccessParse } = {};
      let firstFailure: JwtResult | undefined;
      for (const s of candidates) {
        if (!matchesAll(view, s.matchers)) continue;
        const result = await trySection(s, token, cache);
        if (result.ok) {
          const exp = token.claims['exp'];
          const until = Math.min(typeof exp === 'number' ? exp * 1000 : 0, nowMs + VERIFIED_TTL_MS);
          if (cacheKey !== null && until > nowMs) {
            if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value as string);
            verified.set(cacheKey, { result, until, source: s.keys, keys: s.keys.keys() });
          }
          return result;
        }
        // report why the most specific candidate refused, not the last one tried
        firstFailure ??= result;
      }
      return firstFailure ?? fail('ERR_JWT_NO_MATCH', 'no jwt user matches the token claims');
    },
    selectByClaims(claims) {
      const raw = claims['vm_access'];
      let vmAccessObject: unknown;
      if (typeof raw === 'string') { try { vmAccessObject = JSON.parse(raw); } catch { vmAccessObject = undefined; } }
      const token: ParsedToken = { compact: '', alg: 'none', kid: undefined, claims, vmAccessObject };
      const view: ClaimsView = { claims, vmAccessObject };
      const cache: { parsed?: VmAccessParse } = {};
      let firstFailure: JwtResult | undefined;
      for (const s of ordered) {
        if (!matchesAll(view, s.matchers)) continue;
        const failure = checkIssuer(claims, s.issuers) ?? checkAudience(claims, s.audiences);
        const access = failure ?? resolveAccess(s, token, cache);
        if (!('ok' in access)) return { ok: true, index: s.index, name: s.name, claims, access };
        firstFailure ??= access;
      }
      return firstFailure ?? fail('ERR_JWT_NO_MATCH', 'no jwt user matches the token claims');
    },
    async ready() {
      await Promise.all([...oidcSources.values()].map((s) => s.ready()));
    },
    close() {
      verified.clear();
      for (const s of oidcSources.values()) s.close();
    },
  };
}
