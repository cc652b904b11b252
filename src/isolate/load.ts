// Reading multi-document YAML into plain objects, keeping per-document positions for error reports.
import { LineCounter, parseAllDocuments } from 'yaml';
import { IsolationError, type SourceRef } from './errors.ts';

export interface LoadedDocument {
  readonly source: SourceRef;
  /** The parsed document, or undefined when it failed to parse (see `error`). */
  readonly value?: unknown;
  readonly error?: IsolationError;
}

/** Splits `text` into documents; empty documents (a lone `---`) are skipped. */
export function loadDocuments(text: string, file: string): LoadedDocument[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const out: LoadedDocument[] = [];
  // parseAllDocuments returns an EmptyStream (array-like, no documents) for empty input.
  const list = Array.isArray(docs) ? docs : [];
  list.forEach((doc, index) => {
    const line = lineCounter.linePos(doc.contents?.range?.[0] ?? doc.range[0]).line;
    const source: SourceRef = { file, doc: index, line };
    if (doc.errors.length > 0) {
      const first = doc.errors[0]!;
      const pos = first.linePos?.[0];
      const at = pos !== undefined ? `line ${pos.line}, column ${pos.col}: ` : '';
      const err = new IsolationError('ERR_ISOLATE_YAML', '', `${at}${first.message.split('\n')[0] ?? first.message}`);
      err.source = source;
      out.push({ source, error: err });
      return;
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    out.push({ source, value });
  });
  return out;
}
