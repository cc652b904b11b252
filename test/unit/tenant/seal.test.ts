// Nothing crosses the tenant line, rule by rule, each with an allowed and a denied twin:
// write args (`write_args`), tenant-selecting headers, conflicting matchers (`on_conflict`),
// silence ownership, and the lookup the policy asks the gateway for on silences by id.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { argsOf, forwarded, policy, refused, run } from './helpers.ts';
import { compileTenantPolicy } from '../../../src/enforce/tenant/compile.ts';
import { FieldError } from '../../../src/config/errors.ts';
import { alertmanagerGuard } from '../../../src/enforce/alertmanager/guard.ts';
import type { LookupResult, TenantDecision, TenantLookup } from '../../../src/enforce/tenant/policy.ts';
import { victoriaLogsHeaderFor, writeArgProblem } from '../../../src/enforce/tenant/write-args.ts';
import {
  alertmanagerFilterConflict, compileTenant, findQueryConflict, matcherAccepts, parseAlertmanagerFilter, regexLiteral,
} from '../../../src/enforce/promql/index.ts';
import { snappyCompress } from '../../../src/enforce/remote-write/snappy-encode.ts';
import { encodeWriteRequest } from '../remote-write/proto-reference.ts';

const JSONH = { 'content-type': 'application/json' };
const RW = { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' };
const ID = '0b9e4c1a-7f7e-4d0e-9d3c-2a6f7f1c9e11';
const rw = () => Buffer.from(snappyCompress(encodeWriteRequest({ timeseries: [{ labels: [['__name__', 'x']], samples: [{ value: 1, timestamp: 1 }] }] })));

function configError(raw: unknown): FieldError {
  try {
    compileTenantPolicy(raw, ['users', 0, 'tenant']);
  } catch (err) {
    assert.ok(err instanceof FieldError, String(err));
    return err;
  }
  assert.fail('accepted');
}

describe('write_args: validated strictly', () => {
  test('plain arg names are accepted', () => {
    for (const name of ['format', 'db', '_msg_field', 'precision', 'debug']) assert.equal(writeArgProblem(name), null, name);
    compileTenantPolicy({ labels: { t: 'a' }, write_args: ['format', 'db'] }, ['x']);
  });
  test('names that select or stamp a tenant are refused, in any case', () => {
    for (const name of ['extra_label', 'EXTRA_LABEL', 'extra_filters[]', 'extra_fields', 'AccountID', 'projectid', 'ignore_fields', 'X-Scope-OrgID']) {
      assert.match(writeArgProblem(name) ?? '', /selects or stamps the tenant/, name);
    }
    const e = configError({ labels: { t: 'a' }, write_args: ['db', 'extra_label'] });
    assert.deepEqual(e.path, ['users', 0, 'tenant', 'write_args', 1]);
    assert.match(e.message, /extra_label selects or stamps the tenant/);
  });
  test('malformed, duplicate and too many names are refused', () => {
    assert.match(configError({ labels: { t: 'a' }, write_args: ['a b'] }).message, /arg name/);
    assert.match(configError({ labels: { t: 'a' }, write_args: [''] }).message, /arg name/);
    assert.match(configError({ labels: { t: 'a' }, write_args: ['db', 'db'] }).message, /listed twice/);
    assert.match(configError({ labels: { t: 'a' }, write_args: Array.from({ length: 33 }, (_, i) => `a${i}`) }).message, /at most 32/);
    assert.match(configError({ labels: { t: 'a' }, write_args: 'db' }).message, /list of query arg names/);
  });
  test('VictoriaLogs header forms', () => {
    assert.equal(victoriaLogsHeaderFor('_msg_field'), 'vl-msg-field');
    assert.equal(victoriaLogsHeaderFor('_stream_fields'), 'vl-stream-fields');
    assert.equal(victoriaLogsHeaderFor('debug'), 'vl-debug');
  });
});

describe('writes forward only allowed client args, on every enforce kind', () => {
  const HOSTILE = 'extra_label=t=b&extra_filters[]={}&AccountID=2&db=x&format=y&other=1';
  test('victoriametrics: the tenant extra_label plus allowed names only', () => {
    const allowed = argsOf(forwarded(run(policy({ enforce: 'victoriametrics', labels: { t: 'a' }, write_args: ['db'] }), { method: 'POST', path: '/influx/write', query: HOSTILE, body: 'm v=1' }))).url;
    assert.deepEqual([...allowed.entries()].sort(), [['db', ['x']], ['extra_label', ['t=a']]]);
    const none = argsOf(forwarded(run(policy({ enforce: 'victoriametrics', labels: { t: 'a' } }), { method: 'POST', path: '/influx/write', query: HOSTILE, body: 'm v=1' }))).url;
    assert.deepEqual([...none.entries()], [['extra_label', ['t=a']]]);
  });
  test('promql remote write: no client arg unless allowed', () => {
    const none = forwarded(run(policy({ labels: { t: 'a' } }), { method: 'POST', path: '/api/v1/write', query: HOSTILE, body: rw(), headers: RW }));
    assert.equal(none.rawQuery, '');
    const allowed = forwarded(run(policy({ labels: { t: 'a' }, write_args: ['other'] }), { method: 'POST', path: '/api/v1/write', query: HOSTILE, body: rw(), headers: RW }));
    assert.equal(allowed.rawQuery, 'other=1');
  });
  test('promql Alertmanager posts: no client arg unless allowed', () => {
    const pq = policy({ labels: { t: 'a' } });
    const silence = JSON.stringify({ matchers: [{ name: 't', value: 'a', isRegex: false }], startsAt: 's', endsAt: 'e', createdBy: 'c', comment: 'x' });
    assert.equal(forwarded(run(pq, { method: 'POST', path: '/api/v2/silences', query: HOSTILE, body: silence, headers: JSONH })).rawQuery, '');
    // Alert posts need the route's Alertmanager config read and safe (test/unit/alertmanager/guard.test.ts).
    alertmanagerGuard.watch(pq, ['am-seal']);
    alertmanagerGuard.record('am-seal', { kind: 'read', config: { route: { receiver: 'r', group_by: ['...'] } } });
    assert.equal(forwarded(run(pq, { method: 'POST', path: '/api/v2/alerts', query: HOSTILE, body: '[{"labels":{}}]', headers: JSONH })).rawQuery, '');
  });
  test('victorialogs: allowed args and their VL-* headers only; the rest of VL-* is dropped', () => {
    const vl = policy({ enforce: 'victorialogs', write_args: ['_msg_field'], logs: { account_id: 1, extra_fields: { t: 'a' } } });
    const f = forwarded(run(vl, {
      method: 'POST', path: '/insert/jsonline', query: `${HOSTILE}&_msg_field=m&_stream_fields=s`, body: '{}',
      headers: { 'vl-msg-field': 'm', 'vl-stream-fields': 's', 'vl-extra-fields': 't=b', 'vl-ignore-fields': 't', 'x-scope-orgid': '2' },
    }));
    assert.deepEqual([...argsOf(f).url.entries()].sort(), [['_msg_field', ['m']], ['extra_fields', ['t=a']]]);
    const dropped = new Set(f.removeHeaders);
    for (const h of ['vl-stream-fields', 'vl-extra-fields', 'vl-ignore-fields', 'x-scope-orgid', 'accountid']) assert.ok(dropped.has(h), h);
    assert.ok(!dropped.has('vl-msg-field'));
    assert.deepEqual(f.setHeaders, [['AccountID', '1'], ['ProjectID', '0']]);
  });
  test('allow_paths: a write keeps only allowed args, a read is unchanged', () => {
    const p = policy({ labels: { t: 'a' }, allow_paths: ['/custom'], write_args: ['db'] });
    assert.equal(forwarded(run(p, { method: 'POST', path: '/custom', query: HOSTILE })).rawQuery, 'db=x');
    assert.equal(forwarded(run(p, { method: 'GET', path: '/custom', query: 'a=1' })).rawQuery, 'a=1');
  });
  test('tenant-selecting headers are dropped on every kind', () => {
    for (const raw of [{ labels: { t: 'a' } }, { enforce: 'victoriametrics', labels: { t: 'a' } }]) {
      const f = forwarded(run(policy(raw), { method: 'POST', path: '/api/v1/write', body: rw(), headers: RW }));
      for (const h of ['accountid', 'projectid', 'x-scope-orgid', 'thanos-tenant', 'vl-extra-fields', 'vl-extra-filters']) assert.ok(f.removeHeaders!.includes(h), h);
    }
  });
});

describe('on_conflict', () => {
  const strict = policy({ labels: { t: 'a' }, on_conflict: 'error' });
  const lax = policy({ labels: { t: 'a' } });
  test('query: a conflict is 400 with on_conflict: error, and ANDed (kept) otherwise', () => {
    const r = refused(run(strict, { path: '/api/v1/query', query: 'query=x{t="b"}' }), 400, 'tenant_query_conflict');
    assert.match(r.message, /t="b" exclude every value of the tenant label t/);
    assert.deepEqual(argsOf(forwarded(run(lax, { path: '/api/v1/query', query: 'query=x{t="b"}' }))).url.get('query'), ['x{t="b", t="a"}']);
    assert.deepEqual(argsOf(forwarded(run(strict, { path: '/api/v1/query', query: 'query=x{t=~"a|b"}' }))).url.get('query'), ['x{t=~"a|b", t="a"}']);
  });
  test('match[]: each selector is checked', () => {
    refused(run(strict, { path: '/api/v1/series', query: 'match[]=up&match[]={t!="a"}' }), 400, 'tenant_query_conflict');
    forwarded(run(strict, { path: '/api/v1/series', query: 'match[]=up&match[]={t="a"}' }));
  });
  test('Alertmanager filters', () => {
    refused(run(strict, { path: '/api/v2/alerts', query: 'filter=t%3D%22b%22' }), 400, 'tenant_query_conflict');
    refused(run(strict, { path: '/api/v2/silences', query: 'filter=t!%3Da' }), 400, 'tenant_query_conflict');
    forwarded(run(strict, { path: '/api/v2/alerts', query: 'filter=t%3D~%22a.*%22' }));
    forwarded(run(lax, { path: '/api/v2/alerts', query: 'filter=t%3D%22b%22' }));
  });
  test('only with enforce: promql, and only empty or error', () => {
    assert.match(configError({ enforce: 'victoriametrics', labels: { t: 'a' }, on_conflict: 'error' }).message, /only to enforce: promql/);
    assert.match(configError({ labels: { t: 'a' }, on_conflict: 'replace' }).message, /expected empty or error/);
  });
});

describe('conflict rules (library)', () => {
  const one = compileTenant({ matchers: [{ label: 't', values: ['a'] }] });
  const two = compileTenant({ matchers: [{ label: 't', values: ['a', 'b'] }] });
  test('matcherAccepts follows Prometheus semantics', () => {
    assert.equal(matcherAccepts('=~', 'a|b', 'a'), true);
    assert.equal(matcherAccepts('=~', 'a', 'ab'), false, 'anchored');
    assert.equal(matcherAccepts('!~', 'a.*', 'ab'), false);
    assert.equal(matcherAccepts('=~', '(', 'a'), true, 'a bad regex is the backend\'s error, not a conflict');
  });
  test('conflict twins', () => {
    for (const q of ['x{t="b"}', 'x{t!="a"}', 'x{t=""}', 'x{t=~"b.*"}', 'x{t="a", t="b"}', 'x or y{t="c"}']) assert.notEqual(findQueryConflict(q, one), null, q);
    for (const q of ['x', 'x{t="a"}', 'x{t=~"a|b"}', 'x{t!="b"}', 'x{u="b"}', 'vector(1)']) assert.equal(findQueryConflict(q, one), null, q);
    assert.equal(findQueryConflict('x{t="b"}', two), null, 'one of several values');
    assert.notEqual(findQueryConflict('x{t="a", t="b"}', two), null, 'no single value is both');
  });
  test('Alertmanager filter parsing', () => {
    assert.deepEqual(parseAlertmanagerFilter('t="a"'), [{ name: 't', op: '=', value: 'a' }]);
    assert.deepEqual(parseAlertmanagerFilter('{t=~"a\\"b", u!=c}'), [{ name: 't', op: '=~', value: 'a"b' }, { name: 'u', op: '!=', value: 'c' }]);
    assert.equal(parseAlertmanagerFilter('t="a'), null);
    assert.notEqual(alertmanagerFilterConflict(['u="x"', 't="b"'], one), null);
    assert.equal(alertmanagerFilterConflict(['u="x"', 't="a"'], one), null);
    assert.equal(alertmanagerFilterConflict(['garbage"'], one), null, 'left to Alertmanager');
  });
  test('regexLiteral twins', () => {
    assert.equal(regexLiteral('team-a'), 'team-a');
    assert.equal(regexLiteral('team\\.a'), 'team.a');
    assert.equal(regexLiteral('team\\_a'), 'team_a');
    for (const r of ['team.a', 'a|b', 'a*', '(a)', '[a]', '\\w', '\\d', 'a\\', '^a', 'a$', '(?i)a']) assert.equal(regexLiteral(r), null, r);
  });
});

describe('silences by id: the policy asks the gateway for the silence first', () => {
  const pq = policy({ labels: { t: 'a' } });
  const own = { id: ID, status: { state: 'active' }, matchers: [{ name: 't', value: 'a', isRegex: false, isEqual: true }] };
  const foreign = { ...own, matchers: [{ name: 't', value: 'b', isRegex: false, isEqual: true }] };
  const both = { ...own, matchers: [{ name: 't', value: 'a', isRegex: false, isEqual: true }, { name: 't', value: 'b', isRegex: false, isEqual: true }] };
  const answer = (status: number, json: unknown): LookupResult => ({ status, contentType: 'application/json', body: Buffer.from(JSON.stringify(json)) });
  const lookup = (d: TenantDecision): TenantLookup => {
    assert.equal(d.kind, 'lookup');
    return d as TenantLookup;
  };

  test('DELETE: the owner\'s silence is expired; another tenant\'s or a missing one is 404', () => {
    const l = lookup(run(pq, { method: 'DELETE', path: `/alertmanager/api/v2/silence/${ID}`, query: 'extra_label=t=b' }));
    assert.equal(l.path, `/alertmanager/api/v2/silence/${ID}`);
    const f = forwarded(l.decide(answer(200, own)));
    assert.equal(f.rawQuery, '');
    assert.equal(f.body, null);
    refused(l.decide(answer(200, foreign)), 404, 'tenant_silence_not_owned');
    refused(l.decide(answer(200, both)), 404, 'tenant_silence_not_owned');
    refused(l.decide(answer(404, 'silence not found')), 404, 'tenant_silence_not_owned');
  });
  test('a lookup answer that cannot be trusted fails closed (502)', () => {
    const l = lookup(run(pq, { method: 'DELETE', path: `/api/v2/silence/${ID}` }));
    refused(l.decide(answer(500, 'boom')), 502, 'tenant_lookup_failed');
    refused(l.decide({ status: 200, contentType: 'text/plain', body: Buffer.from('not json') }), 502, 'tenant_lookup_failed');
    refused(l.decide(answer(200, { ...own, id: '11111111-1111-1111-1111-111111111111' })), 502, 'tenant_lookup_failed');
  });
  test('GET: forwarded for the owner with the answer checked again; 404 for others', () => {
    const l = lookup(run(pq, { path: `/api/v2/silence/${ID}` }));
    const f = forwarded(l.decide(answer(200, own)));
    assert.deepEqual(JSON.parse(f.responseFilter!.filter(200, 'application/json', Buffer.from(JSON.stringify(own))).toString()), own);
    assert.throws(() => f.responseFilter!.filter(200, 'application/json', Buffer.from(JSON.stringify(foreign))));
    refused(l.decide(answer(200, foreign)), 404);
  });
  test('POST with an id (an update): both the new silence and the one it replaces must be the tenant\'s', () => {
    const body = JSON.stringify({ id: ID, matchers: [{ name: 't', value: 'a', isRegex: false }], startsAt: 's', endsAt: 'e', createdBy: 'c', comment: 'x' });
    const l = lookup(run(pq, { method: 'POST', path: '/alertmanager/api/v2/silences', body, headers: JSONH }));
    assert.equal(l.path, `/alertmanager/api/v2/silence/${ID}`);
    assert.equal(JSON.parse(forwarded(l.decide(answer(200, own))).body!.toString()).id, ID);
    refused(l.decide(answer(200, foreign)), 404, 'tenant_silence_not_owned');
    const hijack = JSON.stringify({ id: ID, matchers: [{ name: 't', value: 'b', isRegex: false }], startsAt: 's', endsAt: 'e', createdBy: 'c', comment: 'x' });
    refused(run(pq, { method: 'POST', path: '/api/v2/silences', body: hijack, headers: JSONH }), 403, 'tenant_silence_not_owned');
    refused(run(pq, { method: 'POST', path: '/api/v2/silences', body: JSON.stringify({ id: '../status', matchers: [] }), headers: JSONH }), 400, 'tenant_body_unsupported');
  });
  test('ids that are not UUID-shaped are not forwarded; a body on GET/DELETE is refused', () => {
    refused(run(pq, { method: 'DELETE', path: '/api/v2/silence/..%2fstatus' }), 403, 'tenant_path_not_allowed');
    refused(run(pq, { method: 'DELETE', path: `/api/v2/silence/${ID}`, body: 'x' }), 400, 'tenant_body_unsupported');
    refused(run(pq, { method: 'PUT', path: `/api/v2/silence/${ID}` }), 405, 'tenant_method_not_allowed');
  });
  test('a read-only tenant cannot expire', () => {
    refused(run(policy({ labels: { t: 'a' }, mode: 'read' }), { method: 'DELETE', path: `/api/v2/silence/${ID}` }), 403, 'tenant_mode_forbids_write');
  });
});
