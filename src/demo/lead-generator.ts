import { mulberry32 } from '../lib/seeded-random';

/**
 * Realistic Chinese leads for the demo, shaped by where they come from: a Baidu ad brings a search
 * keyword and a campaign, the website form a job title, company size and purchase timeline, Douyin
 * little more than a name and a phone, the trade show a badge and a booth visit, a referral who sent
 * them. Phone numbers arrive in the forms people type (spaces, dashes, +86). Pure: the same seed gives
 * the same leads.
 */

/** A small seeded PRNG (mulberry32): the demo is reproducible with DEMO_SEED. */
export const createRandom: (seed: number) => () => number = mulberry32;

export type Random = () => number;

export const pick = <T>(random: Random, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)]!;
const words = (text: string, separator = ' ') => text.split(separator);
const chance = (random: Random, p: number) => random() < p;
const int = (random: Random, min: number, max: number) => min + Math.floor(random() * (max - min + 1));

const SURNAMES = words(
  '王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁沈任姚卢钟姜崔谭陆汪范石廖贾夏韦傅方邹孟熊秦邱江尹薛',
  '',
);
const GIVEN = words(
  '伟 芳 敏 静 丽 强 磊 洋 勇 军 杰 涛 明 超 秀英 建华 志刚 海燕 晓东 丽华 国庆 红梅 春生 文斌 雪梅 思远 嘉怡 子轩 宇航 凯 鹏 斌 浩然 欣怡 建平 永强 玉兰 卫东 晓明 振华 婷婷 立新',
);
/** Province:city. */
const REGIONS =
  '江苏:苏州 江苏:无锡 江苏:南京 江苏:常州 浙江:杭州 浙江:宁波 浙江:温州 上海:上海 安徽:合肥 山东:青岛 山东:济南 湖北:武汉 四川:成都 河南:郑州 广东:深圳 广东:东莞 广东:广州 广东:佛山 福建:厦门 福建:泉州 广西:柳州'
    .split(' ')
    .map((pair) => pair.split(':') as [string, string]);
const INDUSTRIES: Readonly<Record<string, readonly string[]>> = {
  制造业: ['机械', '精密制造', '重工', '模具', '装备'],
  汽车零部件: ['汽车部件', '汽配', '传动科技'],
  电子: ['电子', '电子科技', '光电', '智能科技'],
  医疗器械: ['医疗器械', '生物医疗'],
  食品: ['食品', '饮品'],
  化工: ['化工', '新材料'],
  家居: ['家居', '家具'],
  物流: ['物流', '供应链'],
};
const CORES = words(
  '精工 恒力 华创 鑫达 宏远 瑞丰 博达 凯盛 天成 东升 金泰 中科 汇通 永盛 三联 德胜 海纳 锦程 正泰 新宇 长江 蓝海 众诚 合力',
);
const TITLES = words(
  '总经理|副总经理|生产总监|IT经理|采购经理|厂长|设备主管|质量经理|信息化负责人|工程师|董事长助理|运营总监|生产计划员',
  '|',
);
const SIZES = ['20-49人', '50-99人', '100-499人', '500-999人', '1000-2000人', '3000人以上', 300, 80];
const BUDGETS = ['20万', '50万', '80万', '100万', '¥150,000', '30万', 60000, '120万'];
const NEEDS = words(
  '产线30台CNC想做设备联网，实时看稼动率|想上MES，现在排产全靠Excel|客户审核要求质量追溯，想了解追溯系统|老系统用了十年，考虑替换|想看一下设备预测性维护方案|新厂房明年投产，规划数字化车间|需要和ERP（用友U8）对接|想要一份报价和案例|了解一下SaaS版本价格|想做能耗监测，电费太高|仓库扫码出入库，想和生产打通',
  '|',
);
const KEYWORDS = words(
  'mes系统哪家好|mes系统 价格|设备联网方案|质量追溯系统|工厂数字化|车间看板软件|设备管理系统',
  '|',
);
const TIMELINES = words('3个月内 3个月内 半年内 一年内 暂不确定');
const MOBILE_PREFIXES = words(
  '138 139 137 136 135 150 151 152 158 159 182 183 186 187 188 130 131 132 155 156 133 153 177 180 181 189 199',
);
const REFERRERS = words('苏州恒力精密的王总|老客户宁波博达的李经理|合作伙伴用友华东区|无锡瑞丰的陈厂长', '|');

export interface DemoPerson {
  name: string;
  phone: string;
  company: string;
  province: string;
  city: string;
  industry: string;
}

export type LeadPayload = Record<string, unknown>;

/** An 11-digit Chinese mobile, written the way people type it. */
function mobile(random: Random): string {
  const digits = pick(random, MOBILE_PREFIXES) + String(int(random, 0, 99_999_999)).padStart(8, '0');
  switch (int(random, 0, 5)) {
    case 0:
      return `${digits.slice(0, 3)} ${digits.slice(3, 7)} ${digits.slice(7)}`;
    case 1:
      return `+86 ${digits}`;
    case 2:
      return `${digits.slice(0, 3)}-${digits.slice(3, 7)}-${digits.slice(7)}`;
    default:
      return digits;
  }
}

