// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about literal ${ENV} references in config text
import { doc, parse, problemsOf } from './org-config-fixtures';

describe('${ENV} interpolation', () => {
  it('replaces a whole string, part of a string and several references', () => {
    const d = doc();
    d.members[0]!.name = '${REP_NAME}';
    d.teams[0]!.name = '${REGION}大区 (${REGION_EN})';
    const config = parse(d, { REP_NAME: '张三丰', REGION: '华东', REGION_EN: 'East' });
    expect(config.members[0]!.name).toBe('张三丰');
    expect(config.teams[0]!.name).toBe('华东大区 (East)');
  });

  it('turns $${X} into a literal ${X} without looking X up', () => {
    const d = doc();
    d.teams[0]!.name = '$${REGION} and ${REGION}';
    expect(parse(d, { REGION: '华东' }).teams[0]!.name).toBe('${REGION} and 华东');
  });

  it('names the JSON path of every unset variable', () => {
    const d = doc();
    d.members[1]!.name = '${REP_NAME}';
    d.digest = { robots: { east: { wecom: 'key=${WECOM_ROBOT_EAST}' } } };
    expect(problemsOf(d, { UNRELATED: 'x' })).toEqual([
      '/members/1/name: 环境变量 REP_NAME 未设置',
      '/digest/robots/east/wecom: 环境变量 WECOM_ROBOT_EAST 未设置',
    ]);
  });

  it('rejects a malformed reference instead of leaving it in place', () => {
    const d = doc();
    d.teams[0]!.name = '${region}';
    d.sources[0]!.name = '${OPEN';
    d.members[0]!.name = '${REP:-张三';
    d.members[1]!.name = '${REP-李四}';
    d.members[2]!.name = '${:-王五}';
    const hint = '应写作 ${NAME} 或 ${NAME:-默认值}（NAME 为大写字母、数字、下划线）；字面量请写 $${...}';
    expect(problemsOf(d)).toEqual([
      `/members/0/name: 无效的环境变量引用 "\${REP:-张三"：${hint}`,
      `/members/1/name: 无效的环境变量引用 "\${REP-李四}"：${hint}`,
      `/members/2/name: 无效的环境变量引用 "\${:-王五}"：${hint}`,
      `/teams/0/name: 无效的环境变量引用 "\${region}"：${hint}`,
      `/sources/0/name: 无效的环境变量引用 "\${OPEN"：${hint}`,
    ]);
  });

  it('validates the interpolated value, and reports an unset one only once', () => {
    const d = doc();
    d.timezone = '${ORG_TZ}';
    expect(problemsOf(d, { ORG_TZ: 'Mars/Olympus' })).toEqual([
      '/timezone: 无效的时区 "Mars/Olympus"：应为 IANA 时区名，如 Asia/Shanghai [timezone]',
    ]);
    expect(problemsOf(d)).toEqual(['/timezone: 环境变量 ORG_TZ 未设置']);
    expect(parse(d, { ORG_TZ: 'Asia/Urumqi' }).teams[0]!.timezone).toBe('Asia/Urumqi');
  });

  it('uses ${NAME:-default} when NAME is unset or empty, and the value when it is set', () => {
    const d = doc();
    d.members[0]!.name = '${REP_NAME:-张三}';
    d.members[1]!.name = '${REP_NAME:-李四}';
    d.members[2]!.name = '${OTHER_NAME:-王五}';
    const config = parse(d, { REP_NAME: '', OTHER_NAME: '王小五' });
    expect(config.members.map((m) => m.name)).toEqual(['张三', '李四', '王小五']);
    expect(parse(d).members.map((m) => m.name)).toEqual(['张三', '李四', '王五']);
  });

  it('gives an empty string for ${NAME:-} when NAME is unset', () => {
    const d = doc();
    d.teams[0]!.name = '华东${REGION_SUFFIX:-}';
    expect(parse(d).teams[0]!.name).toBe('华东');
    expect(parse(d, { REGION_SUFFIX: '二部' }).teams[0]!.name).toBe('华东二部');
  });

  it('takes a default literally, whatever characters it holds except "}"', () => {
    const d = doc();
    d.teams[0]!.name = '${TEAM_NAME:-华东 / East: a-b:-c $HOME ${X}';
    d.sources[0]!.name = '${SOURCE_NAME:-} and ${SOURCE_NAME:-x}';
    const config = parse(d);
    expect(config.teams[0]!.name).toBe('华东 / East: a-b:-c $HOME ${X');
    expect(config.sources[0]!.name).toBe(' and x');
  });

  it('keeps $${NAME:-default} as literal text', () => {
    const d = doc();
    d.teams[0]!.name = '$${REGION:-华东} ${REGION:-华南}';
    expect(parse(d).teams[0]!.name).toBe('${REGION:-华东} 华南');
    expect(parse(d, { REGION: '西北' }).teams[0]!.name).toBe('${REGION:-华东} 西北');
  });

  it('still names the JSON path of an unset variable written without a default', () => {
    const d = doc();
    d.members[0]!.name = '${REP_NAME:-张三}';
    d.teams[0]!.name = '${REGION:-华东}${REGION_SUFFIX}';
    expect(problemsOf(d)).toEqual(['/teams/0/name: 环境变量 REGION_SUFFIX 未设置']);
  });

  it('keeps an explicitly empty variable empty when written without a default', () => {
    const d = doc();
    d.teams[0]!.name = '华东${REGION_SUFFIX}';
    expect(parse(d, { REGION_SUFFIX: '' }).teams[0]!.name).toBe('华东');
  });

  it('leaves keys alone', () => {
    const d = doc();
    d.digest = { '${KEY}': 'v' };
    expect((parse(d, { KEY: 'k' }) as unknown as { digest: unknown }).digest).toEqual({ '${KEY}': 'v' });
  });
});
