// Receiver translation: each CRD spelling (prometheus-operator camelCase, the VictoriaMetrics
// CRD's snake_case with its camelCase shared types) becomes Alertmanager's spelling, and what
// Alertmanager 0.25 would refuse is an error of the object, naming the field.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { translateReceiver } from '../../../src/isolate/alertmanager-receivers.ts';
import { IsolationError } from '../../../src/isolate/errors.ts';

const GLOBALS = { slack_api_url: 'http://slack.example/', opsgenie_api_key: 'k', victorops_api_key: 'k', wechat_api_secret: 's', wechat_api_corp_id: 'c', smtp_smarthost: 'mail:25', smtp_from: 'am@example.com' };
const po = (cfg: Record<string, unknown>) => translateReceiver({ name: 'r', ...cfg }, 'spec.receivers[0]', GLOBALS).configs;
const vm = (cfg: Record<string, unknown>) => translateReceiver({ name: 'r', ...cfg }, 'spec.receivers[0]', GLOBALS).configs;

function refused(fn: () => unknown, field: RegExp, reason?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof IsolationError, String(err));
    assert.match(err.field, field);
    if (reason !== undefined) assert.match(err.reason, reason);
    return true;
  });
}

describe('prometheus-operator spelling → Alertmanager spelling', () => {
  it('webhook: sendResolved, maxAlerts, httpConfig with tlsConfig / proxyURL / followRedirects / enableHttp2', () => {
    assert.deepEqual(po({ webhookConfigs: [{ url: 'https://hooks.example.com/x', sendResolved: true, maxAlerts: 5, httpConfig: { tlsConfig: { insecureSkipVerify: true, serverName: 'hooks', minVersion: 'TLS12' }, proxyURL: 'http://proxy:3128/', followRedirects: false, enableHttp2: true } }] }), {
      webhook_configs: [{ url: 'https://hooks.example.com/x', send_resolved: true, max_alerts: 5, http_config: { tls_config: { insecure_skip_verify: true, server_name: 'hooks', min_version: 'TLS12' }, proxy_url: 'http://proxy:3128/', follow_redirects: false, enable_http2: true } }],
    });
  });
  it('opsgenie: apiURL, details as key/value list, responders, updateAlerts', () => {
    assert.deepEqual(po({ opsgenieConfigs: [{ apiURL: 'https://api.eu.opsgenie.com/', details: [{ key: 'team', value: 'a' }], responders: [{ type: 'team', name: 'ops' }], updateAlerts: true, priority: 'P2' }] }), {
      opsgenie_configs: [{ api_url: 'https://api.eu.opsgenie.com/', details: { team: 'a' }, responders: [{ type: 'team', name: 'ops' }], update_alerts: true, priority: 'P2' }],
    });
  });
  it('pagerduty: pagerDutyImageConfigs → images, pagerDutyLinkConfigs (alt) → links (text), clientURL', () => {
    // The routing key is always a Secret in this CRD, so offline the object fails on that alone:
    // the schema check runs first, so every other field was translated to a known one.
    refused(() => po({ pagerdutyConfigs: [{ url: 'https://events.pagerduty.com/v2/enqueue', clientURL: 'https://grafana', pagerDutyImageConfigs: [{ src: 'https://i/x.png', alt: 'graph', href: 'https://g' }], pagerDutyLinkConfigs: [{ href: 'https://runbook', alt: 'runbook' }], details: [{ key: 'k', value: 'v' }], severity: 'critical' }] }), /pagerduty_configs\[0\]$/, /routing_key or service_key/);
    refused(() => po({ pagerdutyConfigs: [{ routingKey: { name: 's', key: 'k' } }] }), /routingKey$/, /Secret/);
  });
  it('slack: titleLink, iconURL, callbackId, linkNames, mrkdwnIn, fields, actions with confirm okText/dismissText', () => {
    assert.deepEqual(po({ slackConfigs: [{ channel: '#a', titleLink: 'https://t', iconURL: 'https://i', callbackId: 'c', linkNames: true, mrkdwnIn: ['text'], shortFields: true, fields: [{ title: 't', value: 'v', short: true }], actions: [{ type: 'button', text: 'ack', url: 'https://ack', confirm: { text: 'sure?', okText: 'yes', dismissText: 'no' } }] }] }), {
      slack_configs: [{ channel: '#a', title_link: 'https://t', icon_url: 'https://i', callback_id: 'c', link_names: true, mrkdwn_in: ['text'], short_fields: true, fields: [{ title: 't', value: 'v', short: true }], actions: [{ type: 'button', text: 'ack', url: 'https://ack', confirm: { text: 'sure?', ok_text: 'yes', dismiss_text: 'no' } }] }],
    });
  });
  it('email: headers as key/value list, requireTLS, tlsConfig, authUsername/authIdentity', () => {
    assert.deepEqual(po({ emailConfigs: [{ to: 'oncall@example.com', headers: [{ key: 'Subject', value: 's' }], requireTLS: true, tlsConfig: { insecureSkipVerify: false }, authUsername: 'u', authIdentity: 'i' }] }), {
      email_configs: [{ to: 'oncall@example.com', headers: { Subject: 's' }, require_tls: true, tls_config: { insecure_skip_verify: false }, auth_username: 'u', auth_identity: 'i' }],
    });
  });
  it('victorops: apiUrl, customFields list → custom_fields map, entityDisplayName, stateMessage, monitoringTool', () => {
    assert.deepEqual(po({ victoropsConfigs: [{ apiUrl: 'https://alert.victorops.com/x/', routingKey: 'rk', customFields: [{ key: 'f', value: 'v' }], entityDisplayName: 'e', stateMessage: 's', monitoringTool: 'm', messageType: 'CRITICAL' }] }), {
      victorops_configs: [{ api_url: 'https://alert.victorops.com/x/', routing_key: 'rk', custom_fields: { f: 'v' }, entity_display_name: 'e', state_message: 's', monitoring_tool: 'm', message_type: 'CRITICAL' }],
    });
  });
  it('wechat: corpID, agentID, toUser, toParty, toTag, messageType', () => {
    assert.deepEqual(po({ wechatConfigs: [{ corpID: 'c', agentID: 'a', toUser: 'u', toParty: 'p', toTag: 't', messageType: 'markdown' }] }), {
      wechat_configs: [{ corp_id: 'c', agent_id: 'a', to_user: 'u', to_party: 'p', to_tag: 't', message_type: 'markdown' }],
    });
  });
  it('sns: topicARN, phoneNumber, sigv4 region/profile/roleArn, attributes', () => {
    assert.deepEqual(po({ snsConfigs: [{ topicARN: 'arn:aws:sns:x', sigv4: { region: 'eu-west-1', profile: 'p', roleArn: 'arn:role' }, attributes: { a: 'b' }, subject: 's' }] }), {
      sns_configs: [{ topic_arn: 'arn:aws:sns:x', sigv4: { region: 'eu-west-1', profile: 'p', role_arn: 'arn:role' }, attributes: { a: 'b' }, subject: 's' }],
    });
  });
  it('webex: roomID, apiURL; authorization carried in http_config', () => {
    refused(() => po({ webexConfigs: [{ roomID: 'r', apiURL: 'https://webexapis.com/v1/messages', httpConfig: { authorization: { type: 'Bearer', credentials: { name: 's', key: 'k' } } } }] }), /authorization\.credentials$/, /Secret/);
  });
  it('oauth2: clientId (ConfigMap/Secret) refused, tokenUrl/scopes/endpointParams translated', () => {
    refused(() => po({ webhookConfigs: [{ url: 'http://a/', httpConfig: { oauth2: { clientId: { secret: { name: 's', key: 'id' } }, tokenUrl: 'http://t/' } } }] }), /clientId/, /Secret or ConfigMap/);
  });
  it('Secret references (apiKey, urlSecret, basicAuth, bearerTokenSecret) are refused with the field', () => {
    refused(() => po({ opsgenieConfigs: [{ apiKey: { name: 's', key: 'k' } }] }), /opsgenieConfigs\[0\]\.apiKey$/);
    refused(() => po({ webhookConfigs: [{ urlSecret: { name: 's', key: 'k' } }] }), /urlSecret$/);
    refused(() => po({ webhookConfigs: [{ url: 'http://a/', httpConfig: { bearerTokenSecret: { name: 's', key: 'k' } } }] }), /bearerTokenSecret$/);
  });
  it('fields Alertmanager 0.25 lacks are refused by name (not copied into the shared file)', () => {
    refused(() => po({ slackConfigs: [{ channel: 'c', timeout: '5s' }] }), /slack_configs\[0\]\.timeout$/, /Alertmanager 0\.25/);
    refused(() => po({ telegramConfigs: [{ botToken: { name: 's', key: 'k' }, chatID: 1 }] }), /botToken$/);
    refused(() => po({ msteamsConfigs: [{ webhookUrl: { name: 's', key: 'k' } }] }), /msteamsConfigs$/, /newer Alertmanager/);
    refused(() => po({ pushoverConfigs: [{ device: 'x' }] }), /device$/);
  });
});

