// mTLS users: the first `mtls:` user (in config order) whose every given subject field equals the
// verified client certificate's. Only certificates the TLS layer verified (-mtls with
// -mtlsCAFile) count; an unverified one never identifies anyone.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { CompiledUser, MtlsUser } from '../config/model.ts';

const has = (field: string | string[] | undefined, want: string | null) =>
  want === null || (Array.isArray(field) ? field.includes(want) : field === want);

export function matchClientCertificate(req: IncomingMessage, users: readonly MtlsUser[]): CompiledUser | null {
  if (users.length === 0) return null;
  const socket = req.socket as Partial<TLSSocket>;
  if (socket.encrypted !== true || socket.authorized !== true || typeof socket.getPeerCertificate !== 'function') return null;
  const cert = socket.getPeerCertificate();
  const subject = cert?.subject as unknown as Record<string, string | string[] | undefined> | undefined;
  if (subject === undefined) return null;
  for (const u of users) {
    if (has(subject['OU'], u.organizationalUnit) && has(subject['O'], u.organization) && has(subject['CN'], u.commonName)) return u.user;
  }
  return null;
}
