// Checks real answers of the hub against the committed API document (docs/openapi.json; lint
// checks it is current): the operation the request matches must document the answer's status,
// and a JSON body must validate against that status's schema (ajv, JSON Schema 2020-12 as
// OpenAPI 3.1 uses). The rental tests' `api()` runs every answer through it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}
// biome-ignore lint/suspicious/noExplicitAny: the document is plain JSON
export type OpenApiDoc = { paths: Record<string, Record<string, Operation>>; [k: string]: any };

export function loadApiDocument(): OpenApiDoc {
  return JSON.parse(readFileSync(path.join(ROOT, 'docs/openapi.json'), 'utf8')) as OpenApiDoc;
}

const pointer = (...parts: string[]) =>
  parts.map((p) => encodeURIComponent(p.replaceAll('~', '~0').replaceAll('/', '~1'))).join('/');

/** Validates answers against one API document. */
export class ApiConformance {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  private readonly templates: { template: string; re: RegExp; params: number }[];
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(readonly doc: OpenApiDoc = loadApiDocument()) {
    this.ajv.addSchema({ ...doc, $id: 'openapi.json' });
    this.templates = Object.keys(doc.paths)
      .map((template) => ({
        template,
        re: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
        params: (template.match(/\{/g) ?? []).length,
      }))
      // A literal path wins over a template that also matches (/api/kiosks/enrol).
      .sort((a, b) => a.params - b.params);
  }

  /** The document's path template a request path matches, if any. */
  match(urlPath: string): string | undefined {
    const p = urlPath.split('?')[0]!;
    return this.templates.find((t) => t.re.test(p))?.template;
  }

  /** A validator for a JSON pointer into the document. */
  validator(ref: string): ValidateFunction {
    let v = this.compiled.get(ref);
    if (!v) {
      v = this.ajv.compile({ $ref: `openapi.json#/${ref}` });
      this.compiled.set(ref, v);
    }
    return v;
  }

  /**
   * Why an answer does not conform, or undefined when it does. Requests to paths the document
   * does not have (unknown routes, the web pages) are checked only for the error shape.
   */
  check(
    method: string,
    url: string,
    status: number,
    contentType: string | null,
    body: unknown,
  ): string | undefined {
    const m = method.toLowerCase();
    const template = this.match(url);
    const op = template ? this.doc.paths[template]?.[m] : undefined;
    const what = `${method} ${url} -> ${status}`;
    const json = (contentType ?? '').startsWith('application/json');
    if (!op) {
      if (status < 400 || !json) return undefined;
      const v = this.validator(pointer('components', 'schemas', 'ErrorBody'));
      return v(body)
        ? undefined
        : `${what}: ${this.ajv.errorsText(v.errors)} in ${JSON.stringify(body)}`;
    }
    const res = op.responses[String(status)];
    if (!res) return `${what}: status ${status} is not documented for ${method} ${template}`;
    if (status === 204 || status === 304 || m === 'head') return undefined;
    const media = Object.keys(res.content ?? {});
    const type = (contentType ?? '').split(';')[0]!.trim();
    if (!media.includes(type))
      return `${what}: content type ${type} is not documented (${media.join(', ')})`;
    if (type !== 'application/json') return undefined;
    const v = this.validator(
      pointer('paths', template!, m, 'responses', String(status), 'content', type, 'schema'),
    );
    return v(body)
      ? undefined
      : `${what}: ${this.ajv.errorsText(v.errors)} in ${JSON.stringify(body).slice(0, 2000)}`;
  }
}
