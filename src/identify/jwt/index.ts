// Public surface of the JWT / OIDC identification module. See docs/jwt-oidc.md.
export { createJwtAuthenticator } from './authenticator.ts';
export type { JwtAuthenticator, JwtAuthenticatorOptions, JwtResult, JwtSectionInput } from './authenticator.ts';
export { jwtSectionSchema, defaultVmAccessSchema } from './config-schema.ts';
export type { JwtSection, JwtSectionConfig } from './config-schema.ts';
export { JWT_ERROR_CODES, JwtConfigError, JwtPlaceholderConfigError, JwtPlaceholderValueError } from './errors.ts';
export type { JwtErrorCode } from './errors.ts';
export type { JwtLogger } from './logger.ts';
export { DEFAULT_OIDC_TIMINGS } from './oidc-key-source.ts';
export type { OidcTimings } from './oidc-key-source.ts';
export {
  PLACEHOLDERS, PATH_PLACEHOLDERS, compileUrlPrefix, renderUrlPrefix, compileHeaders, renderHeaders, containsPlaceholder, rejectPlaceholders,
} from './placeholders.ts';
export type { CompiledUrlPrefix, CompiledHeaders, Placeholder } from './placeholders.ts';
export { MAX_TOKEN_LENGTH } from './token.ts';
export { parseVmAccess } from './vm-access.ts';
export type { VmAccess, VmAccessMode } from './vm-access.ts';
