import { doc, problemsOf } from '../config/org-config-fixtures';

/**
 * Found by fuzzing parseDuration: the schemas check a duration's spelling, not its size, so an
 * absurd SLA loaded fine and turned every timer of its policy into an invalid date at the first lead.
 */
it('refuses an org config whose durations are past 100 years, naming their paths', () => {
  const d = doc();
  d.sla = { policies: { A: { claimWithin: '99999999999d' } } };
  d.conversation = { contextWindow: `${'9'.repeat(25)}w` };
  const problems = problemsOf(d);
  expect(problems).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^\/sla\/policies\/A\/claimWithin: 时长 .* 过长/),
      expect.stringMatching(/^\/conversation\/contextWindow: 时长 .* 过长/),
    ]),
  );
});
