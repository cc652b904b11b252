// One entry point for object-level hardening, shared by the compiler and the admission webhook.
import { IsolationError } from './errors.ts';
import { hardenAlertmanagerConfig } from './harden-alertmanager.ts';
import { hardenRules } from './harden-rules.ts';
import { hardenScrape } from './harden-scrape.ts';
import { kindInfo, parseObject, type MonitoringObject } from './objects.ts';
import type { IsolateOptions } from './options.ts';

export interface Hardened {
  readonly object: MonitoringObject;
  /** What was changed or neutralised, one line each (field: what). */
  readonly warnings: readonly string[];
}

/**
 * Validates `value` as a monitoring object of `namespace` (or of its own metadata.namespace when
 * none is given) and returns the hardened copy. Throws IsolationError naming the field and reason.
 */
export function hardenObject(value: unknown, opts: IsolateOptions, namespace?: string): Hardened {
  const obj = parseObject(value, namespace);
  const warnings: string[] = [];
  const info = kindInfo(obj.kind)!;
  let object: MonitoringObject;
  switch (info.family) {
    case 'scrape': object = hardenScrape(obj, opts, warnings); break;
    case 'rules': object = hardenRules(obj, opts, warnings); break;
    case 'alertmanager': object = hardenAlertmanagerConfig(obj, opts, warnings); break;
    default: throw new IsolationError('ERR_ISOLATE_OBJECT', 'kind', `unhandled kind ${obj.kind}`);
  }
  return { object, warnings };
}
