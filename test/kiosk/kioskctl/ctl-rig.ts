// kioskctl tests' rig: a REAL kioskd (Daemon, simulated hardware, real WebSocket test hub)
// with its maintenance socket in a temp dir, a config file for kioskctl, and `ctl(...)`
// running kioskctl's main() in-process against that socket.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { DaemonDeps } from '../../../kiosk/daemon.js';
import { main } from '../../../kiosk/kioskctl/main.js';
import { type Rig, simConfig, startRig, type Tap } from '../daemon/harness.js';

export interface CtlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CtlRig extends Rig {
  socket: string;
  configFile: string;
  env: NodeJS.ProcessEnv;
  /** Runs kioskctl in-process; `input` is what the technician types. */
  ctl(args: string[], input?: CtlInput): Promise<CtlResult>;
  // biome-ignore lint/suspicious/noExplicitAny: parsed JSON output
  json(args: string[]): Promise<any>;
}

/** Writes a kioskctl/kioskd config file for `dir` pointing at `socket`. */
export function writeConfigFile(
  dir: string,
  hubUrl: string,
  publicKeyPem: string,
  socket: string,
): string {
  const cfg = { ...simConfig(dir, hubUrl, publicKeyPem), maintenanceSocket: socket };
  const file = path.join(dir, 'kioskd.json');
  writeFileSync(file, JSON.stringify(cfg, null, 2));
  return file;
}

/** Typed input: all at once, or a reply given when stderr (the prompts) first matches `when`. */
export type CtlInput = string | { when: RegExp; act: () => Promise<void> | void; type: string };

export async function runCtl(
  args: string[],
  env: NodeJS.ProcessEnv,
  input: CtlInput = '',
): Promise<CtlResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => {
    out += String(c);
  });
  let answered = false;
  stderr.on('data', (c) => {
    err += String(c);
    if (typeof input !== 'string' && !answered && input.when.test(err)) {
      answered = true;
      void Promise.resolve(input.act()).then(() => stdin.end(input.type));
    }
  });
  if (typeof input === 'string') stdin.end(input);
  const code = await main(args, { stdout, stderr, stdin, env, isTTY: false });
  return { code, stdout: out, stderr: err };
}

export async function startCtlRig(
  t: Tap,
  opts: { loaded?: number[]; deps?: Partial<DaemonDeps> } = {},
): Promise<CtlRig> {
  let socket = '';
  const rigRef: { dir?: string } = {};
  // The socket lives in the rig's temp dir, known only after startRig made it: use a
  // second temp dir for it instead.
  const { mkdtempSync, rmSync } = await import('node:fs');
  const os = await import('node:os');
  const sockDir = mkdtempSync(path.join(os.tmpdir(), 'kioskctl-sock-'));
  t.teardown(() => rmSync(sockDir, { recursive: true, force: true }));
  socket = path.join(sockDir, 'run', 'kioskd.sock');
  const rig = await startRig(t, {
    loaded: opts.loaded,
    deps: { ...opts.deps, maintenance: { socketPath: socket, ...opts.deps?.maintenance } },
  });
  rigRef.dir = rig.dir;
  const configFile = writeConfigFile(rig.dir, rig.hub.url, rig.keys.publicKeyPem, socket);
  const env = { KIOSKCTL_CONFIG: configFile, KIOSKCTL_USER: 'tech-alice', PATH: process.env.PATH };
  return Object.assign(rig, {
    socket,
    configFile,
    env,
    ctl: (args: string[], input?: CtlInput) => runCtl(args, env, input),
    json: async (args: string[]) => {
      const r = await runCtl(['--json', ...args], env);
      return { ...JSON.parse(r.stdout || 'null'), _code: r.code };
    },
  });
}
