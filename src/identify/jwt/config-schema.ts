// The `jwt:` section of a `users[]` entry, with vmauth's field names (app/vmauth/jwt.go JWTConfig)
// plus two tenantgate extensions: `audience` and `issuer`.
import { z } from 'zod';
import { compileMatchClaims } from './claim-match.ts';
import { parseVmAccess } from './vm-access.ts';

const nonEmptyString = z.string().min(1);
const stringOrList = z.union([nonEmptyString, z.array(nonEmptyString).min(1)]);
const uint32 = z.number().int().min(0).max(0xffff_ffff);
const stringArray = z.array(z.string());

/** vmauth's `default_vm_access_claim`: vmauth's claim fields only (vmgateway's are token-only there too). */
export const defaultVmAccessSchema = z.strictObject({
  metrics_account_id: uint32.optional(),
  metrics_project_id: uint32.optional(),
  metrics_extra_labels: stringArray.optional(),
  metrics_extra_filters: stringArray.optional(),
  logs_account_id: uint32.optional(),
  logs_project_id: uint32.optional(),
  logs_extra_filters: stringArray.optional(),
  logs_extra_stream_filters: stringArray.optional(),
});

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

export const jwtSectionSchema = z
  .strictObject({
    public_keys: z.array(nonEmptyString).optional(),
    public_key_files: z.array(nonEmptyString).optional(),
    skip_verify: z.boolean().optional(),
    oidc: z.strictObject({ issuer: nonEmptyString, jwks_hosts: z.array(nonEmptyString).optional() }).optional(),
    // YAML turns `vm_access.metrics_account_id: 1` into a number; vmauth reads it as the string "1".
    match_claims: z.record(nonEmptyString, z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v))).optional(),
    default_vm_access_claim: defaultVmAccessSchema.optional(),
    /** tenantgate extension: accepted `aud` values; the token's `aud` must contain one of them. */
    audience: stringOrList.optional(),
    /** tenantgate extension: accepted `iss` values. */
    issuer: stringOrList.optional(),
  })
  .superRefine((s, ctx) => {
    const hasStaticKeys = (s.public_keys?.length ?? 0) > 0 || (s.public_key_files?.length ?? 0) > 0;
    if (!hasStaticKeys && s.skip_verify !== true && s.oidc === undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: 'jwt needs public_keys, public_key_files, oidc, or skip_verify: true' });
    }
    if (s.oidc !== undefined) {
      if (hasStaticKeys || s.skip_verify === true) {
        ctx.addIssue({ code: 'custom', path: ['oidc'], message: 'oidc cannot be combined with public_keys, public_key_files or skip_verify' });
      }
      if (!isHttpUrl(s.oidc.issuer)) {
        ctx.addIssue({ code: 'custom', path: ['oidc', 'issuer'], message: 'must be an http:// or https:// URL' });
      }
      const issuers = s.issuer === undefined ? undefined : typeof s.issuer === 'string' ? [s.issuer] : s.issuer;
      if (issuers !== undefined && !issuers.includes(s.oidc.issuer)) {
        ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'must include oidc.issuer, or no token could ever match' });
      }
    }
    if (hasStaticKeys && s.skip_verify === true) {
      ctx.addIssue({ code: 'custom', path: ['skip_verify'], message: 'skip_verify: true makes public_keys/public_key_files pointless; remove one' });
    }
    if (s.match_claims !== undefined) {
      try {
        compileMatchClaims(s.match_claims);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['match_claims'], message: (err as Error).message });
      }
    }
    if (s.default_vm_access_claim !== undefined) {
      const parsed = parseVmAccess(s.default_vm_access_claim, 'default');
      if (!parsed.ok) ctx.addIssue({ code: 'custom', path: ['default_vm_access_claim'], message: parsed.detail });
    }
  });

/** A parsed `jwt:` section (schema output). */
export type JwtSection = z.output<typeof jwtSectionSchema>;
/** What may be written in YAML for a `jwt:` section (schema input). */
export type JwtSectionConfig = z.input<typeof jwtSectionSchema>;
