import { leads } from '../../src/db/schema';
import { listPool } from '../../src/pool/list-pool';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

const base = { sourceId: 'website', tags: [], custom: {}, createdAt: new Date(), updatedAt: new Date() };

it('lists only a team’s unowned, unassigned, open leads, best score first, with personal data masked', async () => {
  await database.db.insert(leads).values([
    { ...base, id: 1, teamId: 'east', name: '张伟', phone: '+8613812345678', score: 40, grade: 'B' },
    { ...base, id: 2, teamId: 'east', name: '李娜', phone: '+8613900001111', score: 70, grade: 'A' },
    { ...base, id: 3, teamId: 'east', ownerId: 'rep_a', score: 90, grade: 'A' },
    { ...base, id: 4, teamId: 'east', assigneeId: 'rep_b', score: 90, grade: 'A' },
    { ...base, id: 5, teamId: 'east', stage: 'lost', score: 90, grade: 'A' },
    { ...base, id: 6, teamId: 'south', score: 90, grade: 'A' },
  ]);
  const pool = await listPool(database.db, ['east']);
  expect(pool.map((p) => [p.id, p.name, p.phone])).toEqual([
    [2, '李*', '139****1111'],
    [1, '张*', '138****5678'],
  ]);
  expect(await listPool(database.db, [])).toEqual([]);
});
