// A certificate authority made in the test (ECDSA P-256 via @peculiar/x509): server
// certificates with chosen DNS/IP names, client certificates for mTLS, PEM strings and files.
import 'reflect-metadata'; // @peculiar/x509 needs the Reflect metadata API
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface CertAndKey { readonly cert: string; readonly key: string }

export interface IssueOptions {
  /** Subject alternative names; default none. */
  readonly dns?: readonly string[];
  readonly ips?: readonly string[];
  readonly server?: boolean;
  readonly client?: boolean;
}

export interface TestAuthority {
  /** The CA certificate (PEM), what a verifier trusts. */
  readonly caCert: string;
  /** `subject` is a common name, or a full subject such as `CN=alice, OU=finance, O=Example`. */
  issue(subject: string, opts: IssueOptions): Promise<CertAndKey>;
}

let serial = 1000;
const nextSerial = () => (serial++).toString(16).padStart(4, '0');

async function pkcs8Pem(key: webcrypto.CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

export async function createAuthority(name = 'tenantgate resilience test CA'): Promise<TestAuthority> {
  const caKeys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 86_400_000);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: nextSerial(), name: `CN=${name}`, notBefore, notAfter, keys: caKeys, signingAlgorithm: ALG,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  return {
    caCert: ca.toString('pem'),
    async issue(subject, opts) {
      const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
      const names = [...(opts.dns ?? []).map((value) => ({ type: 'dns' as const, value })), ...(opts.ips ?? []).map((value) => ({ type: 'ip' as const, value }))];
      const usages = [...(opts.server ? [x509.ExtendedKeyUsage.serverAuth] : []), ...(opts.client ? [x509.ExtendedKeyUsage.clientAuth] : [])];
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: nextSerial(), subject: subject.includes('=') ? subject : `CN=${subject}`, issuer: ca.subject, notBefore, notAfter,
        signingKey: caKeys.privateKey, publicKey: keys.publicKey, signingAlgorithm: ALG,
        extensions: [
          ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
          ...(usages.length > 0 ? [new x509.ExtendedKeyUsageExtension(usages)] : []),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        ],
      });
      return { cert: cert.toString('pem'), key: await pkcs8Pem(keys.privateKey) };
    },
  };
}

/** Writes PEM text to `dir/name` and returns the path. */
export function writePem(dir: string, name: string, pem: string): string {
  const p = join(dir, name);
  writeFileSync(p, pem);
  return p;
}
