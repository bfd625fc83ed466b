import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { CardContext, CardLead } from '../../src/cards/card-context';
import { CardTemplateError, loadCardTemplates } from '../../src/cards/load-cards';

export const SHIPPED_CARDS = join(__dirname, '../../cards');

/** A lead as the intake would store it: every field the cards show is filled in. */
export const lead: CardLead = {
  id: 1024,
  name: '王建国',
  phone: '13812345678',
  company: '上海云启科技有限公司',
  title: '采购经理',
  province: '上海',
  city: '浦东新区',
  industry: '制造业',
  need: '想了解私有化部署报价，200 人规模',
  sourceName: '百度推广',
  grade: 'A',
  score: 85,
};

/** 09:30 in Shanghai on 2026-11-21; the claim window ends five minutes later. */
export const context = (extra: Partial<CardContext> = {}): CardContext => ({
  lead,
  member: { name: '张伟' },
  team: { name: '华东一组' },
  deadline: new Date('2026-11-21T01:35:00.000Z'),
  minutes: 5,
  timezone: 'Asia/Shanghai',
  ...extra,
});

type Json = Record<string, unknown>;

/**
 * A copy of the shipped cards directory in a temp dir, with `edit` applied to the named templates
 * (return `null` to delete the file). Removed again by `cleanUp`.
 */
const made: string[] = [];
export function cardsDir(
  edits: Record<string, ((t: Json) => Json | string | null) | undefined> = {},
): string {
  const dir = mkdtempSync(join(tmpdir(), 'leadrelay-cards-'));
  made.push(dir);
  cpSync(SHIPPED_CARDS, dir, { recursive: true });
  for (const [name, edit] of Object.entries(edits)) {
    if (!edit) continue;
    const file = join(dir, name.endsWith('.json') ? name : `${name}.json`);
    let current: Json = {};
    try {
      current = JSON.parse(readFileSync(file, 'utf8')) as Json;
    } catch {
      // A new file: the edit writes it from scratch.
    }
    const next = edit(current);
    if (next === null) rmSync(file);
    else writeFileSync(file, typeof next === 'string' ? next : JSON.stringify(next, null, 2));
  }
  return dir;
}

export function cleanUp(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** The problems of loading `dir`, as `file: path: message` with the file's base name. */
export function problemsOf(dir: string): string[] {
  try {
    loadCardTemplates(dir);
  } catch (err) {
    if (!(err instanceof CardTemplateError)) throw err;
    return err.problems.map((p) => `${basename(p.file)}: ${p.path}: ${p.message}`);
  }
  return [];
}
