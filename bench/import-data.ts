import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';

/**
 * The spreadsheet of `npm run bench -- import`: a lead list as a Chinese sales team gets it from a
 * trade fair or an ad platform, deterministic from the row count. Most rows are new people; some
 * repeat an earlier person (another phone format, a field filled that was empty); some are
 * unusable (a landline, a mistyped e-mail, no contact at all). The generator counts what the import
 * must end with.
 */
export const HEADERS = [
  '姓名',
  '手机',
  '邮箱',
  '微信',
  '公司名称',
  '职位',
  '省份',
  '城市',
  '行业',
  '公司规模',
  '预算',
  '需求',
  '活动',
  '关键词',
  '落地页',
  '备注',
  '标签',
  'UTM来源',
];

export interface Expected {
  rows: number;
  people: number;
  duplicates: number;
  invalid: number;
}

/** One row in this many repeats an earlier person; one in this many is unusable. */
const DUPLICATE_EVERY = 12;
const INVALID_EVERY = 33;

const SURNAMES = [...'王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘'];
const GIVEN = [
  '伟',
  '芳',
  '娜',
  '敏',
  '静',
  '磊',
  '强',
  '洋',
  '艳',
  '杰',
  '秀英',
  '建华',
  '晓东',
  '丽娟',
  '志强',
  '海燕',
  '俊杰',
  '雪梅',
];
const PLACES: readonly (readonly [string, string])[] = [
  ['浙江', '杭州'],
  ['浙江', '宁波'],
  ['江苏', '苏州'],
  ['江苏', '南京'],
  ['江苏', '无锡'],
  ['上海', '上海'],
  ['广东', '深圳'],
  ['广东', '广州'],
  ['广东', '东莞'],
  ['北京', '北京'],
  ['四川', '成都'],
  ['湖北', '武汉'],
  ['山东', '青岛'],
  ['山东', '济南'],
  ['福建', '厦门'],
  ['河南', '郑州'],
  ['湖南', '长沙'],
  ['安徽', '合肥'],
  ['陕西', '西安'],
  ['重庆', '重庆'],
];
const BRANDS = [
  ...'精工 云启 华锐 恒通 博远 新程 汇智 盛达 天成 宏图 瑞丰 鼎信 金桥 远航 中科 创新 明德 安泰 永盛 嘉禾 众合 信达 华晨 鸿运 卓越 星辰 海纳 启明 方圆 正泰'.split(
    ' ',
  ),
];
const TRADES = [
  '科技',
  '机械',
  '电子',
  '贸易',
  '物流',
  '医疗器械',
  '软件',
  '新材料',
  '环保',
  '教育科技',
  '食品',
  '包装',
];
const KINDS = ['有限公司', '股份有限公司', '集团有限公司', '有限责任公司', '（集团）有限公司'];
const INDUSTRIES = ['制造业', '零售', '教育', '互联网', '医疗器械', '物流', '金融', '建筑'];
const TITLES = [
  '总经理',
  '销售总监',
  '采购经理',
  'IT 负责人',
  '运营主管',
  '副总裁',
  '行政经理',
  '董事长助理',
];
const SIZES = ['50人以下', '50-99人', '100-499人', '500-999人', '1000人以上', '200', ''];
const BUDGETS = ['50万', '10-20万', '面议', '80000', '¥120,000', '', '100万以上'];
const NEEDS = [
  '想了解 CRM 系统的价格和部署方式',
  '销售团队 30 人，需要线索自动分配',
  '希望试用，预约下周演示',
  '',
  '现有系统太旧，考虑更换',
];
const CAMPAIGNS = [
  '2026秋季展会-上海',
  '百度搜索-品牌词',
  '抖音信息流-制造业',
  '官网白皮书下载',
  '老客户转介绍',
];
const KEYWORDS = ['crm系统', '销售管理软件', '客户管理', '线索分配', ''];
const TAGS = ['展会', '华东,重点客户', '白皮书', '', '直播报名'];

const pick = <T>(list: readonly T[], n: number): T => list[n % list.length]!;

const DISTRICTS = [
  ...'东城 西湖 滨江 高新 开发 经开 南山 福田 浦东 闵行 江北 天河 武侯 洪山 黄岛 思明 雨花 蜀山 雁塔 渝北'.split(
    ' ',
  ),
];

/**
 * A company unique to person `n` among the first 144,000 (mixed radix over district, brand and
 * trade; the legal form varies but is not part of the matching key), so company + name never make
 * two people one lead.
 */
function company(n: number): string {
  const [, city] = pick(PLACES, n);
  const size = DISTRICTS.length * BRANDS.length * TRADES.length;
  let k = (n * 7919 + Math.floor(n / size)) % size;
  const brand = BRANDS[k % BRANDS.length]!;
  k = Math.floor(k / BRANDS.length);
  const trade = TRADES[k % TRADES.length]!;
  const district = DISTRICTS[Math.floor(k / TRADES.length)]!;
  return `${city}${district}${brand}${trade}${pick(KINDS, n)}`;
}

