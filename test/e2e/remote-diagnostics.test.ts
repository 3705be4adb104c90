// Remote diagnostics end to end over real sockets (issue 21 item 3): a real kioskd process
// (bin/kioskd.js, simulated hardware) enrolled with a real hub; an operator asks for its
// diagnostics bundle and for its error log lines over the HTTP API; the kiosk uploads them with
// its own credentials; the operator downloads them. The kiosk's log holds, planted before it
// starts, a line with the kiosk's secret and the hub's signing key (as a careless log line
// would): neither may reach the hub. Requests and downloads are audited; bad uploads refused.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import t from 'tap';
import { runDiagCommand } from '../../cloud-lite/registry/diag-cli.js';
import { startTestHub, type TestHub, waitUntil } from '../cloud-lite/fixtures/test-hub.js';
import { tempDir } from '../kiosk/daemon/harness.js';

const ROOT = path.join(import.meta.dirname, '../..');

async function diagnosticsDone(hub: TestHub, id: string) {
  let last: { state: string; failure: string | null } = { state: 'requested', failure: null };
  await waitUntil(
    `diagnostics ${id} uploaded`,
    async () => {
      last = (await hub.api('GET', `/api/operator/diagnostics/${id}`)).body.diagnostics;
      return last.state !== 'requested';
    },
    60_000,
  );
  return last;
}

async function download(hub: TestHub, id: string) {
  const res = await fetch(`${hub.baseUrl}/api/operator/diagnostics/${id}/download`, {
    headers: { authorization: 'Bearer test-admin-token-0123456789' },
  });
  return { res, bytes: Buffer.from(await res.arrayBuffer()) };
}

