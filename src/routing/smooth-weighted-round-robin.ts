/**
 * One step of nginx's smooth weighted round robin (`ngx_http_upstream_get_peer` in
 * https://github.com/nginx/nginx/blob/master/src/http/ngx_http_upstream_round_robin.c):
 * every candidate's current weight grows by its weight, the largest is picked, and the pick pays back
 * the sum of the weights. Weights 5:1:1 give a,a,b,a,c,a,a rather than a,a,a,a,a,b,c.
 *
 * Only eligible members take part in a step, so the sum of the current weights over the team is
 * unchanged by it (Σ +weight − total = 0): a member who is away keeps their value and rejoins where
 * they left off instead of having banked credit for a burst of leads.
 */
export interface SwrrCandidate {
  id: string;
  /** > 0 */
  weight: number;
  current: number;
}

export interface SwrrStep {
  picked: string;
  /** The new current weight of every candidate. */
  currents: Map<string, number>;
}

/** Ties go to the earlier candidate, so pass candidates in the team's configured order. */
export function stepSmoothWeightedRoundRobin(candidates: readonly SwrrCandidate[]): SwrrStep | null {
  if (candidates.length === 0) return null;
  let total = 0;
  let best: { id: string; current: number } | null = null;
  const currents = new Map<string, number>();
  for (const c of candidates) {
    const current = c.current + c.weight;
    currents.set(c.id, current);
    total += c.weight;
    if (best === null || current > best.current) best = { id: c.id, current };
  }
  currents.set(best!.id, best!.current - total);
  return { picked: best!.id, currents };
}
