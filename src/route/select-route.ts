// The route stage's decision for an identified user: the matching url_map entry, else the
// user's url_prefix, else default_url — or why there is none. Shared by the pipeline and by
// `tenantgate explain`, so both always agree.
import type { IncomingMessage } from 'node:http';
import type { CompiledConfig, CompiledRoute, CompiledUser, RouteOptions } from '../config/model.ts';
import { matchRoute } from './match-route.ts';
import type { RequestTarget } from './request-target.ts';

export type RouteSelection =
  | { readonly kind: 'route'; readonly route: RouteOptions; readonly entry: CompiledRoute | null; readonly isDefaultUrl: boolean }
  /** No route, and the caller had no credentials of its own: ask for them (another user may have the route). */
  | { readonly kind: 'ask_credentials' }
  | { readonly kind: 'missing_route' };

export function selectRoute(config: CompiledConfig, user: CompiledUser, target: RequestTarget, req: IncomingMessage): RouteSelection {
  const match = matchRoute(user, target.path, target.rawQuery, req);
  if (match !== null) return { kind: 'route', route: match.route, entry: match.entry, isDefaultUrl: false };
  if (user.defaultUrl !== null) return { kind: 'route', route: user.defaultUrl, entry: null, isDefaultUrl: true };
  // vmauth issue 5236: a request that unauthorized_user cannot route is asked for credentials.
  if ((user.kind === 'unauthorized' || user.kind === 'auth_token') && config.usersByCredential.size > 0) return ASK;
  return MISSING;
}

const ASK: RouteSelection = { kind: 'ask_credentials' };
const MISSING: RouteSelection = { kind: 'missing_route' };
