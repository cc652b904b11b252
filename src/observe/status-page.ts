// The status page: one server-rendered HTML page for people — what config runs, who the users
// are and what they reach, which backends are broken and why, what was refused lately, and an
// explain form. No JavaScript, no external assets; the only inline style is allowed by its hash
// in a strict Content-Security-Policy. Secrets never reach it: users appear by name and kind,
// backend URLs without query strings, refusals by path and reason.
import { createHash } from 'node:crypto';
import type { RecentRefusal } from './refusal-ring.ts';

export interface BackendStatus {
  readonly url: string;
  readonly healthy: boolean;
  readonly inFlight: number;
  readonly lastError: string;
  readonly lastErrorAt: number;
  readonly brokenUntil: number;
}

export interface RouteStatus {
  /** Where in the config, e.g. `users[1].url_map[0]` plus the match (`src_paths: …`). */
  readonly name: string;
  readonly match: string;
  readonly tenant: string;
  readonly policy: string;
  readonly backends: readonly BackendStatus[];
}

export interface UserStatus {
  readonly name: string;
  readonly kind: string;
  readonly requests: number;
  readonly errors: number;
  readonly backendErrors: number;
  readonly inFlight: number;
  readonly capacity: number;
  readonly limitReached: number;
  /** The user's `limits:` in one line, or '' without any. */
  readonly rateLimits: string;
  /** Requests refused by those limits since start, by limit name. */
  readonly rateLimited: readonly (readonly [string, number])[];
  readonly routes: readonly RouteStatus[];
}

