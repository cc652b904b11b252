// Request material for the scenarios: credentials, a signed RS256 JWT, a 64 KiB body, a
// realistic remote-write batch and a typical dashboard query. Generated per run, never stored.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { SignJWT, importPKCS8 } from 'jose';
import snappyjs from 'snappyjs';

export const BASIC_USER = 'bench';
export const BASIC_PASSWORD = 'bench-password-0123456789';
export const BEARER_TOKEN = 'bench-bearer-token-0123456789abcdef';
export const basicHeader = () => `Authorization: Basic ${Buffer.from(`${BASIC_USER}:${BASIC_PASSWORD}`).toString('base64')}`;
export const bearerHeader = () => `Authorization: Bearer ${BEARER_TOKEN}`;

/** A Grafana Kubernetes-dashboard panel query, as sent on every refresh. */
export const DASHBOARD_QUERY = 'sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="team-a", container!="", image!=""}[5m]))';
export function dashboardPath(): string {
  const end = 1_700_000_000;
  return `/api/v1/query_range?query=${encodeURIComponent(DASHBOARD_QUERY)}&start=${end - 3600}&end=${end}&step=15`;
}

export interface JwtMaterial { readonly publicKeyPem: string; readonly token: string }

export async function makeJwt(): Promise<JwtMaterial> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const key = await importPKCS8(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'RS256');
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ vm_access: { metrics_account_id: 0, metrics_project_id: 0 } })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .setIssuedAt(now - 60)
    .setExpirationTime(now + 24 * 3600)
    .setSubject('bench')
    .sign(key);
  return { publicKeyPem, token };
}

/** Incompressible bytes, like the compressed remote-write body the issue sizes the POST after. */
export const postBody = (bytes: number): Buffer => randomBytes(bytes);

// --- remote-write 1.0 batch (prometheus.WriteRequest), hand-encoded protobuf ---

class Proto {
  readonly parts: Buffer[] = [];
  size = 0;
  push(b: Buffer): void { this.parts.push(b); this.size += b.length; }
  varint(v: number): void {
    const out: number[] = [];
    let n = BigInt(v);
    while (n >= 0x80n) { out.push(Number(n & 0x7fn) | 0x80); n >>= 7n; }
    out.push(Number(n));
    this.push(Buffer.from(out));
  }
  bytesField(field: number, b: Buffer): void { this.varint((field << 3) | 2); this.varint(b.length); this.push(b); }
  stringField(field: number, s: string): void { this.bytesField(field, Buffer.from(s, 'utf8')); }
  doubleField(field: number, v: number): void { this.varint((field << 3) | 1); const b = Buffer.alloc(8); b.writeDoubleLE(v); this.push(b); }
  intField(field: number, v: number): void { this.varint(field << 3); this.varint(v); }
  done(): Buffer { return Buffer.concat(this.parts, this.size); }
}

export interface RemoteWriteBatch { readonly body: Buffer; readonly series: number; readonly samples: number; readonly rawBytes: number }

/** `series` Kubernetes-style series with 10 labels and one sample each, snappy-compressed. */
export function remoteWriteBatch(series: number): RemoteWriteBatch {
  let s = 12345;
  const rnd = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
  const req = new Proto();
  const t0 = 1_700_000_000_000;
  for (let i = 0; i < series; i++) {
    const ns = ['default', 'kube-system', 'monitoring', 'payments', 'checkout'][i % 5] as string;
    const app = `svc-${Math.floor(rnd() * 40)}`;
    const labels: [string, string][] = [
      ['__name__', `http_request_duration_seconds_bucket_${i % 50}`], ['container', app], ['endpoint', 'http-metrics'],
      ['instance', `10.0.${Math.floor(rnd() * 255)}.${Math.floor(rnd() * 255)}:8080`], ['job', `${ns}/${app}`],
      ['le', ['0.005', '0.01', '0.1', '0.5', '1', '+Inf'][i % 6] as string], ['namespace', ns],
      ['node', `ip-10-0-${Math.floor(rnd() * 64)}-${Math.floor(rnd() * 255)}.ec2.internal`],
      ['pod', `${app}-${Math.floor(rnd() * 1e9).toString(36)}`], ['service', app],
    ];
    const ts = new Proto();
    for (const [n, v] of labels) {
      const l = new Proto();
      l.stringField(1, n);
      l.stringField(2, v);
      ts.bytesField(1, l.done());
    }
    const sample = new Proto();
    sample.doubleField(1, Math.floor(rnd() * 1e6));
    sample.intField(2, t0 + i);
    ts.bytesField(2, sample.done());
    req.bytesField(1, ts.done());
  }
  const raw = req.done();
  const body = Buffer.from(snappyjs.compress(new Uint8Array(raw)));
  return { body, series, samples: series, rawBytes: raw.length };
}
