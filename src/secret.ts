import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * A secret held for constant-time comparison. Both sides are hashed first,
 * so the buffers compared have equal length and the time taken does not
 * depend on where (or whether) the strings differ.
 */
export function createSecretMatcher(secret: string): (candidate: string) => boolean {
  const expected = createHash('sha256').update(secret).digest();
  return (candidate) => timingSafeEqual(createHash('sha256').update(candidate).digest(), expected);
}
