import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readFileSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import t from 'tap';
import {
  createDaemonLogger,
  isJournalStream,
  JOURNAL_PRIORITY,
  journalDestination,
  LOG_FILE_ROTATE_BYTES,
} from '../../kiosk/log.js';
import { generateSigningKeyPair } from '../../protocol/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

import { logSource, tailLines } from '../../kiosk/diag/bundle.js';

async function tmp(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kiosk-log-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function until(cond: () => boolean, ms = 30_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

t.test(
  'without journald kioskd also logs to <dataDir>/kioskd.log, which kioskctl logs reads',
  async (t) => {
    const dir = await tmp(t);
    const log = createDaemonLogger({ kioskId: 'k-1', level: 'info', dataDir: dir, env: {} });
    log.info({ slot: 3 }, 'hello from the test');
    log.debug('below the level');
    const file = path.join(dir, 'kioskd.log');
    t.ok(await until(() => existsSync(file) && readFileSync(file, 'utf8').includes('hello')));
    const line = JSON.parse(tailLines(file, 1)[0]!);
    t.equal(line.kioskId, 'k-1');
    t.equal(line.slot, 3);
    t.equal(line.msg, 'hello from the test');
    t.notMatch(readFileSync(file, 'utf8'), /below the level/);
    const src = logSource(dir);
    // On a machine running systemd kioskctl prefers the journal; otherwise it finds the file.
    if (src?.kind === 'file') t.equal(src.file, file);
    else t.equal(src?.kind, 'journal');
  },
);

t.test('under journald (JOURNAL_STREAM) no log file is written', async (t) => {
  const dir = await tmp(t);
  const log = createDaemonLogger({
    kioskId: 'k-1',
    dataDir: dir,
    env: { JOURNAL_STREAM: '8:1234' },
  });
  log.info('to the journal');
  await new Promise((r) => setTimeout(r, 100));
  t.notOk(existsSync(path.join(dir, 'kioskd.log')));
});

t.test('a log file past the limit is rotated to kioskd.log.1 at start', async (t) => {
  const dir = await tmp(t);
  const file = path.join(dir, 'kioskd.log');
  writeFileSync(file, 'old\n');
  truncateSync(file, LOG_FILE_ROTATE_BYTES + 1);
  const log = createDaemonLogger({ kioskId: 'k-1', dataDir: dir, env: {} });
  log.info('fresh');
  t.ok(await until(() => existsSync(file) && readFileSync(file, 'utf8').includes('fresh')));
  t.ok(readFileSync(file, 'utf8').length < 1000, 'new file is small');
  t.ok(readFileSync(`${file}.1`, 'utf8').startsWith('old'), 'old one kept as .1');
});

t.test('journald priorities: each line carries its level as an sd-daemon <N> prefix', async (t) => {
  const lines: string[] = [];
  const log = pino(
    { level: 'trace' },
    journalDestination({ write: (l: string) => void lines.push(l) } as never),
  );
  log.trace('t');
  log.debug('d');
  log.info('i');
  log.warn('w');
  log.error('e');
  log.fatal('f');
  t.same(
    lines.map((l) => l.slice(0, 3)),
    ['<7>', '<7>', '<6>', '<4>', '<3>', '<2>'],
    'trace/debug 7, info 6, warn 4, error 3, fatal 2',
  );
  t.match(
    JSON.parse(lines[4]!.slice(3)),
    { level: 50, msg: 'e' },
    'the rest of the line is the JSON',
  );
});

t.test('the prefix only when stdout is the journal stream systemd named', async (t) => {
  const dir = await tmp(t);
  const fd = openSync(path.join(dir, 'out'), 'w');
  t.teardown(() => closeSync(fd));
  const st = fstatSync(fd);
  t.ok(isJournalStream({ JOURNAL_STREAM: `${st.dev}:${st.ino}` }, fd), 'dev:ino match');
  t.notOk(isJournalStream({ JOURNAL_STREAM: `${st.dev}:${st.ino + 1}` }, fd), 'another file');
  t.notOk(isJournalStream({}, fd), 'no JOURNAL_STREAM');
  t.notOk(isJournalStream({ JOURNAL_STREAM: 'garbage' }, fd));
});

t.test('kioskd under journald: `journalctl -p err` would show its errors only', async (t) => {
  const dir = await tmp(t);
  const closed = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
  const config = path.join(dir, 'kioskd.json');
  writeFileSync(
    config,
    JSON.stringify({
      kioskId: 'k-journal',
      dataDir: path.join(dir, 'data'),
      hub: {
        url: `ws://127.0.0.1:${closed}/kiosk`,
        secret: 'journal-test-secret-0123456789',
        publicKeyPem: generateSigningKeyPair().publicKeyPem,
        backoff: { baseMs: 50, capMs: 200 },
      },
      slots: { count: 2 },
      hardware: {
        // No board at this path: kioskd logs an error and keeps trying.
        motorBoard: { driver: 'real', path: path.join(dir, 'no-board') },
        gpio: { driver: 'sim' },
        usb: { driver: 'sim' },
        drives: { driver: 'sim' },
        storage: { driver: 'sim', mountRoot: path.join(dir, 'mnt') },
      },
      maintenanceSocket: path.join(dir, 'kioskd.sock'),
      logLevel: 'info',
    }),
  );
  const out = path.join(dir, 'stdout');
  const fd = openSync(out, 'w');
  const st = fstatSync(fd);
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/kioskd.js'), '--config', config], {
    env: { ...process.env, JOURNAL_STREAM: `${st.dev}:${st.ino}` },
    stdio: ['ignore', fd, 'pipe'],
  });
  closeSync(fd);
  const exited = new Promise((r) => child.once('exit', r));
  t.teardown(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  });
  const text = () => readFileSync(out, 'utf8');
  t.ok(
    await until(
      () => /^<3>.*slot board not answering/m.test(text()) && /^<4>/m.test(text()),
      20_000,
    ),
    `an error and a warning logged\n${text().slice(-2000)}`,
  );
  child.kill('SIGTERM');
  await exited;
  const lines = text().split('\n').filter(Boolean);
  t.ok(lines.length > 3);
  for (const l of lines) {
    const m = /^<(\d)>(\{.*)$/.exec(l);
    t.ok(m, `prefixed: ${l.slice(0, 80)}`);
    if (!m) continue;
    t.equal(
      Number(m[1]),
      JOURNAL_PRIORITY[JSON.parse(m[2]!).level],
      `priority of ${l.slice(0, 60)}`,
    );
  }
  const errOnly = lines.filter((l) => Number(l[1]) <= 3).map((l) => JSON.parse(l.slice(3)));
  t.ok(errOnly.length > 0, 'some lines are at priority err or above');
  t.ok(
    errOnly.every((e) => e.level >= 50),
    'what journalctl -p err shows: error and fatal lines only',
  );
  t.ok(
    lines.some((l) => l.startsWith('<6>')),
    'info lines are there, at priority 6 (not shown by -p err)',
  );
  t.notOk(existsSync(path.join(dir, 'data', 'kioskd.log')), 'no log file under journald');
});
