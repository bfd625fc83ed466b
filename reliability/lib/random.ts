/** A small seeded PRNG (mulberry32), so a run's choices can be repeated with CHAOS_SEED. */
export function createRandom(seed: number): Random {
  let t = seed >>> 0;
  const next = () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r ^= r + Math.imul(r ^ (r >>> 7), 61 | r);
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    chance: (p) => next() < p,
    between: (min, max) => min + next() * (max - min),
    pick: (list) => list[Math.floor(next() * list.length)]!,
  };
}

export interface Random {
  /** [0, 1) */
  next(): number;
  chance(p: number): boolean;
  between(min: number, max: number): number;
  pick<T>(list: readonly T[]): T;
}
