import { existsSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { createDaemonLogger, LOG_FILE_ROTATE_BYTES } from '../../kiosk/log.js';
import { logSource, tailLines } from '../../kiosk/maintenance/commands/local-commands.js';

async function tmp(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kiosk-log-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function until(cond: () => boolean, ms = 5000): Promise<boolean> {
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
