// Choosing candidate keys for a token and checking its signature with jose.
// The algorithm passed to jose is always the single one the token announced, and only when
// the chosen key's own allow-list contains it.
import { compactVerify, errors as joseErrors } from 'jose';
import { fail, type JwtFailure } from './errors.ts';
import type { VerificationKey } from './keys.ts';
import type { ParsedToken } from './token.ts';

/**
 * Tokens without `kid` are tried against every compatible key; this caps the work an
 * unauthenticated client can cause with one token.
 */
export const MAX_KEYS_TRIED = 8;

type Selection = { readonly keys: readonly VerificationKey[] } | JwtFailure;

export function selectKeys(token: ParsedToken, keys: readonly VerificationKey[]): Selection {
  let byKid: VerificationKey[] = [];
  if (token.kid !== undefined) byKid = keys.filter((k) => k.kid === token.kid);
  const pool = byKid.length > 0 ? byKid : keys.filter((k) => k.kid === undefined || token.kid === undefined);
  if (pool.length === 0) return fail('ERR_JWT_UNKNOWN_KID', 'no key with the token\'s "kid"');
  const usable = pool.filter((k) => k.algorithms.has(token.alg));
  if (usable.length === 0) return fail('ERR_JWT_ALG', `alg ${token.alg} does not fit the type of any candidate key`);
  return { keys: usable.slice(0, MAX_KEYS_TRIED) };
}

export async function verifyWithKeys(token: ParsedToken, keys: readonly VerificationKey[]): Promise<JwtFailure | undefined> {
  const algorithms = [token.alg];
  for (const k of keys) {
    try {
      await compactVerify(token.compact, k.key, { algorithms });
      return undefined;
    } catch (err) {
      if (err instanceof joseErrors.JWSSignatureVerificationFailed) continue;
      if (err instanceof joseErrors.JOSEAlgNotAllowed) return fail('ERR_JWT_ALG', 'algorithm not allowed');
      if (err instanceof joseErrors.JWSInvalid) return fail('ERR_JWT_MALFORMED', `invalid JWS: ${err.message}`);
      // key/alg mismatch inside jose (e.g. a too-small RSA key): this key cannot verify the token
      continue;
    }
  }
  return fail('ERR_JWT_SIGNATURE', 'signature does not verify with any candidate key');
}
