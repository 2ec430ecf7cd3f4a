import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface StoredToken {
  readonly token: string;
  readonly path: string;
  readonly created: boolean;
}

/**
 * The token used when none is configured: generated on first start (256
 * random bits) and kept in `<dataDir>/token`, readable by its owner only.
 */
export function loadOrCreateToken(dataDir: string): StoredToken {
  const path = join(dataDir, 'token');
  try {
    const token = readFileSync(path, 'utf8').trim();
    if (token !== '') return { token, path, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('base64url');
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  return { token, path, created: true };
}
