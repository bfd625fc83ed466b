import { z } from 'zod';
import { awayBodySchema } from '../availability/routes';
import { activityInputSchema } from '../leads/activities';
import { leadInputSchema } from '../leads/intake-schema';
import { cardCallbackSchema, robotMessageSchema } from '../platforms/dingtalk/events';
import { costBodySchema, querySchema as reportQuerySchema } from '../reports/routes';

/**
 * The OpenAPI 3.1 document of the HTTP API (`GET /openapi.json`). Request schemas are generated with
 * `z.toJSONSchema` from the very zod objects the routes validate with, so the document cannot drift
 * from the validation; responses are described here (the routes present plain objects).
 *
 * Adding an endpoint: export its zod schema from its routes file, add it to REQUEST_SCHEMAS (for a
 * body) and its path below. test/openapi/document.test.ts lists every route the app mounts and fails
 * until the document has it, and checks each request schema against its zod object.
 */

/** OpenAPI 3.1 schemas are JSON Schema 2020-12, zod's default target; `$schema` is dropped. */
export function toOpenApiSchema(
  schema: z.ZodType,
  io: 'input' | 'output' = 'input',
): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return rest;
}

/** Request bodies and queries, by component name: the routes' own zod objects. */
export const REQUEST_SCHEMAS = {
  LeadInput: leadInputSchema,
  ActivityInput: activityInputSchema,
  AwayInput: awayBodySchema,
  ChannelCostInput: costBodySchema,
  ReportQuery: reportQuerySchema,
  DingtalkRobotMessage: robotMessageSchema,
  DingtalkCardCallback: cardCallbackSchema,
} as const;

/** Report kinds under `/api/v1/reports/{kind}` (src/reports/routes.ts). */
export const REPORT_KINDS = ['funnel', 'channels', 'reps', 'sla'] as const;

const errorSchema = z
  .object({
    error: z.string().meta({ description: 'stable snake_case code, e.g. validation_failed' }),
    message: z.string().meta({ description: 'human-readable, Chinese' }),
    issues: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .meta({ description: '422 only: one entry per invalid field' }),
    rejectedId: z
      .number()
      .int()
      .optional()
      .meta({ description: 'intake 400/422: the kept payload (leadrelay intake)' }),
  })
  .meta({ description: 'Every error: {error, message, ...details}' });

const RESPONSE_SCHEMAS = {
  Error: errorSchema,
  IntakeResult: z.union([
    z.object({
      id: z.number().int(),
      status: z.literal('created'),
      score: z.number(),
      grade: z.string(),
      warnings: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
    z.object({
      id: z.number().int(),
      status: z.literal('merged'),
      warnings: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  ]),
  MemberAvailability: z.object({
    memberId: z.string(),
    name: z.string(),
    status: z.enum(['available', 'away', 'inactive']),
    awayUntil: z.iso.datetime().nullable().meta({ description: 'set only while away' }),
    reason: z.string().nullable(),
    setBy: z.string().nullable().meta({ description: 'a member id, admin:api or admin:cli' }),
    teams: z.array(z.string()),
    openLeads: z.number().int(),
    assignedToday: z.number().int().meta({ description: 'leads offered since local midnight' }),
  }),
} as const;

type Operation = Record<string, unknown>;
type Security = 'sourceKey' | 'adminKey' | 'metricsToken';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ 'application/json': { schema } });
const errors = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      String(status),
      { description: ERROR_DESCRIPTIONS[status] ?? 'error', content: json(ref('Error')) },
    ]),
  );
const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'malformed request',
  401: 'missing, invalid or revoked key, or a missing or bad Standard Webhooks signature where required',
  404: 'not found',
  409: 'Idempotency-Key reused with another body',
  413: 'body over the cap',
  415: 'not application/json',
  422: 'invalid fields (issues)',
  503: 'shutting down or overloaded (Retry-After)',
};
/** Standard Webhooks headers, required of sources that set `sources[].signing` (401 otherwise). */
const signingHeaders = [
  ['webhook-id', 'unique per message, repeated by a retry; also the Idempotency-Key when none is sent'],
  [
    'webhook-timestamp',
    'Unix seconds; refused when further than sources[].signing.toleranceSeconds from now',
  ],
  [
    'webhook-signature',
    'space-separated `v1,<base64 HMAC-SHA256 of id.timestamp.body>` (standardwebhooks.com)',
  ],
].map(([name, description]) => ({
  name,
  in: 'header',
  required: false,
  description: `Required of sources with signing configured: ${description}`,
  schema: { type: 'string' },
}));
const secured = (...schemes: Security[]) => ({ security: schemes.map((s) => ({ [s]: [] })) });
const jsonBody = (name: string) => ({ required: true, content: json(ref(name)) });
const ok = (description: string, schema: unknown = { type: 'object' }) => ({
  description,
  content: json(schema),
});
const idParam = (name: string, description: string, schema: unknown = { type: 'string' }) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema,
});

