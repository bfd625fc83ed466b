import { z } from 'zod';
import { LEAD_FIELD_LABELS } from '../leads/intake-schema';

/**
 * Spreadsheet columns → fields of the intake body (`POST /api/v1/leads`). Headers are matched by
 * their common Chinese and English names after folding (case, width, spaces, `*` and a trailing
 * `(必填)`-style note); a mapping file (`--map`) overrides any of them. A column that matches no field
 * is not dropped: its values go to `custom` under the header's name (nothing in the file is lost, and
 * scoring rules can read `custom.<key>`); the summary lists such columns. The system columns of
 * `leadrelay export` (线索ID, 阶段, 评分 …) are ignored, so an export can be edited and imported back.
 */
export type LeadField = Exclude<keyof typeof LEAD_FIELD_LABELS, 'custom'>;

export const LEAD_FIELDS = Object.keys(LEAD_FIELD_LABELS).filter((f) => f !== 'custom') as LeadField[];

const ALIASES: Record<LeadField, string[]> = {
  name: [
    '姓名',
    '联系人',
    '联系人姓名',
    '客户姓名',
    '名字',
    '称呼',
    'name',
    'contact',
    'contactname',
    'fullname',
  ],
  phone: [
    '手机',
    '手机号',
    '手机号码',
    '电话',
    '联系电话',
    '电话号码',
    '联系方式',
    '移动电话',
    'mobile',
    'phone',
    'tel',
    'telephone',
    'cellphone',
    'mobilephone',
    'phonenumber',
  ],
  email: ['邮箱', '电子邮箱', '邮件', '电子邮件', '邮箱地址', 'email', 'mail', 'emailaddress'],
  wechat: ['微信', '微信号', '微信id', 'wechat', 'weixin', 'wx', 'wechatid'],
  company: [
    '公司',
    '公司名称',
    '企业',
    '企业名称',
    '单位',
    '单位名称',
    '机构',
    'company',
    'companyname',
    'organization',
  ],
  title: ['职位', '职务', '岗位', '头衔', 'title', 'jobtitle', 'position'],
  province: ['省份', '省', '所在省份', 'province', 'state'],
  city: ['城市', '所在城市', '市', 'city'],
  industry: ['行业', '所属行业', 'industry'],
  companySize: [
    '公司规模',
    '规模',
    '企业规模',
    '人数',
    '员工人数',
    '员工数',
    'companysize',
    'size',
    'employees',
  ],
  budget: ['预算', '预算金额', '采购预算', 'budget'],
  need: [
    '需求',
    '需求描述',
    '客户需求',
    '咨询内容',
    '留言',
    'need',
    'requirement',
    'requirements',
    'message',
  ],
  campaign: ['活动', '推广计划', '营销活动', '活动名称', '计划', 'campaign', 'utmcampaign'],
  keyword: ['关键词', '搜索词', '关键字', 'keyword', 'searchterm', 'utmterm'],
  landingPage: [
    '落地页',
    '落地页url',
    '落地页地址',
    '页面地址',
    '来源页面',
    'landingpage',
    'landingpageurl',
    'url',
  ],
  remark: ['备注', '说明', '备注信息', 'remark', 'remarks', 'note', 'notes', 'comment', 'comments'],
  externalId: ['外部id', '外部编号', '线索编号', '编号', 'externalid', 'id'],
  tags: ['标签', 'tags', 'tag', 'labels'],
};

/** `custom` as one column (the export writes the custom fields as JSON under 自定义字段). */
const CUSTOM_ALIASES = ['自定义字段', 'custom'];

/** Columns `leadrelay export` writes that are not intake fields: ignored on import. */
export const SYSTEM_HEADERS = ['线索ID', '创建时间', '来源', '阶段', '等级', '评分', '团队', '负责人'];

/** Text fields several columns may feed (joined by a line break); the rest take one column. */
const JOINABLE = new Set<LeadField>(['need', 'remark', 'tags']);

/** Folds a header for matching: `手机号码（必填）*` → `手机号码`, ` E-Mail ` → `email`. */
export function foldHeader(header: string): string {
  return header
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s*]/g, '')
    .replace(/[(（【[][^)）】\]]*[)）】\]]$/u, '')
    .replace(/[_\-—–.·:]/g, '');
}

