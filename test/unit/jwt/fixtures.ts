// Shared test material for the JWT unit tests: key pairs, token signing and raw token forging.
import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT, exportJWK, type JWK } from 'jose';
import { createJwtAuthenticator, type JwtAuthenticator, type JwtSectionConfig } from '../../../src/identify/jwt/index.ts';

export interface TestKeyPair {
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
  readonly pem: string;
  readonly alg: string;
}

function pair(type: 'rsa' | 'ec' | 'ed25519', alg: string, opts: object = {}): TestKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync(type as 'rsa', opts as { modulusLength: number });
  return { publicKey, privateKey, pem: publicKey.export({ type: 'spki', format: 'pem' }) as string, alg };
}

export const rsa = pair('rsa', 'RS256', { modulusLength: 2048 });
export const rsa2 = pair('rsa', 'RS256', { modulusLength: 2048 });
export const ec256 = pair('ec', 'ES256', { namedCurve: 'P-256' });
export const ec384 = pair('ec', 'ES384', { namedCurve: 'P-384' });
export const ed = pair('ed25519', 'EdDSA');

/** A fixed wall clock so time checks are deterministic: 2030-01-01T00:00:00Z. */
export const NOW_MS = Date.UTC(2030, 0, 1);
export const NOW_S = NOW_MS / 1000;

export interface SignOptions {
  readonly key?: TestKeyPair;
  readonly alg?: string;
  readonly kid?: string;
  /** Defaults to NOW_S + 3600; pass null to omit. */
  readonly exp?: number | null;
}

export async function sign(claims: Record<string, unknown>, opts: SignOptions = {}): Promise<string> {
  const key = opts.key ?? rsa;
  const header: { alg: string; kid?: string; typ: string } = { alg: opts.alg ?? key.alg, typ: 'JWT' };
  if (opts.kid !== undefined) header.kid = opts.kid;
  const body: Record<string, unknown> = { ...claims };
  if (opts.exp !== null && !Object.hasOwn(body, 'exp')) body['exp'] = opts.exp ?? NOW_S + 3600;
  return new SignJWT(body).setProtectedHeader(header).sign(key.privateKey);
}

const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** A token assembled by hand, for shapes a well-behaved signer would never produce. */
export function forge(header: unknown, payload: unknown, signature = 'c2lnbmF0dXJl'): string {
  return `${b64(header)}.${b64(payload)}.${signature}`;
}

/** An HS256 token whose HMAC secret is the PEM text of an RSA public key (algorithm confusion). */
export function hmacWithPublicKey(payload: unknown, pem: string): string {
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
}

export async function jwkOf(key: TestKeyPair, kid: string): Promise<JWK> {
  return { ...(await exportJWK(key.publicKey)), kid, use: 'sig', alg: key.alg };
}

export interface CapturedLog { level: 'warn' | 'info'; msg: string; fields?: object }
export function captureLogger(): { logs: CapturedLog[]; warn(msg: string, fields?: object): void; info(msg: string, fields?: object): void } {
  const logs: CapturedLog[] = [];
  return {
    logs,
    warn: (msg, fields) => { logs.push({ level: 'warn', msg, ...(fields ? { fields } : {}) }); },
    info: (msg, fields) => { logs.push({ level: 'info', msg, ...(fields ? { fields } : {}) }); },
  };
}

/** An authenticator over `jwt` sections (indexes 0..n-1) with the fixed clock. */
export function authFor(sections: readonly JwtSectionConfig[], extra: { now?: () => number; fetch?: typeof fetch } = {}): JwtAuthenticator {
  return createJwtAuthenticator(
    sections.map((jwt, index) => ({ index, name: `user${index}`, jwt })),
    { logger: captureLogger(), now: extra.now ?? (() => NOW_MS), ...(extra.fetch ? { fetch: extra.fetch } : {}) },
  );
}

export const ANY_ACCESS = { vm_access: {} };
