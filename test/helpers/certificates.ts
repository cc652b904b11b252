// A throw-away PKI for TLS tests: a CA, a server certificate for 127.0.0.1, and client
// certificates with chosen subjects (for mTLS routing by OU / O / CN).
import 'reflect-metadata'; // @peculiar/x509 needs the Reflect metadata API
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface Pem { readonly certPem: string; readonly keyPem: string }
export interface TestCa extends Pem {
  issue(subject: string, opts: { server?: boolean; client?: boolean; validDays?: number }): Promise<Pem>;
}

async function keyPem(keys: webcrypto.CryptoKeyPair): Promise<string> {
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as webcrypto.CryptoKey);
  return x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
}

let serial = 1;

export async function createTestCa(name = 'tenantgate test CA'): Promise<TestCa> {
  const caKeys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
  const notBefore = new Date(Date.now() - 60_000);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: String(serial++).padStart(2, '0'), name: `CN=${name}`, notBefore, notAfter: new Date(Date.now() + 86_400_000),
    keys: caKeys, signingAlgorithm: ALG,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  return {
    certPem: ca.toString('pem'),
    keyPem: await keyPem(caKeys),
    async issue(subject, opts) {
      const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
      const usages: string[] = [];
      if (opts.server) usages.push(x509.ExtendedKeyUsage.serverAuth);
      if (opts.client) usages.push(x509.ExtendedKeyUsage.clientAuth);
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: String(serial++).padStart(2, '0'), subject, issuer: ca.subject, notBefore,
        notAfter: new Date(Date.now() + (opts.validDays ?? 1) * 86_400_000),
        signingKey: caKeys.privateKey, publicKey: keys.publicKey, signingAlgorithm: ALG,
        extensions: [
          ...(opts.server ? [new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }, { type: 'dns', value: 'localhost' }])] : []),
          new x509.ExtendedKeyUsageExtension(usages),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        ],
      });
      return { certPem: cert.toString('pem'), keyPem: await keyPem(keys) };
    },
  };
}
