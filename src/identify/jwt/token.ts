// Parsing a compact JWS into header and claims, before any key is involved. Everything here
// runs on untrusted input, so it is bounded (size checked first) and strict (base64url alphabet
// only, UTF-8 must be valid, both parts must be JSON objects).
import { fail, type JwtFailure } from './errors.ts';
import { ALLOWED_ALGORITHMS } from './keys.ts';

/** Tokens longer than this are refused before any decoding. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

export interface ParsedToken {
  /** The compact token, kept only to hand to the signature check; never log it. */
  readonly compact: string;
  readonly alg: string;
  readonly kid: string | undefined;
  readonly claims: Readonly<Record<string, unknown>>;
  /** `vm_access` parsed from JSON when the token carries it as a string; otherwise undefined. */
  readonly vmAccessObject: unknown;
}

export type TokenParse = { readonly ok: true; readonly token: ParsedToken } | JwtFailure;

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function decodeJsonObject(part: string, what: string): Record<string, unknown> | string {
  if (!BASE64URL.test(part) || part.length % 4 === 1) return `${what} is not base64url`;
  let text: string;
  try {
    text = utf8.decode(Buffer.from(part, 'base64url'));
  } catch {
    return `${what} is not valid UTF-8`;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return `${what} is not valid JSON`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${what} is not a JSON object`;
  return value as Record<string, unknown>;
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}

/**
 * `unverified`: for users with `jwt.skip_verify: true` only, whose signatures are never checked
 * (vmauth accepts such tokens for test setups): any `alg`, including `none`, and an empty signature.
 */
export function parseToken(compact: string, unverified = false): TokenParse {
  if (compact.length > MAX_TOKEN_LENGTH) return fail('ERR_JWT_TOO_LARGE', `token is longer than ${MAX_TOKEN_LENGTH} characters`);
  const first = compact.indexOf('.');
  const second = first < 0 ? -1 : compact.indexOf('.', first + 1);
  if (first < 0 || second < 0 || compact.indexOf('.', second + 1) >= 0) return fail('ERR_JWT_MALFORMED', 'token is not three dot-separated parts');
  const header = decodeJsonObject(compact.slice(0, first), 'header');
  if (typeof header === 'string') return fail('ERR_JWT_MALFORMED', header);
  // No JWS extension is understood, so any critical one must be refused (RFC 7515 §4.1.11);
  // this also rules out unencoded payloads (`b64: false`).
  if (Object.hasOwn(header, 'crit')) return fail('ERR_JWT_MALFORMED', 'header has "crit"; no critical extensions are supported');
  const alg = header['alg'];
  if (typeof alg !== 'string' || alg === '') return fail('ERR_JWT_ALG', 'header has no "alg"');
  if (!unverified && !ALLOWED_ALGORITHMS.has(alg)) return fail('ERR_JWT_ALG', `alg ${JSON.stringify(alg.slice(0, 16))} is not allowed (only RSA, ECDSA and EdDSA signatures)`);
  const kid = header['kid'];
  if (kid !== undefined && typeof kid !== 'string') return fail('ERR_JWT_MALFORMED', 'header "kid" is not a string');
  const claims = decodeJsonObject(compact.slice(first + 1, second), 'payload');
  if (typeof claims === 'string') return fail('ERR_JWT_MALFORMED', claims);
  const signature = compact.slice(second + 1);
  if (!(unverified && signature === '') && (!BASE64URL.test(signature) || signature.length % 4 === 1)) return fail('ERR_JWT_MALFORMED', 'signature is missing or not base64url');

  let vmAccessObject: unknown;
  const vmAccess = claims['vm_access'];
  if (typeof vmAccess === 'string') {
    try {
      vmAccessObject = JSON.parse(vmAccess);
    } catch {
      vmAccessObject = undefined;
    }
  }
  return {
    ok: true,
    token: Object.freeze({ compact, alg, kid, claims: deepFreeze(claims), vmAccessObject: deepFreeze(vmAccessObject) }),
  };
}

const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Registered time claims: `exp` is required; `nbf` and `iat` are checked when present.
 * `nowSeconds` and `skewSeconds` may be fractional.
 */
export function checkTimeClaims(claims: Readonly<Record<string, unknown>>, nowSeconds: number, skewSeconds: number): JwtFailure | undefined {
  const { exp, nbf, iat } = claims;
  if (exp === undefined) return fail('ERR_JWT_CLAIMS', 'token has no "exp" claim');
  if (!isTime(exp)) return fail('ERR_JWT_CLAIMS', '"exp" is not a number');
  if (nbf !== undefined && !isTime(nbf)) return fail('ERR_JWT_CLAIMS', '"nbf" is not a number');
  if (iat !== undefined && !isTime(iat)) return fail('ERR_JWT_CLAIMS', '"iat" is not a number');
  if (nowSeconds - skewSeconds >= exp) return fail('ERR_JWT_EXPIRED', 'token has expired');
  if (nbf !== undefined && nowSeconds + skewSeconds < nbf) return fail('ERR_JWT_NOT_YET_VALID', 'token is not valid yet ("nbf" is in the future)');
  if (iat !== undefined && nowSeconds + skewSeconds < iat) return fail('ERR_JWT_NOT_YET_VALID', 'token was issued in the future ("iat")');
  return undefined;
}

/** `iss` must be one of `issuers` when that is configured. */
export function checkIssuer(claims: Readonly<Record<string, unknown>>, issuers: ReadonlySet<string> | undefined): JwtFailure | undefined {
  if (issuers === undefined) return undefined;
  const iss = claims['iss'];
  if (typeof iss !== 'string') return fail('ERR_JWT_ISSUER', 'token has no "iss" claim');
  if (!issuers.has(iss)) return fail('ERR_JWT_ISSUER', '"iss" is not an accepted issuer');
  return undefined;
}

/** `aud` (a string or a list) must contain one of `audiences` when that is configured. */
export function checkAudience(claims: Readonly<Record<string, unknown>>, audiences: ReadonlySet<string> | undefined): JwtFailure | undefined {
  if (audiences === undefined) return undefined;
  const aud = claims['aud'];
  const list = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  for (const a of list) if (typeof a === 'string' && audiences.has(a)) return undefined;
  return fail('ERR_JWT_AUDIENCE', aud === undefined ? 'token has no "aud" claim' : '"aud" contains no accepted audience');
}
