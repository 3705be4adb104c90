/**
 * `cloud-lite diag <kiosk>`: asks a kiosk, through the running hub's HTTP API, for its
 * diagnostics bundle (default) or its last log lines (`--logs N [--level L]`), waits for the
 * upload and writes it to a file (`-o`, default `<kiosk>-<id>.tar.gz` / `.log`). Needs an
 * operator's credential: `--token-file FILE` or `CLOUD_LITE_TOKEN` (a session token or the
 * admin token), and the hub's URL: `--hub URL` or `CLOUD_LITE_URL` (default http://127.0.0.1:8080).
 * The request and the download are audited by the hub. Exit 0 with the file, 1 with a reason.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';

type Io = { env: NodeJS.ProcessEnv; out: (s: string) => void; err: (s: string) => void };

export async function runDiagCommand(
  argv: string[],
  io: Io,
  opts: { fetch?: typeof fetch; pollMs?: number } = {},
): Promise<number> {
  const program = new Command('cloud-lite diag')
    .description('ask a kiosk for its diagnostics (through the running hub) and save them')
    .argument('<kiosk>', 'the kiosk id')
    .option('--logs <n>', 'its last N log lines instead of the bundle')
    .option('--level <level>', 'with --logs: the lowest level (trace debug info warn error fatal)')
    .option('-o, --output <file>', 'where to write it')
    .option('--hub <url>', 'the hub (default CLOUD_LITE_URL or http://127.0.0.1:8080)')
    .option('--token-file <file>', 'file holding an operator token (default CLOUD_LITE_TOKEN)')
    .option('--wait <seconds>', 'how long to wait for the upload', '900')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    return (err as { exitCode?: number }).exitCode ?? 1;
  }
  const kioskId = program.args[0]!;
  const o = program.opts<{
    logs?: string;
    level?: string;
    output?: string;
    hub?: string;
    tokenFile?: string;
    wait: string;
  }>();
  const fail = (msg: string) => {
    io.err(`cloud-lite diag: ${msg}\n`);
    return 1;
  };
  const token = o.tokenFile ? readFileSync(o.tokenFile, 'utf8').trim() : io.env.CLOUD_LITE_TOKEN;
  if (!token) return fail('needs an operator token: --token-file FILE or CLOUD_LITE_TOKEN');
  const base = (o.hub ?? io.env.CLOUD_LITE_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const f = opts.fetch ?? fetch;
  const headers = { authorization: `Bearer ${token}` };
  const api = async (method: string, url: string, body?: unknown) => {
    const res = await f(base + url, {
      method,
      headers: body ? { ...headers, 'content-type': 'application/json' } : headers,
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const json = (await res.json().catch(() => ({}))) as {
      diagnostics?: { id: string; state: string; failure: string | null; kind: string };
      error?: { code: string; message: string };
    };
    if (!res.ok) throw new Error(`${json.error?.code ?? res.status}: ${json.error?.message ?? ''}`);
    return json.diagnostics!;
  };
  const ask = o.logs
    ? { kind: 'logs', lines: Number(o.logs), ...(o.level ? { level: o.level } : {}) }
    : { kind: 'bundle' };
  try {
    let d = await api(
      'POST',
      `/api/operator/kiosks/${encodeURIComponent(kioskId)}/diagnostics`,
      ask,
    );
    io.err(`asked ${kioskId} (${d.id}); waiting for the upload\n`);
    const until = Date.now() + Number(o.wait) * 1000;
    while (d.state === 'requested') {
      if (Date.now() > until) return fail(`no upload within ${o.wait} s (request ${d.id})`);
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 1000));
      d = await api('GET', `/api/operator/diagnostics/${d.id}`);
    }
    if (d.state !== 'uploaded') return fail(`the kiosk did not deliver: ${d.failure}`);
    const res = await f(`${base}/api/operator/diagnostics/${d.id}/download`, { headers });
    if (!res.ok) return fail(`download refused: ${res.status}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    const out = path.resolve(
      o.output ?? `${kioskId}-${d.id}.${d.kind === 'bundle' ? 'tar.gz' : 'log'}`,
    );
    writeFileSync(out, bytes);
    io.out(
      `${JSON.stringify({ file: out, bytes: bytes.length, sha256: res.headers.get('x-content-sha256') })}\n`,
    );
    return 0;
  } catch (err) {
    return fail((err as Error).message);
  }
}
