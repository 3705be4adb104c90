// deploy/caddy in front of a real hub: Caddy (Debian's package) with its internal CA on
// loopback terminates TLS and imports deploy/caddy/cloud-lite-site.caddy as production does;
// the hub trusts it as its proxy (trustProxy). Through it:
// - three real kioskd processes connect over wss:// trusting that CA (hub.caFile), and the
//   whole scripted demo runs: the renter and operator API over https, Dispense and events
//   over wss, and kiosk-2 downloading the reserved content from the hub over https;
// - the session cookie is Secure; the hub records the renter's address (Caddy's
//   X-Forwarded-For; a forged header is not believed); the login throttle counts per
//   renter address, not for the proxy as a whole.
// Renters connect from 127.0.0.2 and 127.0.0.3 (loopback too) so their addresses differ
// from the proxy's 127.0.0.1.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { Agent, fetch as undiciFetch } from 'undici';
import { HubApi } from '../../scripts/lib/api-client.js';
import { DEMO_PASSWORDS, type Fleet, startFleet } from '../../scripts/lib/fleet.js';
import { runScripted } from '../../scripts/lib/scripted.js';
import { haveTools } from '../helpers/tools.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SITE = path.join(ROOT, 'deploy/caddy/cloud-lite-site.caddy');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A fetch through Caddy that trusts its CA, from `localAddress`. */
function fetchFrom(ca: string, localAddress: string): typeof fetch {
  const dispatcher = new Agent({ localAddress, connect: { ca } });
  return ((input: Parameters<typeof fetch>[0], init?: RequestInit) =>
    undiciFetch(
      input as never,
      { ...(init as object), dispatcher } as never,
    )) as unknown as typeof fetch;
}

interface Caddy {
  url: string;
  port: number;
  caFile: string;
  ca: string;
  log: () => string;
}

