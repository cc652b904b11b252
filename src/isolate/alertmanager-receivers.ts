// Receivers of VMAlertmanagerConfig / AlertmanagerConfig translated into Alertmanager's own
// spelling, then checked against Alertmanager 0.25's rules (alertmanager-schema.ts). The two CRDs
// mix spellings: prometheus-operator is camelCase throughout (`apiURL`, `httpConfig`,
// `tlsConfig.insecureSkipVerify`) and writes some maps as key/value lists; the VictoriaMetrics
// CRD is snake_case except for a few shared types (`tls_config.certFile`, `proxyURL`,
// opsgenie `apiURL`, `authorization.credentialsFile`). Copying either as is makes Alertmanager
// refuse the whole merged file, so every key is translated and anything without an Alertmanager
// 0.25 equivalent is an error of this object.
import { IsolationError, unsupported } from './errors.ts';
import { checkReceiver } from './alertmanager-schema.ts';
import { isObj, obj, str, type Obj } from './util.ts';

export interface AmReceiver { readonly name: string; readonly configs: Record<string, unknown[]> }

/**
 * Stands for a value held in a Secret or ConfigMap when the operator resolves it (admission);
 * the policy can see that a setting exists without knowing its value.
 */
export const FROM_SECRET: Readonly<{ fromSecret: true }> = Object.freeze({ fromSecret: true });

export function isFromSecret(v: unknown): boolean {
  return isObj(v) && v.fromSecret === true && Object.keys(v).length === 1;
}

/** CRD integration list names (both dialects) → Alertmanager's. */
const INTEGRATION_NAMES: Readonly<Record<string, string>> = {
  webhook_configs: 'webhook_configs', webhookConfigs: 'webhook_configs',
  email_configs: 'email_configs', emailConfigs: 'email_configs',
  slack_configs: 'slack_configs', slackConfigs: 'slack_configs',
  pagerduty_configs: 'pagerduty_configs', pagerdutyConfigs: 'pagerduty_configs',
  opsgenie_configs: 'opsgenie_configs', opsgenieConfigs: 'opsgenie_configs',
  pushover_configs: 'pushover_configs', pushoverConfigs: 'pushover_configs',
  victorops_configs: 'victorops_configs', victoropsConfigs: 'victorops_configs',
  wechat_configs: 'wechat_configs', wechatConfigs: 'wechat_configs',
  telegram_configs: 'telegram_configs', telegramConfigs: 'telegram_configs',
  sns_configs: 'sns_configs', snsConfigs: 'sns_configs',
  webex_configs: 'webex_configs', webexConfigs: 'webex_configs',
  discord_configs: 'discord_configs', discordConfigs: 'discord_configs',
};
/** Integrations the CRDs know that Alertmanager 0.25 does not. */
const NEWER_INTEGRATIONS = new Set(['msteams_configs', 'msteamsConfigs', 'msteamsv2_configs', 'msteamsv2Configs', 'rocketchat_configs', 'rocketchatConfigs', 'jira_configs', 'incidentio_configs', 'mattermost_configs']);

/** Keys renamed beyond camelCase → snake_case, by the CRD field name. */
const RENAMES: Readonly<Record<string, string>> = {
  pagerDutyImageConfigs: 'images',
  pagerDutyLinkConfigs: 'links',
  proxyURL: 'proxy_url', proxyUrl: 'proxy_url',
  noProxy: 'no_proxy', proxyFromEnvironment: 'proxy_from_environment', proxyConnectHeader: 'proxy_connect_header',
  caFile: 'ca_file', certFile: 'cert_file', keyFile: 'key_file',
  clientId: 'client_id', clientID: 'client_id', tokenUrl: 'token_url', tokenURL: 'token_url',
  avatarURL: 'avatar_url', apiURL: 'api_url', apiUrl: 'api_url',
};
/** Maps whose keys are user data (header names, detail keys), never re-spelled. */
const OPAQUE_MAPS = new Set(['headers', 'details', 'custom_fields', 'attributes', 'endpoint_params', 'proxy_connect_header']);
/** prometheus-operator writes these maps as `[{key, value}]`. */
const KEY_VALUE_LISTS = new Set(['details', 'headers', 'custom_fields']);

export function camelToSnake(k: string): string {
  return k.replace(/([a-z0-9])([A-Z]+)/g, '$1_$2').toLowerCase();
}

function amKey(k: string): string {
  return Object.hasOwn(RENAMES, k) ? RENAMES[k]! : camelToSnake(k);
}

function isSecretRef(v: unknown): boolean {
  return isObj(v) && typeof v.key === 'string' && Object.keys(v).every((k) => k === 'name' || k === 'key' || k === 'optional');
}

