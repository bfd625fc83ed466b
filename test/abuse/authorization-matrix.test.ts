import path from 'node:path';
import { sql } from 'drizzle-orm';
import { parseEnv } from '../../src/config/env';
import { loadOrgConfig } from '../../src/config/load-org-config';
import type { MemberConfig } from '../../src/config/org-types';
import { cards, leads } from '../../src/db/schema';
import type { AssignDeps } from '../../src/leads/assign-lead';
import { claimLead, handleCardAction, releaseLead } from '../../src/leads/card-actions';
import { recordFollowUp, snoozeReminder } from '../../src/leads/follow-up';
import type { CardRow } from '../../src/leads/lead-cards';
import { addNote } from '../../src/leads/notes';
import { reassignLead } from '../../src/leads/reassign';
import { setReminder } from '../../src/leads/reminders';
import { changeStage } from '../../src/leads/stage-change';
import { createManualClock } from '../../src/lib/clock';
import { createLogging } from '../../src/lib/logger';
import { grabLead } from '../../src/pool/grab-lead';
import { assembleRuntime, leadDepsOf } from '../../src/runtime';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';

/**
 * Who may do what to a lead (RELIABILITY.md "Authorization" 2; issue 9 item 3): every write, called
 * through its domain function on a real database, by each kind of member:
 *
 * - owner: the rep who owns the lead (for claim and release, the rep it is offered to; for a pool
 *   grab, a rep of the team);
 * - other rep: another rep of the same team;
 * - supervisor / director: of the lead's team;
 * - other supervisor: the supervisor of another team;
 * - departed: a member who left (`active: false`) acting on a lead that is still theirs, the one
 *   case where only the `active` flag stands in the way.
 *
 * Allowed means the action happened; denied means it was refused and the database is exactly as
 * before (the actor's own card copy may be marked settled, which is how a refused click is shown).
 */
const ORG = path.resolve(__dirname, '../fixtures/org.conversation.jsonc');
const ROLES = ['owner', 'otherRep', 'supervisor', 'director', 'otherSupervisor', 'departed'] as const;
type Role = (typeof ROLES)[number];
const MEMBER_OF_ROLE: Record<Role, string> = {
  owner: 'rep_a',
  otherRep: 'rep_b',
  supervisor: 'sup',
  director: 'dir',
  otherSupervisor: 'west_sup',
  departed: 'gone',
};

let database: TestDatabase;
let deps: AssignDeps;
const clock = createManualClock('2026-11-21T02:00:00.000Z');

beforeAll(async () => {
  database = await createTestDatabase();
  const env = parseEnv({
    DATABASE_URL: database.url,
    LEADRELAY_CONFIG: ORG,
    NODE_ENV: 'test',
    WECOM_CORP_ID: 'ww7c3e91a0d5b2f486',
    WECOM_AGENT_ID: '1000005',
    WECOM_SECRET: 'matrix-secret',
    WECOM_TOKEN: 'MatrixToken',
    WECOM_ENCODING_AES_KEY: 'a'.repeat(43),
  });
  const runtime = assembleRuntime({
    env,
    org: loadOrgConfig(ORG, {}),
    logging: createLogging({ level: 'silent' }),
    clock,
    database,
  });
  deps = leadDepsOf(runtime);
}, 60_000);
afterAll(async () => {
  await database.drop();
});

const member = (id: string): MemberConfig => deps.directory.member(id)!;
const wecomId = (id: string) => member(id).platforms.wecom!;

let seq = 0;
/** A lead of team east, BANT filled (so every stage gate passes), in the given state. */
async function insertLead(state: {
  ownerId?: string | null;
  assigneeId?: string | null;
  stage?: string;
}): Promise<number> {
  seq += 1;
  const now = clock.now();
  const [result] = await deps.db.insert(leads).values({
    sourceId: 'website',
    stage: state.stage ?? 'contacted',
    teamId: 'east',
    ownerId: state.ownerId ?? null,
    claimedAt: state.ownerId ? now : null,
    assigneeId: state.assigneeId === undefined ? (state.ownerId ?? null) : state.assigneeId,
    assignedAt: now,
    name: `客户${seq}`,
    phone: `+86137${String(10_000_000 + seq).slice(-8)}`,
    budget: 500_000,
    budgetText: '50万',
    authority: '王总',
    need: '数控机床',
    purchaseTimeline: 'Q3',
    tags: [],
    custom: {},
    createdAt: now,
    updatedAt: now,
  });
  return result.insertId;
}

