import type Router from '@koa/router';
import { createApp } from '../../src/app';
import { awayBodySchema } from '../../src/availability/routes';
import { activityInputSchema } from '../../src/leads/activities';
import { leadInputSchema } from '../../src/leads/intake-schema';
import { REQUEST_SCHEMAS, toOpenApiSchema } from '../../src/openapi/document';
import { cardCallbackSchema, robotMessageSchema } from '../../src/platforms/dingtalk/events';
import { costBodySchema, querySchema as reportQuerySchema } from '../../src/reports/routes';
import { request } from '../helpers/http';
import { startTestApp, type TestApp } from '../helpers/test-app';
import { WECOM } from '../helpers/wecom-stack';

/**
 * GET /openapi.json: served by the real server, lists exactly the routes the app mounts, and its
 * request schemas are those of the zod objects the routes validate with.
 */
let app: TestApp;
// biome-ignore lint/suspicious/noExplicitAny: a JSON document of many shapes, asserted field by field.
let doc: any;

beforeAll(async () => {
  app = await startTestApp({ server: { workers: false } });
  const res = await request(`${app.url}/openapi.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('application/json');
  doc = res.body;
});
afterAll(async () => {
  await app.close();
});

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

interface Operation {
  responses: Record<string, unknown>;
  parameters?: { in: string; name: string }[];
}
const operations = () => doc.paths as Record<string, Record<string, Operation>>;

/** Every (method, path) the app mounts, read from its routers, WeCom's callback routes included. */
function mountedRoutes(): string[] {
  const deps = app.server.deps;
  const koa = createApp({
    ...deps,
    wecom: {
      corpId: WECOM.corpId,
      agentId: WECOM.agentId,
      secret: WECOM.secret,
      tokens: [WECOM.token],
      encodingAesKey: WECOM.aesKey,
      apiBase: 'http://127.0.0.1:1',
      windowSeconds: 300,
      timeoutMs: 1000,
    },
    // With the event subscription, so its route is mounted too.
    dingtalk: {
      appKey: 'dingappkey',
      appSecret: 'dingtalk-app-secret',
      robotCode: 'dingappkey',
      mode: 'http',
      apiBase: 'http://127.0.0.1:1',
      oapiBase: 'http://127.0.0.1:1',
      cardTemplateId: null,
      callbackRouteKey: 'leadrelay',
      publicUrl: null,
      event: { token: 'event-token', aesKey: WECOM.aesKey },
      windowSeconds: 300,
      timeoutMs: 1000,
    },
  });
  const routes = new Set<string>();
  for (const middleware of koa.middleware) {
    const router = (middleware as { router?: Router }).router;
    if (!router) continue;
    for (const layer of router.stack) {
      // `/callbacks/wecom/` (a prefix plus `/`) and `/:id` become OpenAPI's `/callbacks/wecom`, `/{id}`.
      const path = String(layer.path)
        .replace(/(.)\/$/, '$1')
        .replace(/:(\w+)/g, '{$1}');
      for (const method of layer.methods) {
        if (method !== 'HEAD') routes.add(`${method.toLowerCase()} ${path}`);
      }
    }
  }
  return [...routes].sort();
}

function documentedRoutes(): string[] {
  return Object.entries(doc.paths as Record<string, Record<string, unknown>>)
    .flatMap(([path, item]) =>
      Object.keys(item)
        .filter((k) => METHODS.includes(k))
        .map((m) => `${m} ${path}`),
    )
    .sort();
}

it('is an OpenAPI 3.1 document with info, security schemes and operations', () => {
  expect(doc.openapi).toBe('3.1.0');
  expect(doc.info.title).toBe('LeadRelay API');
  expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
  expect(Object.keys(doc.components.securitySchemes).sort()).toEqual([
    'adminKey',
    'metricsToken',
    'sourceKey',
  ]);
  for (const [, item] of Object.entries(operations())) {
    for (const method of Object.keys(item)) {
      expect(METHODS).toContain(method);
      expect(Object.keys(item[method].responses).length).toBeGreaterThan(0);
    }
  }
});

it('documents every route the app mounts, and nothing else', () => {
  expect(documentedRoutes()).toEqual(mountedRoutes());
  expect(documentedRoutes()).toEqual(
    expect.arrayContaining([
      'post /api/v1/leads',
      'post /api/v1/leads/{id}/activities',
      'get /api/v1/leads/{id}',
      'put /api/v1/members/{id}/away',
      'get /api/v1/reports/funnel',
      'post /api/v1/channel-costs',
      'get /healthz',
      'get /metrics',
      'post /callbacks/wecom',
      'post /callbacks/dingtalk',
      'get /openapi.json',
    ]),
  );
});

it('describes request bodies with the zod objects the routes validate with', () => {
  const body = (path: string, method: string) => {
    const ref = doc.paths[path][method].requestBody.content['application/json'].schema.$ref as string;
    return doc.components.schemas[ref.replace('#/components/schemas/', '')];
  };
  expect(body('/api/v1/leads', 'post')).toEqual(toOpenApiSchema(leadInputSchema));
  expect(body('/api/v1/leads/{id}/activities', 'post')).toEqual(toOpenApiSchema(activityInputSchema));
  expect(body('/api/v1/members/{id}/away', 'put')).toEqual(toOpenApiSchema(awayBodySchema));
  expect(body('/api/v1/channel-costs', 'post')).toEqual(toOpenApiSchema(costBodySchema));
  expect(body('/callbacks/dingtalk', 'post')).toEqual(toOpenApiSchema(robotMessageSchema));
  expect(body('/callbacks/dingtalk/card/{token}', 'post')).toEqual(toOpenApiSchema(cardCallbackSchema));
  // Spot checks that the generated schema says what the route enforces.
  expect(body('/api/v1/leads', 'post').additionalProperties).toBe(false);
  expect(body('/api/v1/leads', 'post').properties.tags.maxItems).toBe(20);
  expect(body('/api/v1/leads/{id}/activities', 'post').required).toEqual(['type']);
  // The same objects, not copies.
  expect(REQUEST_SCHEMAS.LeadInput).toBe(leadInputSchema);
  expect(REQUEST_SCHEMAS.ReportQuery).toBe(reportQuerySchema);
});

it("describes the reports' query parameters from the route's zod object", () => {
  const generated = toOpenApiSchema(reportQuerySchema) as {
    properties: Record<string, unknown>;
    required: string[];
  };
  const parameters = doc.paths['/api/v1/reports/sla'].get.parameters as {
    name: string;
    required: boolean;
    schema: unknown;
  }[];
  expect(parameters.map((p) => p.name).sort()).toEqual(Object.keys(generated.properties).sort());
  for (const p of parameters) {
    expect(p.schema).toEqual(generated.properties[p.name]);
    expect(p.required).toBe(generated.required.includes(p.name));
  }
});

it('resolves every $ref and declares every path parameter', () => {
  const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
  for (const ref of refs) {
    const name = ref.replace(/.*#\/components\/schemas\/([^"]+)"$/, '$1');
    expect(doc.components.schemas[name]).toBeDefined();
  }
  for (const [path, item] of Object.entries(operations())) {
    const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
    for (const operation of Object.values(item)) {
      const declared = (operation.parameters ?? []).filter((p) => p.in === 'path');
      expect(declared.map((p) => p.name)).toEqual(names);
    }
  }
});