const BY_ALIAS = new Map<string, LeadField | 'custom'>();
for (const [field, aliases] of Object.entries(ALIASES) as [LeadField, string[]][]) {
  for (const alias of [...aliases, field]) BY_ALIAS.set(foldHeader(alias), field);
}
for (const alias of CUSTOM_ALIASES) BY_ALIAS.set(foldHeader(alias), 'custom');
const SYSTEM = new Set(SYSTEM_HEADERS.map(foldHeader));

export type ColumnTarget =
  | { kind: 'field'; field: LeadField }
  /** The whole custom object as JSON (the export's 自定义字段 column). */
  | { kind: 'customJson' }
  | { kind: 'custom'; key: string }
  | { kind: 'ignore' };

export interface Column {
  index: number;
  header: string;
  target: ColumnTarget;
  /** Why: a known header, the mapping file, an unknown header (→ custom), a second column for a field, … */
  reason: 'alias' | 'mapping' | 'unknown' | 'duplicate' | 'system' | 'no_header';
  /** Budget columns headed in 万 (`预算（万元）`): a bare number is read in 万 yuan. */
  unit?: '万';
}

/** A mapping file: `{"列名": "field" | "custom.key" | null}` (null or "" ignores the column). */
export const columnMappingSchema = z.record(z.string(), z.union([z.string(), z.null()]));
export type ColumnMapping = z.infer<typeof columnMappingSchema>;

export class MappingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MappingError';
  }
}

/** Parses a `--map` file's JSON; names the bad entries in Chinese. */
export function parseColumnMapping(json: unknown): ColumnMapping {
  const parsed = columnMappingSchema.safeParse(json);
  if (!parsed.success) {
    throw new MappingError(
      '映射文件应为 JSON 对象：{"列名": "字段名"}，字段名为字符串，或 null 表示忽略该列',
    );
  }
  for (const [header, target] of Object.entries(parsed.data)) {
    if (target === null || target === '') continue;
    if (target === 'custom' || /^custom\.[A-Za-z0-9_\u4e00-\u9fff]{1,64}$/.test(target)) continue;
    if (!(LEAD_FIELDS as string[]).includes(target)) {
      throw new MappingError(
        `映射文件中 "${header}" 对应的字段 "${target}" 不存在；可用字段：${LEAD_FIELDS.join(', ')}，或 custom.<键名>，或 null（忽略）`,
      );
    }
  }
  return parsed.data;
}

/** A header made into a valid `custom` key (letters, digits, _ and CJK; at most 64). */
export function customKeyOf(header: string, index: number): string {
  const key = header
    .normalize('NFKC')
    .trim()
    .replace(/[^A-Za-z0-9_\u4e00-\u9fff]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 64);
  return key === '' ? `column_${index + 1}` : key;
}

function targetOf(mapped: string | null): ColumnTarget {
  if (mapped === null || mapped === '') return { kind: 'ignore' };
  if (mapped === 'custom') return { kind: 'customJson' };
  if (mapped.startsWith('custom.')) return { kind: 'custom', key: mapped.slice('custom.'.length) };
  return { kind: 'field', field: mapped as LeadField };
}

/**
 * Decides every column's target. Mapping entries are matched by the exact header (trimmed), then by
 * the folded one. Returns the columns and the mapping entries that matched no header.
 */
