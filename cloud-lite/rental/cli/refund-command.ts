import { randomUUID } from 'node:crypto';
import { InvalidArgumentError } from 'commander';
import { type CliIo, runCli } from '../../cli-run.js';
import { loadConfig, publicOrigin } from '../../config.js';
import { createLogger } from '../../log.js';
import { createMailer } from '../../notifications/mailer.js';
import { RenterNotifications } from '../../notifications/renter-notifications.js';
import { openStore } from '../../store/open-store.js';
import { Deposits } from '../billing/deposits.js';
import { OperatorRefunds } from '../billing/operator-refunds.js';
import { RentalSettings } from '../billing/rental-settings.js';
import { Payments } from '../payments/payments.js';
import { createProvider } from '../payments/provider-config.js';
import { RenterEvents } from '../renter-events.js';

const minor = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError('a whole number of minor units (cents), at least 1');
  return n;
};

/**
 * `cloud-lite refund <paymentId> [--amount <minor>] --reason <text> [--key <k>] [-c file]`:
 * refunds captured money of a payment (an order's `paymentId`, a fee, an extension, a deposit
 * top-up), all that is left or `--amount`, through the same service as
 * POST /api/operator/payments/{id}/refund (OperatorRefunds: audited
 * `payment.refund_requested` with the reason, actor `system:cli`, shown on the renter's
 * order). The refund settles as in the hub (the same settle hooks): the renter's receipt e-mail
 * is queued in the refund's transaction and sent by the running hub (its leader, within
 * `notifications.sweepIntervalMs`); a failed refund of deposit money goes back on the deposit.
 * Works on the configured store (SQLite or PostgreSQL) and payment provider. `--key`
 * makes a repeat the same refund (default: a new key, printed). Exit 0: refunded or refunding;
 * 1: refused (not captured, too much, unknown payment) or the refund failed.
 */
export function runRefundCommand(argv: string[], io: CliIo): Promise<number> {
  return runCli('cloud-lite refund', argv, io, (program, run) =>
    program
      .description("refund a payment's captured money (all, or --amount), with a reason; audited")
      .argument('<paymentId>', "the payment (an order's paymentId, see GET /api/orders/{id})")
      .requiredOption(
        '--reason <text>',
        'why (audited, and shown to the renter on their order page and receipt; at least 3 characters)',
      )
      .option('--amount <minor>', 'minor units (cents) to refund; default: all that is left', minor)
      .option('--key <key>', 'idempotency key: the same key again is the same refund')
      .option('-c, --config <file>', 'hub configuration file')
      .action(
        async (
          paymentId: string,
          o: { reason: string; amount?: number; key?: string; config?: string },
        ) => {
          if (o.reason.trim().length < 3) return run.usage('--reason needs at least 3 characters');
          const config = loadConfig({ file: o.config, env: io.env });
          // Warnings to stderr: stdout is the refund as JSON.
          const logger = createLogger(
            config.logLevel === 'silent' ? 'silent' : 'warn',
            process.stderr,
          );
          const store = await openStore(config);
          const mailer = createMailer(config.smtp, logger);
          try {
            const now = () => new Date();
            const provider = createProvider(config.rental, { store, logger, now, env: io.env });
            const payments = new Payments({ store, provider, logger, now });
            // The settle path of the hub's refunds: Deposits' refund hook tells the renter's
            // facts, RenterNotifications queues the receipt with them (this process never sends).
            const events = new RenterEvents();
            const settings = new RentalSettings({ store, config: config.rental, now });
            new Deposits({
              store,
              config: config.rental,
              settings,
              payments,
              provider,
              now,
              events,
            });
            new RenterNotifications({
              store,
              mailer,
              logger,
              config: config.notifications,
              rental: { config: config.rental, events },
              origin: () => publicOrigin(config) ?? `http://${config.host}:${config.port}`,
              now,
            }).attach();
            const refunds = new OperatorRefunds({ store, payments, now });
            const key = o.key ?? `cli-${randomUUID()}`;
            const out = await refunds.refund(
              paymentId,
              { reason: o.reason.trim(), ...(o.amount ? { amountMinor: o.amount } : {}) },
              key,
              { actor: 'system:cli' },
            );
            io.out(`${JSON.stringify({ ...out.refund, key, created: out.created })}\n`);
            if (out.refund.state === 'refund_failed') run.code = 1;
          } catch (err) {
            run.fail(err);
          } finally {
            mailer.close();
            await store.close();
          }
        },
      ),
  );
}
