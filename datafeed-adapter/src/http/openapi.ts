/** OpenAPI 3.1 document generated from the same route tables that validate requests. */
import { API_ROUTES } from './api.js';
import { UDF_ROUTES, type RouteDef } from './udf.js';
import { openapiParams } from './params.js';

const ERROR_SCHEMA = { type: 'object', required: ['error', 'param', 'reason'], properties: { error: { type: 'string' }, param: { type: ['string', 'null'] }, reason: { type: 'string' } } };
const UDF_ERROR_SCHEMA = { type: 'object', required: ['s', 'errmsg'], properties: { s: { const: 'error' }, errmsg: { type: 'string' }, param: { type: 'string' }, reason: { type: 'string' } } };

function op(def: RouteDef, tag: string, secured: boolean): Record<string, unknown> {
  const err = tag === 'udf' ? '#/components/schemas/UdfError' : '#/components/schemas/Error';
  const o: Record<string, unknown> = {
    tags: [tag],
    summary: def.summary,
    operationId: `${tag}_${def.path.replace(/[^a-zA-Z0-9]+/g, '_').replace(/^_|_$/g, '')}`,
    parameters: openapiParams(def.params),
    responses: {
      200: { description: def.response, content: { [def.path === '/time' ? 'text/plain' : 'application/json']: { schema: def.path === '/time' ? { type: 'integer' } : {} } } },
      400: { description: 'invalid parameter', content: { 'application/json': { schema: { $ref: err } } } },
      404: { description: 'unknown symbol / not found', content: { 'application/json': { schema: { $ref: err } } } },
    },
  };
  if (def.description) o.description = def.description;
  if (secured) {
    o.security = [{ bearer: [] }, { token: [] }];
    (o.responses as Record<string, unknown>)[401] = { description: 'missing or wrong token', content: { 'application/json': { schema: { $ref: err } } } };
  }
  return o;
}

export function openapiDocument(opts: { auth: boolean; serverUrl?: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const d of Object.values(UDF_ROUTES)) paths[d.path] = { get: op(d, 'udf', false) };
  for (const d of API_ROUTES) paths[d.path] = { get: op(d, 'api', opts.auth) };
  paths['/health'] = { get: { tags: ['system'], summary: 'liveness (never needs a token)', operationId: 'health', responses: { 200: { description: '{status}' } } } };
  paths['/openapi.json'] = { get: { tags: ['system'], summary: 'this document', operationId: 'openapi', responses: { 200: { description: 'OpenAPI 3.1 document' } } } };
  return {
    openapi: '3.1.0',
    info: { title: 'TapeFlow datafeed and order-flow API', version: '0.1.0', description: 'UDF endpoints (Unix seconds) for TradingView Charting Library, and the order-flow JSON API under /api/v1 (Unix milliseconds). Errors: 400/404 with {error, param, reason} (UDF: {s:"error", errmsg, param, reason}).' },
    servers: opts.serverUrl ? [{ url: opts.serverUrl }] : [],
    tags: [{ name: 'udf', description: 'TradingView UDF protocol' }, { name: 'api', description: 'order-flow JSON API' }, { name: 'system' }],
    paths,
    components: {
      schemas: { Error: ERROR_SCHEMA, UdfError: UDF_ERROR_SCHEMA },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, token: { type: 'apiKey', in: 'query', name: 'token' } },
    },
  };
}
