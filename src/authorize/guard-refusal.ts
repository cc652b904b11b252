// Answers a request refused by a route guard (route-guard.ts): 403 with the reason, counted
// under that reason and logged with the user, so an operator sees which tenant tried what.
import type { ServerResponse } from 'node:http';
import type { CompiledUser } from '../config/model.ts';
import { refuse } from '../gateway/respond.ts';
import type { Logger } from '../observe/logger.ts';
import type { Metrics } from '../observe/metrics.ts';
import type { GuardRefusal } from './route-guard.ts';

/**
 * `othersHaveCredentials`: a request without credentials (unauthorized_user) that hits
 * deny_paths is asked for credentials instead, as vmauth does, so the answer does not confirm
 * that the path exists and is denied.
 */
export function refuseGuarded(res: ServerResponse, metrics: Metrics, log: Logger, user: CompiledUser, path: string, r: GuardRefusal, othersHaveCredentials: boolean): number {
  if (r.reason === 'path_denied' && user.kind === 'unauthorized' && othersHaveCredentials) {
    return refuse(res, metrics, 'missing_auth', "missing 'Authorization' request header", { 'www-authenticate': 'Basic realm="Restricted"' });
  }
  log.warn(`refused ${JSON.stringify(path)} for user ${user.logName}: ${r.reason}`, { user: user.logName, reason: r.reason });
  return refuse(res, metrics, r.reason, r.message);
}
