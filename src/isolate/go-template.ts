// A structural check of Go text/template strings as Prometheus and vmalert parse rule labels and
// annotations: every action closed, if/range/with/define/block matched by end, parentheses
// balanced, and only functions the engine defines. One broken template makes promtool and vmalert
// refuse the whole rule file, so it must fail the one object that carries it.

/** Functions of Go's text/template plus Prometheus 2.42's template functions. */
const GO_BUILTINS = ['and', 'or', 'not', 'len', 'index', 'slice', 'print', 'printf', 'println', 'html', 'js', 'urlquery', 'call', 'eq', 'ne', 'lt', 'le', 'gt', 'ge'];
const SHARED = ['humanize', 'humanize1024', 'humanizeDuration', 'humanizePercentage', 'humanizeTimestamp', 'query', 'first', 'label', 'value', 'strvalue', 'args', 'safeHtml', 'match', 'reReplaceAll', 'sortByLabel', 'stripPort', 'stripDomain', 'title', 'toUpper', 'toLower', 'pathPrefix', 'externalURL', 'parseDuration'];
export const PROMETHEUS_TEMPLATE_FUNCS: ReadonlySet<string> = new Set([...GO_BUILTINS, ...SHARED, 'toTime', 'graphLink', 'tableLink']);
/** vmalert's set differs: it lacks toTime/graphLink/tableLink and adds the escaping helpers. */
export const VMALERT_TEMPLATE_FUNCS: ReadonlySet<string> = new Set([...GO_BUILTINS, ...SHARED, 'crlfEscape', 'quotesEscape', 'jsonEscape', 'htmlEscape', 'pathEscape', 'queryEscape']);

const OPENERS = new Set(['if', 'range', 'with', 'define', 'block']);
const WORDS = new Set(['else', 'end', 'template', 'break', 'continue', 'true', 'false', 'nil']);

export class TemplateError extends Error {}

/** Strips string, raw-string and character literals from an action, so braces inside them don't count. */
function code(action: string): string {
  return action.replace(/"(?:[^"\\]|\\.)*"|`[^`]*`|'(?:[^'\\]|\\.)*'/gs, '""');
}

/** Throws TemplateError with the reason when `text` would not parse. */
export function checkGoTemplate(text: string, funcs: ReadonlySet<string>): void {
  const stack: string[] = [];
  let i = 0;
  for (;;) {
    const open = text.indexOf('{{', i);
    if (open < 0) break;
    let j = open + 2;
    if (text.startsWith('/*', j) || text.startsWith('- /*', j)) {
      const close = text.indexOf('*/', j);
      if (close < 0 || !/^\s*-?\}\}/.test(text.slice(close + 2))) throw new TemplateError('unclosed comment');
      i = text.indexOf('}}', close) + 2;
      continue;
    }
    // Find the closing braces outside literals.
    let end = -1;
    while (j < text.length) {
      const c = text[j]!;
      if (c === '"' || c === '\'') {
        j++;
        while (j < text.length && text[j] !== c) { if (text[j] === '\\') j++; if (text[j] === '\n') throw new TemplateError('unterminated string in action'); j++; }
        if (j >= text.length) throw new TemplateError('unterminated quoted string');
      } else if (c === '`') {
        const k = text.indexOf('`', j + 1);
        if (k < 0) throw new TemplateError('unterminated raw string');
        j = k;
      } else if (c === '}' && text[j + 1] === '}') { end = j; break; }
      j++;
    }
    if (end < 0) throw new TemplateError('unclosed action');
    const action = code(text.slice(open + 2, end).replace(/^-\s/, '').replace(/\s-$/, '')).trim();
    i = end + 2;
    if (action === '') throw new TemplateError('missing value for command');
    let depth = 0;
    for (const ch of action) {
      if (ch === '(') depth++;
      else if (ch === ')' && --depth < 0) throw new TemplateError('unexpected right paren');
    }
    if (depth !== 0) throw new TemplateError('unclosed left paren');
    const first = /^[A-Za-z_]\w*/.exec(action)?.[0];
    if (first !== undefined && OPENERS.has(first)) stack.push(first);
    else if (first === 'end') { if (stack.pop() === undefined) throw new TemplateError('unexpected {{end}}'); }
    else if (first === 'else') { if (stack.length === 0) throw new TemplateError('unexpected {{else}}'); }
    for (const m of action.matchAll(/(?<![.$\w])[A-Za-z_]\w*/g)) {
      const w = m[0];
      if (OPENERS.has(w) || WORDS.has(w)) continue;
      if (!funcs.has(w)) throw new TemplateError(`function "${w}" not defined`);
    }
  }
  if (stack.length > 0) throw new TemplateError(`unexpected EOF: {{${stack[stack.length - 1]}}} is not closed by {{end}}`);
}
