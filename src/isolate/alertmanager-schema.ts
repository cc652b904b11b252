// Alertmanager 0.25's own configuration rules for what a namespace contributes (receivers, route
// settings, inhibit rules, time intervals), checked before anything is merged: Alertmanager
// refuses the whole file for one unknown field, bad label name, duration or URL, so each of those
// must be caught as an error of the one object that carries it. The field lists were taken from
// `amtool check-config` 0.25 (each field tried alone), not from newer Alertmanager releases.
import { IsolationError } from './errors.ts';
import { isPromLabelName } from './names.ts';
import { isObj, type Obj } from './util.ts';

type Scalar = 'string' | 'bool' | 'uint' | 'int' | 'url' | 'duration' | 'goDuration' | 'strings' | 'stringMap' | 'stringListMap' | 'tlsVersion';
interface ObjectType { readonly fields: Readonly<Record<string, FieldType>> }
interface ListType { readonly list: FieldType }
export type FieldType = Scalar | ObjectType | ListType;

const o = (fields: Record<string, FieldType>): ObjectType => ({ fields });
const list = (t: FieldType): ListType => ({ list: t });

const TLS = o({ ca_file: 'string', cert_file: 'string', key_file: 'string', server_name: 'string', insecure_skip_verify: 'bool', min_version: 'tlsVersion' });
const OAUTH2 = o({ client_id: 'string', client_secret: 'string', client_secret_file: 'string', scopes: 'strings', token_url: 'url', endpoint_params: 'stringMap', tls_config: TLS, proxy_url: 'url' });
const HTTP = o({
  basic_auth: o({ username: 'string', password: 'string', password_file: 'string' }),
  authorization: o({ type: 'string', credentials: 'string', credentials_file: 'string' }),
  oauth2: OAUTH2,
  bearer_token: 'string', bearer_token_file: 'string',
  tls_config: TLS,
  proxy_url: 'url', proxy_connect_header: 'stringListMap',
  follow_redirects: 'bool', enable_http2: 'bool',
});
const common = { send_resolved: 'bool', http_config: HTTP } as const;

/** Every integration of Alertmanager 0.25 and its fields, in configuration spelling. */
export const INTEGRATION_TYPES: Readonly<Record<string, ObjectType>> = {
  webhook_configs: o({ ...common, url: 'url', max_alerts: 'uint' }),
  email_configs: o({
    send_resolved: 'bool', to: 'string', from: 'string', hello: 'string', smarthost: 'string',
    auth_username: 'string', auth_password: 'string', auth_password_file: 'string', auth_secret: 'string', auth_identity: 'string',
    headers: 'stringMap', html: 'string', text: 'string', require_tls: 'bool', tls_config: TLS,
  }),
  pagerduty_configs: o({
    ...common, service_key: 'string', service_key_file: 'string', routing_key: 'string', routing_key_file: 'string', url: 'url',
    client: 'string', client_url: 'string', description: 'string', details: 'stringMap',
    images: list(o({ src: 'string', alt: 'string', href: 'string' })), links: list(o({ href: 'string', text: 'string' })),
    source: 'string', severity: 'string', class: 'string', component: 'string', group: 'string',
  }),
  slack_configs: o({
    ...common, api_url: 'url', api_url_file: 'string', channel: 'string', username: 'string', color: 'string', title: 'string',
    title_link: 'string', pretext: 'string', text: 'string', fields: list(o({ title: 'string', value: 'string', short: 'bool' })),
    short_fields: 'bool', footer: 'string', fallback: 'string', callback_id: 'string', icon_emoji: 'string', icon_url: 'string',
    image_url: 'string', thumb_url: 'string', link_names: 'bool', mrkdwn_in: 'strings',
    actions: list(o({ type: 'string', text: 'string', url: 'string', style: 'string', name: 'string', value: 'string', confirm: o({ text: 'string', title: 'string', ok_text: 'string', dismiss_text: 'string' }) })),
  }),
  opsgenie_configs: o({
    ...common, api_key: 'string', api_key_file: 'string', api_url: 'url', message: 'string', description: 'string', source: 'string',
    details: 'stringMap', entity: 'string', responders: list(o({ id: 'string', name: 'string', username: 'string', type: 'string' })),
    actions: 'string', tags: 'string', note: 'string', priority: 'string', update_alerts: 'bool',
  }),
  wechat_configs: o({ ...common, api_secret: 'string', corp_id: 'string', message: 'string', api_url: 'url', to_user: 'string', to_party: 'string', to_tag: 'string', agent_id: 'string', message_type: 'string' }),
  pushover_configs: o({ ...common, user_key: 'string', token: 'string', title: 'string', message: 'string', url: 'string', url_title: 'string', sound: 'string', priority: 'string', retry: 'goDuration', expire: 'goDuration', html: 'bool' }),
  victorops_configs: o({ ...common, api_key: 'string', api_key_file: 'string', api_url: 'url', routing_key: 'string', message_type: 'string', state_message: 'string', entity_display_name: 'string', monitoring_tool: 'string', custom_fields: 'stringMap' }),
  sns_configs: o({
    ...common, api_url: 'string', sigv4: o({ region: 'string', access_key: 'string', secret_key: 'string', profile: 'string', role_arn: 'string' }),
    topic_arn: 'string', phone_number: 'string', target_arn: 'string', subject: 'string', message: 'string', attributes: 'stringMap',
  }),
  telegram_configs: o({ ...common, api_url: 'url', bot_token: 'string', chat_id: 'int', message: 'string', disable_notifications: 'bool', parse_mode: 'string' }),
  webex_configs: o({ ...common, api_url: 'url', room_id: 'string', message: 'string' }),
  discord_configs: o({ ...common, webhook_url: 'url', title: 'string', message: 'string' }),
};

