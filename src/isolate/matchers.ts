// Alertmanager label matchers: parsing the string form (`name=~"value"`) and the
// prometheus-operator object form ({name, value, matchType}), and printing them back in the
// quoted form Alertmanager 0.25 parses unambiguously.
import { RE2JS } from 're2js';
import { IsolationError } from './errors.ts';
import { isObj } from './util.ts';

export type MatchOp = '=' | '!=' | '=~' | '!~';
export interface Matcher { readonly name: string; readonly op: MatchOp; readonly value: string }

const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const ONE = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|([^"{},\s]*))\s*$/s;

function unescape(s: string): string {
  return s.replace(/\\(.)/gs, (_m, c: string) => (c === 'n' ? '\n' : c));
}

function checkRegex(m: Matcher, field: string): void {
  if (m.op !== '=~' && m.op !== '!~') return;
  try { RE2JS.compile(`^(?:${m.value})$`); } catch (err) {
    throw new IsolationError('ERR_ISOLATE_OBJECT', field, `invalid regex in matcher: ${(err as Error).message}`);
  }
}

/** One matcher per string; several comma-separated matchers in one string are refused. */
export function parseMatcherString(s: unknown, field: string): Matcher {
  if (typeof s !== 'string') throw new IsolationError('ERR_ISOLATE_OBJECT', field, 'a matcher must be a string like name="value"');
  const m = ONE.exec(s);
  if (m === null) throw new IsolationError('ERR_ISOLATE_OBJECT', field, `cannot parse matcher ${JSON.stringify(s)} (expected one name, an operator =, !=, =~ or !~, and a value)`);
  const out: Matcher = { name: m[1]!, op: m[2] as MatchOp, value: m[3] !== undefined ? unescape(m[3]) : m[4]! };
  checkRegex(out, field);
  return out;
}

/** The prometheus-operator AlertmanagerConfig form. */
export function parseMatcherObject(v: unknown, field: string): Matcher {
  if (!isObj(v)) throw new IsolationError('ERR_ISOLATE_OBJECT', field, 'a matcher must be a mapping with name, value and matchType');
  const name = v.name;
  if (typeof name !== 'string' || !LABEL.test(name)) throw new IsolationError('ERR_ISOLATE_OBJECT', `${field}.name`, 'must be a label name');
  const value = v.value ?? '';
  if (typeof value !== 'string') throw new IsolationError('ERR_ISOLATE_OBJECT', `${field}.value`, 'must be a string');
  let op = (v.matchType ?? (v.regex === true ? '=~' : '=')) as string;
  if (!['=', '!=', '=~', '!~'].includes(op)) throw new IsolationError('ERR_ISOLATE_OBJECT', `${field}.matchType`, 'must be =, !=, =~ or !~');
  const out: Matcher = { name, op: op as MatchOp, value };
  checkRegex(out, field);
  return out;
}

export function formatMatcher(m: Matcher): string {
  const v = m.value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return `${m.name}${m.op}"${v}"`;
}

export function matcherObject(m: Matcher): { name: string; value: string; matchType: MatchOp } {
  return { name: m.name, value: m.value, matchType: m.op };
}