/** A card of `template` about the lead, sent to `recipient` (the one who clicks it). */
async function insertCard(leadId: number, template: string, recipient: string): Promise<CardRow> {
  const id = `L${leadId}-${template}-${recipient}`;
  const row = {
    id,
    leadId,
    template,
    platform: 'wecom',
    recipients: [recipient],
    focusMemberId: recipient,
    status: 'open',
    createdAt: clock.now(),
    settledAt: null,
  };
  await deps.db.insert(cards).values(row);
  return row as CardRow;
}

function click(cardId: string, memberId: string, actionId: string) {
  seq += 1;
  return handleCardAction(deps, {
    platform: 'wecom',
    kind: 'card_action',
    eventId: `matrix-${seq}`,
    userId: wecomId(memberId),
    at: clock.now(),
    cardId,
    actionId,
  });
}

const SNAPSHOT_TABLES: Record<string, string> = {
  leads: 'id',
  lead_events: 'id',
  lead_notes: 'id',
  timers: 'id',
  // A refused click marks the clicker's own copy settled (it shows why): status is left out.
  cards: 'id',
  card_update_tokens: 'card_id, user_id',
  outbox: 'id',
  activities: 'id',
  member_focus: 'member_id',
  routing_positions: 'team_id, member_id',
};

async function snapshot(): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [table, order] of Object.entries(SNAPSHOT_TABLES)) {
    const [rows] = (await database.db.execute(
      sql.raw(`SELECT * FROM \`${table}\` ORDER BY ${order}`),
    )) as unknown as [Record<string, unknown>[]];
    out[table] =
      table === 'cards'
        ? rows.map(({ status: _s, settled_at: _t, ...rest }) => rest)
        : rows.map((r) => ({ ...r }));
  }
  return out;
}

/** One write: `setup` makes the lead (and card) for the role, `act` performs it as the role's member. */
interface Write {
  name: string;
  allowed: readonly Role[];
  /** Outcomes that mean "done". */
  done: readonly string[];
  setup(role: Role): Promise<{ leadId: number; cardId?: string }>;
  act(role: Role, target: { leadId: number; cardId?: string }): Promise<string>;
}

/** The owner of the lead a role acts on: the departed member acts on a lead that is still theirs. */
const ownerFor = (role: Role) => (role === 'departed' ? 'gone' : 'rep_a');
const actor = (role: Role) => member(MEMBER_OF_ROLE[role]);
const MANAGERS: readonly Role[] = ['owner', 'supervisor', 'director'];

const owned =
  (stage = 'contacted') =>
  async (role: Role) => ({ leadId: await insertLead({ ownerId: ownerFor(role), stage }) });

/** A card action: the lead in `state`, a card of `template` sent to the actor, who clicks `actionId`. */
function cardWrite(
  name: string,
  template: string,
  actionId: string,
  state: (role: Role) => Parameters<typeof insertLead>[0],
  allowed: readonly Role[],
  done: string,
): Write {
  return {
    name,
    allowed,
    done: [done],
    setup: async (role) => {
      const leadId = await insertLead(state(role));
      const card = await insertCard(leadId, template, MEMBER_OF_ROLE[role]);
      return { leadId, cardId: card.id };
    },
    act: (role, { cardId }) => click(cardId!, MEMBER_OF_ROLE[role], actionId),
  };
}

const offeredTo = (role: Role) => ({ ownerId: null, assigneeId: ownerFor(role), stage: 'new' });

