import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * Checks responses against the service's own OpenAPI document: the status must be documented for
 * the operation (path template + method) and the body must match the schema documented for that
 * status and content type. Paths the document lacks (docs, the web app, router 404s) are skipped.
 */

type Schema = Record<string, unknown>;
interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

export interface ObservedResponse {
  method: string;
  url: string;
  status: number;
  contentType: string;
  body: string;
}

/** OpenAPI 3.0's `nullable` as JSON Schema, so that ajv reads the document as the spec means it. */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const { nullable, ...rest } = node as Schema;
  const converted = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, toJsonSchema(v)]));
  return nullable === true ? { anyOf: [converted, { type: 'null' }] } : converted;
}

export class ContractChecker {
  private readonly ajv = new Ajv({ allErrors: true, strict: false });
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly templates: Array<{ template: string; pattern: RegExp }>;
  private readonly components: unknown;

  constructor(private readonly document: OpenApiDocument) {
    addFormats(this.ajv);
    this.components = toJsonSchema(document.components ?? {});
    // Fewest parameters first, so a literal segment wins over a template.
    this.templates = Object.keys(document.paths)
      .sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0))
      .map((template) => ({
        template,
        pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}$`),
      }));
  }

  /** Throws, naming the operation, status and ajv errors, when the response breaks the contract. */
  check(res: ObservedResponse): void {
    // As the router sees it: dot segments resolved, a trailing slash ignored.
    const path = new URL(res.url, 'http://service').pathname.replace(/(.)\/+$/, '$1');
    const found = this.templates.find((t) => t.pattern.test(path));
    if (!found) return;
    const method = res.method.toLowerCase() === 'head' ? 'get' : res.method.toLowerCase();
    const operation = this.document.paths[found.template][method];
    const name = `${res.method.toUpperCase()} ${found.template}`;
    if (!operation) {
      // The router's answer to a method the path does not have.
      if (res.status === 404 || res.status === 405) return;
      this.fail(name, res, 'the operation is not in the OpenAPI document');
    }
    const response = operation.responses[String(res.status)];
    if (!response) {
      this.fail(name, res, `status ${res.status} is not documented (documented: ${Object.keys(operation.responses)})`);
    }
    const empty = res.body.length === 0;
    if (!response.content) {
      if (!empty) this.fail(name, res, 'a body was sent where the document says there is none');
      return;
    }
    if (empty && res.method.toUpperCase() === 'HEAD') return;
    const type = res.contentType.split(';')[0].trim().toLowerCase();
    const media = response.content[type];
    if (!media) {
      this.fail(name, res, `content type "${type}" is not documented (documented: ${Object.keys(response.content)})`);
    }
    if (!media.schema) return;
    const validate = this.validator(found.template, method, res.status, type, media.schema);
    let body: unknown = res.body;
    if (type.endsWith('json')) {
      try {
        body = JSON.parse(res.body);
      } catch {
        this.fail(name, res, 'the body is not JSON');
      }
    }
    if (!validate(body)) {
      this.fail(
        name,
        res,
        `the body does not match the schema:\n${this.ajv.errorsText(validate.errors, { separator: '\n' })}`,
      );
    }
  }

  private validator(template: string, method: string, status: number, type: string, schema: Schema) {
    const key = `${method} ${template} ${status} ${type}`;
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile({ ...(toJsonSchema(schema) as Schema), components: this.components });
      this.validators.set(key, validate);
    }
    return validate;
  }

  private fail(operation: string, res: ObservedResponse, why: string): never {
    throw new Error(
      `OpenAPI contract broken by ${operation} → ${res.status} (${res.method} ${res.url}): ${why}\n` +
        `body: ${res.body.slice(0, 500)}`,
    );
  }
}
