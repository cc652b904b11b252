// One error family for everything that can go wrong while enforcing tenant labels on a
// remote-write body. `status` is what the HTTP proxy should answer; `code` is stable for
// logs, metrics and tests.

export type RemoteWriteErrorCode =
  | 'ERR_RW_TOO_LARGE' // 413: compressed size over the limit
  | 'ERR_RW_DECODED_TOO_LARGE' // 413: decoded size over the limit (found before or while decoding)
  | 'ERR_RW_TOO_MANY_SERIES' // 422: more timeseries than the limit
  | 'ERR_RW_TOO_MANY_LABELS' // 422: a series with more labels than the limit
  | 'ERR_RW_SNAPPY' // 400: not a valid snappy block
  | 'ERR_RW_ZSTD' // 400: not a valid zstd stream
  | 'ERR_RW_PROTOBUF' // 400: not a valid WriteRequest on the wire
  | 'ERR_RW_LABELS' // 400: a series' labels break the remote-write rules
  | 'ERR_RW_ENCODING' // 415: Content-Encoding we do not decode
  | 'ERR_RW_VERSION' // 415: a remote-write protocol version we do not rewrite
  | 'ERR_RW_TENANT_LABELS'; // 500: our own tenant labels are unusable (configuration bug); 403: tenant may not write

export type RemoteWriteErrorStatus = 400 | 403 | 413 | 415 | 422 | 500;

export class RemoteWriteError extends Error {
  readonly code: RemoteWriteErrorCode;
  readonly status: RemoteWriteErrorStatus;

  constructor(code: RemoteWriteErrorCode, status: RemoteWriteErrorStatus, message: string) {
    super(message);
    this.name = 'RemoteWriteError';
    this.code = code;
    this.status = status;
  }
}

export function protobufError(message: string, offset: number): RemoteWriteError {
  return new RemoteWriteError('ERR_RW_PROTOBUF', 400, `invalid remote-write protobuf at byte ${offset}: ${message}`);
}

export function labelsError(message: string, seriesIndex: number): RemoteWriteError {
  return new RemoteWriteError('ERR_RW_LABELS', 400, `invalid labels in timeseries #${seriesIndex}: ${message}`);
}

export function tooLarge(message: string): RemoteWriteError {
  return new RemoteWriteError('ERR_RW_TOO_LARGE', 413, message);
}

export function decodedTooLarge(message: string): RemoteWriteError {
  return new RemoteWriteError('ERR_RW_DECODED_TOO_LARGE', 413, message);
}

export function overLimit(code: 'ERR_RW_TOO_MANY_SERIES' | 'ERR_RW_TOO_MANY_LABELS', message: string): RemoteWriteError {
  return new RemoteWriteError(code, 422, message);
}
