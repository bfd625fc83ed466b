import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type ReadMessage, type ReadOptions, readBatches } from '../../src/import/read-batches';
import { SheetError } from '../../src/import/read-sheet';
import { readBatchesInWorker } from '../../src/import/read-worker';

const dir = mkdtempSync(path.join(os.tmpdir(), 'leadrelay-batches-'));

function options(file: string, batchSize = 2): ReadOptions {
  return {
    file,
    sourceId: 'website',
    runId: 'r1',
    fileName: path.basename(file),
    batchSize,
    maxBatchChars: 1e6,
  };
}

async function all(messages: AsyncGenerator<ReadMessage>): Promise<ReadMessage[]> {
  const out: ReadMessage[] = [];
  for await (const m of messages) out.push(m);
  return out;
}

describe('reading and checking an import file in batches', () => {
  const file = path.join(dir, 'leads.csv');
  writeFileSync(
    file,
    '线索表\r\n姓名,手机,备注\r\n张伟,13812345678,a\r\n,,\r\n李娜,010-12345678,b\r\n王芳,+86 139 1234 5678,c\r\n',
  );

  it('header, then batches of checked rows: valid ones normalised with their keys, refused ones with their values', async () => {
    const messages = await all(readBatches(options(file)));
    expect(messages.map((m) => m.type)).toEqual(['opened', 'batch', 'batch']);
    const opened = messages[0] as Extract<ReadMessage, { type: 'opened' }>;
    expect(opened).toMatchObject({
      format: 'csv',
      headerRow: 2,
      skippedAbove: 1,
      header: ['姓名', '手机', '备注'],
    });
    const [first, second] = messages.slice(1) as Extract<ReadMessage, { type: 'batch' }>[];
    expect(first!.rows.map((r) => [r.row, r.ok])).toEqual([
      [3, true],
      [5, false],
    ]);
    expect(first!.emptyRows).toBe(1);
    const ok = first!.rows[0]!;
    expect(ok.ok && ok.lead.phone).toBe('+8613812345678');
    expect(ok.ok && ok.keys.map((k) => k.kind)).toContain('phone');
    expect(ok.request).toMatchObject({
      requestId: 'import:r1:3',
      note: { import: { file: 'leads.csv', row: 3 } },
    });
    const refused = first!.rows[1]!;
    expect(!refused.ok && refused.values).toEqual(['李娜', '010-12345678', 'b']);
    expect(!refused.ok && refused.issues[0]!.message).toMatch(/固定电话/);
    expect(second!.rows.map((r) => r.row)).toEqual([6]);
  });

  it('a worker thread hands over the same messages', async () => {
    expect(await all(readBatchesInWorker(options(file)))).toEqual(await all(readBatches(options(file))));
  });

  it("the worker's errors keep their kind: a file without a header is a SheetError", async () => {
    const empty = path.join(dir, 'empty.csv');
    writeFileSync(empty, '\r\n\r\n');
    await expect(all(readBatchesInWorker(options(empty)))).rejects.toThrow(SheetError);
    await expect(all(readBatchesInWorker(options(empty)))).rejects.toThrow('文件中没有数据（找不到表头行）');
  });

  it('a reader that takes batches slowly still gets every batch from the worker, in order', async () => {
    const big = path.join(dir, 'big.csv');
    const lines = ['姓名,手机'];
    for (let i = 0; i < 200; i++) lines.push(`客户${i},1380000${String(i).padStart(4, '0')}`);
    writeFileSync(big, `${lines.join('\r\n')}\r\n`);
    const messages = readBatchesInWorker(options(big, 10));
    await messages.next();
    const first = await messages.next();
    // Taken slowly: the worker waits for credit instead of posting all 20 batches at once.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const rest = await all(messages);
    expect(first.value).toMatchObject({ type: 'batch' });
    expect(rest).toHaveLength(19);
    const numbers = rest.flatMap((m) => (m.type === 'batch' ? m.rows.map((r) => r.row) : []));
    expect(numbers).toEqual(Array.from({ length: 190 }, (_, i) => i + 12));
  });
});
