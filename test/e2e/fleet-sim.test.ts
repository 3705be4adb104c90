// The fleet simulation under faults, short and with fixed seeds (CI): `npm run fleet-sim`
// as a child process (its own process group) with 3 kioskd processes, 6 renter bots and
// the fault injector; once on SQLite, once on PostgreSQL with two hub processes. The run must exit 0 with zero invariant violations in its JSON
// report (a fault that should raise an alert and did not is one), AND real work must have happened: orders completed and reservations picked up,
// faults of several kinds injected. Teardown kills whatever the run left (process group,
// kioskd, socat) and removes its directory.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { SimReport } from '../../scripts/fleet-sim/report.js';
import { pgBinDir } from '../../scripts/lib/pg-cluster.js';
import { fullTests } from '../helpers/loop-device.js';
import { processesMentioning, within } from './demo-child.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

t.setTimeout(420_000);

async function runSim(
  t: { teardown(fn: () => unknown): void },
  args: string[],
): Promise<{ code: number | string; out: string; report: SimReport }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-sim-e2e-'));
  const work = path.join(dir, 'work');
  const reportFile = path.join(dir, 'report.json');
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(ROOT, 'scripts/fleet-sim/main.ts'),
      ...args,
      '--dir',
      work,
      '--report',
      reportFile,
    ],
    { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((r) => proc.once('exit', (c, s) => r(s ?? c ?? -1)));
  t.teardown(async () => {
    if (proc.exitCode === null && proc.signalCode === null && proc.pid) {
      try {
        process.kill(-proc.pid, 'SIGKILL');
      } catch {}
      await exited;
    }
    for (const p of processesMentioning(work)) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {}
    }
    await rm(dir, { recursive: true, force: true });
  });
  const code = await within(exited, 300_000, 'still running after 300 s');
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as SimReport;
  return { code, out, report };
}

// The second run is the several-processes mode (issue 22): two hub processes on one
// PostgreSQL (a throw-away cluster), with the hub_kill fault. Seed 4 draws hub_kill first.
// Without PostgreSQL it is skipped, unless DISK_KIOSK_FULL_TESTS=1 (CI), where it fails.
const pgInstalled = pgBinDir() !== undefined;
for (const { seed, minutes, hubs } of [
  { seed: 1, minutes: 0.75, hubs: 1 },
  { seed: 4, minutes: 0.5, hubs: 2 },
]) {
  const mode = hubs > 1 ? `, PostgreSQL with ${hubs} hub processes` : '';
  const noPg = hubs > 1 && !pgInstalled;
  t.test(
    `fleet-sim seed ${seed}: 3 kiosks, 6 renters, ${minutes} min under faults${mode}`,
    {
      skip:
        noPg && !fullTests()
          ? 'PostgreSQL is not installed (scripts/setup.sh installs postgresql-15)'
          : false,
    },
    async (t) => {
      if (noPg) {
        t.fail('PostgreSQL is not installed; DISK_KIOSK_FULL_TESTS=1 forbids skipping');
        return;
      }
      const { code, out, report } = await runSim(t, [
        '--kiosks',
        '3',
        '--renters',
        '6',
        '--minutes',
        String(minutes),
        '--seed',
        String(seed),
        ...(hubs > 1 ? ['--store', 'postgres', '--hubs', String(hubs)] : []),
      ]);
      const tail = out.slice(-6000);
      if (hubs > 1) {
        t.match(
          out,
          `PostgreSQL, ${hubs} hub processes`,
          'ran on PostgreSQL with several processes',
        );
        t.ok(
          (report.faults.hub_kill ?? 0) >= 1,
          `hub processes SIGKILLed: ${report.faults.hub_kill}`,
        );
      }
      t.same(report.violations, [], `no invariant violation\n${tail}`);
      t.same(report.unsettled, [], 'the fleet settled');
      t.equal(code, 0, 'exit 0');
      t.equal(report.seed, seed, 'the seed is reported');
      t.ok(report.stats.ordersCompleted! > 0, `orders completed: ${report.stats.ordersCompleted}`);
      t.ok(report.stats.captures! > 0, `payments captured: ${report.stats.captures}`);
      t.ok(report.stats.hubEvents! > 0, `events reached the hub: ${report.stats.hubEvents}`);
      // Each fault's expected alert was raised (else a fault-alerted violation above): the check
      // judged every fault, and where a fault should raise an alert, the report matches it to
      // that fault. (Faults that raise none by design, e.g. a short kill, may still raise a
      // kiosk_offline alert when a kiosk is slow to come back: luck, not asserted.)
      const lines = report.alerts?.faults ?? [];
      const judged = Object.values(report.faults).reduce((s, n) => s + n, 0);
      t.ok(
        lines.length >= judged,
        `the alert check judged every injected fault (${lines.length} lines, ${judged} faults)`,
      );
      const expecting = lines.filter((l) => l.expected !== null);
      if (expecting.length > 0)
        t.ok(
          (report.alerts?.matched ?? 0) >= expecting.length && (report.alerts?.caused ?? 0) >= 1,
          `faults that should raise an alert: ${expecting.length}, matched: ${report.alerts?.matched}; alerts matched to a fault: ${report.alerts?.caused} (${JSON.stringify(report.alerts?.byKind)})`,
        );
      const kinds = Object.keys(report.faults);
      const total = Object.values(report.faults).reduce((s, n) => s + n, 0);
      t.ok(total >= 5, `faults injected: ${total}`);
      t.ok(kinds.length >= 4, `fault kinds: ${kinds.join(', ')}`);
      t.ok(
        (report.ops.rent?.completed ?? 0) + (report.ops.pickup?.completed ?? 0) > 0,
        'renters got disks',
      );
      t.match(out, `fleet-sim seed ${seed}:`, 'the seed is logged');
      t.same(
        processesMentioning(path.dirname(report.dir)).filter(
          (p) => !p.cmd.includes('fleet-sim/main.ts'),
        ),
        [],
        'no kioskd, hub or socat left',
      );
    },
  );
}
