// kioskctl with kioskd down (read-only database, clear message), a client without
// permission on the socket, and enrolment against a loopback hub endpoint.
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { runCtl, startCtlRig } from './ctl-rig.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

t.test('daemon down: says so, status/slots from the database, others refuse', async (t) => {
  const rig = await startCtlRig(t);
  rig.stock(2);
  await rig.daemon.stop();
  const s = await rig.ctl(['status']);
  t.equal(s.code, 3, 'status exits 3 when kioskd is down');
  t.match(s.stderr, `kioskd is not running (no socket at ${rig.socket})`);
  t.match(s.stdout, /kioskd:\s+not running/);
  t.match(s.stdout, /slots:.*1 ready/);
  t.match(s.stdout, /slots:.*3 empty/);
  const sl = await rig.ctl(['slots']);
  t.equal(sl.code, 0);
  t.match(sl.stdout, /^2\s+ready\s+disk-2/m);
  const ej = await rig.ctl(['slot', 'eject', '2', '--yes']);
  t.equal(ej.code, 1);
  t.match(
    ej.stderr,
    /kioskd is not running \(no socket at .*\)\nCommands that work without kioskd: status, slots/,
  );
  const j = await runCtl(['--json', 'test', 'motors'], rig.env);
  t.match(JSON.parse(j.stdout), { error: { code: 'EDAEMONDOWN' } });
  // config set records its audit event straight into the outbox while kioskd is down.
  t.equal((await rig.ctl(['config', 'set', 'logLevel', 'warn'])).code, 0);
  const Database = (await import('better-sqlite3')).default;
  const db = new Database(path.join(rig.dir, 'data', 'kioskd.sqlite'), { readonly: true });
  t.teardown(() => db.close());
  const ev = db
    .prepare("SELECT data FROM outbox WHERE type = 'TechnicianAction' ORDER BY seq DESC")
    .get() as { data: string };
  t.match(JSON.parse(ev.data), {
    actor: 'tech-alice',
    action: 'config.set',
    args: { key: 'logLevel', value: 'warn' },
  });
});

t.test('a client without permission on the socket gets a clear refusal', async (t) => {
  const rig = await startCtlRig(t);
  t.equal(statSync(rig.socket).mode & 0o777, 0o660, 'socket is 0660');
  // The socket's directory is reachable; the socket itself is root's and not for "nobody".
  chmodSync(path.dirname(path.dirname(rig.socket)), 0o755);
  chmodSync(path.dirname(rig.socket), 0o755);
  chmodSync(rig.configFile, 0o644);
  const r = spawnSync(
    'setpriv',
    [
      '--reuid=nobody',
      '--regid=nogroup',
      '--clear-groups',
      process.execPath,
      path.join(root, 'bin/kioskctl.js'),
      '--socket',
      rig.socket,
      'slots',
    ],
    { encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH, HOME: '/tmp' } },
  );
  t.equal(r.status, 1, r.stderr);
  t.match(
    r.stderr,
    `permission denied on ${rig.socket}: run kioskctl as root (sudo) or as a member of the kiosk-tech group`,
  );
  t.equal(rig.sim.record.length, 0, 'nothing moved');
});

t.test('enrol writes the secret and the hub key with mode 0600 (kioskd not needed)', async (t) => {
  const rig = await startCtlRig(t);
  await rig.daemon.stop();
  let body: unknown;
  const hub = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c) => {
      data += c;
    });
    req.on('end', () => {
      body = JSON.parse(data);
      res.setHeader('content-type', 'application/json');
      if ((body as { token: string }).token === 'busy') {
        // The hub's own error body and Retry-After, as cloud-lite answers a throttled address.
        res.statusCode = 429;
        res.setHeader('retry-after', '120');
        res.end(
          JSON.stringify({
            error: { code: 'TOO_MANY_ATTEMPTS', message: 'too many failed enrolments' },
          }),
        );
        return;
      }
      if (req.url !== '/api/kiosks/enrol' || (body as { token: string }).token !== 'tok-1') {
        res.statusCode = 403;
        res.end(JSON.stringify({ message: 'token not valid' }));
        return;
      }
      res.end(JSON.stringify({ kioskId: 'kiosk-t1', secret: 's3cret', hubPublicKey: 'PEM-KEY' }));
    });
  });
  await new Promise<void>((r) => hub.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => hub.close());
  const port = (hub.address() as { port: number }).port;
  // Credentials as files, as on the SD image.
  const cfg = JSON.parse(readFileSync(rig.configFile, 'utf8'));
  cfg.hub = {
    ...cfg.hub,
    secret: undefined,
    publicKeyPem: undefined,
    secretFile: 'cred/secret',
    publicKeyFile: 'cred/hub.pem',
  };
  (await import('node:fs')).writeFileSync(rig.configFile, JSON.stringify(cfg));
  const bad = await rig.ctl(['enrol', 'wrong', '--hub', `http://127.0.0.1:${port}`]);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /the hub refused the enrolment of kiosk-t1 \(HTTP 403: token not valid\)/);
  const busy = await rig.ctl(['enrol', 'busy', '--hub', `http://127.0.0.1:${port}`]);
  t.equal(busy.code, 1);
  t.match(
    busy.stderr,
    /\(HTTP 429: too many failed enrolments\); wait 120 s and try again with the same token/,
    "a throttled enrolment says to wait, with the hub's message",
  );
  const ok = await rig.ctl(['enrol', 'tok-1', '--hub', `ws://127.0.0.1:${port}/kiosk`]);
  t.equal(ok.code, 0, ok.stderr);
  t.same(body, { kioskId: 'kiosk-t1', token: 'tok-1' });
  const dir = path.dirname(rig.configFile);
  t.equal(readFileSync(path.join(dir, 'cred/secret'), 'utf8'), 's3cret\n');
  t.equal(statSync(path.join(dir, 'cred/secret')).mode & 0o777, 0o600);
  t.equal(statSync(path.join(dir, 'cred/hub.pem')).mode & 0o777, 0o600);
});
