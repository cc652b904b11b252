// Everything one proxied request carries through the pipeline. Each stage reads what the stages
// before it settled and adds its own result, so no stage needs a list of positional parameters.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CompiledConfig, CompiledUser, HeaderOp, RouteOptions } from '../config/model.ts';
import type { ResponseFilter } from '../enforce/tenant/policy.ts';
import type { VmAccess } from '../identify/jwt/index.ts';
import { ClientWatch } from '../limit/client-watch.ts';
import type { UserRuntime } from '../limit/user-runtime.ts';
import type { RequestTarget } from '../route/request-target.ts';
import type { BufferedBody } from './request-body.ts';

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** performance.now() when the request arrived. */
  readonly start: number;
  /** The config snapshot the request started with; a reload never changes it mid-request. */
  readonly config: CompiledConfig;
  /** One -maxQueueDuration budget (performance.now() ms) for every wait before forwarding. */
  readonly deadline: number;
  /** Set when the client disconnects before the response is complete. */
  readonly gone: ClientWatch;
  target: RequestTarget;
  // identify
  user: CompiledUser;
  access: VmAccess | null;
  runtime: UserRuntime;
  // admit
  body: BufferedBody;
  // route
  route: RouteOptions | null;
  isDefaultUrl: boolean;
  headerOps: readonly HeaderOp[];
  // enforce
  responseFilter: ResponseFilter | undefined;
  /** How the tenant policy classified the request (read, write, allowed_path), or ''. */
  tenantAccess: string;
  // observe
  status: number;
  /** The refusal reason (metric label) when the gateway answered by itself; '' otherwise. */
  reason: string;
  /** Ends the request at once (a reload left it without a user): waits give up, the connection closes. */
  close(): void;
}

export function newRequestContext(req: IncomingMessage, res: ServerResponse, start: number, config: CompiledConfig, target: RequestTarget, queueMs: number, user: CompiledUser, access: VmAccess | null, runtime: UserRuntime): RequestContext {
  return new Context(req, res, start, config, target, queueMs, user, access, runtime);
}

/**
 * One class rather than an object literal per request: every context has the same shape from its
 * construction on, and `close` (for in-flight tracking) is a method, not a closure per request.
 */
class Context implements RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly start: number;
  readonly config: CompiledConfig;
  readonly deadline: number;
  readonly gone = new ClientWatch();
  target: RequestTarget;
  user: CompiledUser;
  access: VmAccess | null;
  runtime: UserRuntime;
  body: BufferedBody = NO_BODY;
  route: RouteOptions | null = null;
  isDefaultUrl = false;
  headerOps: readonly HeaderOp[] = EMPTY_OPS;
  responseFilter: ResponseFilter | undefined = undefined;
  tenantAccess = '';
  status = 0;
  reason = '';

  constructor(req: IncomingMessage, res: ServerResponse, start: number, config: CompiledConfig, target: RequestTarget, queueMs: number, user: CompiledUser, access: VmAccess | null, runtime: UserRuntime) {
    this.req = req;
    this.res = res;
    this.start = start;
    this.config = config;
    this.deadline = start + queueMs;
    this.target = target;
    this.user = user;
    this.access = access;
    this.runtime = runtime;
  }

  /** Ends the request at once: its waits give up and the client's connection is closed. */
  close(): void {
    this.gone.abort();
    this.res.destroy();
  }
}

const NO_BODY: BufferedBody = { kind: 'none' };
const EMPTY_OPS: readonly HeaderOp[] = [];