t.test(
  'diagnostics: requested, uploaded by a real kioskd, downloaded, no secret in it',
  async (t) => {
    const hub = await startTestHub(t);
    const kioskId = 'kiosk-diag-1';
    const { secret } = await hub.enrolKiosk(kioskId);
    const publicKeyPem = String(
      (await hub.api('GET', '/api/hub/public-key', undefined, null)).body,
    );
    const signingKeyPem = readFileSync(hub.config.signingKeyPath, 'utf8');
    t.match(signingKeyPem, /PRIVATE KEY/);
    const keyBody = signingKeyPem.split('\n')[1]!; // a line of the key's base64

    const dir = tempDir(t, 'kioskd-diag-');
    const dataDir = path.join(dir, 'data');
    mkdirSync(dataDir, { recursive: true });
    // A careless line from the past, holding both secrets, and an error line to ask for.
    writeFileSync(
      path.join(dataDir, 'kioskd.log'),
      `${JSON.stringify({ level: 30, msg: `connecting with secret ${secret}` })}\n${JSON.stringify({ level: 50, msg: `key was ${signingKeyPem}` })}\n${JSON.stringify({ level: 50, msg: 'slot 2 jammed' })}\n`,
    );
    const configFile = path.join(dir, 'kioskd.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        kioskId,
        dataDir,
        hub: {
          url: hub.wsUrl,
          secret,
          publicKeyPem,
          backoff: { baseMs: 50, capMs: 500, stableSeconds: 1 },
        },
        slots: { count: 2 },
        hardware: {
          motorBoard: { driver: 'sim', ejectMs: 30, retractMs: 30 },
          gpio: { driver: 'sim', debounceMs: 1 },
          usb: { driver: 'sim', enumerateMs: 1 },
          drives: { driver: 'sim', pollIntervalMs: 100 },
          storage: { driver: 'sim', mountRoot: path.join(dir, 'mnt') },
        },
        maintenanceSocket: path.join(dir, 'kioskd.sock'),
        logLevel: 'info',
      }),
    );
    const outFd = openSync(path.join(dir, 'stdout'), 'w');
    const env = { ...process.env };
    delete env.JOURNAL_STREAM;
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'bin/kioskd.js'), '--config', configFile],
      {
        env,
        stdio: ['ignore', outFd, outFd],
      },
    );
    closeSync(outFd);
    const exited = new Promise((r) => child.once('exit', r));
    t.teardown(async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    });
    await waitUntil('kioskd connected', () => hub.server.hub.isConnected(kioskId), 60_000);

    // --- the bundle -----------------------------------------------------------------------
    const asked = await hub.api('POST', `/api/operator/kiosks/${kioskId}/diagnostics`, {
      kind: 'bundle',
    });
    t.equal(asked.status, 202, JSON.stringify(asked.body));
    const id = asked.body.diagnostics.id as string;
    t.match(asked.body.diagnostics, { kioskId, kind: 'bundle', state: 'requested' });
    const done = await diagnosticsDone(hub, id);
    t.equal(done.state, 'uploaded', `failure: ${done.failure}`);
    const cmd = await hub.api('GET', `/api/operator/commands/${asked.body.diagnostics.commandId}`);
    t.equal(cmd.body.command.state, 'completed', 'the upload settled the command');

    const { res, bytes } = await download(hub, id);
    t.equal(res.status, 200);
    t.match(res.headers.get('content-type'), /application\/gzip/);
    const sha = createHash('sha256').update(bytes).digest('hex');
    t.equal(res.headers.get('x-content-sha256'), sha, 'the sha256 the hub checked');
    const tarFile = path.join(dir, 'bundle.tar.gz');
    writeFileSync(tarFile, bytes);
    const extract = path.join(dir, 'extract');
    mkdirSync(extract);
    t.equal(spawnSync('tar', ['-xzf', tarFile, '-C', extract]).status, 0, 'a valid tar.gz');
    const files = readdirSync(path.join(extract, 'kioskctl-diag')).sort();
    t.same(files, [
      'config.json',
      'database.json',
      'disks.json',
      'kioskd.log',
      'slots.json',
      'status.json',
      'versions.json',
    ]);
    const read = (f: string) => readFileSync(path.join(extract, 'kioskctl-diag', f), 'utf8');
    t.equal(JSON.parse(read('config.json')).hub.secret, '<redacted>');
    t.equal(JSON.parse(read('status.json')).kioskId ?? kioskId, kioskId);
    t.notOk(JSON.parse(read('status.json')).error, 'kioskd answered status in-process');
    t.ok(Array.isArray(JSON.parse(read('slots.json')).slots), 'slots listed');
    t.match(read('kioskd.log'), 'slot 2 jammed', 'the log is there');
    t.match(read('kioskd.log'), 'connecting with secret <redacted>', 'the leaked secret scrubbed');
    t.match(read('versions.json'), /"kioskd"/);
    // The whole archive, decompressed, holds neither secret.
    const tarText = gunzipSync(bytes).toString('latin1');
    t.notOk(tarText.includes(secret), "the kiosk's secret is nowhere in the bundle");
    t.notOk(tarText.includes(keyBody), "the hub's signing key is nowhere in the bundle");
    t.notOk(/PRIVATE KEY/.test(tarText), 'no private key block');
    t.notOk(tarText.includes(publicKeyPem.split('\n')[1]!), 'nor the configured hub key');

    // --- log lines at a level ---------------------------------------------------------------
    const logsAsked = await hub.api('POST', `/api/operator/kiosks/${kioskId}/diagnostics`, {
      kind: 'logs',
      lines: 5,
      level: 'error',
    });
    t.equal(logsAsked.status, 202);
    const logsId = logsAsked.body.diagnostics.id as string;
    t.equal((await diagnosticsDone(hub, logsId)).state, 'uploaded');
    const logs = await download(hub, logsId);
    const lines = logs.bytes.toString('utf8').split('\n').filter(Boolean);
    t.ok(lines.length >= 2 && lines.length <= 5, `at most 5 lines: ${lines.length}`);
    t.ok(
      lines.every((l) => JSON.parse(l).level >= 50),
      'error lines only',
    );
    t.ok(lines.some((l) => l.includes('slot 2 jammed')));
    t.notOk(logs.bytes.toString('utf8').includes(keyBody), 'the key scrubbed from the log lines');
    t.notOk(logs.bytes.toString('utf8').includes(secret));

    // --- audited ----------------------------------------------------------------------------
    const entries = await hub.server.store.transaction((tx) => tx.audit.list(100));
    const actions = entries.filter((e) => e.action.startsWith('diagnostics.'));
    t.same(actions.map((e) => e.action).sort(), [
      'diagnostics.download',
      'diagnostics.download',
      'diagnostics.request',
      'diagnostics.request',
      'diagnostics.upload',
      'diagnostics.upload',
    ]);
    t.ok(
      actions
        .filter((e) => e.action !== 'diagnostics.upload')
        .every((e) => e.actor === 'admin-token'),
      'who asked and who downloaded',
    );

    // --- uploads refused ----------------------------------------------------------------------
    const basic = (id: string, s: string) =>
      `Basic ${Buffer.from(`${id}:${s}`).toString('base64')}`;
    const upload = (reqId: string, body: Buffer, h: Record<string, string>) =>
      fetch(`${hub.baseUrl}/api/kiosk/diagnostics/${reqId}`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', ...h },
        body,
      });
    const body = Buffer.from('hello');
    const good = createHash('sha256').update(body).digest('hex');
    t.equal((await upload(id, body, { 'x-content-sha256': good })).status, 401, 'no credentials');
    t.equal(
      (
        await upload(id, body, {
          'x-content-sha256': good,
          authorization: 'Bearer test-admin-token-0123456789',
        })
      ).status,
      403,
      'an operator does not upload',
    );
    const kiosk = { authorization: basic(kioskId, secret) };
    t.equal(
      (await upload(id, body, { ...kiosk, 'x-content-sha256': good })).status,
      409,
      'once per request',
    );
    const third = await hub.api('POST', `/api/operator/kiosks/${kioskId}/diagnostics`, {
      kind: 'logs',
    });
    const thirdId = third.body.diagnostics.id as string;
    // The kiosk uploads it by itself soon; refusals first would race it, so use an unknown id too.
    const wrong = await upload('diag-unknown', body, { ...kiosk, 'x-content-sha256': good });
    t.equal(wrong.status, 404, "an id that is not this kiosk's");
    const bad = await upload(thirdId, body, { ...kiosk, 'x-content-sha256': 'ab'.repeat(32) });
    t.equal(bad.status, 400, 'a body that does not hash to its header');
    t.equal(((await bad.json()) as { error: { code: string } }).error.code, 'DIGEST_MISMATCH');
    t.equal((await diagnosticsDone(hub, thirdId)).state, 'uploaded', 'the kiosk still delivers it');
    const refusedDownload = await hub.api('GET', '/api/operator/diagnostics/diag-unknown/download');
    t.equal(refusedDownload.status, 404);

    // --- the CLI: cloud-lite diag <kiosk> --logs 3, through the running hub -------------------
    const out: string[] = [];
    const errs: string[] = [];
    const file = path.join(dir, 'cli.log');
    const code = await runDiagCommand(
      [kioskId, '--logs', '3', '--level', 'error', '--hub', hub.baseUrl, '-o', file],
      {
        env: { CLOUD_LITE_TOKEN: 'test-admin-token-0123456789' },
        out: (s) => out.push(s),
        err: (s) => errs.push(s),
      },
      { pollMs: 50 },
    );
    t.equal(code, 0, errs.join(''));
    const cliLines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    t.ok(cliLines.length >= 1 && cliLines.length <= 3, 'at most 3 lines');
    t.ok(cliLines.every((l) => JSON.parse(l).level >= 50));
    t.match(JSON.parse(out.join('')), { file, sha256: /^[0-9a-f]{64}$/ });
    const noToken = await runDiagCommand([kioskId, '--hub', hub.baseUrl], {
      env: {},
      out: () => {},
      err: (s) => errs.push(s),
    });
    t.equal(noToken, 1);
    t.match(errs.at(-1), /needs an operator token/);
  },
);