describe('VictoriaMetrics CRD spelling → Alertmanager spelling', () => {
  it('opsgenie apiURL (the one camelCase field of the VM opsgenie config) → api_url', () => {
    assert.deepEqual(vm({ opsgenie_configs: [{ apiURL: 'https://api.opsgenie.com/', message: 'm' }] }), { opsgenie_configs: [{ api_url: 'https://api.opsgenie.com/', message: 'm' }] });
  });
  it('tls_config caFile/certFile/keyFile/serverName/insecureSkipVerify → ca_file/cert_file/key_file/server_name/insecure_skip_verify', () => {
    assert.deepEqual(vm({ webhook_configs: [{ url: 'http://a/', http_config: { tls_config: { caFile: '/ca', certFile: '/c', keyFile: '/k', serverName: 's', insecureSkipVerify: true } } }] }), {
      webhook_configs: [{ url: 'http://a/', http_config: { tls_config: { ca_file: '/ca', cert_file: '/c', key_file: '/k', server_name: 's', insecure_skip_verify: true } } }],
    });
  });
  it('proxy settings proxyURL / proxyConnectHeader → proxy_url / proxy_connect_header', () => {
    assert.deepEqual(vm({ webhook_configs: [{ url: 'http://a/', http_config: { proxyURL: 'http://p:3128/', proxyConnectHeader: { 'X-A': ['b'] } } }] }), {
      webhook_configs: [{ url: 'http://a/', http_config: { proxy_url: 'http://p:3128/', proxy_connect_header: { 'X-A': ['b'] } } }],
    });
  });
  it('noProxy / proxyFromEnvironment need a newer Alertmanager: refused by name', () => {
    refused(() => vm({ webhook_configs: [{ url: 'http://a/', http_config: { noProxy: 'x' } }] }), /http_config\.no_proxy$/, /Alertmanager 0\.25/);
  });
  it('authorization credentialsFile → credentials_file; basic_auth password_file kept', () => {
    assert.deepEqual(vm({ webhook_configs: [{ url: 'http://a/', http_config: { authorization: { type: 'Bearer', credentialsFile: '/t' } } }] }), {
      webhook_configs: [{ url: 'http://a/', http_config: { authorization: { type: 'Bearer', credentials_file: '/t' } } }],
    });
    assert.deepEqual(vm({ webhook_configs: [{ url: 'http://a/', http_config: { basic_auth: { password_file: '/p' } } }] }).webhook_configs, [{ url: 'http://a/', http_config: { basic_auth: { password_file: '/p' } } }]);
  });
  it('oauth2 token_url/scopes/endpoint_params kept, endpoint_params keys untouched', () => {
    const c = vm({ webhook_configs: [{ url: 'http://a/', http_config: { oauth2: { client_secret_file: '/s', token_url: 'http://t/', scopes: ['a'], endpoint_params: { audienceURL: 'x' } } } }] });
    assert.deepEqual(c.webhook_configs, [{ url: 'http://a/', http_config: { oauth2: { client_secret_file: '/s', token_url: 'http://t/', scopes: ['a'], endpoint_params: { audienceURL: 'x' } } } }]);
  });
  it('url_secret / webhook_url_secret / bearer_token_secret are refused', () => {
    refused(() => vm({ webhook_configs: [{ url_secret: { name: 's', key: 'k' } }] }), /url_secret$/);
    refused(() => vm({ discord_configs: [{ webhook_url_secret: { name: 's', key: 'k' } }] }), /webhook_url_secret$/);
  });
  it('a key given in two spellings is an error, never silently merged', () => {
    refused(() => vm({ opsgenie_configs: [{ apiURL: 'https://a/', api_url: 'https://b/' }] }), /api_url$/, /twice/);
  });
});

