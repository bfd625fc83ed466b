import { createHash, hash, randomBytes } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import type { Db } from '../db/client';
import { sourceApiKeys } from '../db/schema';

/**
 * One API key per lead source (PRODUCT.md 1). A key is 32 random bytes shown once; only its SHA-256
 * is stored. A fast hash is right here: the key has 256 bits of entropy, so there is nothing to brute
 * force, and lookups by hash need no constant-time compare.
 */
const KEY_PREFIX = 'lr_';

export function generateApiKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

export function hashApiKey(key: string): string {
  // Every intake request hashes its key (the cache is keyed by the hash): the one-shot crypto.hash
  // (Node ≥ 20.12; engines allow 20.10) skips building a Hash object per call.
  if (typeof hash === 'function') return hash('sha256', key, 'hex');
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export async function createApiKey(
  db: Db,
  input: { sourceId: string; label?: string; now: Date },
): Promise<{ id: number; key: string; prefix: string }> {
  const key = generateApiKey();
  const prefix = key.slice(0, 10);
  const [result] = await db
    .insert(sourceApiKeys)
    .values({
      sourceId: input.sourceId,
      keyHash: hashApiKey(key),
      keyPrefix: prefix,
      label: input.label ?? null,
      createdAt: input.now,
    })
    .$returningId();
  return { id: result!.id, key, prefix };
}

export async function listApiKeys(db: Db) {
  return db
    .select({
      id: sourceApiKeys.id,
      sourceId: sourceApiKeys.sourceId,
      prefix: sourceApiKeys.keyPrefix,
      label: sourceApiKeys.label,
      createdAt: sourceApiKeys.createdAt,
      revokedAt: sourceApiKeys.revokedAt,
    })
    .from(sourceApiKeys)
    .orderBy(sourceApiKeys.id);
}

export async function revokeApiKey(db: Db, id: number, now: Date): Promise<boolean> {
  const [result] = await db
    .update(sourceApiKeys)
    .set({ revokedAt: now })
    .where(and(eq(sourceApiKeys.id, id), isNull(sourceApiKeys.revokedAt)));
  return result.affectedRows === 1;
}

export interface SourceKeyAuthenticator {
  /** The source a bearer key belongs to, or null for an unknown, revoked or orphaned key. */
  authenticate(key: string): Promise<{ sourceId: string; keyId: number } | null>;
}

/**
 * Looks keys up by hash with a small per-instance cache, so the intake hot path does not pay a query
 * per request. A revoked key stops working within `cacheSeconds` (API_KEY_CACHE_SECONDS).
 */
export function createSourceKeyAuthenticator(deps: {
  db: Db;
  sourceIds: ReadonlySet<string>;
  cacheSeconds: number;
  now: () => number;
  maxEntries?: number;
}): SourceKeyAuthenticator {
  const cache = new Map<string, { value: { sourceId: string; keyId: number } | null; expires: number }>();
  const maxEntries = deps.maxEntries ?? 10_000;
  return {
    async authenticate(key) {
      if (!key.startsWith(KEY_PREFIX) || key.length > 200) return null;
      const hash = hashApiKey(key);
      const cached = cache.get(hash);
      if (cached && cached.expires > deps.now()) return cached.value;
      const [row] = await deps.db
        .select({ id: sourceApiKeys.id, sourceId: sourceApiKeys.sourceId })
        .from(sourceApiKeys)
        .where(and(eq(sourceApiKeys.keyHash, hash), isNull(sourceApiKeys.revokedAt)))
        .limit(1);
      // A key whose source was removed from the org config no longer opens anything.
      const value =
        row && deps.sourceIds.has(row.sourceId) ? { sourceId: row.sourceId, keyId: row.id } : null;
      if (deps.cacheSeconds > 0) {
        if (cache.size >= maxEntries) cache.clear();
        cache.set(hash, { value, expires: deps.now() + deps.cacheSeconds * 1000 });
      }
      return value;
    },
  };
}
