// HTTPS listener settings from vmauth's flags: certificate files (re-read when they change),
// minimum TLS version and cipher suites by their Go names, and client-certificate checks (-mtls).
import { readFileSync, statSync } from 'node:fs';
import type { SecureContextOptions, TlsOptions } from 'node:tls';

const VERSIONS: Record<string, 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'> = {
  TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3',
};

// Go's cipher-suite names (what -tlsCipherSuites takes) → OpenSSL's. TLS 1.3 suites are not
// configurable in Go either.
const SUITES: Record<string, string> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
};

export interface ListenerTls {
  readonly certFile: string;
  readonly keyFile: string;
  readonly minVersion: string;
  readonly cipherSuites: readonly string[];
  readonly mtls: boolean;
  readonly mtlsCaFile: string;
}

export function tlsServerOptions(t: ListenerTls): TlsOptions {
  if (t.certFile === '' || t.keyFile === '') throw new Error('-tlsCertFile and -tlsKeyFile must be set when -tls is set');
  const opts: TlsOptions = { ...readCertificates(t) };
  if (t.minVersion !== '') {
    const v = VERSIONS[t.minVersion.toUpperCase()];
    if (v === undefined) throw new Error(`unsupported -tlsMinVersion=${JSON.stringify(t.minVersion)}; supported: ${Object.keys(VERSIONS).join(', ')}`);
    opts.minVersion = v;
  }
  if (t.cipherSuites.length > 0) {
    opts.ciphers = t.cipherSuites.map((name) => {
      const s = SUITES[name];
      if (s === undefined) throw new Error(`unsupported -tlsCipherSuites value ${JSON.stringify(name)}; supported: ${Object.keys(SUITES).join(', ')}`);
      return s;
    }).join(':');
  }
  if (t.mtls) {
    opts.requestCert = true;
    // Without a verified client certificate the handshake fails: no request is ever read.
    opts.rejectUnauthorized = true;
    if (t.mtlsCaFile !== '') opts.ca = readFileSync(t.mtlsCaFile);
  }
  return opts;
}

function readCertificates(t: ListenerTls): SecureContextOptions {
  return { cert: readFileSync(t.certFile), key: readFileSync(t.keyFile) };
}

/** Polls the certificate files and calls `apply` with fresh contents when they change. */
export function watchCertificates(t: ListenerTls, apply: (ctx: SecureContextOptions) => void, onError: (err: Error) => void, intervalMs = 1000): () => void {
  const stamp = () => `${statSync(t.certFile).mtimeMs}:${statSync(t.keyFile).mtimeMs}:${t.mtlsCaFile ? statSync(t.mtlsCaFile).mtimeMs : 0}`;
  let last = stamp();
  const timer = setInterval(() => {
    try {
      const now = stamp();
      if (now === last) return;
      last = now;
      apply({ ...readCertificates(t), ...(t.mtls && t.mtlsCaFile ? { ca: readFileSync(t.mtlsCaFile) } : {}) });
    } catch (err) {
      onError(err as Error);
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