function refused(field: string): IsolationError {
  return unsupported(field, 'references a Secret or ConfigMap, which the offline compiler cannot resolve (put the value in the base configuration\'s global section, or use the operator)');
}

function keyValueMap(v: unknown, field: string): Record<string, string> {
  if (isObj(v)) return v as Record<string, string>;
  if (!Array.isArray(v)) throw new IsolationError('ERR_ISOLATE_OBJECT', field, 'must be a list of {key, value}');
  const out: Record<string, string> = {};
  v.forEach((kv, i) => {
    const e = obj(kv, `${field}[${i}]`);
    const key = str(e.key, `${field}[${i}].key`);
    if (Object.hasOwn(out, key)) throw new IsolationError('ERR_ISOLATE_OBJECT', `${field}[${i}].key`, `duplicate key "${key}"`);
    out[key] = str(e.value ?? '', `${field}[${i}].value`);
  });
  return out;
}

function translate(v: unknown, field: string, parentKey: string, offline: boolean): unknown {
  if (Array.isArray(v)) return v.map((x, i) => translate(x, `${field}[${i}]`, parentKey, offline));
  if (!isObj(v)) return v;
  if (isSecretRef(v)) { if (offline) throw refused(field); return FROM_SECRET; }
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) {
    if (x === null || x === undefined) continue;
    // Go serialises unset SecretOrConfigMap fields as {}; they mean nothing.
    if (isObj(x) && Object.keys(x).length === 0 && (k === 'ca' || k === 'cert')) continue;
    const f = `${field}.${k}`;
    let key = amKey(k);
    // prometheus-operator's PagerDuty link has `alt` where Alertmanager has `text`.
    if (parentKey === 'links' && k === 'alt') key = 'text';
    const viaSecret = (key.endsWith('_secret') && key !== 'api_secret' && key !== 'auth_secret' && key !== 'client_secret')
      || key === 'secret' || key === 'config_map' || key === 'key_secret' || key === 'ca' || key === 'cert';
    if (viaSecret && offline) throw refused(f);
    // `url_secret` and friends hold the value of `url`: the policy must see the destination as secret-held.
    if (viaSecret) { out[key.replace(/_secret$/, '')] ??= FROM_SECRET; continue; }
    if (Object.hasOwn(out, key)) throw new IsolationError('ERR_ISOLATE_OBJECT', f, `is given twice (also as another spelling of "${key}")`);
    if (KEY_VALUE_LISTS.has(key)) out[key] = keyValueMap(x, f);
    else if (OPAQUE_MAPS.has(key)) out[key] = x;
    else out[key] = translate(x, f, key, offline);
  }
  return out;
}

/**
 * Reads one CRD receiver into Alertmanager spelling. With `globals` (the base configuration's
 * `global` section) it is compiled offline for Alertmanager 0.25: Secret references are refused
 * and the result is checked against 0.25's rules. Without (admission), the operator resolves
 * Secrets in the object's namespace and generates for its own Alertmanager version, so Secret
 * references become FROM_SECRET and the 0.25 field rules are not applied.
 */
export function translateReceiver(raw: unknown, field: string, globals?: Obj): AmReceiver {
  const offline = globals !== undefined;
  const r = obj(raw, field);
  const name = str(r.name, `${field}.name`);
  if (name === '') throw new IsolationError('ERR_ISOLATE_OBJECT', `${field}.name`, 'must not be empty');
  const configs: Record<string, unknown[]> = {};
  for (const [key, v] of Object.entries(r)) {
    if (key === 'name' || v === null || v === undefined) continue;
    const f = `${field}.${key}`;
    if (NEWER_INTEGRATIONS.has(key) && offline) throw unsupported(f, 'needs a newer Alertmanager than 0.25, which tenantgate generates configuration for');
    const target = Object.hasOwn(INTEGRATION_NAMES, key) ? INTEGRATION_NAMES[key]! : NEWER_INTEGRATIONS.has(key) ? camelToSnake(key) : undefined;
    if (target === undefined) throw unsupported(f, 'is not an Alertmanager 0.25 integration');
    if (Object.hasOwn(configs, target)) throw new IsolationError('ERR_ISOLATE_OBJECT', f, `is given twice (also as another spelling of "${target}")`);
    if (!Array.isArray(v)) throw new IsolationError('ERR_ISOLATE_OBJECT', f, 'must be a list');
    configs[target] = v.map((c, i) => translate(c, `${f}[${i}]`, target, offline));
  }
  // Checked in Alertmanager spelling; errors name the translated path under the CRD field.
  if (offline) checkReceiver({ name, ...configs }, field, globals);
  return { name, configs };
}
