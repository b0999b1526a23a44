// The optional shared bearer token that guards gRPC and HTTP alike.
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** A check of `Authorization: Bearer <token>` headers; with no token configured, everything passes. */
export function bearerCheck(token: string | undefined): (authorization: string | undefined) => boolean {
  if (!token) return () => true;
  const expected = digest(token);
  return (authorization) => {
    const match = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
    // Digests have equal length, so the comparison time says nothing about the token.
    return match !== null && timingSafeEqual(digest(match[1]!.trim()), expected);
  };
}
