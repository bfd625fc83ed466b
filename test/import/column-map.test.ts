import {
  customKeyOf,
  foldHeader,
  looksLikeHeader,
  MappingError,
  parseColumnMapping,
  planColumns,
  rowToBody,
} from '../../src/import/column-map';

const targets = (headers: string[], mapping?: Record<string, string | null>) =>
  planColumns(headers, mapping).columns.map((c) => {
    const t = c.target;
    if (t.kind === 'field') return t.field;
    if (t.kind === 'custom') return `custom.${t.key}`;
    return t.kind;
  });

describe('planColumns', () => {
  it('maps the usual Chinese headers', () => {
    expect(
      targets([
        '姓名',
        '手机号',
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
        '外部ID',
        '标签',
      ]),
    ).toEqual([
      'name',
      'phone',
      'email',
      'wechat',
      'company',
      'title',
      'province',
      'city',
      'industry',
      'companySize',
      'budget',
      'need',
      'campaign',
      'keyword',
      'landingPage',
      'remark',
      'externalId',
      'tags',
    ]);
  });

  it('maps English headers in any case and spacing, and the intake field names themselves', () => {
    expect(
      targets([
        'Name',
        'Mobile',
        'E-mail',
        'WeChat ID',
        'Company Name',
        'Job Title',
        'company_size',
        'landingPage',
        'External ID',
      ]),
    ).toEqual([
      'name',
      'phone',
      'email',
      'wechat',
      'company',
      'title',
      'companySize',
      'landingPage',
      'externalId',
    ]);
  });

  it('folds width, marks and a trailing note: 手机号码（必填）*, ＥＭＡＩＬ', () => {
    expect(foldHeader('手机号码（必填）*')).toBe('手机号码');
    expect(targets(['手机号码（必填）*', 'ＥＭＡＩＬ', ' 联系人 '])).toEqual(['phone', 'email', 'name']);
  });

  it('puts unknown columns under custom with a valid key, and ignores the export system columns', () => {
    expect(targets(['手机', 'UTM Source', '预约时间(上午/下午)', '线索ID', '阶段', ''])).toEqual([
      'phone',
      'custom.UTM_Source',
      'custom.预约时间_上午_下午',
      'ignore',
      'ignore',
      'ignore',
    ]);
    expect(customKeyOf('!!!', 4)).toBe('column_5');
  });

  it('a second column for a one-column field goes to custom; need, remark and tags may take several', () => {
    const { columns } = planColumns(['手机', '电话', '备注', '说明']);
    expect(columns.map((c) => [c.reason, c.target])).toEqual([
      ['alias', { kind: 'field', field: 'phone' }],
      ['duplicate', { kind: 'custom', key: '电话' }],
      ['alias', { kind: 'field', field: 'remark' }],
      ['alias', { kind: 'field', field: 'remark' }],
    ]);
    expect(rowToBody(columns, ['13812345678', '010-12345678', '上午联系', '老客户'])).toEqual({
      phone: '13812345678',
      remark: '上午联系\n老客户',
      custom: { 电话: '010-12345678' },
    });
  });

  it('a mapping file wins over the aliases, by exact or folded header, and can ignore a column', () => {
    const { columns, unusedMapping } = planColumns(['客户电话', '电话', 'Remark', '来源渠道'], {
      客户电话: 'phone',
      电话: null,
      remark: 'need',
      来源渠道: 'custom.channel',
      不存在的列: 'email',
    });
    expect(columns.map((c) => c.target)).toEqual([
      { kind: 'field', field: 'phone' },
      { kind: 'ignore' },
      { kind: 'field', field: 'need' },
      { kind: 'custom', key: 'channel' },
    ]);
    expect(unusedMapping).toEqual(['不存在的列']);
  });

  it('refuses a mapping to a field that does not exist, naming it', () => {
    expect(() => parseColumnMapping({ 手机: 'mobile' })).toThrow(MappingError);
    expect(() => parseColumnMapping({ 手机: 'mobile' })).toThrow(/"mobile" 不存在/);
    expect(() => parseColumnMapping(['phone'])).toThrow(/JSON 对象/);
    expect(parseColumnMapping({ a: 'phone', b: null, c: 'custom.x' })).toEqual({
      a: 'phone',
      b: null,
      c: 'custom.x',
    });
  });

  it('finds the header row below a title row', () => {
    expect(looksLikeHeader(['2026年11月展会线索', '', ''])).toBe(false);
    expect(looksLikeHeader(['序号', '姓名', '手机'])).toBe(true);
    expect(looksLikeHeader(['客户电话'], { 客户电话: 'phone' })).toBe(true);
  });
});

describe('rowToBody', () => {
  const { columns } = planColumns(['姓名', '手机', '预算（万元）', '标签', '落地页', '自定义字段', '渠道']);

  it('leaves empty cells out, reads 万 budgets, splits tags, merges the custom JSON column', () => {
    expect(
      rowToBody(columns, [
        ' 张伟 ',
        '138 1234 5678',
        '50',
        '展会、华东，重点',
        '',
        '{"utm":"baidu","n":2}',
        '抖音',
      ]),
    ).toEqual({
      name: '张伟',
      phone: '138 1234 5678',
      budget: '50万',
      tags: ['展会', '华东', '重点'],
      custom: { utm: 'baidu', n: 2, 渠道: '抖音' },
    });
  });

  it('keeps a budget with its own unit as written, and non-JSON custom text under the column name', () => {
    expect(rowToBody(columns, ['', '', '80000元', '', '', 'not json', ''])).toEqual({
      budget: '80000元',
      custom: { 自定义字段: 'not json' },
    });
  });

  it('is null for a row with nothing in it', () => {
    expect(rowToBody(columns, ['', '  ', '', '', '', '', ''])).toBeNull();
    expect(rowToBody(columns, [])).toBeNull();
  });
});
