import { DemoError } from './wait.js';

// biome-ignore lint/suspicious/noExplicitAny: API answers are arbitrary JSON, checked by callers
export type Json = any;

export interface ApiResponse {
  status: number;
  body: Json;
}

/**
 * A small client of the hub's HTTP API (fetch, JSON). `call` returns status and body
 * whatever the status; `ok` throws DemoError EAPI naming the request and the hub's error
 * code and message when the status is not the expected one. Each request times out after
 * `timeoutMs` (default 15 s).
 */
export class HubApi {
  constructor(
    readonly baseUrl: string,
    private readonly opts: {
      timeoutMs?: number;
      /** HTTP client (default global fetch); e.g. one trusting a private CA. */
      fetch?: typeof fetch;
    } = {},
  ) {}

  async call(
    method: string,
    url: string,
    body?: unknown,
    opts: { token?: string; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await (this.opts.fetch ?? fetch)(this.baseUrl + url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.opts.timeoutMs ?? 15_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: res.status, body: parsed };
  }

  /** Like call(), but throws unless the status is one of `expect` (default 200/201). */
  async ok(
    method: string,
    url: string,
    body?: unknown,
    opts: { token?: string; headers?: Record<string, string>; expect?: number[] } = {},
  ): Promise<Json> {
    const r = await this.call(method, url, body, opts);
    if (!(opts.expect ?? [200, 201]).includes(r.status)) {
      const e = r.body?.error;
      const why = e ? `${e.code}: ${e.message}` : JSON.stringify(r.body).slice(0, 300);
      throw new DemoError('EAPI', `${method} ${url} answered ${r.status} (${why})`);
    }
    return r.body;
  }
}
