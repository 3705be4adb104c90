// deploy/install.sh into a fake Debian root (no app): the hub's units verify cleanly with
// systemd-analyze, are hardened (own user, StateDirectory, ProtectSystem=strict,
// NoNewPrivileges, ...; systemd-analyze security rates them), the user and the backup
// directory exist, the units and the timer are enabled, the configuration trusts the local
// proxy, the admin token is secret, and the installed Caddyfile is valid for caddy.
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { validateConfig } from '../../cloud-lite/config.js';
import { haveTools } from '../helpers/tools.js';
import {
  hasLines,
  makeBareRoot,
  repo,
  rootFiles,
  runInstall,
  stubExecutables,
  systemdAnalyze,
} from '../images/fake-root.js';

const UNITS = ['cloud-lite.service', 'cloud-lite-backup.service', 'cloud-lite-backup.timer'];

function installed(t: Parameters<typeof makeBareRoot>[0]) {
  const dir = makeBareRoot(t);
  // caddy.service as Debian's caddy package installs it.
  mkdirSync(path.join(dir, 'lib/systemd/system'), { recursive: true });
  writeFileSync(
    path.join(dir, 'lib/systemd/system/caddy.service'),
    '[Unit]\nDescription=Caddy\n\n[Service]\nExecStart=/usr/bin/caddy run\n\n[Install]\nWantedBy=multi-user.target\n',
  );
  runInstall(path.join(repo, 'deploy/install.sh'), dir, [
    '--no-app',
    '--domain',
    'hub.example.org',
    '--email',
    'ops@example.org',
  ]);
  const root = { dir, ...rootFiles(dir) };
  stubExecutables(root, ['usr/bin/node', 'opt/disk-kiosk/bin/cloud-lite.js']);
  return root;
}

const analyze = systemdAnalyze;

t.test('the units verify cleanly', async (t) => {
  if (!haveTools(t, ['systemd-analyze'], 'the unit checks')) return;
  const root = installed(t);
  const res = analyze(root.dir, ['verify', '--man=no', ...UNITS]);
  t.equal(res.output, '', 'no warnings or errors');
  t.equal(res.status, 0);
});

t.test('cloud-lite.service is hardened; the backup runs as the hub user, daily', async (t) => {
  if (!haveTools(t, ['systemd-analyze'], 'the unit checks')) return;
  const root = installed(t);
  const unit = root.read('etc/systemd/system/cloud-lite.service');
  hasLines(t, unit, [
    'User=cloud-lite',
    'StateDirectory=cloud-lite',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'NoNewPrivileges=yes',
    'CapabilityBoundingSet=',
    'PrivateTmp=yes',
    'PrivateDevices=yes',
    'PrivateUsers=yes',
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6',
    'SystemCallFilter=@system-service',
    'Restart=on-failure',
  ]);
  t.notMatch(unit, /^ReadWritePaths=/m, 'writes nothing outside its state directory');
  for (const u of ['cloud-lite.service', 'cloud-lite-backup.service']) {
    const sec = analyze(root.dir, ['security', '--offline=yes', u]);
    const score = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(sec.output)?.[1]);
    t.ok(score <= 2, `${u}: systemd-analyze security exposure ${score} <= 2 (OK)`);
  }
  const backup = root.read('etc/systemd/system/cloud-lite-backup.service');
  t.match(backup, /^User=cloud-lite$/m);
  t.match(
    backup,
    /^ExecStart=.* backup --config \/etc\/cloud-lite\/cloud-lite\.json --to \/var\/backups\/cloud-lite --keep \d+$/m,
  );
  t.match(backup, /^PrivateNetwork=yes$/m, 'the backup needs no network');
  t.match(root.read('etc/systemd/system/cloud-lite-backup.timer'), /^OnCalendar=.+$/m);
  t.match(root.read('etc/systemd/system/cloud-lite-backup.timer'), /^Persistent=true$/m);
});