/** Query parameters from a zod object: one parameter per property, required as zod says. */
function queryParameters(schema: z.ZodType): Operation[] {
  const json = toOpenApiSchema(schema) as { properties: Record<string, unknown>; required?: string[] };
  return Object.entries(json.properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: json.required?.includes(name) ?? false,
    schema: property,
  }));
}

/** The fixed rejection order of RELIABILITY.md "Inbound" 2, as the DingTalk callbacks answer it. */
function dingtalkResponses(): Record<string, unknown> {
  return {
    '200': { description: 'stored (or a duplicate)' },
    '400': { description: 'missing headers or parameters, or malformed JSON' },
    '401': { description: 'bad signature or stale timestamp (bare)' },
    '413': { description: 'over 64 KB' },
    '415': { description: 'not JSON' },
    '422': { description: 'not the shape DingTalk sends' },
    '503': { description: 'the inbox could not store it in time; DingTalk retries' },
  };
}

function paths(): Record<string, Record<string, Operation>> {
  const reports = Object.fromEntries(
    REPORT_KINDS.map((kind) => [
      `/api/v1/reports/${kind}`,
      {
        get: {
          tags: ['reports'],
          summary: `The ${kind} report for a period of local dates (both inclusive, at most 366 days)`,
          ...secured('adminKey'),
          parameters: queryParameters(REQUEST_SCHEMAS.ReportQuery),
          responses: {
            '200': {
              description: 'the report (format=json), or a CSV / XLSX download',
              content: {
                'application/json': { schema: { type: 'object' } },
                'text/csv': { schema: { type: 'string' } },
                'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': {
                  schema: { type: 'string', contentMediaType: 'application/octet-stream' },
                },
              },
            },
            ...errors(401, 404, 422),
          },
        },
      },
    ]),
  );
  return {
    '/api/v1/leads': {
      post: {
        tags: ['leads'],
        summary: 'Submit a lead',
        description:
          'Validated, normalised, deduplicated and scored. A refused (400/422) payload is kept for `leadrelay intake replay`.',
        ...secured('sourceKey'),
        parameters: [
          {
            name: 'Idempotency-Key',
            in: 'header',
            required: false,
            description:
              '1–191 visible ASCII characters; the same key and body within 24 h replays the answer',
            schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,191}$' },
          },
          ...signingHeaders,
        ],
        requestBody: jsonBody('LeadInput'),
        responses: {
          '201': ok('created', ref('IntakeResult')),
          '200': ok('merged into an existing lead (or an idempotent replay)', ref('IntakeResult')),
          ...errors(400, 401, 409, 413, 415, 422, 503),
        },
      },
    },
    '/api/v1/leads/{id}': {
      get: {
        tags: ['leads'],
        summary: 'A lead with its timeline',
        ...secured('adminKey'),
        parameters: [idParam('id', 'lead id', { type: 'integer', minimum: 1 })],
        responses: { '200': ok('the lead and its timeline'), ...errors(401, 404) },
      },
    },
    '/api/v1/leads/{id}/activities': {
      post: {
        tags: ['leads'],
        summary: 'Record a behaviour event and re-score the lead',
        ...secured('sourceKey', 'adminKey'),
        parameters: [idParam('id', 'lead id', { type: 'integer', minimum: 1 })],
        requestBody: jsonBody('ActivityInput'),
        responses: {
          '201': ok('recorded; the new score and grade'),
          ...errors(400, 401, 404, 413, 415, 422),
        },
      },
    },
    '/api/v1/members': {
      get: {
        tags: ['members'],
        summary: 'Every member: status, away until, open leads',
        ...secured('adminKey'),
        responses: {
          '200': ok('members', {
            type: 'object',
            properties: { members: { type: 'array', items: ref('MemberAvailability') } },
          }),
          ...errors(401),
        },
      },
    },
    '/api/v1/members/{id}/away': {
      put: {
        tags: ['members'],
        summary: 'Mark a member away until a time ("3d", an ISO time or a local date)',
        ...secured('adminKey'),
        parameters: [idParam('id', 'member id from the org config')],
        requestBody: jsonBody('AwayInput'),
        responses: {
          '200': ok('the member', ref('MemberAvailability')),
          ...errors(400, 401, 404, 413, 415, 422),
        },
      },
      delete: {
        tags: ['members'],
        summary: 'The member is back now',
        ...secured('adminKey'),
        parameters: [idParam('id', 'member id from the org config')],
        responses: { '200': ok('the member, with wasAway'), ...errors(401, 404) },
      },
    },
    ...reports,
    '/api/v1/channel-costs': {
      post: {
        tags: ['reports'],
        summary: "Record a channel's spend for a period (yuan), for cost per lead and per deal",
        ...secured('adminKey'),
        requestBody: jsonBody('ChannelCostInput'),
        responses: { '201': ok('recorded'), ...errors(400, 401, 413, 415, 422) },
      },
    },
    '/callbacks/wecom': {
      get: {
        tags: ['callbacks'],
        summary: 'WeCom URL verification (signed echostr; answered with its plaintext)',
        description: 'Called by WeCom only. Signature, timestamp window and receive id are checked.',
        parameters: ['msg_signature', 'timestamp', 'nonce', 'echostr'].map((name) => ({
          name,
          in: 'query',
          required: true,
          schema: { type: 'string' },
        })),
        responses: {
          '200': {
            description: 'the decrypted echostr',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
          '400': { description: 'missing parameters' },
          '401': { description: 'bad signature, stale timestamp or wrong receive id (bare)' },
        },
      },
      post: {
        tags: ['callbacks'],
        summary: 'WeCom messages and card clicks (encrypted XML, at most 64 KB)',
        description: 'Called by WeCom only. Stored in the inbox and answered with an empty 200 at once.',
        parameters: ['msg_signature', 'timestamp', 'nonce'].map((name) => ({
          name,
          in: 'query',
          required: true,
          schema: { type: 'string' },
        })),
        requestBody: { required: true, content: { 'text/xml': { schema: { type: 'string' } } } },
        responses: {
          '200': { description: 'stored (or a duplicate); empty body' },
          '400': { description: 'missing parameters or malformed XML' },
          '401': { description: 'bad signature, stale timestamp or wrong receive id (bare)' },
          '413': { description: 'over 64 KB' },
          '415': { description: 'not XML' },
          '503': { description: 'the inbox could not store it in time; WeCom retries' },
        },
      },
    },
    '/callbacks/dingtalk': {
      post: {
        tags: ['callbacks'],
        summary: 'DingTalk robot messages (HTTP mode; JSON, at most 64 KB)',
        description:
          'Called by DingTalk only. The `timestamp` and `sign` headers (HmacSHA256 with the AppSecret) are checked; stored in the inbox and answered at once.',
        parameters: ['timestamp', 'sign'].map((name) => ({
          name,
          in: 'header',
          required: true,
          schema: { type: 'string' },
        })),
        requestBody: jsonBody('DingtalkRobotMessage'),
        responses: dingtalkResponses(),
      },
    },
    '/callbacks/dingtalk/card/{token}': {
      post: {
        tags: ['callbacks'],
        summary: 'DingTalk interactive card clicks (the callback URL registered at start)',
        description:
          'Called by DingTalk only. `token` is derived from the AppSecret and the callbackRouteKey.',
        parameters: [idParam('token', 'the secret part of the registered callback URL')],
        requestBody: jsonBody('DingtalkCardCallback'),
        responses: dingtalkResponses(),
      },
    },
    '/callbacks/dingtalk/events': {
      post: {
        tags: ['callbacks'],
        summary: 'DingTalk event subscription (encrypted; mounted when DINGTALK_EVENT_TOKEN is set)',
        description: 'Called by DingTalk only. Answered with the encrypted `success` within 1500 ms.',
        parameters: ['msg_signature', 'timestamp', 'nonce'].map((name) => ({
          name,
          in: 'query',
          required: true,
          schema: { type: 'string' },
        })),
        requestBody: {
          required: true,
          content: json({
            type: 'object',
            properties: { encrypt: { type: 'string' } },
            required: ['encrypt'],
          }),
        },
        responses: dingtalkResponses(),
      },
    },
    '/healthz': {
      get: { tags: ['operations'], summary: 'Liveness: the process answers', responses: { '200': ok('ok') } },
    },
    '/readyz': {
      get: {
        tags: ['operations'],
        summary: 'Readiness: the database answers and every migration is applied',
        responses: { '200': ok('ready'), '503': ok('not ready, or shutting down') },
      },
    },
    '/metrics': {
      get: {
        tags: ['operations'],
        summary: 'Prometheus metrics (text format)',
        description: 'Open unless METRICS_TOKEN is set; then a Bearer token is required.',
        ...secured('metricsToken'),
        responses: {
          '200': {
            description: 'exposition text',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
          ...errors(401),
        },
      },
    },
    '/openapi.json': {
      get: { tags: ['operations'], summary: 'This document', responses: { '200': ok('OpenAPI 3.1') } },
    },
  };
}

export function buildOpenApiDocument(version: string): Record<string, unknown> {
  const schemas = Object.fromEntries(
    [
      ...Object.entries(REQUEST_SCHEMAS).map(
        ([name, schema]) => [name, toOpenApiSchema(schema, 'input')] as const,
      ),
      ...Object.entries(RESPONSE_SCHEMAS).map(
        ([name, schema]) => [name, toOpenApiSchema(schema, 'output')] as const,
      ),
    ].filter(([name]) => name !== 'ReportQuery'),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'LeadRelay API',
      version,
      description:
        'Lead intake, lead reads, availability and reports. Errors are `{error, message}`; every response carries X-Request-Id.',
    },
    servers: [{ url: '/' }],
    tags: ['leads', 'members', 'reports', 'callbacks', 'operations'].map((name) => ({ name })),
    paths: paths(),
    components: {
      schemas,
      securitySchemes: {
        sourceKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'A source API key (`leadrelay keys create SOURCE`)',
        },
        adminKey: { type: 'http', scheme: 'bearer', description: 'ADMIN_API_KEY' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN (when set)' },
      },
    },
  };
}
