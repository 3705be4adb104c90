// `npm run demo`: a cloud-lite hub (embedded SQLite under .demo/), the demo content, a
// seeded catalog and accounts, and three kioskd processes on simulated hardware at nearby
// sites, whose films stock kioskd pre-stages itself (download, format, copy, verify) before
// the demo says "ready". Prints the URLs and credentials and runs until Ctrl-C; a disk pushed
// out is taken by "the renter" after a few seconds. `npm run demo -- --scripted` runs a rent, a
// reservation with pickup and a return end to end instead, and exits 0 when all passed.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import type { HubConfig } from '../cloud-lite/config.js';
import { missingTools, missingToolsLine } from '../hal/missing-tool.js';
import { Cleanup, guardProcess, signalExitCode } from './lib/cleanup.js';
import { type Fleet, kioskIdOf, startFleet } from './lib/fleet.js';
import { AutoTaker } from './lib/person.js';
import { runScripted } from './lib/scripted.js';
import { SANDBOX_CARDS, SANDBOX_PAYMENT_METHODS } from './lib/seed.js';
import { chooseBacking } from './lib/sim-disks.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface DemoIo {
  out: (s: string) => void;
  /** Resolves when the demo should stop (default: SIGINT or SIGTERM). */
  stopSignal?: Promise<string>;
}

const int = (min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new InvalidArgumentError(`an integer from ${min} to ${max}`);
  return n;
};

/** A path relative to the current directory when inside it, else absolute. */
function show(p: string): string {
  const r = path.relative(process.cwd(), p);
  return r && !r.startsWith('..') ? r : p;
}

function banner(f: Fleet, takeAfter: number): string {
  const u = f.hub.baseUrl;
  const lines = [
    '',
    'disk-kiosk demo is running',
    '',
    'Renter pages (what a kiosk QR code opens):',
    ...f.kiosks.map((k) => `  ${k.id.padEnd(8)} ${k.site.name.padEnd(17)} ${u}/k/${k.id}`),
    `Kiosks on a map / nearby:  ${u}/kiosks`,
    `Renter account:            ${u}/me`,
    `Operator dashboard:        ${u}/ops`,
    '',
    'Credentials:',
    `  renter    ${f.renter.email} / ${f.renter.password}  (deposit ${(f.renter.depositMinor / 100).toFixed(2)} paid)`,
    `  operator  ${f.operator.email} / ${f.operator.password}`,
    `  admin API token (Authorization: Bearer): ${f.hub.adminToken}`,
    `  sandbox cards: ${SANDBOX_CARDS.approves} approves, ${SANDBOX_CARDS.declines} declines,`,
    `                 ${SANDBOX_CARDS.insufficientFunds} insufficient funds, ${SANDBOX_CARDS.providerTimeout} provider timeout`,
    `                 (typed into the sandbox's card form; API clients send a payment-method id,`,
    `                 e.g. ${SANDBOX_PAYMENT_METHODS.approves} or ${SANDBOX_PAYMENT_METHODS.declines}: the hub refuses card numbers)`,
    '',
    'Stock per kiosk: slots 1-2 hold films disks ready to rent, which the kiosk prepared itself',
    '(pre-staging, cloning.prestage: download from the hub, format, copy, verify); it keeps two',
    'ready, so when one is rented (or its slot disabled) it prepares the blank disk in slot 3.',
    'Slot 3 is otherwise prepared when the course is reserved there; slot 4 is empty, for returns.',
    f.backing === 'loop'
      ? 'Disks: loop devices (real exFAT, mount and rsync as root).'
      : 'Disks: DIRECTORY-BACKED simulated disks (storage simulated; the start says why not loop devices).',
    `When a kiosk pushes a disk out, the renter takes it after ${takeAfter} s.`,
    `Logs: ${show(f.dir)}/hub/hub.log, ${show(f.dir)}/<kiosk>/kioskd.log`,
    '',
    'ready: press Ctrl-C to stop',
    '',
  ];
  return lines.join('\n');
}

