// How a config is named in the audit trail: the SHA-256 of its text, so a reviewer can match a
// reload to a commit without the config (and its secrets) ever being written to the log.
import { createHash } from 'node:crypto';

export function configDigest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
