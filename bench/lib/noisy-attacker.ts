// Tenant A of the noisy-neighbour benchmark, as its own process so its client work does not share
// an event loop with anything measured: repeats one attack with a fixed parallelism until the
// deadline, then prints the status codes it got as JSON (0 = connection closed under the upload).
//   node bench/lib/noisy-attacker.ts <gateway url> <attack> <seconds>
import { request } from 'node:http';
import { zstdCompressSync } from 'node:zlib';
import { snappyCompress } from '../../src/enforce/remote-write/snappy-encode.ts';

const [url, attack, seconds] = process.argv.slice(2) as [string, string, string];
const A = `Basic ${Buffer.from('tenant-a:tenant-a-password').toString('base64')}`;

function send(path: string, auth: string, body: Buffer | null, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const req = request(new URL(path, url), {
      method: body === null ? 'GET' : 'POST', agent: false, timeout: 15_000,
      headers: { authorization: auth, ...(body === null ? {} : { 'content-length': String(body.length) }), ...headers },
    }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); res.on('error', () => resolve(0)); });
    let answered = false;
    req.on('response', () => { answered = true; });
    req.on('timeout', () => req.destroy());
    req.on('error', () => { if (!answered) resolve(0); });
    req.end(body ?? undefined);
  });
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const RW = { 'content-type': 'application/x-protobuf' };
// Each attack builds its body only when it is the one running.
const attacks: Record<string, () => { parallel: number; one: () => Promise<number> }> = {
  'match-flood': () => {
    const body = Buffer.from('match[]=a&'.repeat(3_300_000)); // ~33 MB
    return { parallel: 4, one: () => send('/api/v1/series', A, body, FORM) };
  },
  'zstd-bomb': () => {
    const body = zstdCompressSync(new Uint8Array(256 << 20)); // decodes to 256 MiB
    return { parallel: 6, one: () => send('/api/v1/write', A, body, { ...RW, 'content-encoding': 'zstd' }) };
  },
  'snappy-bomb': () => {
    // Just under the decoded-size cap: decoded in full (in a worker thread), then refused as protobuf.
    const body = Buffer.from(snappyCompress(new Uint8Array(30 << 20)));
    return { parallel: 6, one: () => send('/api/v1/write', A, body, { ...RW, 'content-encoding': 'snappy' }) };
  },
  'bcrypt-storm': () => ({
    parallel: 64,
    one: () => send('/api/v1/query?query=up', `Basic ${Buffer.from(`hashed:${Math.random()}`).toString('base64')}`, null, {}),
  }),
};

const make = attacks[attack];
if (make === undefined) throw new Error(`unknown attack ${attack}`);
const a = make();
const deadline = Date.now() + Number(seconds) * 1000;
const statuses: Record<string, number> = {};
await Promise.all(Array.from({ length: a.parallel }, async () => {
  while (Date.now() < deadline) {
    const s = await a.one();
    statuses[s] = (statuses[s] ?? 0) + 1;
  }
}));
process.stdout.write(JSON.stringify(statuses) + '\n');
