// Response filters for JSON API answers (rules, alerts, silences): the backend's answer is buffered,
// parsed, narrowed to the tenant and re-serialised.
import { gunzipSync } from 'node:zlib';
import type { ResponseFilter } from './policy.ts';

export function jsonBody(body: Buffer): unknown {
  // The request went out without Accept-Encoding, but a backend may compress anyway.
  const raw = body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body, { maxOutputLength: 256 * 1024 * 1024 }) : body;
  return JSON.parse(raw.toString('utf8'));
}

/** A filter for JSON API responses; error statuses carry no data and pass unchanged. */
export function jsonFilter(maxBytes: number, fn: (json: unknown) => unknown): ResponseFilter {
  return {
    maxBytes,
    filter(status, _contentType, body) {
      if (status < 200 || status >= 300) return body;
      return Buffer.from(JSON.stringify(fn(jsonBody(body))), 'utf8');
    },
  };
}
