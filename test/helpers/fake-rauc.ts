/**
 * A fake RAUC for tests without root: a RaucRunner (kiosk/update/rauc-client.ts) answering
 * the rauc client's command lines with the output RAUC 1.8 prints (status JSON, install
 * progress lines, `LastError:`, exit codes), over A/B slots whose boot state follows the
 * image's rauc-tryboot backend: install writes the slot not booted and makes it the pending
 * trial (tryboot.txt); update-reboot's begin-trial starts the trial; the firmware (reboot)
 * starts the trial slot once with tryboot, else the committed slot; mark-good on the
 * running trial commits it; a started trial that comes back on the committed slot reads bad;
 * mark-bad other drops the trial.
 *
 * Bundles are files starting with a `FAKE-RAUC-BUNDLE {json}` line (compatible, version,
 * signer) padded to the size asked; a signer other than the keyring's is refused the way
 * RAUC refuses a foreign signature. `failInstall` makes the next install fail part-way with
 * RAUC's message (a slot write error, say).
 *
 * The real RAUC, on a loop device, is test/helpers/rauc-rig.ts (root).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { RaucRunner, RunResult } from '../../kiosk/update/rauc-client.js';
import type { SlotName } from './rauc-rig.js';

export const FAKE_COMPATIBLE = 'disk-kiosk-rpi-arm64';
const MAGIC = 'FAKE-RAUC-BUNDLE ';
const SLOT_NAME: Record<SlotName, string> = { A: 'rootfs.0', B: 'rootfs.1' };
const other = (s: SlotName): SlotName => (s === 'A' ? 'B' : 'A');

export interface FakeBundle {
  version: string;
  compatible?: string;
  /** `dev` (the keyring's signer) unless said otherwise. */
  signer?: string;
  /** Total file size (padding); default 100 000 bytes. */
  size?: number;
}

export class FakeRauc {
  /** The slot the firmware last started. */
  booted: SlotName = 'A';
  committed: SlotName = 'A';
  trial: { slot: SlotName; started: boolean } | null = null;
  readonly good: Record<SlotName, boolean> = { A: true, B: false };
  readonly versions: Record<SlotName, string | undefined>;
  /** Every command line run, e.g. `install /x/b.raucb`, `status mark-good booted`. */
  readonly calls: string[] = [];
  /** The next install fails at this percentage with this LastError. */
  failInstall: { atPercent: number; message: string } | null = null;
  /** Called with each install progress line before it is printed (tests pause installs). */
  onInstallStep: ((percent: number) => Promise<void> | void) | undefined;
  /** The fake has no D-Bus; an empty environment for the rig. */
  readonly env: Record<string, string> = {};

  constructor(
    private readonly dir: string,
    initialVersion = '1.0.0',
  ) {
    this.versions = { A: initialVersion, B: undefined };
  }

  /** Writes a fake bundle file into the fake's directory; resolves with its path. */
  bundle(b: FakeBundle): string {
    const file = `${this.dir}/bundle-${b.version}-${randomBytes(4).toString('hex')}.raucb`;
    const head = Buffer.from(
      `${MAGIC}${JSON.stringify({
        compatible: b.compatible ?? FAKE_COMPATIBLE,
        version: b.version,
        signer: b.signer ?? 'dev',
      })}\n`,
    );
    const size = Math.max(b.size ?? 100_000, head.length);
    writeFileSync(file, Buffer.concat([head, randomBytes(size - head.length)]));
    return file;
  }

  /** The image version the booted slot carries (/etc/disk-kiosk/image-version). */
  slotVersion(slot: SlotName = this.booted): string {
    return this.versions[slot] ?? '';
  }

  get primary(): SlotName {
    return this.trial && !this.trial.started ? this.trial.slot : this.committed;
  }

  trialState(): 'none' | 'pending' | 'running' | 'failed' {
    if (!this.trial) return 'none';
    if (!this.trial.started) return 'pending';
    return this.booted === this.trial.slot ? 'running' : 'failed';
  }

  slotGood(x: SlotName): boolean {
    if (x === this.committed) return true;
    if (x === this.trial?.slot) return this.trialState() === 'pending';
    return this.good[x];
  }

  /** root's update-reboot on kioskd's request file: begin-trial for `tryboot`. */
  handleRebootRequest(file: string): { tryboot: boolean } {
    const what = readFileSync(file, 'utf8').trim();
    rmSync(file, { force: true });
    if (what === 'tryboot') {
      if (this.trial?.started !== false) throw new Error('fake rauc: no trial pending');
      this.trial.started = true;
      return { tryboot: true };
    }
    return { tryboot: false };
  }

  /** The firmware: the trial slot once with tryboot, else the committed slot. */
  async reboot(o: { tryboot: boolean }): Promise<SlotName> {
    this.booted = o.tryboot && this.trial ? this.trial.slot : this.committed;
    return this.booted;
  }

  /** The RaucRunner to give RaucClient. */
  readonly run: RaucRunner = async (args, o) => {
    const a = args.filter((x) => !x.startsWith('--conf='));
    this.calls.push(a.join(' '));
    const [verb, ...rest] = a;
    if (verb === 'status' && rest[0] === 'mark-good') return this.markGood();
    if (verb === 'status' && rest[0] === 'mark-bad') return this.markBadOther();
    if (verb === 'status') return ok(JSON.stringify(this.statusJson()));
    if (verb === 'info') return this.info(rest.at(-1) ?? '');
    if (verb === 'install') return this.install(rest[0] ?? '', o.onLine, o.signal);
    return fail(`rauc: unknown command ${a.join(' ')}`);
  };

