import type { Problem } from './org-config-messages';

/**
 * `${ENV}` references in org-config string values, shell style:
 * - `${NAME}` is NAME's value; unset is a problem at the value's JSON path (set but empty gives "").
 * - `${NAME:-default}` is `default` when NAME is unset or empty; `${NAME:-}` gives "". The default
 *   is taken literally (no nested references) and may contain any character except `}`.
 * - `$${...}` is a literal `${...}`, not looked up.
 * Anything else that starts with `${` (lower-case name, no closing brace, `${NAME-x}`) is a problem
 * rather than text left in place, so a typo cannot reach a webhook URL or a secret unnoticed.
 */

export type Env = Record<string, string | undefined>;

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
/** `$${...}` (escape) | `${NAME}` / `${NAME:-default}` | `${...` (unclosed, name runs to the end). */
const ENV_REF = /(\$?)\$\{([^}]*)(\}?)/g;
const DEFAULT_MARK = ':-';

export function interpolate(value: string, path: string, env: Env, problems: Problem[]): string {
  return value.replace(ENV_REF, (match: string, escaped: string, body: string, close: string) => {
    if (escaped) return match.slice(1);
    const mark = body.indexOf(DEFAULT_MARK);
    const name = mark === -1 ? body : body.slice(0, mark);
    if (!close || !ENV_NAME.test(name)) {
      problems.push({
        path,
        message: `无效的环境变量引用 "${match}"：应写作 \${NAME} 或 \${NAME:-默认值}（NAME 为大写字母、数字、下划线）；字面量请写 $\${...}`,
      });
      return match;
    }
    const resolved = env[name];
    if (mark !== -1) {
      return resolved === undefined || resolved === '' ? body.slice(mark + DEFAULT_MARK.length) : resolved;
    }
    if (resolved === undefined) {
      problems.push({ path, message: `环境变量 ${name} 未设置` });
      return match;
    }
    return resolved;
  });
}
