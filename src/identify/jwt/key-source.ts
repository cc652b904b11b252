// Where a section's verification keys come from: fixed PEM keys/files, or an OIDC provider.
import { readFileSync } from 'node:fs';
import { JwtConfigError } from './errors.ts';
import { importPemPublicKey, KeyImportError, type VerificationKey } from './keys.ts';

export interface KeySource {
  /** The keys known right now; empty while an OIDC provider has never been reached. */
  keys(): readonly VerificationKey[];
  /**
   * Ask for fresh keys because a token named an unknown `kid`. Rate-limited and shared between
   * concurrent callers; resolves `true` once a refresh finished (successfully or not), `false` if
   * none was attempted (static keys, or throttled).
   */
  refreshForUnknownKid(): Promise<boolean>;
  /** Resolves once the first load attempt has finished (immediately for static keys). */
  ready(): Promise<void>;
  close(): void;
}

/** `public_keys` and `public_key_files`, read once at config load. */
export function createStaticKeySource(sectionIndex: number, pems: readonly string[], files: readonly string[]): KeySource {
  const keys: VerificationKey[] = [];
  pems.forEach((pem, i) => {
    try {
      keys.push(importPemPublicKey(pem, `public_keys[${i}]`));
    } catch (err) {
      if (err instanceof KeyImportError) throw new JwtConfigError(sectionIndex, `jwt.public_keys[${i}]`, err.message);
      throw err;
    }
  });
  files.forEach((file, i) => {
    let pem: string;
    try {
      pem = readFileSync(file, 'utf8');
    } catch (err) {
      throw new JwtConfigError(sectionIndex, `jwt.public_key_files[${i}]`, `cannot read ${JSON.stringify(file)}: ${(err as Error).message}`);
    }
    try {
      keys.push(importPemPublicKey(pem, file));
    } catch (err) {
      if (err instanceof KeyImportError) throw new JwtConfigError(sectionIndex, `jwt.public_key_files[${i}]`, `${JSON.stringify(file)}: ${err.message}`);
      throw err;
    }
  });
  Object.freeze(keys);
  return {
    keys: () => keys,
    refreshForUnknownKid: async () => false,
    ready: async () => undefined,
    close: () => undefined,
  };
}

/** `skip_verify: true`: there are no keys and none are needed. */
export const NO_KEYS: KeySource = {
  keys: () => [],
  refreshForUnknownKid: async () => false,
  ready: async () => undefined,
  close: () => undefined,
};