const mobile = (n: number) => `139${String(n % 100_000_000).padStart(8, '0')}`;

function person(n: number, visit: number): string[] {
  const [province, city] = pick(PLACES, n);
  const phone = mobile(n);
  const shownPhone = visit === 0 ? phone : `+86 ${phone.slice(0, 3)}-${phone.slice(3, 7)}-${phone.slice(7)}`;
  return [
    pick(SURNAMES, n) + pick(GIVEN, Math.floor(n / SURNAMES.length)),
    shownPhone,
    n % 3 === 0 ? `${100000 + n}@qq.com` : '',
    n % 5 === 0 ? `wx_${n.toString(36)}_lead` : '',
    company(n),
    pick(TITLES, n),
    province,
    city,
    pick(INDUSTRIES, n),
    pick(SIZES, n),
    pick(BUDGETS, n + visit),
    visit === 0 ? pick(NEEDS, n) : '第二次咨询，想要报价',
    pick(CAMPAIGNS, n + visit),
    pick(KEYWORDS, n + visit),
    n % 4 === 0 ? `https://www.example.cn/lp/${pick(KEYWORDS, n) || 'home'}?utm_source=baidu` : '',
    n % 7 === 0 ? '客户要求上午联系' : '',
    pick(TAGS, n + visit),
    pick(['baidu', 'douyin', 'wechat', 'expo'], n),
  ];
}

function invalid(n: number, k: number): string[] {
  const row = person(n, 0);
  switch (k % 4) {
    case 0: // a landline in the mobile column
      row[1] = `0571-8${String(n % 10_000_000).padStart(7, '0')}`;
      row[2] = '';
      row[3] = '';
      break;
    case 1: // a mistyped e-mail and nothing else
      row[1] = '';
      row[2] = `${100000 + n}@@qq.com`;
      row[3] = '';
      break;
    case 2: // no contact at all
      row[1] = '';
      row[2] = '';
      row[3] = '';
      break;
    default: // a mobile with a digit missing
      row[1] = mobile(n).slice(0, 10);
      row[2] = '';
      row[3] = '';
  }
  return row;
}

/** Rows in file order, and what the import must end with. */
export function* generateRows(count: number): Generator<string[], Expected> {
  let people = 0;
  let duplicates = 0;
  let invalidRows = 0;
  for (let i = 0; i < count; i++) {
    if (i % INVALID_EVERY === INVALID_EVERY - 1) {
      // Invalid rows get person numbers far from the valid ones, so they never match anyone.
      yield invalid(50_000_000 + i, invalidRows++);
    } else if (i % DUPLICATE_EVERY === DUPLICATE_EVERY - 1 && people > 0) {
      // An earlier person again, from anywhere in the file so far (also far-back batches).
      yield person((i * 2654435761) % people, 1);
      duplicates++;
    } else {
      yield person(people++, 0);
    }
  }
  return { rows: count, people, duplicates, invalid: invalidRows };
}

function drain<T>(gen: Generator<string[], T>, each: (row: string[]) => void): T {
  for (;;) {
    const next = gen.next();
    if (next.done) return next.value;
    each(next.value);
  }
}

const csvCell = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** CSV as Excel saves it: `gb18030` = "CSV (逗号分隔)" on Chinese Windows, `utf8` = "CSV UTF-8" (BOM). */
export async function writeCsv(file: string, count: number, encoding: 'utf8' | 'gb18030'): Promise<Expected> {
  const out = createWriteStream(file);
  const encode = (text: string) => (encoding === 'utf8' ? Buffer.from(text) : iconv.encode(text, 'gb18030'));
  if (encoding === 'utf8') out.write(Buffer.from([0xef, 0xbb, 0xbf]));
  out.write(encode(`${HEADERS.join(',')}\r\n`));
  let lines: string[] = [];
  const expected = drain(generateRows(count), (row) => {
    lines.push(row.map(csvCell).join(','));
    if (lines.length === 1000) {
      out.write(encode(`${lines.join('\r\n')}\r\n`));
      lines = [];
    }
  });
  if (lines.length > 0) out.write(encode(`${lines.join('\r\n')}\r\n`));
  out.end();
  await once(out, 'finish');
  return expected;
}

/** XLSX as Excel writes it (shared strings); half the phone numbers stored as numbers, as Excel does. */
export async function writeXlsx(file: string, count: number): Promise<Expected> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: true });
  const sheet = workbook.addWorksheet('线索');
  sheet.addRow(HEADERS).commit();
  let n = 0;
  const expected = drain(generateRows(count), (row) => {
    const cells: (string | number)[] = [...row];
    if (n++ % 2 === 0 && /^\d{11}$/.test(row[1]!)) cells[1] = Number(row[1]);
    sheet.addRow(cells).commit();
  });
  sheet.commit();
  await workbook.commit();
  return expected;
}
