// Kubernetes AdmissionReview v1 handling: the same hardening as the compiler, applied at
// admission time. The mutating review returns the hardening as a JSON patch; the validating
// review admits only objects that are already in hardened form, so an object changed after
// mutation (another webhook, a skipped mutation) is still denied. With a policy, objects that
// break it are denied with every violation listed. Each answer comes with a decision record for
// the audit log.
import { z } from 'zod';
import { IsolationError } from '../errors.ts';
import { hardenObject } from '../harden.ts';
import { isDns1123Label } from '../names.ts';
import { KINDS, kindInfo } from '../objects.ts';
import type { IsolateOptions } from '../options.ts';
import { policyViolations } from '../policy/apply.ts';
import { isObj } from '../util.ts';
import { applyPatch, diff } from './jsonpatch.ts';
import { deepEqual } from '../util.ts';

export type ReviewMode = 'mutate' | 'validate';

const reviewSchema = z.object({
  apiVersion: z.literal('admission.k8s.io/v1'),
  kind: z.literal('AdmissionReview'),
  request: z.looseObject({
    uid: z.string().min(1).max(128),
    kind: z.looseObject({ group: z.string(), version: z.string(), kind: z.string() }),
    namespace: z.string().optional(),
    name: z.string().optional(),
    operation: z.enum(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']),
    userInfo: z.looseObject({ username: z.string().optional(), uid: z.string().optional(), groups: z.array(z.string()).optional() }).optional(),
    object: z.unknown().optional(),
  }),
});

export class ReviewFormatError extends Error {
  readonly code = 'ERR_ADMISSION_REVIEW' as const;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason: string; message: string };
  patchType?: 'JSONPatch';
  patch?: string;
  warnings?: string[];
}

export interface AdmissionReviewOut {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

/** What the audit log records about one decision: who, what, the verdict and why — never object contents. */
export interface AdmissionDecision {
  uid: string;
  user: { username: string; uid?: string; groups: string[] };
  operation: string;
  kind: string;
  namespace: string;
  name: string;
  allowed: boolean;
  reasons: string[];
  /** JSON-pointer paths of the patch (mutating reviews); values are never logged. */
  patch: { operations: number; paths: string[] } | null;
  warnings: string[];
}

const MAX_WARNING = 256;
const MAX_WARNINGS = 20;
/** Bound on a denial message; the audit line keeps every reason. */
const MAX_MESSAGE = 8192;

type Request = z.infer<typeof reviewSchema>['request'];

function denial(uid: string, reasons: readonly string[]): AdmissionResponse {
  let message = `tenantgate: ${reasons.length === 1 ? reasons[0]! : `${reasons.length} problems: ${reasons.map((r, i) => `(${i + 1}) ${r}`).join('; ')}`}`;
  if (message.length > MAX_MESSAGE) message = `${message.slice(0, MAX_MESSAGE - 40)}… (${reasons.length} problems in total)`;
  return { uid, allowed: false, status: { code: 403, reason: 'Forbidden', message } };
}

/** Answers one AdmissionReview. Throws ReviewFormatError when `body` is not an AdmissionReview v1. */
export function answer(body: unknown, mode: ReviewMode, opts: IsolateOptions): { review: AdmissionReviewOut; decision: AdmissionDecision } {
  const parsed = reviewSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ReviewFormatError(`not an AdmissionReview v1: ${issue.path.join('.')}: ${issue.message}`);
  }
  const req = parsed.data.request;
  const decision: AdmissionDecision = {
    uid: req.uid,
    user: { username: req.userInfo?.username ?? '', ...(req.userInfo?.uid !== undefined ? { uid: req.userInfo.uid } : {}), groups: req.userInfo?.groups ?? [] },
    operation: req.operation,
    kind: `${req.kind.group}/${req.kind.version}/${req.kind.kind}`,
    namespace: req.namespace ?? '',
    name: req.name ?? (isObj(req.object) && isObj(req.object.metadata) && typeof req.object.metadata.name === 'string' ? req.object.metadata.name : ''),
    allowed: false, reasons: [], patch: null, warnings: [],
  };
  const response = decide(req, mode, opts, decision);
  decision.allowed = response.allowed;
  return { review: { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }, decision };
}

export function review(body: unknown, mode: ReviewMode, opts: IsolateOptions): AdmissionReviewOut {
  return answer(body, mode, opts).review;
}

function decide(req: Request, mode: ReviewMode, opts: IsolateOptions, d: AdmissionDecision): AdmissionResponse {
  const uid = req.uid;
  const deny = (reasons: string[]) => { d.reasons = reasons; return denial(uid, reasons); };
  if (req.operation === 'DELETE' || req.operation === 'CONNECT') return { uid, allowed: true };
  const info = kindInfo(req.kind.kind);
  if (info === undefined || info.group !== req.kind.group) {
    // Fail closed: this webhook is registered only for monitoring kinds, anything else is a misconfiguration.
    return deny([`${req.kind.group}/${req.kind.kind} is not a kind this webhook handles (${Object.keys(KINDS).join(', ')})`]);
  }
  const ns = req.namespace;
  if (ns === undefined || ns === '') return deny(['the admission request has an empty namespace; monitoring objects must be namespaced']);
  if (!isDns1123Label(ns)) return deny([`namespace "${ns}" is not a valid DNS-1123 label`]);
  if (!isObj(req.object)) return deny(['the admission request carries no object']);
  const original = req.object;
  try {
    const hardened = hardenObject(original, opts, ns);
    if (opts.policy !== undefined) {
      const violations = policyViolations(hardened.object, opts.policy);
      if (violations.length > 0) return deny(violations.map((v) => `policy: ${v} [ERR_ISOLATE_POLICY]`));
    }
    // The object as the API server will store it: namespace from the request, never the body.
    const stored = { ...original, metadata: { ...(isObj(original.metadata) ? original.metadata : {}), namespace: ns } };
    if (mode === 'validate') {
      const ops = diff(stored, hardened.object);
      if (ops.length > 0) {
        const paths = ops.slice(0, 5).map((o) => o.path).join(', ');
        return deny([`${info.family} object ${ns}/${String(hardened.object.metadata.name)} is not in isolated form (changes needed at ${paths}); it must pass the tenantgate mutating webhook unchanged`]);
      }
      return { uid, allowed: true };
    }
    const ops = diff(original, hardened.object);
    // Never send a patch that does not produce exactly the hardened object.
    if (!deepEqual(applyPatch(original, ops), hardened.object)) throw new Error('internal error: JSON patch does not reproduce the hardened object');
    const out: AdmissionResponse = { uid, allowed: true };
    d.patch = { operations: ops.length, paths: ops.map((o) => o.path) };
    if (ops.length > 0) {
      out.patchType = 'JSONPatch';
      out.patch = Buffer.from(JSON.stringify(ops)).toString('base64');
    }
    const warnings = hardened.warnings.slice(0, MAX_WARNINGS).map((w) => (w.length > MAX_WARNING ? `${w.slice(0, MAX_WARNING - 1)}…` : w));
    if (warnings.length > 0) out.warnings = warnings;
    d.warnings = [...hardened.warnings];
    return out;
  } catch (err) {
    if (err instanceof IsolationError) return deny([`${err.message} [${err.code}]`]);
    return deny([(err as Error).message]);
  }
}