export interface StatusData {
  readonly version: string;
  readonly process: string;
  readonly now: number;
  readonly startedAt: number;
  readonly config: {
    readonly source: string;
    readonly sha256: string;
    readonly loadedAt: number;
    readonly lastReload: { readonly at: number; readonly result: string; readonly error: string } | null;
  };
  readonly global: { readonly current: number; readonly capacity: number };
  readonly users: readonly UserStatus[];
  readonly refusals: readonly RecentRefusal[];
  /** Query string to keep on links and the form (the authKey the page was opened with), or ''. */
  readonly authQuery: string;
  /** Prefilled explain form values. */
  readonly form: { readonly user: string; readonly method: string; readonly url: string };
}

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem;color:#1d1d1f;background:#fff}
h1{font-size:1.35rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin:1.6rem 0 .5rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%;margin:.25rem 0 1rem}th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #eee;vertical-align:top}
th{background:#f5f5f7;font-weight:600}code,pre{font:12.5px ui-monospace,monospace}pre{background:#f5f5f7;padding:.75rem;overflow:auto}
.ok{color:#0a7d32;font-weight:600}.bad{color:#b3261e;font-weight:600}.muted{color:#6e6e73}
form{display:flex;gap:.5rem;flex-wrap:wrap;align-items:end}label{display:flex;flex-direction:column;font-size:12px}
input,select{font:inherit;padding:.2rem .35rem}button{font:inherit;padding:.25rem .8rem}
`;

/** The policy that goes with every page this module renders. */
export const STATUS_CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

function ago(now: number, at: number): string {
  if (at <= 0) return '';
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

function iso(at: number): string {
  return at > 0 ? new Date(at).toISOString().replace(/\.\d+Z$/, 'Z') : '';
}

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>${body}</body></html>
`;
}

function rateCell(u: UserStatus): string {
  if (u.rateLimits === '') return '<span class="muted">none</span>';
  const hit = u.rateLimited.filter(([, n]) => n > 0);
  return `${escapeHtml(u.rateLimits)}${hit.length > 0 ? `<div class="bad">refused: ${hit.map(([l, n]) => `${escapeHtml(l)} ${n}`).join(', ')}</div>` : ''}`;
}

export function renderStatusPage(d: StatusData): string {
  const e = escapeHtml;
  const parts: string[] = [];
  parts.push(`<h1>tenantgate ${e(d.version)}</h1><p class="muted">${e(d.process)} · up ${e(ago(d.now, d.startedAt).replace(' ago', ''))} · page rendered ${e(iso(d.now))}</p>`);

  const r = d.config.lastReload;
  parts.push(`<h2 id="config">Config</h2><table>
<tr><th>source</th><td><code>${e(d.config.source)}</code></td></tr>
<tr><th>SHA-256</th><td><code>${e(d.config.sha256)}</code></td></tr>
<tr><th>loaded</th><td>${e(iso(d.config.loadedAt))} (${e(ago(d.now, d.config.loadedAt))})</td></tr>
<tr><th>last reload</th><td>${r === null ? '<span class="muted">none since start</span>' : `<span class="${r.result === 'failed' ? 'bad' : 'ok'}">${e(r.result)}</span> ${e(iso(r.at))} (${e(ago(d.now, r.at))})${r.error !== '' ? `<pre>${e(r.error)}</pre>` : ''}`}</td></tr>
<tr><th>global slots</th><td>${d.global.current} of ${d.global.capacity} in use</td></tr>
</table>`);

  const broken = d.users.flatMap((u) => u.routes.flatMap((rt) => rt.backends.filter((b) => !b.healthy).map((b) => ({ u, rt, b }))));
  parts.push(`<h2 id="backends">Backends</h2>`);
  parts.push(broken.length === 0
    ? '<p class="ok">All backends healthy.</p>'
    : `<p class="bad">${broken.length} broken backend${broken.length === 1 ? '' : 's'}:</p><ul>${broken.map(({ u, rt, b }) => `<li><code>${e(b.url)}</code> (user ${e(u.name || u.kind)}, ${e(rt.name)}): ${e(b.lastError || 'failed')} — ${e(ago(d.now, b.lastErrorAt))}</li>`).join('')}</ul>`);

  parts.push(`<h2 id="users">Users</h2><table><tr><th>user</th><th>auth</th><th>requests</th><th>errors</th><th>in flight / limit</th><th>limit reached</th><th>rate limits</th><th>routes → backends</th></tr>`);
  for (const u of d.users) {
    const routes = u.routes.map((rt) => {
      const backends = rt.backends.map((b) => `<div><span class="${b.healthy ? 'ok' : 'bad'}">${b.healthy ? 'healthy' : 'broken'}</span> <code>${e(b.url)}</code> <span class="muted">${b.inFlight} in flight${b.lastErrorAt > 0 ? ` · last error ${e(ago(d.now, b.lastErrorAt))}: ${e(b.lastError)}` : ''}</span></div>`).join('');
      return `<div><b>${e(rt.name)}</b> <span class="muted">${e(rt.match)}${rt.tenant !== '' ? ` · tenant ${e(rt.tenant)}` : ''} · ${e(rt.policy)}</span>${backends}</div>`;
    }).join('');
    parts.push(`<tr><td>${e(u.name || '(unnamed)')}</td><td>${e(u.kind)}</td><td>${u.requests}</td><td>${u.errors}${u.backendErrors > 0 ? ` <span class="muted">(backend ${u.backendErrors})</span>` : ''}</td><td>${u.inFlight} / ${u.capacity}</td><td>${u.limitReached}</td><td>${rateCell(u)}</td><td>${routes}</td></tr>`);
  }
  parts.push('</table>');

  parts.push(`<h2 id="refusals">Recent refusals</h2>`);
  parts.push(d.refusals.length === 0 ? '<p class="muted">None.</p>' : `<table><tr><th>when</th><th>user</th><th>request</th><th>status</th><th>reason</th></tr>${d.refusals.map((x) => `<tr><td>${e(iso(x.at))}</td><td>${e(x.user || '(unidentified)')}</td><td><code>${e(x.method)} ${e(x.path)}</code></td><td>${x.status}</td><td><code>${e(x.reason)}</code></td></tr>`).join('')}</table>`);

  const auth = d.authQuery !== '' ? new URLSearchParams(d.authQuery).get('authKey') : null;
  parts.push(`<h2 id="explain">Explain a request</h2>
<form method="get" action="/-/explain">
<label>user<input name="user" value="${e(d.form.user)}" required></label>
<label>method<select name="method">${['GET', 'POST', 'PUT', 'DELETE'].map((m) => `<option${m === d.form.method ? ' selected' : ''}>${m}</option>`).join('')}</select></label>
<label>path and query<input name="url" size="60" value="${e(d.form.url)}" required></label>
<input type="hidden" name="format" value="html">${auth !== null ? `<input type="hidden" name="authKey" value="${e(auth)}">` : ''}
<button type="submit">Explain</button>
</form>
<p class="muted">Shows what the gateway would do with this request for that user: route, backends, tenant enforcement and the forwarded request, or the refusal. Nothing is sent to a backend.</p>`);
  return page('tenantgate status', parts.join('\n'));
}