/** Caddy on 127.0.0.1:<free port> with the production site snippet in front of `upstream`. */
async function startCaddy(t: Test, dir: string, upstream: string): Promise<Caddy> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const data = path.join(dir, `caddy-${attempt}`);
    const file = path.join(dir, `Caddyfile-${attempt}`);
    writeFileSync(
      file,
      `{
	admin off
	auto_https disable_redirects
	skip_install_trust
	storage file_system ${data}
	https_port ${port}
}

https://127.0.0.1:${port} {
	bind 127.0.0.1
	tls internal
	import ${SITE}
}
`,
    );
    const logFile = path.join(dir, `caddy-${attempt}.log`);
    const log = createWriteStream(logFile);
    const proc: ChildProcess = spawn('caddy', ['run', '--adapter', 'caddyfile', '--config', file], {
      env: {
        ...process.env,
        CLOUD_LITE_UPSTREAM: upstream,
        HOME: dir,
        XDG_DATA_HOME: path.join(dir, 'xdg-data'),
        XDG_CONFIG_HOME: path.join(dir, 'xdg-config'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout?.pipe(log);
    proc.stderr?.pipe(log);
    const exited = new Promise((r) => proc.once('exit', r));
    t.teardown(async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        await exited;
      }
    });
    const caFile = path.join(data, 'pki/authorities/local/root.crt');
    const deadline = Date.now() + 30_000;
    let ready = false;
    while (Date.now() < deadline && proc.exitCode === null) {
      if (existsSync(caFile)) {
        const ca = readFileSync(caFile, 'utf8');
        ready = await new Promise<boolean>((resolve) => {
          const s = tlsConnect({ host: '127.0.0.1', port, ca }, () => {
            s.end();
            resolve(true);
          });
          s.once('error', () => resolve(false));
        });
        if (ready) break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const text = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
    if (ready) {
      return {
        url: `https://127.0.0.1:${port}`,
        port,
        caFile,
        ca: readFileSync(caFile, 'utf8'),
        log: text,
      };
    }
    proc.kill('SIGKILL');
    if (attempt >= 3)
      throw new Error(`caddy did not serve TLS on ${port}:\n${text().slice(-3000)}`);
  }
}

t.test('the hub behind Caddy: kioskd over wss, the renter API over https', async (t) => {
  if (!haveTools(t, ['caddy', 'rsync'], 'the TLS proxy test')) return;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'caddy-hub-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  let caddy: Caddy | undefined;
  const fleet: Fleet = await startFleet({
    dir: path.join(dir, 'fleet'),
    kiosks: 3,
    backing: 'directory',
    // Stock the hub can sell at once: this test is about the TLS path, not the disks' files.
    readyStock: 'registered',
    hub: {
      config: {
        trustProxy: ['127.0.0.1'],
        // validateConfig fills in the other rental keys. The scripted renter reserves while
        // the disk it rented first is still out (as the scripted demo allows).
        rental: {
          loginMaxFailuresPerIp: 3,
          loginMaxFailuresPerAccount: 100,
          maxOpenRentals: 2,
        } as never,
      },
    },
    kioskLink: async (hub) => {
      caddy = await startCaddy(t, dir, hub.baseUrl.replace(/^http:\/\//, ''));
      return { wsUrl: `wss://127.0.0.1:${caddy.port}/kiosk`, caFile: caddy.caFile };
    },
  });
  t.teardown(() => fleet.stop());
  const proxy = caddy!;

  t.test('kiosks connected over wss; the scripted demo passes through Caddy', async (t) => {
    const events = fleet.kiosks.map((k) => readFileSync(k.kiosk.logFile, 'utf8'));
    for (const [i, log] of events.entries())
      t.match(
        log,
        `wss://127.0.0.1:${proxy.port}/kiosk`,
        `kiosk-${i + 1} dialled wss through Caddy`,
      );
    const api = new HubApi(proxy.url, { fetch: fetchFrom(proxy.ca, '127.0.0.2') });
    const lines: string[] = [];
    const r = await runScripted(fleet, { api, log: (l) => lines.push(l) });
    t.ok(r.ok, `scripted run through Caddy\n${lines.join('\n')}`);
    t.equal(r.steps.length, 12);
    t.match(
      lines.join('\n'),
      'reserve: kiosk-2 prepares a disk',
      'kiosk-2 fetched the reserved content from the hub over https',
    );
  });

  t.test('Secure cookie, the renter address, no forged address', async (t) => {
    const f = fetchFrom(proxy.ca, '127.0.0.2');
    const res = await f(`${proxy.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.7' },
      body: JSON.stringify({ login: fleet.renter.email, password: DEMO_PASSWORDS.renter }),
    });
    t.equal(res.status, 200);
    const cookie = res.headers.get('set-cookie') ?? '';
    t.match(
      cookie,
      /^dk_session=[^;]+;.*; Secure/,
      'the session cookie is Secure (https seen through the proxy)',
    );
    t.match(
      res.headers.get('strict-transport-security') ?? '',
      /max-age=\d+/,
      'HSTS from the site config',
    );
    const { token } = (await res.json()) as { token: string };
    t.ok(token);
    const audit = await fleet.hub.server.store.transaction((tx) => tx.audit.list(1000));
    // Newest first: the session this login opened.
    const opened = audit.find((a) => a.action === 'session.opened');
    t.equal(opened?.ip, '127.0.0.2', "the hub recorded the renter's address, not the proxy's");
    t.notOk(
      audit.some((a) => a.ip === '203.0.113.7'),
      'an X-Forwarded-For sent by the renter is not believed',
    );
    // Straight to the hub (plain http, not through the proxy): no Secure cookie.
    const direct = await fetch(`${fleet.hub.baseUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: fleet.renter.email, password: DEMO_PASSWORDS.renter }),
    });
    t.notMatch(direct.headers.get('set-cookie') ?? '', /Secure/, 'plain http: no Secure');
  });

  t.test('the login throttle counts per renter address, not per proxy', async (t) => {
    const attacker = fetchFrom(proxy.ca, '127.0.0.4');
    const login = (f: typeof fetch, body: unknown) =>
      f(`${proxy.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    for (let i = 0; i < 3; i++) {
      const r = await login(attacker, {
        login: `nobody-${i}@demo.test`,
        password: 'wrong-password',
      });
      t.equal(r.status, 401, `failed login ${i + 1} from 127.0.0.4`);
    }
    const blocked = await login(attacker, {
      login: fleet.renter.email,
      password: DEMO_PASSWORDS.renter,
    });
    t.equal(blocked.status, 429, '127.0.0.4 is throttled after 3 failures');
    t.match(await blocked.json(), { error: { code: 'TOO_MANY_ATTEMPTS' } });
    const other = await login(fetchFrom(proxy.ca, '127.0.0.3'), {
      login: fleet.renter.email,
      password: DEMO_PASSWORDS.renter,
    });
    t.equal(other.status, 200, 'another renter behind the same proxy still logs in');
  });
});
