import { z } from 'zod';
import { toFieldIssues, zhErrorMap } from '../http/zod-issues';
import { MAX_AMOUNT, MAX_COMPANY_SIZE } from '../lib/amount';
import type { FieldIssue } from '../lib/errors';
import type { LeadInput } from './types';

/**
 * The body of `POST /api/v1/leads`. Strict: an unknown field is an error (with a hint when it looks
 * like a known one), because a silently dropped `mobile` would lose the lead's phone number.
 * Lengths match the database columns.
 */
const text = (max: number) => z.string().max(max);
const customValue = z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]);

export const leadInputSchema = z.strictObject({
  name: text(128).optional(),
  phone: text(40).optional(),
  email: text(254).optional(),
  wechat: text(64).optional(),
  company: text(255).optional(),
  title: text(128).optional(),
  province: text(64).optional(),
  city: text(64).optional(),
  industry: text(64).optional(),
  companySize: z.union([z.number().int().min(0).max(MAX_COMPANY_SIZE), text(64)]).optional(),
  budget: z.union([z.number().min(0).max(MAX_AMOUNT), text(64)]).optional(),
  need: text(5000).optional(),
  campaign: text(255).optional(),
  keyword: text(255).optional(),
  landingPage: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .optional(),
  remark: text(5000).optional(),
  externalId: text(191).optional(),
  tags: z.array(text(32)).max(20).optional(),
  custom: z
    .record(z.string().regex(/^[A-Za-z0-9_\u4e00-\u9fff]{1,64}$/), customValue)
    .refine((value) => Object.keys(value).length <= 50, '最多 50 个自定义字段')
    .optional(),
});

export const LEAD_FIELD_LABELS: Record<string, string> = {
  name: '姓名',
  phone: '手机号',
  email: '邮箱',
  wechat: '微信号',
  company: '公司',
  title: '职位',
  province: '省份',
  city: '城市',
  industry: '行业',
  companySize: '公司规模',
  budget: '预算',
  need: '需求',
  campaign: '推广计划',
  keyword: '关键词',
  landingPage: '落地页',
  remark: '备注',
  externalId: '外部编号',
  tags: '标签',
  custom: '自定义字段',
};

/** Names sources often use for our fields, for the "unknown field" hint. */
const FIELD_ALIASES: Record<string, string> = {
  mobile: 'phone',
  tel: 'phone',
  telephone: 'phone',
  phone_number: 'phone',
  phonenumber: 'phone',
  cellphone: 'phone',
  手机: 'phone',
  手机号: 'phone',
  电话: 'phone',
  mail: 'email',
  e_mail: 'email',
  邮箱: 'email',
  weixin: 'wechat',
  wx: 'wechat',
  微信: 'wechat',
  contact: 'name',
  contact_name: 'name',
  姓名: 'name',
  company_name: 'company',
  companyname: 'company',
  公司: 'company',
  job_title: 'title',
  position: 'title',
  职位: 'title',
  company_size: 'companySize',
  size: 'companySize',
  landing_page: 'landingPage',
  url: 'landingPage',
  external_id: 'externalId',
  id: 'externalId',
  comment: 'remark',
  note: 'remark',
  备注: 'remark',
  requirement: 'need',
  需求: 'need',
  省份: 'province',
  城市: 'city',
  行业: 'industry',
  预算: 'budget',
};

export function parseLeadInput(
  body: unknown,
): { ok: true; input: LeadInput } | { ok: false; issues: FieldIssue[] } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, issues: [{ path: '', message: '请求体必须是一个 JSON 对象' }] };
  }
  const result = leadInputSchema.safeParse(body, { error: zhErrorMap });
  if (result.success) return { ok: true, input: result.data };
  return { ok: false, issues: toFieldIssues(result.error.issues, LEAD_FIELD_LABELS, FIELD_ALIASES) };
}