t.test('user, directories, enabled units, configuration, secrets', async (t) => {
  const root = installed(t);
  const passwd = root
    .read('etc/passwd')
    .split('\n')
    .find((l) => l.startsWith('cloud-lite:'));
  t.ok(passwd, 'the cloud-lite user exists');
  const [, , uid, gid, , home, shell] = passwd!.split(':');
  t.ok(Number(uid) < 1000, 'a system user');
  t.equal(home, '/var/lib/cloud-lite');
  t.equal(shell, '/usr/sbin/nologin');
  const backups = statSync(root.path('var/backups/cloud-lite'));
  t.equal(backups.mode & 0o777, 0o750);
  t.equal(String(backups.uid), uid, 'backups owned by cloud-lite');
  for (const [dir, unit, target] of [
    ['multi-user.target.wants', 'cloud-lite.service', '/etc/systemd/system/cloud-lite.service'],
    [
      'timers.target.wants',
      'cloud-lite-backup.timer',
      '/etc/systemd/system/cloud-lite-backup.timer',
    ],
    // setup-system.sh disables the caddy Debian starts on install: the hub's TLS must come back
    // after a reboot.
    ['multi-user.target.wants', 'caddy.service', '/lib/systemd/system/caddy.service'],
  ]) {
    const link = root.path(`etc/systemd/system/${dir}/${unit}`);
    t.ok(lstatSync(link).isSymbolicLink(), `${unit} enabled`);
    t.equal(readlinkSync(link), target);
  }
  const env = statSync(root.path('etc/cloud-lite/env'));
  t.equal(env.mode & 0o777, 0o600, 'the admin token is readable by root only');
  t.match(root.read('etc/cloud-lite/env'), /^CLOUD_LITE_ADMIN_TOKEN=[0-9a-f]{64}\n$/);
  const cfgStat = statSync(root.path('etc/cloud-lite/cloud-lite.json'));
  t.equal(String(cfgStat.gid), gid, 'the configuration is readable by the hub');
  t.equal(cfgStat.mode & 0o777, 0o640);
  const config = validateConfig({
    ...JSON.parse(root.read('etc/cloud-lite/cloud-lite.json')),
    adminToken: 'x'.repeat(32),
  });
  t.equal(config.host, '127.0.0.1', 'the hub listens on loopback only (Caddy is in front)');
  t.same(config.trustProxy, ['127.0.0.1', '::1'], 'and trusts the local proxy');
  t.equal(config.publicUrl, 'https://hub.example.org');
  t.match(root.read('etc/caddy/Caddyfile'), /^hub\.example\.org \{$/m);
  t.match(root.read('etc/caddy/Caddyfile'), /email ops@example\.org/);

  // Installing again changes nothing that is there (the token stays).
  const before = root.read('etc/cloud-lite/env');
  runInstall(path.join(repo, 'deploy/install.sh'), root.dir, ['--no-app']);
  t.equal(root.read('etc/cloud-lite/env'), before, 'the admin token is kept');
});

t.test('the installed Caddyfile is valid for caddy', async (t) => {
  if (!haveTools(t, ['caddy'], 'the Caddyfile check')) return;
  const root = installed(t);
  const res = spawnSync(
    'caddy',
    ['validate', '--adapter', 'caddyfile', '--config', root.path('etc/caddy/Caddyfile')],
    {
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        ...process.env,
        HOME: root.dir,
        XDG_DATA_HOME: root.path('xdg'),
        XDG_CONFIG_HOME: root.path('xdg'),
      },
    },
  );
  t.equal(res.status, 0, `${res.stdout}${res.stderr}`.slice(-2000));
  t.match(res.stdout + res.stderr, 'Valid configuration');
});

t.test('the load-balanced site (several hub processes) is valid for caddy', async (t) => {
  if (!haveTools(t, ['caddy'], 'the Caddyfile check')) return;
  const dir = t.testdir({});
  const caddyfile = path.join(dir, 'Caddyfile');
  writeFileSync(
    caddyfile,
    `{\n\tadmin off\n}\n:0 {\n\timport ${path.join(repo, 'deploy/caddy/cloud-lite-cluster.caddy')}\n}\n`,
  );
  const res = spawnSync('caddy', ['validate', '--adapter', 'caddyfile', '--config', caddyfile], {
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      ...process.env,
      HOME: dir,
      XDG_DATA_HOME: path.join(dir, 'xdg'),
      XDG_CONFIG_HOME: path.join(dir, 'xdg'),
      CLOUD_LITE_UPSTREAMS: '127.0.0.1:9 127.0.0.1:10',
    },
  });
  t.equal(res.status, 0, `${res.stdout}${res.stderr}`.slice(-2000));
  t.match(res.stdout + res.stderr, 'Valid configuration');
  const adapted = spawnSync('caddy', ['adapt', '--adapter', 'caddyfile', '--config', caddyfile], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, HOME: dir, CLOUD_LITE_UPSTREAMS: '127.0.0.1:9 127.0.0.1:10' },
  });
  t.equal(adapted.status, 0, adapted.stderr.slice(-2000));
  const json = adapted.stdout;
  t.match(json, '"dial":"127.0.0.1:9"', 'the first process is an upstream');
  t.match(json, '"dial":"127.0.0.1:10"', 'and the second');
  t.match(json, '"policy":"round_robin"', 'no stickiness');
  t.match(json, '"uri":"/healthz"', 'health-checked');
});
