import { readFileSync } from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import { buildOpenApiDocument } from './document';

/** package.json sits at the package root, two levels above this file in src/ and in dist/. */
function packageVersion(): string {
  const file = path.resolve(__dirname, '../../package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** `GET /openapi.json`: public (it describes the API, it holds no data), built once per app. */
export function openApiRoutes(): Router {
  const router = new Router();
  const body = JSON.stringify(buildOpenApiDocument(packageVersion()));
  router.get('/openapi.json', (ctx) => {
    ctx.type = 'application/json';
    ctx.body = body;
  });
  return router;
}