/** Runs the demo; resolves with the process exit code. */
export async function main(
  argv: string[],
  io: DemoIo = { out: (s) => process.stdout.write(s) },
): Promise<number> {
  const program = new Command('demo')
    .description('disk-kiosk demo: a hub, simulated kiosks and a full rental')
    .option('--scripted', 'run a rent, a reservation with pickup and a return, then exit')
    .option('--kiosks <n>', 'number of kiosks', int(1, 20), 3)
    .option('--port <port>', 'hub HTTP port (default: a free one)', int(0, 65535), 0)
    .option(
      '--disks <kind>',
      'loop (loop devices, root only) or directory (simulated); default loop as root',
      (v: string) => {
        if (v !== 'loop' && v !== 'directory') throw new InvalidArgumentError('loop or directory');
        return v;
      },
    )
    .option('--dir <dir>', 'working directory (emptied first)', path.join(ROOT, '.demo'))
    .option(
      '--take-after <seconds>',
      'interactive: seconds before the renter takes a disk',
      int(0, 600),
      3,
    )
    .exitOverride();
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    return (err as { exitCode?: number }).exitCode ?? 2;
  }
  const o = program.opts<{
    scripted?: boolean;
    kiosks: number;
    port: number;
    dir: string;
    takeAfter: number;
    disks?: 'loop' | 'directory';
  }>();
  if (o.scripted && o.kiosks < 3) {
    io.out('demo: --scripted needs at least 3 kiosks (rent, reserve, return elsewhere)\n');
    return 2;
  }
  const say = (l: string) => io.out(`${l}\n`);
  // Kiosks prepare reserved disks with rsync, whatever the disks: nothing to fall back to.
  const missing = missingTools(['rsync']);
  if (missing.length > 0) {
    say(missingToolsLine(missing, 'demo'));
    return 1;
  }
  let backing: ReturnType<typeof chooseBacking>;
  try {
    backing = chooseBacking(o.disks);
  } catch (err) {
    say(`demo: ${(err as Error).message}`);
    return 1;
  }

  // Everything the demo starts is undone by `cleanup`: on the way out of main(), and on a
  // signal or a crash at any moment (the guard is in place before the first thing starts).
  const cleanup = new Cleanup((what, err) => say(`cleanup: ${what} failed: ${err.message}`));
  const stop = new AbortController();
  const stopped = new Promise<string>((resolve) =>
    stop.signal.addEventListener('abort', () => resolve(String(stop.signal.reason)), {
      once: true,
    }),
  );
  const unguard = io.stopSignal
    ? undefined
    : guardProcess(cleanup, {
        name: 'demo',
        say,
        // The first Ctrl-C or SIGTERM stops the demo in order; a second one cleans up at once.
        onSignal: (sig) => {
          if (stop.signal.aborted) return false;
          stop.abort(sig);
          return true;
        },
      });
  void io.stopSignal?.then((s) => stop.abort(s));
  let fleet: Fleet | undefined;
  try {
    say(
      `disk-kiosk demo${o.scripted ? ' (scripted)' : ''}: working directory ${show(path.resolve(o.dir))}`,
    );
    if (backing.note) say(backing.note);
    try {
      fleet = await startFleet({
        dir: path.resolve(o.dir),
        kiosks: o.kiosks,
        readyStock: 'prestaged',
        backing: backing.backing,
        progress: say,
        hub: {
          port: o.port,
          // The scripted renter reserves while the disk it rented first is still out.
          ...(o.scripted
            ? { config: { rental: { maxOpenRentals: 2 } } as Partial<HubConfig> }
            : {}),
        },
        cleanup,
        signal: stop.signal,
      });
    } catch (err) {
      if (stop.signal.aborted) {
        say(`${stop.signal.reason}: stopping before the demo was ready`);
        return signalExitCode(String(stop.signal.reason));
      }
      say(`demo: could not start: ${(err as Error).message}`);
      return 1;
    }
    if (o.scripted) {
      say('');
      say(
        `scripted run: rent at ${kioskIdOf(1)}, reserve at ${kioskIdOf(2)}, return at ${kioskIdOf(3)}`,
      );
      const r = await Promise.race([
        runScripted(fleet, { log: say }),
        stopped.then((s) => ({ interrupted: s })),
      ]);
      if ('interrupted' in r) {
        say(`${r.interrupted}: scripted run interrupted`);
        return signalExitCode(r.interrupted);
      }
      say('');
      if (r.ok) {
        say(`scripted demo passed: ${r.steps.length} steps`);
        return 0;
      }
      say(`scripted demo FAILED at step "${r.failed?.step}": ${r.failed?.error}`);
      return 1;
    }
    say(banner(fleet, o.takeAfter));
    const taker = new AutoTaker({
      boards: () => fleet!.kiosks.map((k) => ({ kioskId: k.id, sim: k.kiosk.sim, slots: 4 })),
      delayMs: o.takeAfter * 1000,
      onTake: (id, slot) => say(`${id}: the renter takes the disk from slot ${slot}`),
    });
    taker.start();
    const watchdog = setInterval(() => {
      for (const k of fleet!.kiosks) {
        if (!k.kiosk.running() && !stop.signal.aborted)
          say(`${k.id}: kioskd exited; see ${k.kiosk.logFile}`);
      }
    }, 5000);
    const sig = await stopped;
    clearInterval(watchdog);
    taker.stop();
    say(`${sig}: stopping`);
    return 0;
  } finally {
    await cleanup.run();
    say(
      fleet
        ? 'stopped: kiosks, simulators, disks and hub'
        : 'stopped: everything the demo had started',
    );
    unguard?.();
  }
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  // Errors inside main() are handled there (and by its process guard).
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
