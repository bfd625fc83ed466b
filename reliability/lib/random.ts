import { mulberry32 } from '../../src/lib/seeded-random';

/** A small seeded PRNG (mulberry32), so a run's choices can be repeated with CHAOS_SEED. */
export function createRandom(seed: number): Random {
  const next = mulberry32(seed);
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
