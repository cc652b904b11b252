// Alertmanager route and inhibit-rule matchers, read the way Alertmanager reads its config:
// `match` (equality map), `match_re` (anchored regex map) and `matchers` (a list of strings, each
// one or more comma-separated `name op value` matchers, optionally inside `{…}`; names and values
// may be double-quoted). Only what the tenant lint needs: which single value a matcher pins.

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface AmMatcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
}

export class MatcherSyntaxError extends Error {}

const BARE_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** Reads a double-quoted string starting at s[i] === '"'; returns the value and the index after it. */
function readQuoted(s: string, i: number): [string, number] {
  let out = '';
  for (let j = i + 1; j < s.length; j++) {
    const c = s[j]!;
    if (c === '\\') {
      const n = s[j + 1];
      if (n === undefined) break;
      out += n === 'n' ? '\n' : n === 't' ? '\t' : n;
      j++;
    } else if (c === '"') {
      return [out, j + 1];
    } else {
      out += c;
    }
  }
  throw new MatcherSyntaxError(`unterminated quoted string in ${JSON.stringify(s)}`);
}

/** Splits on commas outside double quotes. */
function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted && c === '\\') { i++; continue; }
    if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) { parts.push(s.slice(start, i)); start = i + 1; }
  }
  parts.push(s.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

function parseOne(text: string): AmMatcher {
  let i = 0;
  let name: string;
  if (text[0] === '"') {
    [name, i] = readQuoted(text, 0);
  } else {
    const m = /^[^=!~\s]+/.exec(text);
    if (m === null) throw new MatcherSyntaxError(`expected a label name in ${JSON.stringify(text)}`);
    name = m[0];
    i = name.length;
    if (!BARE_NAME.test(name)) throw new MatcherSyntaxError(`invalid label name ${JSON.stringify(name)} in ${JSON.stringify(text)}`);
  }
  while (text[i] === ' ') i++;
  const opMatch = /^(=~|!~|!=|=)/.exec(text.slice(i));
  if (opMatch === null) throw new MatcherSyntaxError(`expected =, !=, =~ or !~ after ${JSON.stringify(name)} in ${JSON.stringify(text)}`);
  const op = opMatch[1] as MatchOp;
  i += op.length;
  while (text[i] === ' ') i++;
  let value: string;
  if (text[i] === '"') {
    let end: number;
    [value, end] = readQuoted(text, i);
    if (text.slice(end).trim() !== '') throw new MatcherSyntaxError(`unexpected text after the value in ${JSON.stringify(text)}`);
  } else {
    value = text.slice(i).trim();
  }
  return { name, op, value };
}

/** One entry of a `matchers:` list: `a="b"`, `{a="b", c=~"d"}`, `a=b`. */
export function parseMatcherList(entry: string): AmMatcher[] {
  let s = entry.trim();
  if (s.startsWith('{')) {
    if (!s.endsWith('}')) throw new MatcherSyntaxError(`missing closing "}" in ${JSON.stringify(entry)}`);
    s = s.slice(1, -1);
  }
  return splitTopLevel(s).map(parseOne);
}

const REGEX_META = /[\\.+*?()|[\]{}^$]/;

/**
 * The single value a matcher pins its label to, or null: `=` pins its value; `=~` pins only a
 * regex without metacharacters (Alertmanager anchors it, so it matches exactly that literal).
 */
export function pinnedValue(m: AmMatcher): string | null {
  if (m.op === '=') return m.value;
  if (m.op === '=~' && !REGEX_META.test(m.value)) return m.value;
  return null;
}
