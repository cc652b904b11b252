// Credentials are compared by SHA-256 digest: the user table is keyed by the digest of vmauth's
// token string (`http_auth:<Authorization value>`), so a lookup never compares secret bytes
// one by one, and the table holds no plaintext secret.
import { hash } from 'node:crypto';

export function credentialDigest(token: string): string {
  return hash('sha256', token, 'base64');
}

export const authTokenKey = (authToken: string) => `http_auth:${authToken}`;
export const bearerTokenKey = (token: string) => `http_auth:Bearer ${token}`;
export const basicKey = (username: string, password: string) =>
  `http_auth:Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;

/**
 * The credential keys a request presents, in header order: each configured auth header's value
 * (InfluxDB's `Token x` read as `Bearer x`), as vmauth builds them.
 */
export function requestCredentialKeys(headers: Readonly<Record<string, string | string[] | undefined>>, headerNames: readonly string[]): string[] {
  const out: string[] = [];
  for (const name of headerNames) {
    const raw = headers[name];
    const v = Array.isArray(raw) ? raw[0] : raw;
    if (v === undefined || v === '') continue;
    out.push(v.startsWith('Token ') ? `http_auth:Bearer ${v.slice(6)}` : `http_auth:${v}`);
  }
  return out;
}