export function planColumns(
  headers: readonly string[],
  mapping: ColumnMapping = {},
): { columns: Column[]; unusedMapping: string[] } {
  const entries = Object.entries(mapping);
  const used = new Set<string>();
  const mapped = (header: string): [string, string | null] | undefined => {
    const fold = foldHeader(header);
    return (
      entries.find(([key]) => key.trim() === header) ??
      entries.find(([key]) => fold !== '' && foldHeader(key) === fold)
    );
  };
  const taken = new Set<string>();
  const customKeys = new Set<string>();
  const columns: Column[] = [];

  headers.forEach((raw, index) => {
    const header = raw.trim();
    const fold = foldHeader(header);
    const entry = header === '' ? undefined : mapped(header);
    let target: ColumnTarget;
    let reason: Column['reason'];
    if (header === '') {
      target = { kind: 'ignore' };
      reason = 'no_header';
    } else if (entry) {
      used.add(entry[0]);
      target = targetOf(entry[1]);
      reason = 'mapping';
    } else if (BY_ALIAS.has(fold)) {
      const field = BY_ALIAS.get(fold)!;
      target = field === 'custom' ? { kind: 'customJson' } : { kind: 'field', field };
      reason = 'alias';
    } else if (SYSTEM.has(fold)) {
      target = { kind: 'ignore' };
      reason = 'system';
    } else {
      target = { kind: 'custom', key: customKeyOf(header, index) };
      reason = 'unknown';
    }

    // A second column for a one-column field keeps its values, under custom.
    if (target.kind === 'field' && taken.has(target.field) && !JOINABLE.has(target.field)) {
      target = { kind: 'custom', key: customKeyOf(header, index) };
      reason = 'duplicate';
    }
    if (target.kind === 'field') taken.add(target.field);
    if (target.kind === 'custom') {
      let key = target.key;
      for (let n = 2; customKeys.has(key); n++) key = `${target.key.slice(0, 60)}_${n}`;
      customKeys.add(key);
      target = { kind: 'custom', key };
    }
    const column: Column = { index, header, target, reason };
    if (target.kind === 'field' && target.field === 'budget' && /万/.test(header)) column.unit = '万';
    columns.push(column);
  });
  return { columns, unusedMapping: entries.map(([key]) => key).filter((k) => !used.has(k)) };
}

/** True when the header row names at least one intake field (used to skip a title row above it). */
export function looksLikeHeader(values: readonly string[], mapping: ColumnMapping = {}): boolean {
  const mapped = new Set(Object.keys(mapping).map(foldHeader));
  return values.some((v) => {
    const fold = foldHeader(v.trim());
    return fold !== '' && (BY_ALIAS.has(fold) || mapped.has(fold));
  });
}

const TAG_SEPARATORS = /[,，;；、|\n]+/;
const PLAIN_NUMBER = /^\s*\d+(?:\.\d+)?\s*$/;

/**
 * One row as an intake body, or null when every mapped cell is empty. Empty cells are left out, as
 * a form leaves out fields nobody filled (an empty `landingPage` would otherwise be an invalid URL).
 */
export function rowToBody(
  columns: readonly Column[],
  values: readonly string[],
): Record<string, unknown> | null {
  const body: Record<string, unknown> = {};
  const custom: Record<string, unknown> = {};
  let any = false;
  for (const column of columns) {
    const raw = values[column.index];
    if (raw === undefined || column.target.kind === 'ignore') continue;
    const value = raw.trim();
    if (value === '') continue;
    any = true;
    const target = column.target;
    if (target.kind === 'custom') custom[target.key] = value;
    else if (target.kind === 'customJson') Object.assign(custom, customJson(value, column));
    else if (target.field === 'tags') {
      const tags = value.split(TAG_SEPARATORS).map((t) => t.trim());
      body.tags = [...((body.tags as string[] | undefined) ?? []), ...tags.filter((t) => t !== '')];
    } else if (JOINABLE.has(target.field) && typeof body[target.field] === 'string') {
      body[target.field] = `${body[target.field]}\n${value}`;
    } else if (column.unit === '万' && PLAIN_NUMBER.test(value)) {
      body[target.field] = `${value}万`;
    } else {
      body[target.field] = value;
    }
  }
  if (!any) return null;
  if (Object.keys(custom).length > 0) body.custom = custom;
  return body;
}

/** The export's 自定义字段 column holds a JSON object; anything else is kept as text. */
function customJson(value: string, column: Column): Record<string, unknown> {
  if (value.startsWith('{')) {
    try {
      const parsed = JSON.parse(value) as unknown;
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
        return parsed as Record<string, unknown>;
      }
    } catch {
      // Not JSON: kept as text below.
    }
  }
  return { [customKeyOf(column.header, column.index)]: value };
}