describe('Alertmanager 0.25 load-time rules', () => {
  it('URLs must be http(s) with a host; the value is not echoed', () => {
    refused(() => vm({ webhook_configs: [{ url: 'ftp://x/' }] }), /url$/, /scheme "ftp"/);
    refused(() => vm({ webhook_configs: [{ url: 'http://secret-token@/' }] }), /url$/);
    assert.throws(() => vm({ webhook_configs: [{ url: 'not a url with token abc123' }] }), (e: IsolationError) => !e.message.includes('abc123'));
  });
  it('settings that may come from the base configuration are required when it lacks them', () => {
    const none = (cfg: Record<string, unknown>) => translateReceiver({ name: 'r', ...cfg }, 'spec.receivers[0]', {});
    refused(() => none({ slack_configs: [{ channel: 'c' }] }), /slack_configs\[0\]$/, /slack_api_url/);
    assert.doesNotThrow(() => vm({ slack_configs: [{ channel: 'c' }] }));
    refused(() => none({ email_configs: [{ to: 'a@b.c' }] }), /email_configs\[0\]$/, /smtp_smarthost/);
    // Unknown globals (the webhook): not required.
    assert.doesNotThrow(() => translateReceiver({ name: 'r', slack_configs: [{ channel: 'c' }] }, 'f'));
  });
  it('each integration\'s own checks', () => {
    refused(() => vm({ opsgenie_configs: [{ responders: [{ type: 'squad', name: 'x' }] }] }), /responders\[0\]\.type$/);
    refused(() => vm({ opsgenie_configs: [{ responders: [{ type: 'team' }] }] }), /responders\[0\]$/);
    refused(() => vm({ telegram_configs: [{ bot_token: 'b', chat_id: 1, parse_mode: 'bbcode' }] }), /parse_mode$/);
    refused(() => vm({ wechat_configs: [{ message_type: 'image' }] }), /message_type$/);
    refused(() => vm({ victorops_configs: [{ routing_key: 'r', custom_fields: { entity_id: 'x' } }] }), /custom_fields\.entity_id$/);
    refused(() => vm({ sns_configs: [{ topic_arn: 'a', phone_number: '1' }] }), /sns_configs\[0\]$/);
    refused(() => vm({ email_configs: [{ to: 'a@b.c', headers: { Subject: 'a', subject: 'b' } }] }), /headers\.subject$/);
    refused(() => vm({ webex_configs: [{ room_id: 'r' }] }), /http_config\.authorization$/);
    refused(() => vm({ pushover_configs: [{ user_key: 'u', token: 't', retry: '90' }] }), /retry$/);
    refused(() => vm({ webhook_configs: [{ url: 'http://a/', max_alerts: -1 }] }), /max_alerts$/);
    refused(() => vm({ webhook_configs: [{ url: 'http://a/', http_config: { basic_auth: { username: 'a' }, bearer_token: 'b' } }] }), /http_config$/);
    refused(() => vm({ webhook_configs: [{ url: 'http://a/', http_config: { authorization: { type: 'Basic', credentials_file: '/x' } } }] }), /authorization\.type$/);
    refused(() => vm({ webhook_configs: [{ url: 'http://a/', http_config: { tls_config: { min_version: 'TLS99' } } }] }), /min_version$/);
    refused(() => vm({ webhook_configs: [{ url: 'http://a/', http_config: { proxy_connect_header: { a: ['b'] } } }] }), /proxy_connect_header$/);
  });
});

describe('admission (no base configuration): the operator resolves Secrets and picks the Alertmanager version', () => {
  const admit = (_dialect: 'po' | 'vm', cfg: Record<string, unknown>) => translateReceiver({ name: 'r', ...cfg }, 'spec.receivers[0]').configs;
  it('Secret references are kept as "from a Secret", never refused', () => {
    assert.deepEqual(admit('po', { slackConfigs: [{ apiURL: { name: 'slack', key: 'url' }, channel: '#a' }] }), { slack_configs: [{ api_url: { fromSecret: true }, channel: '#a' }] });
    assert.deepEqual(admit('vm', { webhook_configs: [{ url_secret: { name: 's', key: 'k' } }] }), { webhook_configs: [{ url: { fromSecret: true } }] });
  });
  it('integrations and fields newer than Alertmanager 0.25 are the operator\'s business', () => {
    assert.deepEqual(Object.keys(admit('po', { msteamsConfigs: [{ webhookUrl: { name: 's', key: 'k' } }] })), ['msteams_configs']);
    assert.doesNotThrow(() => admit('po', { slackConfigs: [{ channel: 'c', timeout: '5s' }] }));
  });
});