  statusJson() {
    const slot = (x: SlotName) => ({
      [SLOT_NAME[x]]: {
        class: 'rootfs',
        device: `/dev/fake${x}`,
        type: 'ext4',
        bootname: x,
        state: x === this.booted ? 'booted' : 'inactive',
        parent: null,
        mountpoint: x === this.booted ? '/' : null,
        boot_status: this.slotGood(x) ? 'good' : 'bad',
        slot_status: this.versions[x]
          ? { bundle: { compatible: FAKE_COMPATIBLE, version: this.versions[x] }, status: 'ok' }
          : {},
      },
    });
    return {
      compatible: FAKE_COMPATIBLE,
      variant: '',
      booted: this.booted,
      boot_primary: SLOT_NAME[this.primary],
      slots: [slot('A'), slot('B')],
    };
  }

  private read(file: string): { version: string; compatible: string; signer: string } | string {
    if (!existsSync(file)) return `Failed to open bundle ${file}: No such file or directory`;
    const buf = readFileSync(file);
    const nl = buf.indexOf(10);
    const line = buf.subarray(0, nl < 0 ? 0 : nl).toString('utf8');
    if (!line.startsWith(MAGIC)) return `Invalid bundle format: ${file} is not a RAUC bundle`;
    const m = JSON.parse(line.slice(MAGIC.length)) as {
      version: string;
      compatible: string;
      signer: string;
    };
    if (m.signer !== 'dev')
      return 'signature verification failed: Verify error:unable to get local issuer certificate';
    return m;
  }

  private info(file: string): RunResult {
    const m = this.read(file);
    if (typeof m === 'string') return fail(m);
    return ok(JSON.stringify({ compatible: m.compatible, version: m.version, hooks: [] }));
  }

  private async install(
    file: string,
    onLine: ((l: string) => void) | undefined,
    signal: AbortSignal | undefined,
  ): Promise<RunResult> {
    const out: string[] = [];
    const say = (l: string) => {
      out.push(l);
      onLine?.(l);
    };
    const step = async (pct: number, msg: string) => {
      await this.onInstallStep?.(pct);
      say(`${String(pct).padStart(3)}% ${msg}`);
    };
    const failed = (pct: number, msg: string, err: string): RunResult => {
      say(`${String(pct).padStart(3)}% ${msg} failed.`);
      say('100% Installing failed.');
      say(`LastError: ${err}`);
      say('idle');
      return { code: 1, stdout: `${out.join('\n')}\n`, stderr: `Installing \`${file}\` failed\n` };
    };
    say('installing');
    await step(0, 'Installing');
    await step(0, 'Determining slot states');
    await step(20, 'Determining slot states done.');
    await step(20, 'Checking bundle');
    const m = this.read(file);
    if (typeof m === 'string') return failed(40, 'Checking bundle', m);
    await step(40, 'Checking bundle done.');
    if (m.compatible !== FAKE_COMPATIBLE)
      return failed(
        40,
        'Checking manifest contents',
        `Compatible mismatch: Expected '${FAKE_COMPATIBLE}' but bundle manifest has '${m.compatible}'`,
      );
    if (this.trialState() === 'running')
      return failed(40, 'Determining target install group', 'the booted slot is still on trial');
    const target = other(this.booted);
    this.good[target] = false; // RAUC marks the target bad before writing it
    if (this.trial?.slot === target) this.trial = null;
    await step(60, `Updating slots`);
    for (const pct of [70, 80, 90]) {
      if (signal?.aborted) return { code: 143, stdout: out.join('\n'), stderr: '' };
      if (this.failInstall && pct >= this.failInstall.atPercent) {
        const f = this.failInstall;
        this.failInstall = null;
        return failed(pct, `Updating slots`, f.message);
      }
      await step(pct, `Copying image to ${SLOT_NAME[target]}`);
    }
    this.versions[target] = m.version;
    this.good[target] = true;
    // set-primary of the backend: the next `reboot '0 tryboot'` starts it once
    this.trial = target === this.committed ? null : { slot: target, started: false };
    await step(100, 'Installing done.');
    say('idle');
    return { code: 0, stdout: `${out.join('\n')}\nInstalling \`${file}\` succeeded\n`, stderr: '' };
  }

  private markGood(): RunResult {
    const x = this.booted;
    if (this.trial?.slot === x && this.trialState() === 'running') {
      this.committed = x;
      this.trial = null;
      this.good.A = this.good.B = true;
    } else if (this.trial?.slot === x) {
      return fail(`rauc-tryboot: slot ${x} failed its trial`);
    } else {
      this.good[x] = true;
    }
    return ok(`rauc status: marked slot ${SLOT_NAME[x]} as good\n`);
  }

  private markBadOther(): RunResult {
    const x = other(this.booted);
    if (x === this.committed) return fail(`rauc-tryboot: slot ${x} is the committed slot`);
    if (this.trial?.slot === x) this.trial = null;
    this.good[x] = false;
    return ok(`rauc status: marked slot ${SLOT_NAME[x]} as bad\n`);
  }
}

const ok = (stdout: string): RunResult => ({ code: 0, stdout, stderr: '' });
const fail = (stderr: string): RunResult => ({ code: 1, stdout: '', stderr: `${stderr}\n` });