/** A new customer: who, where, which company. */
export function generatePerson(random: Random): DemoPerson {
  const [province, city] = pick(random, REGIONS);
  const industry = pick(random, Object.keys(INDUSTRIES));
  const company = `${city}${pick(random, CORES)}${pick(random, INDUSTRIES[industry]!)}有限公司`;
  return {
    name: pick(random, SURNAMES) + pick(random, GIVEN),
    phone: mobile(random),
    company,
    province,
    city,
    industry,
  };
}

const pinyinish = (random: Random) =>
  `${pick(random, ['sales', 'info', 'purchase', 'it', 'hr'])}${int(random, 1, 99)}`;

/** The intake body a source would send for this person. */
export function leadFor(random: Random, source: string, person: DemoPerson, seq: number): LeadPayload {
  const base = { name: person.name, phone: person.phone };
  const where = { province: person.province, city: person.city };
  switch (source) {
    case 'baidu':
      return {
        ...base,
        company: person.company,
        ...where,
        keyword: pick(random, KEYWORDS),
        campaign: '2026冬季-MES关键词',
        landingPage: 'https://www.example-mes.cn/lp/mes?utm_source=baidu',
        ...(chance(random, 0.8) ? { need: pick(random, NEEDS) } : {}),
        ...(chance(random, 0.85) ? { industry: person.industry } : {}),
        ...(chance(random, 0.3) ? { title: pick(random, TITLES) } : {}),
      };
    case 'website':
      return {
        ...base,
        email: `${pinyinish(random)}@${['qq.com', '163.com', 'example.cn'][int(random, 0, 2)]}`,
        company: person.company,
        title: pick(random, TITLES),
        industry: person.industry,
        companySize: pick(random, SIZES),
        ...where,
        need: pick(random, NEEDS),
        ...(chance(random, 0.5) ? { budget: pick(random, BUDGETS) } : {}),
        custom: { purchase_timeline: pick(random, TIMELINES) },
        externalId: `form-${String(seq).padStart(5, '0')}`,
      };
    case 'douyin':
      return {
        ...base,
        city: person.city,
        campaign: '抖音信息流-工厂数字化',
        ...(chance(random, 0.4) ? { company: person.company, industry: person.industry } : {}),
        remark: pick(random, [
          '看了直播，想了解价格',
          '评论区留言要资料',
          '私信咨询设备联网',
          '刷到案例视频',
        ]),
        ...(chance(random, 0.4) ? { wechat: `wx_${pinyinish(random)}` } : {}),
      };
    case 'trade_show':
      return {
        ...base,
        company: person.company,
        title: pick(random, TITLES),
        industry: person.industry,
        companySize: pick(random, SIZES),
        ...where,
        need: pick(random, NEEDS),
        tags: ['2026工博会'],
        custom: { booth_visit: true, badge: `CIIF-${int(random, 10_000, 99_999)}` },
        remark: '展台扫码留资',
      };
    default:
      return {
        ...base,
        company: person.company,
        title: pick(random, TITLES.slice(0, 6)),
        industry: person.industry,
        ...where,
        need: pick(random, NEEDS),
        remark: `由${pick(random, REFERRERS)}介绍`,
      };
  }
}

/** Which source the next lead comes from: search ads and the website most often. */
export function pickSource(random: Random, sources: readonly string[]): string {
  const weights: Record<string, number> = { baidu: 4, website: 3, douyin: 2, trade_show: 2, referral: 1 };
  const total = sources.reduce((sum, s) => sum + (weights[s] ?? 1), 0);
  let r = random() * total;
  for (const s of sources) {
    r -= weights[s] ?? 1;
    if (r < 0) return s;
  }
  return sources[sources.length - 1]!;
}

/** A follow-up note a rep might type after a call, sometimes with BANT lines. */
export function noteFor(random: Random): string {
  const opening = pick(random, [
    '已电话沟通，客户对设备联网很感兴趣',
    '加了微信，发了案例资料',
    '客户说下周来公司参观',
    '电话没接，发了短信，明天再打',
    '和采购聊过，要先内部立项',
    '约了周四线上演示',
  ]);
  const lines = [opening];
  if (chance(random, 0.6)) lines.push(`预算：${pick(random, ['30万', '50万', '80万', '100万'])}`);
  if (chance(random, 0.5)) lines.push(`决策人：${pick(random, SURNAMES)}总`);
  if (chance(random, 0.5)) lines.push(`需求：${pick(random, NEEDS)}`);
  if (chance(random, 0.4)) lines.push(`时间：${pick(random, ['Q1', '3个月内', '年底前', '明年上半年'])}`);
  return lines.join('\n');
}
