// Compiles a user's or url_map entry's `tenant:` section into a TenantPolicy.
// Until tenant enforcement lands (issue 6), any `tenant:` section is refused loudly so a config
// that relies on it never runs unenforced.
import { FieldError, type ConfigPath } from '../../config/errors.ts';
import type { TenantPolicy } from './policy.ts';

export function compileTenantPolicy(_raw: unknown, path: ConfigPath): TenantPolicy {
  throw new FieldError(path, 'tenant enforcement is not supported yet by this tenantgate build');
}