const WRITES: Write[] = [
  {
    name: 'note',
    allowed: MANAGERS,
    done: ['recorded'],
    setup: owned(),
    act: async (role, { leadId }) => {
      seq += 1;
      const outcome = await addNote(deps, {
        leadId,
        member: actor(role),
        text: '客户说下周来厂参观',
        fields: {},
        source: { platform: 'wecom', messageId: `note-${seq}` },
      });
      return outcome.kind;
    },
  },
  {
    name: 'stage change',
    allowed: MANAGERS,
    done: ['changed'],
    setup: owned(),
    act: async (role, { leadId }) =>
      (await changeStage(deps, { leadId, member: actor(role), to: 'qualified', via: 'chat' })).kind,
  },
  {
    name: 'won',
    allowed: MANAGERS,
    done: ['changed'],
    setup: owned('opportunity'),
    act: async (role, { leadId }) =>
      (await changeStage(deps, { leadId, member: actor(role), to: 'won', amount: 80_000, via: 'chat' })).kind,
  },
  {
    name: 'lost',
    allowed: MANAGERS,
    done: ['changed'],
    setup: owned(),
    act: async (role, { leadId }) =>
      (
        await changeStage(deps, {
          leadId,
          member: actor(role),
          to: 'lost',
          lostReason: '预算不符',
          via: 'chat',
        })
      ).kind,
  },
  {
    name: 'reminder',
    allowed: MANAGERS,
    done: ['scheduled'],
    setup: owned(),
    act: async (role, { leadId }) =>
      (
        await setReminder(deps, {
          leadId,
          member: actor(role),
          at: new Date(clock.now().getTime() + 86_400_000),
          text: '回访报价',
        })
      ).kind,
  },
  {
    name: 'reassign (转派)',
    allowed: ['supervisor', 'director'],
    done: ['reassigned'],
    setup: owned(),
    act: async (role, { leadId }) =>
      (await reassignLead(deps, { leadId, actor: actor(role), to: '张伟' })).kind,
  },
  cardWrite('claim (认领 on the new-lead card)', 'new-lead', 'claim', offeredTo, ['owner'], 'claimed'),
  cardWrite('release (退回公海)', 'new-lead', 'release', offeredTo, ['owner'], 'released'),
  // Any member of the lead's team may grab, its supervisor and director included; not another team's.
  cardWrite(
    'grab (抢单 from the pool)',
    'pool-offer',
    'grab',
    () => ({ ownerId: null, assigneeId: null, stage: 'new' }),
    ['owner', 'otherRep', 'supervisor', 'director'],
    'grabbed',
  ),
  cardWrite(
    '已跟进 (reminder card)',
    'reminder',
    'followed_up',
    (role) => ({ ownerId: ownerFor(role) }),
    MANAGERS,
    'recorded',
  ),
  // The snoozed reminder is the owner's follow-up cadence: only the owner moves it.
  cardWrite(
    '推迟一天 (reminder card)',
    'reminder',
    'snooze_1d',
    (role) => ({ ownerId: ownerFor(role) }),
    ['owner'],
    'snoozed',
  ),
  cardWrite(
    'take over (我来跟进 on an escalation card)',
    'escalation',
    'take_over',
    offeredTo,
    ['supervisor', 'director'],
    'taken_over',
  ),
  cardWrite(
    '改派 (改派给下一位 on an escalation card)',
    'escalation',
    'reassign_next',
    offeredTo,
    ['supervisor', 'director'],
    'reassigned',
  ),
];

const CASES = WRITES.flatMap((write) =>
  ROLES.map((role) => [write.name, role, write.allowed.includes(role), write] as const),
);

describe('authorization matrix: every write × every kind of member', () => {
  it.each(CASES)('%s by %s: allowed %s', async (_name, role, allowed, write) => {
    const target = await write.setup(role);
    const before = await snapshot();
    const outcome = await write.act(role, target);
    const after = await snapshot();
    if (allowed) {
      expect({ role, outcome, done: write.done.includes(outcome) }).toEqual({ role, outcome, done: true });
      expect(after).not.toEqual(before);
    } else {
      expect({ role, outcome, done: write.done.includes(outcome) }).toEqual({ role, outcome, done: false });
      // Denied: nothing written at all.
      expect(after).toEqual(before);
    }
  });
});

/**
 * The chat and card entry points refuse a departed member before any domain action runs; the domain
 * actions refuse them too, so a caller that skips the entry points (the CLI, an API, a future
 * platform) is just as safe. Regression: a departed owner could write notes, change stages, set
 * reminders, follow up, claim, release and grab through the domain functions.
 */
describe('a departed member, called straight into the domain functions, is refused', () => {
  const gone = () => member('gone');
  it.each([
    [
      'claimLead',
      async () =>
        claimLead(deps, { leadId: await insertLead(offeredTo('departed')), card: null, member: gone() }),
    ],
    [
      'releaseLead',
      async () => {
        const leadId = await insertLead(offeredTo('departed'));
        return releaseLead(deps, { card: await insertCard(leadId, 'new-lead', 'gone'), member: gone() });
      },
    ],
    [
      'grabLead',
      async () => grabLead(deps, { leadId: await insertLead({ stage: 'new' }), card: null, member: gone() }),
    ],
    [
      'recordFollowUp',
      async () =>
        recordFollowUp(deps, { leadId: await insertLead({ ownerId: 'gone' }), member: gone(), via: 'api' }),
    ],
    [
      'snoozeReminder',
      async () =>
        snoozeReminder(deps, { leadId: await insertLead({ ownerId: 'gone' }), member: gone(), cardId: 'c' }),
    ],
  ] as const)('%s', async (_name, run) => {
    const before = (await snapshot()).leads!.length;
    const outcome = await run();
    expect(['claimed', 'released', 'grabbed', 'recorded', 'snoozed']).not.toContain(outcome);
    const after = await snapshot();
    // Only the setup's own lead (and card) were added; the action wrote nothing further.
    expect(after.leads!.length).toBe(before + 1);
    const lead = after.leads!.at(-1) as { owner_id: string | null; version: number };
    expect(lead.version).toBe(1);
  });
});
