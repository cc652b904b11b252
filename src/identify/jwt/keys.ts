// Public verification keys (PEM or JWK) and the explicit algorithm allow-list per key type.
// Only asymmetric signature algorithms exist here: `none` and HMAC can never be selected, which
// also closes the classic "HS256 signed with the RSA public key as secret" confusion.
import { createPublicKey, type KeyObject } from 'node:crypto';

const RSA_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const;
const RSA_PSS_ALGS = ['PS256', 'PS384', 'PS512'] as const;
const EC_ALG_BY_CURVE: Readonly<Record<string, string>> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };
const OKP_ALGS = ['EdDSA', 'Ed25519'] as const;

/** Every algorithm any key may ever verify. Anything else is refused before a key is looked at. */
export const ALLOWED_ALGORITHMS: ReadonlySet<string> = new Set<string>([...RSA_ALGS, 'ES256', 'ES384', 'ES512', ...OKP_ALGS]);

const MIN_RSA_BITS = 2048;

export interface VerificationKey {
  /** `kid` from the JWKS; PEM keys have none. */
  readonly kid: string | undefined;
  readonly key: KeyObject;
  readonly algorithms: ReadonlySet<string>;
  /** For logs: where the key came from (never the key material). */
  readonly origin: string;
}

/** Thrown for a key that cannot be used; the message names the problem, not the key material. */
export class KeyImportError extends Error {}

function algorithmsFor(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss': {
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (bits < MIN_RSA_BITS) throw new KeyImportError(`RSA key has ${bits} bits; at least ${MIN_RSA_BITS} are required`);
      return key.asymmetricKeyType === 'rsa' ? [...RSA_ALGS] : [...RSA_PSS_ALGS];
    }
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
      const alg = EC_ALG_BY_CURVE[curve];
      if (alg === undefined) throw new KeyImportError(`EC curve ${JSON.stringify(curve)} is not supported (P-256, P-384, P-521)`);
      return [alg];
    }
    case 'ed25519':
      return [...OKP_ALGS];
    default:
      throw new KeyImportError(`key type ${JSON.stringify(key.asymmetricKeyType)} is not supported (RSA, EC, Ed25519)`);
  }
}

/** A PEM `PUBLIC KEY`, `RSA PUBLIC KEY` or `CERTIFICATE`. Private keys are refused, not derived from. */
export function importPemPublicKey(pem: string, origin: string): VerificationKey {
  const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem)?.[1];
  if (label === undefined) throw new KeyImportError('not a PEM block (no -----BEGIN ...----- line)');
  if (label.includes('PRIVATE')) throw new KeyImportError('is a private key; configure the public key instead');
  if (label !== 'PUBLIC KEY' && label !== 'RSA PUBLIC KEY' && label !== 'CERTIFICATE') {
    throw new KeyImportError(`PEM type ${JSON.stringify(label)} is not a public key or certificate`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey(pem.trim());
  } catch (err) {
    throw new KeyImportError(`cannot parse PEM public key: ${(err as Error).message}`);
  }
  return Object.freeze({ kid: undefined, key, algorithms: new Set(algorithmsFor(key)), origin });
}

export type JwkImport = { readonly ok: true; readonly key: VerificationKey } | { readonly ok: false; readonly reason: string };

/** One entry of a JWKS. Keys not meant for signatures, or private keys, are skipped with a reason. */
export function importJwk(jwk: unknown, origin: string): JwkImport {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return { ok: false, reason: 'not an object' };
  const j = jwk as Record<string, unknown>;
  const kid = typeof j['kid'] === 'string' ? j['kid'] : undefined;
  const name = kid === undefined ? 'key without kid' : `kid ${JSON.stringify(kid)}`;
  if (j['kty'] !== 'RSA' && j['kty'] !== 'EC' && j['kty'] !== 'OKP') return { ok: false, reason: `${name}: kty ${JSON.stringify(j['kty'])} is not RSA, EC or OKP` };
  if (j['use'] !== undefined && j['use'] !== 'sig') return { ok: false, reason: `${name}: use is not "sig"` };
  if (Array.isArray(j['key_ops']) && !j['key_ops'].includes('verify')) return { ok: false, reason: `${name}: key_ops lacks "verify"` };
  if (j['d'] !== undefined || j['p'] !== undefined) return { ok: false, reason: `${name}: contains private key material` };
  let key: KeyObject;
  try {
    key = createPublicKey({ key: j as import('node:crypto').JsonWebKey, format: 'jwk' });
  } catch (err) {
    return { ok: false, reason: `${name}: cannot import: ${(err as Error).message}` };
  }
  let algs: string[];
  try {
    algs = algorithmsFor(key);
  } catch (err) {
    return { ok: false, reason: `${name}: ${(err as Error).message}` };
  }
  if (j['alg'] !== undefined) {
    if (typeof j['alg'] !== 'string' || !algs.includes(j['alg'])) return { ok: false, reason: `${name}: alg ${JSON.stringify(j['alg'])} is not allowed for this key` };
    algs = j['alg'] === 'EdDSA' || j['alg'] === 'Ed25519' ? [...OKP_ALGS] : [j['alg']];
  }
  return { ok: true, key: Object.freeze({ kid, key, algorithms: new Set(algs), origin }) };
}
