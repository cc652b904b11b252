// Keys from an OpenID Connect provider: `<issuer>/.well-known/openid-configuration` names the
// `jwks_uri`, whose keys are loaded at start, every `refreshIntervalMs`, sooner after a failure,
// and on demand when a token names an unknown `kid` (throttled). A failed refresh never drops
// the keys already known: a provider outage must not lock everybody out.
//
// Trust is pinned to the issuer: the discovered `jwks_uri` must be on the issuer's host (or a
// host listed in `oidc.jwks_hosts`) over https when the issuer is https, and no redirect is
// followed, so whoever can influence the discovery document cannot point key loading at
// another server (an SSRF, or keys of their choosing).
import { getJson } from './http-json.ts';
import { importJwk, type VerificationKey } from './keys.ts';
import type { KeySource } from './key-source.ts';
import type { JwtLogger } from './logger.ts';

export interface OidcTimings {
  /**
   * Regular refresh period. Default 60 seconds (vmauth: 5 minutes): a key withdrawn from the
   * JWKS stops verifying tokens, cached ones included, within this period plus 10% jitter.
   */
  readonly refreshIntervalMs: number;
  /** Retry period after a failed refresh. Default 10 seconds (as vmauth). */
  readonly retryIntervalMs: number;
  /** Minimum time between two unknown-`kid` refreshes. Default 10 seconds. */
  readonly unknownKidMinIntervalMs: number;
  /** Limit for each HTTP request. Default 5 seconds (as vmauth). */
  readonly requestTimeoutMs: number;
}

export const DEFAULT_OIDC_TIMINGS: OidcTimings = Object.freeze({
  refreshIntervalMs: 60_000,
  retryIntervalMs: 10_000,
  unknownKidMinIntervalMs: 10_000,
  requestTimeoutMs: 5_000,
});

const MAX_DOCUMENT_BYTES = 1024 * 1024;

function wellKnownUrl(issuer: string): string {
  return `${issuer.endsWith('/') ? issuer.slice(0, -1) : issuer}/.well-known/openid-configuration`;
}

export interface OidcKeySource extends KeySource {
  readonly issuer: string;
}

/** Throws when `jwksUri` is not on the issuer's host (or an allowed one) over the issuer's scheme. */
export function checkJwksUri(issuer: string, jwksUri: string, allowedHosts: readonly string[] = []): void {
  let iss: URL;
  let jwks: URL;
  try {
    iss = new URL(issuer);
    jwks = new URL(jwksUri);
  } catch {
    throw new Error(`discovery jwks_uri ${JSON.stringify(jwksUri)} is not a valid URL`);
  }
  if (jwks.protocol !== 'https:' && !(iss.protocol === 'http:' && jwks.protocol === 'http:')) {
    throw new Error(`discovery jwks_uri ${JSON.stringify(jwksUri)} must use https like the issuer`);
  }
  if (jwks.username !== '' || jwks.password !== '') throw new Error('discovery jwks_uri must not carry credentials');
  const sameHost = jwks.hostname === iss.hostname && (iss.protocol === 'https:' || jwks.port === iss.port);
  if (!sameHost && !allowedHosts.includes(jwks.hostname)) {
    throw new Error(`discovery jwks_uri host ${JSON.stringify(jwks.host)} is not the issuer's host ${JSON.stringify(iss.host)}; list it in oidc.jwks_hosts if the provider really serves its keys there`);
  }
}

export function createOidcKeySource(issuer: string, deps: { fetch: typeof fetch; logger: JwtLogger; timings: OidcTimings; jwksHosts?: readonly string[] }): OidcKeySource {
  const { logger, timings } = deps;
  let keys: readonly VerificationKey[] = Object.freeze([]);
  let inflight: Promise<void> | undefined;
  let lastAttempt = -Infinity; // monotonic ms, see performance.now()
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const abort = new AbortController();

  async function load(): Promise<void> {
    const httpOpts = { fetch: deps.fetch, timeoutMs: timings.requestTimeoutMs, maxBytes: MAX_DOCUMENT_BYTES, signal: abort.signal };
    const discovery = await getJson(wellKnownUrl(issuer), httpOpts);
    if (typeof discovery !== 'object' || discovery === null) throw new Error('discovery document is not a JSON object');
    const doc = discovery as Record<string, unknown>;
    // OpenID Connect Discovery §4.3: the issuer in the document must be exactly the configured one,
    // or a different provider could be vouching for keys under our issuer's name.
    if (doc['issuer'] !== issuer) throw new Error(`discovery issuer ${JSON.stringify(doc['issuer'])} is not the configured issuer`);
    const jwksUri = doc['jwks_uri'];
    if (typeof jwksUri !== 'string' || !/^https?:\/\//i.test(jwksUri)) throw new Error('discovery document has no http(s) jwks_uri');
    checkJwksUri(issuer, jwksUri, deps.jwksHosts);
    const jwks = await getJson(jwksUri, httpOpts);
    const list = typeof jwks === 'object' && jwks !== null ? (jwks as Record<string, unknown>)['keys'] : undefined;
    if (!Array.isArray(list)) throw new Error(`${jwksUri}: not a JWKS (no "keys" array)`);
    const fresh: VerificationKey[] = [];
    const skipped: string[] = [];
    for (const entry of list) {
      const imported = importJwk(entry, jwksUri);
      if (imported.ok) fresh.push(imported.key);
      else skipped.push(imported.reason);
    }
    if (skipped.length > 0) logger.warn('jwt: skipped unusable keys from the OIDC provider', { issuer, skipped });
    if (fresh.length === 0) throw new Error(`${jwksUri}: no usable signature keys`);
    if (closed) return;
    keys = Object.freeze(fresh);
    logger.info('jwt: OIDC keys loaded', { issuer, keys: fresh.length, kids: fresh.map((k) => k.kid ?? null) });
  }

  function schedule(ms: number): void {
    if (closed) return;
    if (timer !== undefined) clearTimeout(timer);
    // ±10% jitter so many gateways do not hit the provider in lockstep
    const jittered = Math.max(0, Math.round(ms * (0.9 + Math.random() * 0.2)));
    timer = setTimeout(() => void refresh(), jittered);
    timer.unref();
  }

  function refresh(): Promise<void> {
    if (closed) return Promise.resolve();
    if (inflight !== undefined) return inflight;
    lastAttempt = performance.now();
    inflight = load()
      .then(
        () => schedule(timings.refreshIntervalMs),
        (err: unknown) => {
          if (closed) return;
          logger.warn('jwt: OIDC key refresh failed; keeping the previous keys', { issuer, keys: keys.length, error: (err as Error).message });
          schedule(timings.retryIntervalMs);
        },
      )
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  }

  const first = refresh();

  return {
    issuer,
    keys: () => keys,
    async refreshForUnknownKid() {
      if (closed) return false;
      if (inflight !== undefined) {
        await inflight;
        return true;
      }
      if (performance.now() - lastAttempt < timings.unknownKidMinIntervalMs) return false;
      await refresh();
      return true;
    },
    ready: () => first,
    close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      abort.abort();
    },
  };
}
