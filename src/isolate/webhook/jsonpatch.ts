// RFC 6902 JSON Patch: a minimal diff (objects key by key, equal-length arrays element by element,
// anything else replaced whole) and an applier used to check patches before they are sent.
import { deepEqual, isObj } from '../util.ts';

export type PatchOp =
  | { op: 'add'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'replace'; path: string; value: unknown };

function esc(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function diff(from: unknown, to: unknown, path = ''): PatchOp[] {
  if (deepEqual(from, to)) return [];
  if (isObj(from) && isObj(to)) {
    const ops: PatchOp[] = [];
    for (const k of Object.keys(from)) {
      if (!Object.hasOwn(to, k)) ops.push({ op: 'remove', path: `${path}/${esc(k)}` });
    }
    for (const [k, v] of Object.entries(to)) {
      if (!Object.hasOwn(from, k)) ops.push({ op: 'add', path: `${path}/${esc(k)}`, value: v });
      else ops.push(...diff(from[k], v, `${path}/${esc(k)}`));
    }
    return ops;
  }
  if (Array.isArray(from) && Array.isArray(to) && from.length <= to.length) {
    const ops: PatchOp[] = [];
    from.forEach((v, i) => ops.push(...diff(v, to[i], `${path}/${i}`)));
    for (let i = from.length; i < to.length; i++) ops.push({ op: 'add', path: `${path}/-`, value: to[i] });
    return ops;
  }
  return [{ op: 'replace', path: path === '' ? '' : path, value: to }];
}

function unesc(seg: string): string {
  return seg.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Applies `ops` to a deep copy of `doc`; throws on a path that does not exist. */
export function applyPatch(doc: unknown, ops: readonly PatchOp[]): unknown {
  let root = structuredClone(doc);
  for (const op of ops) {
    if (op.path === '') {
      if (op.op === 'remove') throw new Error('cannot remove the document');
      root = structuredClone(op.value);
      continue;
    }
    const segs = op.path.split('/').slice(1).map(unesc);
    const last = segs.pop()!;
    let parent: unknown = root;
    for (const s of segs) {
      parent = Array.isArray(parent) ? parent[Number(s)] : isObj(parent) ? parent[s] : undefined;
      if (parent === undefined) throw new Error(`path ${op.path} does not exist`);
    }
    if (Array.isArray(parent)) {
      if (op.op === 'add') {
        if (last === '-') parent.push(structuredClone(op.value));
        else parent.splice(Number(last), 0, structuredClone(op.value));
      } else if (op.op === 'remove') parent.splice(Number(last), 1);
      else parent[Number(last)] = structuredClone(op.value);
    } else if (isObj(parent)) {
      if (op.op === 'remove') {
        if (!Object.hasOwn(parent, last)) throw new Error(`path ${op.path} does not exist`);
        delete parent[last];
      } else {
        if (op.op === 'replace' && !Object.hasOwn(parent, last)) throw new Error(`path ${op.path} does not exist`);
        parent[last] = structuredClone(op.value);
      }
    } else {
      throw new Error(`path ${op.path} does not exist`);
    }
  }
  return root;
}