function fail(field: string, reason: string): never {
  throw new IsolationError('ERR_ISOLATE_OBJECT', field, reason);
}

const AM_DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const GO_DURATION = /^[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$|^0$/;

/** Alertmanager's duration syntax: units largest first, each at most once (`1h30m`, never `30m1h`). */
export function isAmDuration(s: string): boolean {
  return s !== '' && AM_DURATION.test(s);
}

export function checkAmDuration(v: unknown, field: string, nonZero = false): string {
  if (typeof v !== 'string' || !isAmDuration(v)) fail(field, `${JSON.stringify(v)} is not an Alertmanager duration (e.g. 30s, 5m, 1h30m; units from y down to ms, each once, largest first)`);
  if (nonZero && !/[1-9]/.test(v)) fail(field, 'cannot be zero');
  return v;
}

/** The URL rule of Alertmanager's config.URL: http or https, with a host. */
export function checkAmUrl(v: unknown, field: string): string {
  if (typeof v !== 'string') fail(field, 'must be a URL string');
  let u: URL;
  // The value is not echoed: webhook URLs often carry a token in their path.
  try { u = new URL(v); } catch { fail(field, "is not a valid URL"); }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') fail(field, `unsupported scheme "${u.protocol.slice(0, -1)}" (Alertmanager accepts http and https)`);
  if (u.hostname === '') fail(field, 'the URL has no host');
  return v;
}

function checkScalar(t: Scalar, v: unknown, field: string): void {
  switch (t) {
    case 'string': if (typeof v !== 'string') fail(field, 'must be a string'); return;
    case 'bool': if (typeof v !== 'boolean') fail(field, 'must be true or false'); return;
    case 'uint': if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(field, 'must be a non-negative integer'); return;
    case 'int': if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(field, 'must be an integer'); return;
    case 'url': checkAmUrl(v, field); return;
    case 'duration': checkAmDuration(v, field); return;
    case 'goDuration': if (typeof v !== 'string' || !GO_DURATION.test(v)) fail(field, `${JSON.stringify(v)} is not a duration with units (e.g. 30s, 1m30s)`); return;
    case 'tlsVersion': if (!['TLS10', 'TLS11', 'TLS12', 'TLS13'].includes(v as string)) fail(field, 'must be TLS10, TLS11, TLS12 or TLS13'); return;
    case 'strings': if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) fail(field, 'must be a list of strings'); return;
    case 'stringMap': if (!isObj(v) || !Object.values(v).every((x) => typeof x === 'string')) fail(field, 'must be a map of strings'); return;
    case 'stringListMap': if (!isObj(v) || !Object.values(v).every((x) => Array.isArray(x) && x.every((y) => typeof y === 'string'))) fail(field, 'must be a map of string lists'); return;
  }
}

