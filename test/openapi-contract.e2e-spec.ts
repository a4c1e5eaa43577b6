import { createUser } from './support/factories';
import { TestApp } from './support/app';

/**
 * The OpenAPI document is the contract: these tests hold it to the properties a client generator
 * and a contract tester rely on. (TestApp checks every response of the suite against it.)
 */

type Schema = Record<string, any>;
interface Operation {
  operationId: string;
  summary?: string;
  security?: unknown[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}

const MONEY = new Set([
  'amount',
  'perCredit',
  'perCase',
  'perAgentDay',
  'perAgentMonth',
  'withinDiscretion',
  'overrun',
  'available',
  'balance',
  'debits',
  'credits',
  'net',
  'day',
  'month',
  'case',
  'p50',
  'p90',
  'p95',
  'p99',
  'suggestedPerCredit',
]);

let t: TestApp;
let doc: { paths: Record<string, Record<string, Operation>>; components: Record<string, any> };

/** Every schema object in the document with the property name it describes (if any). */
function* schemas(node: unknown, name?: string): Generator<{ name?: string; schema: Schema }> {
  if (Array.isArray(node)) {
    for (const item of node) yield* schemas(item, name);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const schema = node as Schema;
  if ('type' in schema || '$ref' in schema || 'allOf' in schema) yield { name, schema };
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties') {
      for (const [prop, sub] of Object.entries(value as Schema)) yield* schemas(sub, prop);
    } else if (key !== 'example') {
      yield* schemas(value, key === 'items' ? name : undefined);
    }
  }
}

function operations(): Array<{ name: string; op: Operation }> {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, op })),
  );
}

beforeAll(async () => {
  t = await TestApp.start();
  const res = await t.request('GET', '/docs-json', { token: null });
  expect(res.status).toBe(200);
  doc = res.body;
});

afterAll(async () => {
  await t?.close();
});

