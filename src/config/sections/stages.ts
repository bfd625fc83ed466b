import type { Problem } from '../org-config-messages';

/**
 * The `stages` section (PRODUCT.md capability 9): the gates a lead must pass to enter a stage, the
 * lost reasons, and what moving to contacted does. The schema (stages.schema.json) checks the shapes
 * and fills every default, so after loading each field is present; `checkStages` refuses gates that
 * could never be met. The transition rules that read this live in src/leads/stages.ts.
 */

/** What a gate may require: the BANT fields, the amount of a won deal, the reason of a lost one. */
export type GateField = 'budget' | 'authority' | 'need' | 'timeline' | 'amount' | 'lostReason';

/** Every gate field, in the order of the schema's enum (a test keeps them equal). */
export const STAGE_GATE_FIELDS: readonly GateField[] = [
  'budget',
  'authority',
  'need',
  'timeline',
  'amount',
  'lostReason',
];

export interface StagesConfig {
  /** Fields a lead must have before entering a stage. Keys: 'contacted'|'qualified'|'opportunity'|'won'|'lost'|'nurture'. */
  gates: Partial<Record<'contacted' | 'qualified' | 'opportunity' | 'won' | 'lost' | 'nurture', GateField[]>>;
  /** Forward moves along new→contacted→qualified→opportunity→won also need the gates of the stages they skip. */
  cumulativeGates: boolean;
  /** Reasons a lost lead may be given (输单原因); `lost` must name one. */
  lostReasons: string[];
  /** After a lead becomes contacted, a call-back reminder this long later (PRODUCT.md default 2d). */
  contactedCallbackAfter: string;
  /** The first note on a `new` lead moves it to contacted. */
  autoContactOnNote: boolean;
}

type Loose = Record<string, unknown>;
const isRecord = (v: unknown): v is Loose => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A gate whose field the command entering that stage can never bring. */
const IMPOSSIBLE: { stage: 'won' | 'lost'; field: GateField; message: string }[] = [
  {
    stage: 'won',
    field: 'lostReason',
    message:
      '赢单 (won) 的门槛不能要求 lostReason（输单原因）：赢单时没有输单原因，线索将永远无法赢单 [gates]',
  },
  {
    stage: 'lost',
    field: 'amount',
    message: '输单 (lost) 的门槛不能要求 amount（成交金额）：输单没有成交金额，线索将永远无法输单 [gates]',
  },
];

/**
 * Checks of the `stages` section ajv cannot express: won may not require a lost reason nor lost an
 * amount, and lost reasons must differ beyond spaces and letter case (the chat matches them that
 * way, so two such reasons could not be told apart). Like the other checks it runs even when the
 * schema failed, so it reads the data defensively.
 */
export function checkStages(config: Record<string, unknown>): Problem[] {
  const stages = config.stages;
  if (!isRecord(stages)) return [];
  const problems: Problem[] = [];

  const gates = isRecord(stages.gates) ? stages.gates : {};
  for (const { stage, field, message } of IMPOSSIBLE) {
    const gate = gates[stage];
    if (Array.isArray(gate) && gate.includes(field))
      problems.push({ path: `/stages/gates/${stage}`, message });
  }
  // The amount comes only with 赢单 and the reason only with 输单: on any other stage such a gate
  // could never be met (and with cumulativeGates it would block every later stage too).
  for (const [stage, gate] of Object.entries(gates)) {
    if (!Array.isArray(gate) || stage === 'won' || stage === 'lost') continue;
    for (const field of ['amount', 'lostReason'] as const) {
      if (gate.includes(field))
        problems.push({
          path: `/stages/gates/${stage}`,
          message: `${stage} 的门槛不能要求 ${field}：${field === 'amount' ? '成交金额只在赢单时填写' : '输单原因只在输单时填写'}，这个阶段将永远无法进入 [gates]`,
        });
    }
  }

  if (Array.isArray(stages.lostReasons)) {
    const seen = new Map<string, number>();
    for (const [i, reason] of stages.lostReasons.entries()) {
      if (typeof reason !== 'string' || reason.length === 0) continue; // the schema reports these
      const path = `/stages/lostReasons/${i}`;
      const key = reason.replace(/\s+/g, '').toLowerCase();
      if (key.length === 0) {
        problems.push({ path, message: '输单原因不能只有空白 [lostReasons]' });
        continue;
      }
      const first = seen.get(key);
      if (first === undefined) seen.set(key, i);
      else if (reason !== stages.lostReasons[first])
        problems.push({
          path,
          message: `输单原因 "${reason}" 与 /stages/lostReasons/${first} 只差空格或大小写，成员输入时无法区分 [unique]`,
        });
    }
  }
  return problems;
}