/** Checks `v` against `t`: unknown fields, wrong types, bad URLs and durations are errors at their path. */
export function checkType(t: FieldType, v: unknown, field: string, what: string): void {
  if (typeof t === 'string') { checkScalar(t, v, field); return; }
  if ('list' in t) {
    if (!Array.isArray(v)) fail(field, 'must be a list');
    v.forEach((x, i) => checkType(t.list, x, `${field}[${i}]`, what));
    return;
  }
  if (!isObj(v)) fail(field, 'must be a mapping');
  for (const [k, x] of Object.entries(v)) {
    const ft = Object.hasOwn(t.fields, k) ? t.fields[k] : undefined;
    if (ft === undefined) {
      throw new IsolationError('ERR_ISOLATE_UNSUPPORTED', `${field}.${k}`, `is not a field of ${what} in Alertmanager 0.25 (known: ${Object.keys(t.fields).join(', ')})`);
    }
    if (x === null || x === undefined) continue;
    checkType(ft, x, `${field}.${k}`, what);
  }
}

function has(c: Obj, k: string): boolean {
  return c[k] !== undefined && c[k] !== null && c[k] !== '';
}

function checkHttpConfig(h: Obj, field: string): void {
  const auth = ['basic_auth', 'oauth2', 'bearer_token', 'bearer_token_file'].filter((k) => has(h, k));
  if (auth.length > 1) fail(field, `at most one of basic_auth, oauth2, bearer_token and bearer_token_file may be set (found ${auth.join(', ')})`);
  if (has(h, 'authorization') && auth.length > 0) fail(field, `authorization cannot be combined with ${auth.join(', ')}`);
  const ba = isObj(h.basic_auth) ? h.basic_auth : undefined;
  if (ba !== undefined && has(ba, 'password') && has(ba, 'password_file')) fail(`${field}.basic_auth`, 'at most one of password and password_file');
  const az = isObj(h.authorization) ? h.authorization : undefined;
  if (az !== undefined) {
    if (typeof az.type === 'string' && az.type.toLowerCase() === 'basic') fail(`${field}.authorization.type`, 'cannot be "basic"; use basic_auth');
    if (has(az, 'credentials') && has(az, 'credentials_file')) fail(`${field}.authorization`, 'at most one of credentials and credentials_file');
  }
  const oa = isObj(h.oauth2) ? h.oauth2 : undefined;
  if (oa !== undefined && has(oa, 'client_secret') && has(oa, 'client_secret_file')) fail(`${field}.oauth2`, 'at most one of client_secret and client_secret_file');
  if (has(h, 'proxy_connect_header') && !has(h, 'proxy_url')) fail(`${field}.proxy_connect_header`, 'needs proxy_url');
}

const VICTOROPS_RESERVED = new Set(['routing_key', 'message_type', 'state_message', 'entity_display_name', 'monitoring_tool', 'entity_id', 'entity_state']);

/**
 * The load-time checks Alertmanager runs on one integration config. `globals` is the base
 * configuration's `global` section; when it is unknown (the webhook), settings that may come from
 * it are not required.
 */
