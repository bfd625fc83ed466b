import path from 'node:path';
import { loadOrgConfig } from '../../src/config/load-org-config';
import { createRandom, generatePerson, leadFor, noteFor, pickSource } from '../../src/demo/lead-generator';
import { checkDemoDatabaseName, emulatorDirectory } from '../../src/demo/start-demo';
import { prepareSubmission } from '../../src/leads/intake';
import { scoreLead } from '../../src/leads/scoring';

const org = loadOrgConfig(path.resolve(__dirname, '../../config/demo.jsonc'), {});
const sources = org.sources.map((s) => s.id);

/** 600 demo leads, as the feeder makes them. */
function sample(seed: number) {
  const random = createRandom(seed);
  return Array.from({ length: 600 }, (_, i) => {
    const source = pickSource(random, sources);
    return { source, body: leadFor(random, source, generatePerson(random), i + 1) };
  });
}

describe('demo leads', () => {
  it('are all accepted by intake, from every source, with a normalised Chinese mobile', () => {
    const leads = sample(7);
    expect(new Set(leads.map((l) => l.source))).toEqual(new Set(sources));
    for (const { body } of leads) {
      const { lead, warnings } = prepareSubmission(body);
      expect(lead.phone).toMatch(/^\+861\d{10}$/);
      expect(warnings).toEqual([]);
    }
  });

  it('grade like a real funnel with the demo scoring: some A, many B, some C for nurture', () => {
    const grades = { A: 0, B: 0, C: 0 };
    for (const { source, body } of sample(11)) {
      const { lead } = prepareSubmission(body);
      grades[scoreLead({ ...lead, source }, [], org.scoring, new Date()).grade] += 1;
    }
    expect(grades.A).toBeGreaterThan(60);
    expect(grades.B).toBeGreaterThan(150);
    expect(grades.C).toBeGreaterThan(60);
  });

  it('are the same for the same seed', () => {
    expect(sample(3).slice(0, 5)).toEqual(sample(3).slice(0, 5));
    expect(sample(3)[0]).not.toEqual(sample(4)[0]);
  });

  it('come with follow-up notes whose BANT lines the bot understands', () => {
    const random = createRandom(5);
    const notes = Array.from({ length: 50 }, () => noteFor(random));
    expect(notes.some((n) => /\n预算：\d+万/.test(n))).toBe(true);
    expect(notes.every((n) => n.length > 4 && n.length < 200)).toBe(true);
  });
});

describe('the demo org in the emulator', () => {
  it('lists every WeCom member with team and role, and one group robot per team', () => {
    const { members, groupRobots } = emulatorDirectory(org);
    expect(members).toHaveLength(11);
    expect(members).toContainEqual({ userid: 'ChenJianGuo', name: '陈建国', title: '华东大区 · 主管' });
    expect(members).toContainEqual({ userid: 'ZhengGuoHua', name: '郑国华', title: '华南大区 · 总监' });
    expect(members).toContainEqual({ userid: 'WuTing', name: '吴婷', title: '华南大区 · 销售' });
    expect(groupRobots).toEqual([
      { key: 'demo-robot-east', name: '华东大区销售群' },
      { key: 'demo-robot-south', name: '华南大区销售群' },
    ]);
  });

  it('never drops a database whose name does not say demo', () => {
    expect(() => checkDemoDatabaseName('leadrelay')).toThrow(/demo/);
    expect(() => checkDemoDatabaseName('x`; DROP DATABASE y; -- demo')).toThrow();
    expect(() => checkDemoDatabaseName('leadrelay_demo')).not.toThrow();
  });
});
