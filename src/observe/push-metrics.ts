// -pushmetrics.url: push the /metrics text to remote storage every -pushmetrics.interval, as
// VictoriaMetrics components do (POST, gzip unless -pushmetrics.disableCompression, extra labels
// on every sample, extra headers), plus one final push on shutdown.
import { gzipSync } from 'node:zlib';
import type { Logger } from './logger.ts';

export interface PushOptions {
  readonly urls: readonly string[];
  readonly intervalMs: number;
  /** `name="value"` pairs, already validated. */
  readonly extraLabels: readonly string[];
  readonly headers: readonly (readonly [string, string])[];
  readonly gzip: boolean;
  readonly render: () => Promise<string>;
  readonly log: Logger;
}

const LABEL_PAIR = /^[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"$/;

/** Checks -pushmetrics.extraLabel and -pushmetrics.header values; returns an error message or null. */
export function validatePushFlags(urls: readonly string[], extraLabels: readonly string[], headers: readonly string[]): string | null {
  for (const u of urls) {
    try {
      const p = new URL(u);
      if (p.protocol !== 'http:' && p.protocol !== 'https:') return `-pushmetrics.url must be an http(s) URL`;
    } catch {
      return '-pushmetrics.url must be an http(s) URL';
    }
  }
  for (const l of extraLabels) if (!LABEL_PAIR.test(l)) return `invalid -pushmetrics.extraLabel=${JSON.stringify(l)}; expected name="value"`;
  for (const h of headers) if (h.indexOf(':') <= 0) return `invalid -pushmetrics.header=${JSON.stringify(h)}; expected "Name: value"`;
  return null;
}

/** Adds the extra labels to every sample line of a Prometheus text exposition. */
export function withExtraLabels(text: string, labels: readonly string[]): string {
  if (labels.length === 0) return text;
  const extra = labels.join(',');
  return text.split('\n').map((line) => {
    if (line === '' || line.startsWith('#')) return line;
    const brace = line.indexOf('{');
    const space = line.indexOf(' ');
    if (brace >= 0 && (space < 0 || brace < space)) {
      return line[brace + 1] === '}' ? `${line.slice(0, brace + 1)}${extra}${line.slice(brace + 1)}` : `${line.slice(0, brace + 1)}${extra},${line.slice(brace + 1)}`;
    }
    return space < 0 ? line : `${line.slice(0, space)}{${extra}}${line.slice(space)}`;
  }).join('\n');
}

export function startPushMetrics(o: PushOptions): { stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  const pushOnce = async () => {
    let body: Buffer;
    try {
      body = Buffer.from(withExtraLabels(await o.render(), o.extraLabels));
    } catch (err) {
      o.log.error(`cannot render metrics for -pushmetrics.url: ${(err as Error).message}`);
      return;
    }
    const payload = o.gzip ? gzipSync(body) : body;
    await Promise.all(o.urls.map(async (url) => {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'text/plain', ...(o.gzip ? { 'content-encoding': 'gzip' } : {}), ...Object.fromEntries(o.headers) },
          body: payload,
          signal: AbortSignal.timeout(Math.max(1000, o.intervalMs)),
        });
        await res.arrayBuffer();
        // The URL may carry credentials: name only its origin.
        if (res.status >= 300) o.log.warn(`cannot push metrics to ${new URL(url).origin}: HTTP ${res.status}`);
      } catch (err) {
        o.log.warn(`cannot push metrics to ${new URL(url).origin}: ${(err as Error).message}`);
      }
    }));
  };
  const timer = setInterval(() => { running = running.then(pushOnce); }, o.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await pushOnce();
    },
  };
}