function checkIntegration(type: string, c: Obj, field: string, globals: Obj | undefined): void {
  const needs = (fields: string[], global: string[], what: string) => {
    if (fields.some((k) => has(c, k))) return;
    if (globals === undefined || global.some((k) => has(globals, k))) return;
    fail(field, `needs ${fields.join(' or ')}${global.length > 0 ? ` (or ${global.join('/')} in the base configuration's global section)` : ''}: ${what}`);
  };
  const exclusive = (a: string, b: string) => { if (has(c, a) && has(c, b)) fail(field, `at most one of ${a} and ${b}`); };
  switch (type) {
    case 'webhook_configs': needs(['url'], [], 'the address alerts are posted to'); break;
    case 'email_configs': {
      if (!has(c, 'to')) fail(`${field}.to`, 'is required');
      needs(['smarthost'], ['smtp_smarthost'], 'the SMTP server');
      needs(['from'], ['smtp_from'], 'the sender address');
      if (has(c, 'smarthost') && !/^(\[[^\]]+\]|[^:]+):\d+$/.test(String(c.smarthost))) fail(`${field}.smarthost`, 'must be host:port');
      exclusive('auth_password', 'auth_password_file');
      const seen = new Set<string>();
      for (const h of Object.keys(isObj(c.headers) ? c.headers : {})) {
        const k = h.toLowerCase();
        if (seen.has(k)) fail(`${field}.headers.${h}`, 'duplicate header (header names are case-insensitive)');
        seen.add(k);
      }
      break;
    }
    case 'pagerduty_configs':
      if (!['routing_key', 'service_key', 'routing_key_file', 'service_key_file'].some((k) => has(c, k))) fail(field, 'needs routing_key or service_key');
      exclusive('routing_key', 'routing_key_file');
      exclusive('service_key', 'service_key_file');
      break;
    case 'slack_configs': needs(['api_url', 'api_url_file'], ['slack_api_url', 'slack_api_url_file'], 'the Slack webhook URL'); exclusive('api_url', 'api_url_file'); break;
    case 'opsgenie_configs':
      needs(['api_key', 'api_key_file'], ['opsgenie_api_key', 'opsgenie_api_key_file'], 'the OpsGenie API key');
      exclusive('api_key', 'api_key_file');
      (Array.isArray(c.responders) ? c.responders : []).forEach((r: unknown, i) => {
        const rr = r as Obj;
        const rf = `${field}.responders[${i}]`;
        if (!['id', 'name', 'username'].some((k) => has(rr, k))) fail(rf, 'needs one of id, name or username');
        const t = String(rr.type ?? '');
        if (!t.includes('{{') && !/^(team|teams|user|escalation|schedule)$/.test(t.toLowerCase())) fail(`${rf}.type`, 'must be team, teams, user, escalation or schedule');
      });
      break;
    case 'wechat_configs':
      needs(['api_secret'], ['wechat_api_secret'], 'the WeChat API secret');
      needs(['corp_id'], ['wechat_api_corp_id'], 'the WeChat corp id');
      if (has(c, 'message_type') && !/^(text|markdown)$/.test(String(c.message_type))) fail(`${field}.message_type`, 'must be text or markdown');
      break;
    case 'pushover_configs':
      if (!has(c, 'user_key')) fail(`${field}.user_key`, 'is required');
      if (!has(c, 'token')) fail(`${field}.token`, 'is required');
      break;
    case 'victorops_configs':
      needs(['api_key', 'api_key_file'], ['victorops_api_key', 'victorops_api_key_file'], 'the VictorOps API key');
      if (!has(c, 'routing_key')) fail(`${field}.routing_key`, 'is required');
      for (const k of Object.keys(isObj(c.custom_fields) ? c.custom_fields : {})) {
        if (VICTOROPS_RESERVED.has(k)) fail(`${field}.custom_fields.${k}`, 'conflicts with a field VictorOps sets itself');
      }
      break;
    case 'sns_configs': {
      const targets = ['topic_arn', 'target_arn', 'phone_number'].filter((k) => has(c, k));
      if (targets.length !== 1) fail(field, 'needs exactly one of topic_arn, target_arn or phone_number');
      break;
    }
    case 'telegram_configs':
      if (!has(c, 'bot_token')) fail(`${field}.bot_token`, 'is required');
      if (c.chat_id === undefined || c.chat_id === 0) fail(`${field}.chat_id`, 'is required');
      if (has(c, 'parse_mode') && !['Markdown', 'MarkdownV2', 'HTML'].includes(String(c.parse_mode))) fail(`${field}.parse_mode`, 'must be Markdown, MarkdownV2, HTML or empty');
      break;
    case 'webex_configs':
      if (!has(c, 'room_id')) fail(`${field}.room_id`, 'is required');
      if (!isObj(c.http_config) || !isObj(c.http_config.authorization)) fail(`${field}.http_config.authorization`, 'is required (the Webex bot token)');
      break;
    case 'discord_configs': if (!has(c, 'webhook_url')) fail(`${field}.webhook_url`, 'is required'); break;
  }
  if (isObj(c.http_config)) checkHttpConfig(c.http_config, `${field}.http_config`);
}

/** Checks one receiver in Alertmanager spelling (`name` plus integration lists). */
export function checkReceiver(r: Obj, field: string, globals: Obj | undefined): void {
  for (const [k, v] of Object.entries(r)) {
    if (k === 'name') continue;
    const t = Object.hasOwn(INTEGRATION_TYPES, k) ? INTEGRATION_TYPES[k] : undefined;
    if (t === undefined) throw new IsolationError('ERR_ISOLATE_UNSUPPORTED', `${field}.${k}`, `is not an Alertmanager 0.25 integration (known: ${Object.keys(INTEGRATION_TYPES).join(', ')})`);
    if (!Array.isArray(v)) fail(`${field}.${k}`, 'must be a list');
    v.forEach((c, i) => {
      checkType(t, c, `${field}.${k}[${i}]`, k);
      checkIntegration(k, c as Obj, `${field}.${k}[${i}]`, globals);
    });
  }
}

export function checkLabelNames(v: readonly string[], field: string): void {
  v.forEach((n, i) => {
    if (!isPromLabelName(n)) fail(`${field}[${i}]`, `"${n}" is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)`);
  });
}

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

function checkRanges(v: unknown, field: string, one: (s: string, f: string) => number, lo: number, hi: number): void {
  if (!Array.isArray(v)) fail(field, 'must be a list');
  v.forEach((x, i) => {
    const f = `${field}[${i}]`;
    if (typeof x !== 'string' && typeof x !== 'number') fail(f, 'must be a string');
    const parts = String(x).split(':');
    if (parts.length > 2) fail(f, `"${String(x)}" is not a value or a start:end range`);
    const nums = parts.map((p) => one(p.trim().toLowerCase(), f));
    for (const n of nums) if (n < lo || n > hi) fail(f, `"${String(x)}" is out of range ${lo}..${hi}`);
    if (nums.length === 2 && lo >= 0 && nums[0]! > nums[1]!) fail(f, `"${String(x)}": start is after end`);
  });
}

function named(names: readonly string[], base: number) {
  return (s: string, f: string): number => {
    const i = names.indexOf(s);
    if (i >= 0) return i + base;
    if (/^-?\d+$/.test(s)) return Number(s);
    return fail(f, `"${s}" is not valid here`);
  };
}

function numeric(s: string, f: string): number {
  if (!/^-?\d+$/.test(s)) fail(f, `"${s}" is not a number`);
  return Number(s);
}

/** One entry of a time interval, Alertmanager spelling. */
export function checkTimeInterval(ti: Obj, field: string): void {
  for (const [k, v] of Object.entries(ti)) {
    const f = `${field}.${k}`;
    if (v === null || v === undefined) continue;
    switch (k) {
      case 'times':
        if (!Array.isArray(v)) fail(f, 'must be a list');
        v.forEach((t, i) => {
          const tf = `${f}[${i}]`;
          if (!isObj(t)) fail(tf, 'must be a mapping with start_time and end_time');
          const mins: number[] = [];
          for (const key of ['start_time', 'end_time']) {
            const s = t[key];
            const m = typeof s === 'string' ? /^(\d\d):(\d\d)$/.exec(s) : null;
            if (m === null || Number(m[1]) > 24 || Number(m[2]) > 59 || (Number(m[1]) === 24 && Number(m[2]) !== 0)) fail(`${tf}.${key}`, `${JSON.stringify(s)} is not a time of day HH:MM`);
            mins.push(Number(m[1]) * 60 + Number(m[2]));
          }
          for (const key of Object.keys(t)) if (key !== 'start_time' && key !== 'end_time') fail(`${tf}.${key}`, 'unknown field');
          if (mins[0]! >= mins[1]!) fail(tf, 'start_time must be before end_time');
        });
        break;
      case 'weekdays': checkRanges(v, f, named(WEEKDAYS, 0), 0, 6); break;
      case 'months': checkRanges(v, f, named(MONTHS, 1), 1, 12); break;
      case 'days_of_month':
        checkRanges(v, f, numeric, -31, 31);
        (v as unknown[]).forEach((x, i) => { if (String(x).split(':').some((p) => Number(p) === 0)) fail(`${f}[${i}]`, 'day 0 does not exist'); });
        break;
      case 'years': checkRanges(v, f, numeric, 0, 9999); break;
      case 'location':
        if (typeof v !== 'string') fail(f, 'must be a time zone name');
        try { new Intl.DateTimeFormat('en', { timeZone: v }); } catch { fail(f, `unknown time zone "${v}"`); }
        break;
      default: fail(f, 'is not a field of a time interval (times, weekdays, days_of_month, months, years, location)');
    }
  }
}