describe('the OpenAPI document', () => {
  it('gives every operation a summary, a 2xx response with its schema, and errors as problem+json', () => {
    const problem = { $ref: '#/components/schemas/ProblemView' };
    for (const { name, op } of operations()) {
      expect({ name, summary: typeof op.summary }).toEqual({ name, summary: 'string' });
      // A browser's sign-in navigation answers with a redirect, and with a page when it cannot sign
      // anyone in; SCIM answers in its own media type (RFC 7644), errors included.
      const browser = name.includes(' /auth/');
      const scim = name.includes(' /scim/');
      const success = Object.keys(op.responses).filter((s) => (browser ? /^3\d\d$/ : /^2\d\d$/).test(s));
      expect({ name, success: success.length }).toEqual({ name, success: 1 });
      const ok = op.responses[success[0]];
      if (success[0] !== '204' && !browser) {
        const media = Object.values(ok.content ?? {});
        expect({ name, schemas: media.length > 0 && media.every((m) => !!m.schema) }).toEqual({ name, schemas: true });
      }
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue;
        const page = { 'text/html': { schema: { type: 'string' } } };
        const expected = scim
          ? { 'application/scim+json': { schema: { $ref: '#/components/schemas/ScimErrorView' } } }
          : browser && JSON.stringify(response.content) === JSON.stringify(page)
            ? page
            : { 'application/problem+json': { schema: problem } };
        expect({ name, status, content: response.content }).toEqual({ name, status, content: expected });
      }
    }
  });

  it('documents 401, 429 and 503 on every authenticated operation, and 400 wherever a body or query is read', () => {
    for (const { name, op } of operations()) {
      const statuses = Object.keys(op.responses);
      if (op.security?.length)
        expect({ name, statuses }).toEqual({ name, statuses: expect.arrayContaining(['401', '429']) });
      if (op.security?.length && !name.endsWith('/metrics')) {
        expect({ name, statuses }).toEqual({ name, statuses: expect.arrayContaining(['503']) });
      }
      if (op.requestBody) {
        expect({ name, statuses }).toEqual({ name, statuses: expect.arrayContaining(['400', '413', '415']) });
      }
      if (name.includes('{id}'))
        expect({ name, statuses }).toEqual({ name, statuses: expect.arrayContaining(['404']) });
      for (const param of (op as { parameters?: Schema[] }).parameters ?? []) {
        if (param.in === 'path' && param.name === 'id')
          expect({ name, schema: param.schema }).toEqual({ name, schema: { type: 'string', format: 'uuid' } });
      }
    }
    expect(doc.components.schemas.ProblemView).toMatchObject({
      required: expect.arrayContaining(['type', 'title', 'status', 'detail']),
      properties: {
        errors: { type: 'array', items: { $ref: '#/components/schemas/FieldProblemView' } },
      },
    });
  });

  it('types money as bounded integers, never as number', () => {
    const money = [...schemas(doc)].filter(({ name }) => name !== undefined && MONEY.has(name));
    expect(money.length).toBeGreaterThan(40);
    for (const { name, schema } of money) {
      if (schema.type === 'string') continue; // `day` in the journal is a date
      expect({ name, type: schema.type, format: schema.format }).toEqual({ name, type: 'integer', format: 'int64' });
    }
    const amount = doc.components.schemas.CreateCreditDto.properties.amount;
    expect(amount).toMatchObject({ type: 'integer', minimum: 1, maximum: 1_000_000_000_000 });
    const perCredit = doc.components.schemas.CurrencyLimitsDto.properties.perCredit;
    expect(perCredit).toMatchObject({ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, nullable: true });
    // The only numbers left are fractions, which are not money.
    const numbers = [...schemas(doc)].filter(({ schema }) => schema.type === 'number').map(({ name }) => name);
    expect(numbers.sort()).toEqual(['shareOverPerCredit', 'shareWithOverrun']);
  });

  it('types every id as a uuid string, and no property as a bare object', () => {
    const ids = [...schemas(doc)].filter(({ name }) => name !== undefined && /^(id|.+Id)$/.test(name));
    expect(ids.length).toBeGreaterThan(20);
    for (const { name, schema } of ids) {
      if (name === 'id' && schema.pattern === '^[0-9]+$') continue; // audit event numbers
      if (name === 'subjectId') continue; // a UUID or a reason code
      if (name === 'externalId') continue; // another system's id for a credit, or a SCIM client's
      expect({ name, type: schema.type, format: schema.format }).toEqual({ name, type: 'string', format: 'uuid' });
    }
    for (const { name, schema } of schemas(doc)) {
      if (schema.type !== 'object' || schema.properties || schema.allOf || schema.additionalProperties) continue;
      throw new Error(`${name ?? 'a schema'} is a bare object`);
    }
    for (const field of ['roleId', 'teamId']) {
      expect(doc.components.schemas.CreateUserDto.properties[field]).toEqual({
        type: 'string',
        format: 'uuid',
        nullable: true,
        description: expect.any(String),
      });
    }
    expect(doc.components.schemas.CreateUserDto.properties.externalRef).toMatchObject({
      type: 'string',
      nullable: true,
      minLength: 1,
      maxLength: 200,
    });
  });

  it('describes the bearer schemes as opaque tokens, not JWT', () => {
    const schemes = doc.components.securitySchemes as Record<string, Schema>;
    // Tokens and sessions for the API; provisioning tokens for SCIM only.
    expect(Object.keys(schemes).sort()).toEqual(['bearer', 'provisioning']);
    for (const scheme of Object.values(schemes)) expect(scheme).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(JSON.stringify(doc)).not.toContain('bearerFormat');
  });

  it('documents CSV answers as text/csv', () => {
    for (const path of ['/v1/reports/spend', '/v1/ledger/journal']) {
      expect(Object.keys(doc.paths[path].get.responses['200'].content ?? {}).sort()).toEqual([
        'application/json',
        'text/csv',
      ]);
    }
  });
});

describe('validation agrees with the document', () => {
  let userId: string;

  beforeAll(async () => {
    userId = (await createUser(t, ['agent'])).id;
  });

  it.each([
    ['POST', '/v1/users', { displayName: '', access: ['agent'] }, 'displayName'],
    ['POST', '/v1/users', { displayName: 'A', access: [] }, 'access'],
    ['POST', '/v1/users', { displayName: 'A', access: ['agent'], externalRef: '' }, 'externalRef'],
    ['PATCH', '/v1/users/{user}', { displayName: null }, 'displayName'],
    ['PATCH', '/v1/users/{user}', { access: null }, 'access'],
    ['PATCH', '/v1/users/{user}', { active: null }, 'active'],
    ['POST', '/v1/users/{user}/tokens', { label: null }, 'label'],
    ['POST', '/v1/users/{user}/tokens', { label: '' }, 'label'],
    ['POST', '/v1/teams', { name: '' }, 'name'],
    ['POST', '/v1/roles', { name: '' }, 'name'],
    ['POST', '/v1/reasons', { code: 'ok_code', label: '' }, 'label'],
  ])('%s %s %j → 400 naming the field', async (method, path, body, field) => {
    const res = await t.request(method, path.replace('{user}', userId), { body });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
  });

  it('accepts null where the document marks a field nullable', async () => {
    const created = await t.request('POST', '/v1/users', {
      body: { displayName: 'Nullable', access: ['agent'], roleId: null, teamId: null, externalRef: null },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ roleId: null, teamId: null, externalRef: null });
    const role = await t.request('POST', '/v1/roles', { body: { name: 'Nullable description', description: null } });
    expect(role.status).toBe(201);
    expect(role.body.description).toBeNull();
  });
});
