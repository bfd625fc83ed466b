import {
  type SwrrCandidate,
  stepSmoothWeightedRoundRobin,
} from '../../src/routing/smooth-weighted-round-robin';

function run(weights: Record<string, number>, steps: number): string[] {
  const current = new Map(Object.keys(weights).map((id) => [id, 0]));
  const picks: string[] = [];
  for (let i = 0; i < steps; i++) {
    const candidates: SwrrCandidate[] = Object.entries(weights).map(([id, weight]) => ({
      id,
      weight,
      current: current.get(id)!,
    }));
    const step = stepSmoothWeightedRoundRobin(candidates)!;
    for (const [id, value] of step.currents) current.set(id, value);
    picks.push(step.picked);
    expect([...current.values()].reduce((a, b) => a + b, 0)).toBe(0);
  }
  return picks;
}

describe('stepSmoothWeightedRoundRobin', () => {
  it('is nginx: 5:1:1 interleaves the light members', () => {
    expect(run({ a: 5, b: 1, c: 1 }, 7).join('')).toBe('aabacaa');
  });

  it('rotates equal weights in configured order, never twice in a row', () => {
    const picks = run({ a: 1, b: 1, c: 1 }, 30);
    expect(picks.slice(0, 6).join('')).toBe('abcabc');
    for (let i = 1; i < picks.length; i++) expect(picks[i]).not.toBe(picks[i - 1]);
  });

  it('gives nobody and changes nothing without candidates', () => {
    expect(stepSmoothWeightedRoundRobin([])).toBeNull();
  });
});
