// Which remote-write protocol a request speaks, from its Content-Type (remote-write 2.0 spec,
// "Content-Type" section): no `proto` parameter or `proto=prometheus.WriteRequest` is 1.0,
// `proto=io.prometheus.write.v2.Request` is 2.0. Anything else is refused with 415 rather
// than guessed, since parsing a body under the wrong schema would misread its labels.
import { RemoteWriteError } from './errors.ts';

export type RemoteWriteVersion = 'v1' | 'v2';

const V1_PROTO = 'prometheus.WriteRequest';
const V2_PROTO = 'io.prometheus.write.v2.Request';

export function detectRemoteWriteVersion(contentType: string | undefined | null): RemoteWriteVersion {
  // Senders before the 1.0 spec did not always set a Content-Type; receivers treat them as 1.0.
  if (contentType === undefined || contentType === null || contentType.trim() === '') return 'v1';
  const [mediaType = '', ...params] = contentType.split(';');
  if (mediaType.trim().toLowerCase() !== 'application/x-protobuf') {
    throw new RemoteWriteError('ERR_RW_VERSION', 415, `unsupported remote-write Content-Type ${JSON.stringify(contentType)}; expected application/x-protobuf`);
  }
  let proto: string | undefined;
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq < 0) continue;
    if (param.slice(0, eq).trim().toLowerCase() !== 'proto') continue;
    if (proto !== undefined) throw new RemoteWriteError('ERR_RW_VERSION', 415, `Content-Type ${JSON.stringify(contentType)} names proto twice`);
    proto = param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  if (proto === undefined || proto === V1_PROTO) return 'v1';
  if (proto === V2_PROTO) return 'v2';
  throw new RemoteWriteError('ERR_RW_VERSION', 415, `unsupported remote-write message ${JSON.stringify(proto)}; expected ${V1_PROTO} or ${V2_PROTO}`);
}
