import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** The parts of a V8 `.cpuprofile` (written by `node --cpu-prof`) this summary reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

const REPO_ROOT = path.resolve(__dirname, '../..');

function shortUrl(url: string): string {
  const file = url.replace(/^file:\/\//, '');
  const modules = file.lastIndexOf('/node_modules/');
  if (modules >= 0) return file.slice(modules + '/node_modules/'.length);
  return file.startsWith(REPO_ROOT) ? file.slice(REPO_ROOT.length + 1) : file;
}

/** Where a frame's code lives: a package, a src/ folder, Node internals, or a V8 pseudo-frame. */
function areaOf(frame: CallFrame): string {
  if (frame.url === '') return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  const file = shortUrl(frame.url);
  if (file.startsWith('node:')) return 'node internals';
  const src = /^(src|bench|test)\/([^/]+)/.exec(file);
  if (src) return src[2]!.includes('.') ? `${src[1]}/${src[2]}` : `${src[1]}/${src[2]}/`;
  const pkg = /^(@[^/]+\/[^/]+|[^/]+)/.exec(file);
  if (frame.url.includes('/node_modules/') && pkg) return pkg[1]!;
  return file;
}

function frameKey(frame: CallFrame): string {
  if (frame.url === '') return frame.functionName || '(anonymous)';
  return `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
}

/**
 * The main thread's profile in a directory: the largest `.cpuprofile` (`--import tsx` runs its module
 * hooks on a worker thread, which writes a small profile of its own).
 */
export function mainThreadProfile(dir: string): string | null {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(dir, f))
    .sort((a, b) => statSync(b).size - statSync(a).size);
  return files[0] ?? null;
}

/**
 * Self time by area and by function, and inclusive time of the busiest functions, as a share of the
 * busy (non-idle) time of the whole profile.
 */
export function summariseProfile(file: string, top = 25): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const selfByKey = new Map<string, number>();
  const selfByArea = new Map<string, number>();
  const totalByKey = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    if (node.callFrame.functionName === '(idle)') {
      idle += delta;
      return;
    }
    busy += delta;
    const key = frameKey(node.callFrame);
    selfByKey.set(key, (selfByKey.get(key) ?? 0) + delta);
    const area = areaOf(node.callFrame);
    selfByArea.set(area, (selfByArea.get(area) ?? 0) + delta);
    const seen = new Set<string>();
    for (let current: number | undefined = id; current !== undefined; current = parent.get(current)) {
      const frame = byId.get(current)!.callFrame;
      if (frame.url === '' && frame.functionName === '(root)') continue;
      const k = frameKey(frame);
      if (seen.has(k)) continue;
      seen.add(k);
      totalByKey.set(k, (totalByKey.get(k) ?? 0) + delta);
    }
  });

  const pct = (us: number) => `${((100 * us) / Math.max(busy, 1)).toFixed(1)}%`;
  const rows = (map: Map<string, number>, n: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => `  ${pct(us).padStart(6)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
  return [
    `CPU profile ${file}`,
    `busy ${(busy / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s`,
    'Self time by area:',
    ...rows(selfByArea, 20),
    `Self time, top ${top} functions:`,
    ...rows(selfByKey, top),
    `Inclusive time, top ${top} functions:`,
    ...rows(totalByKey, top),
  ].join('\n');
}
