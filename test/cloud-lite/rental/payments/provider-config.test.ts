// The payment provider from the configuration: keys from files or the environment, never
// logged; a Stripe provider without keys, or with hold windows longer than an authorisation
// lasts, refuses to start.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import t from 'tap';
import { validateConfig } from '../../../../cloud-lite/config.js';
import { createProvider } from '../../../../cloud-lite/rental/payments/provider-config.js';
import type { Store } from '../../../../cloud-lite/store/types.js';

const SECRET = 'sk_test_supersecret_0123456789';
const WHSEC = 'whsec_supersecret_0123456789';

function rental(extra: Record<string, unknown>) {
  return validateConfig({ adminToken: 'x'.repeat(24), rental: extra }).rental;
}

t.test('stripe: keys from files or the environment, never logged', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'payconf-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, 'sk'), `${SECRET}\n`);
  await writeFile(path.join(dir, 'wh'), WHSEC);
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
  const deps = { store: {} as Store, logger, now: () => new Date(), env: {} };
  const fromFiles = createProvider(
    rental({
      payments: {
        provider: 'stripe',
        webhookSecretFile: path.join(dir, 'wh'),
        stripe: { secretKeyFile: path.join(dir, 'sk') },
      },
    }),
    deps,
  );
  t.equal(fromFiles.name, 'stripe');
  const fromEnv = createProvider(rental({ payments: { provider: 'stripe' } }), {
    ...deps,
    env: { STRIPE_SECRET_KEY: SECRET, STRIPE_WEBHOOK_SECRET: WHSEC },
  });
  t.equal(fromEnv.name, 'stripe');
  t.ok(lines.length >= 2, 'the start is logged');
  t.notOk(
    lines.some((l) => l.includes('supersecret')),
    'no secret in the log',
  );
  t.throws(() => createProvider(rental({ payments: { provider: 'stripe' } }), deps), {
    code: 'EPAYMENTCONFIG',
    message: /STRIPE_SECRET_KEY/,
  });
  t.throws(
    () =>
      createProvider(
        rental({
          payments: { provider: 'stripe', stripe: { secretKeyFile: path.join(dir, 'none') } },
        }),
        deps,
      ),
    { code: 'EPAYMENTCONFIG', message: /cannot read stripe.secretKeyFile \(ENOENT\)/ },
  );
  t.throws(
    () =>
      createProvider(
        rental({ holdWindowSeconds: 7 * 24 * 3600, payments: { provider: 'stripe' } }),
        {
          ...deps,
          env: { STRIPE_SECRET_KEY: SECRET, STRIPE_WEBHOOK_SECRET: WHSEC },
        },
      ),
    { code: 'EPAYMENTCONFIG', message: /longer than Stripe keeps it/ },
  );
  t.equal(createProvider(rental({}), deps).name, 'sandbox', 'the sandbox by default');
});
