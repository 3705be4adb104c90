import { randomUUID } from 'node:crypto';
import { audit, SYSTEM } from '../../audit.js';
import type { Logger } from '../../log.js';
import type { PaymentPurpose, PaymentRecord, PaymentState, Store, Tx } from '../../store/types.js';
import { PaymentError, type PaymentProvider, type WebhookEvent } from './provider.js';

/** Called inside the transaction that moves a payment to a final state. */
export type SettleHook = (tx: Tx, p: PaymentRecord, state: PaymentState) => Promise<void>;

export interface PaymentsDeps {
  store: Store;
  provider: PaymentProvider;
  logger: Logger;
  now: () => Date;
}

export type AuthoriseOutcome =
  | {
      ok: true;
      payment: PaymentRecord;
      /** With `saveFor`: the token to pay with later and the card's last four digits. */
      saved?: { token: string; last4: string };
    }
  | {
      ok: false;
      code:
        | 'CARD_DECLINED'
        | 'INSUFFICIENT_FUNDS'
        | 'PAYMENT_UNAVAILABLE'
        | 'PAYMENT_REFUSED'
        /** Only with `offSession`: the issuer wants the absent renter to confirm. */
        | 'AUTHENTICATION_REQUIRED';
      message: string;
    };

const INTERMEDIATE: readonly PaymentState[] = ['authorising', 'capturing', 'voiding', 'refunding'];

/**
 * Payment intents. Provider calls never run inside a store transaction: the intent (a row in
 * state authorising / capturing / voiding / refunding) is committed first, then the provider
 * is called with an idempotency key derived from the row id and the operation, then the
 * outcome is recorded. A crash in between leaves the intent, which `finishIntents` (called by
 * reconciliation) drives to its end with the same key: one capture at most, ever.
 * Settle hooks (per purpose) run in the transaction that records a final state.
 */
export class Payments {
  private readonly hooks = new Map<PaymentPurpose, SettleHook>();

  constructor(private readonly deps: PaymentsDeps) {}

  get providerName(): string {
    return this.deps.provider.name;
  }

  onSettle(purpose: PaymentPurpose, hook: SettleHook): void {
    this.hooks.set(purpose, hook);
  }

  private nowIso(): string {
    return this.deps.now().toISOString();
  }

  /** A new payment row in state `authorising` (insert inside the caller's transaction). */
  newAuth(
    userId: string,
    purpose: PaymentPurpose,
    refId: string | null,
    amountMinor: number,
    currency: string,
    opts: { captureAfterAuth?: boolean } = {},
  ): PaymentRecord {
    const at = this.nowIso();
    return {
      id: `pay-${randomUUID()}`,
      userId,
      provider: this.deps.provider.name,
      providerRef: null,
      kind: 'auth',
      parentId: null,
      purpose,
      refId,
      amountMinor,
      capturedMinor: 0,
      captureMinor: null,
      currency,
      state: 'authorising',
      captureAfterAuth: opts.captureAfterAuth ?? false,
      failureCode: null,
      authorisedUntil: null,
      reason: null,
      createdAt: at,
      updatedAt: at,
    };
  }

  /**
   * Authorises a committed `authorising` row with `cardToken`. Declines end the row
   * `declined`; an unknown outcome (PAYMENT_UNAVAILABLE) moves it to `voiding` and voids
   * whatever the provider may have authorised. With captureAfterAuth, captures at once.
   */
  async authorise(
    paymentId: string,
    cardToken: string,
    opts: { saveFor?: { userId: string; last4?: string }; offSession?: boolean } = {},
  ): Promise<AuthoriseOutcome> {
    const p = await this.get(paymentId);
    try {
      const r = await this.deps.provider.authorise({
        amountMinor: p.amountMinor,
        currency: p.currency,
        cardToken,
        reference: p.id,
        idempotencyKey: `${p.id}:authorise`,
        ...(opts.saveFor ? { saveFor: { userId: opts.saveFor.userId } } : {}),
        ...(opts.offSession ? { offSession: true } : {}),
      });
      const next: PaymentState = p.captureAfterAuth ? 'capturing' : 'authorised';
      const updated = await this.transition(p.id, ['authorising'], next, {
        providerRef: r.providerRef,
        authorisedUntil: r.authorisedUntil ?? null,
        ...(p.captureAfterAuth ? { captureMinor: p.amountMinor } : {}),
      });
      if (p.captureAfterAuth) await this.capture(p.id);
      const last4 = r.last4 ?? opts.saveFor?.last4;
      const saved =
        opts.saveFor && last4 !== undefined
          ? { token: r.savedToken ?? cardToken, last4 }
          : undefined;
      return { ok: true, payment: updated ?? (await this.get(p.id)), ...(saved ? { saved } : {}) };
    } catch (err) {
      if (!(err instanceof PaymentError)) throw err;
      if (err.retryable) {
        await this.transition(p.id, ['authorising'], 'voiding', {
          failureCode: 'PAYMENT_UNAVAILABLE',
        });
        void this.void(p.id).catch((e) =>
          this.deps.logger.warn({ err: e, paymentId: p.id }, 'void after timeout failed'),
        );
        return {
          ok: false,
          code: 'PAYMENT_UNAVAILABLE',
          message: 'the payment service did not answer; nothing was charged, try again',
        };
      }
      await this.transition(p.id, ['authorising'], 'declined', { failureCode: err.code });
      return { ok: false, code: err.code as 'CARD_DECLINED', message: err.message };
    }
  }

  /**
   * Captures a payment whose row is in `capturing` (the intent, committed by the caller with
   * `captureMinor`). Resolves once the outcome is recorded, or leaves the intent for
   * reconciliation when the provider did not answer or answered `pending` (webhook).
   */
  async capture(paymentId: string): Promise<void> {
    const p = await this.get(paymentId);
    if (p.state !== 'capturing' || !p.providerRef) return;
    try {
      const r = await this.deps.provider.capture({
        providerRef: p.providerRef,
        amountMinor: p.captureMinor ?? p.amountMinor,
        idempotencyKey: `${p.id}:capture`,
      });
      if (r.status === 'succeeded')
        await this.settleCaptured(p.id, p.captureMinor ?? p.amountMinor);
    } catch (err) {
      if (!(err instanceof PaymentError)) throw err;
      if (err.retryable) return;
      await this.transition(
        p.id,
        ['capturing'],
        'capture_failed',
        { failureCode: err.code },
        async (tx) => {
          await tx.flags.raise(
            'CAPTURE_FAILED',
            p.id,
            `capture refused: ${err.message}`,
            this.nowIso(),
          );
        },
      );
    }
  }

  /** Voids a payment whose row is in `voiding`; looks the authorisation up when its answer was lost. */
  async void(paymentId: string): Promise<void> {
    let p = await this.get(paymentId);
    if (p.state !== 'voiding') return;
    try {
      if (!p.providerRef) {
        const found = await this.deps.provider.lookup(p.id);
        if (!found) {
          await this.transition(p.id, ['voiding'], 'voided', {
            failureCode: p.failureCode ?? 'NEVER_AUTHORISED',
          });
          return;
        }
        p =
          (await this.transition(p.id, ['voiding'], 'voiding', {
            providerRef: found.providerRef,
          })) ?? p;
      }
      const r = await this.deps.provider.void({
        providerRef: p.providerRef!,
        idempotencyKey: `${p.id}:void`,
      });
      if (r.status === 'succeeded') await this.transition(p.id, ['voiding'], 'voided');
    } catch (err) {
      if (!(err instanceof PaymentError)) throw err;
      if (err.retryable) return;
      await this.transition(p.id, ['voiding'], 'voided', { failureCode: err.code }, async (tx) => {
        await tx.flags.raise('VOID_FAILED', p.id, `void refused: ${err.message}`, this.nowIso());
      });
    }
  }

  /**
   * A refund intent row (insert inside the caller's transaction), then call `refund(row.id)`.
   * `reason`: the operator's, shown on the renter's receipt.
   */
  newRefund(
    parent: PaymentRecord,
    amountMinor: number,
    refId: string | null,
    reason: string | null = null,
  ): PaymentRecord {
    const at = this.nowIso();
    return {
      ...parent,
      id: `ref-${randomUUID()}`,
      providerRef: null,
      kind: 'refund',
      parentId: parent.id,
      purpose: 'refund',
      refId,
      amountMinor,
      capturedMinor: 0,
      captureMinor: null,
      state: 'refunding',
      captureAfterAuth: false,
      failureCode: null,
      authorisedUntil: null,
      reason,
      createdAt: at,
      updatedAt: at,
    };
  }

  /** Executes a committed refund intent (state `refunding`). */
  async refund(refundId: string): Promise<void> {
    const r = await this.get(refundId);
    if (r.state !== 'refunding' || !r.parentId) return;
    const parent = await this.get(r.parentId);
    try {
      const res = await this.deps.provider.refund({
        providerRef: parent.providerRef!,
        amountMinor: r.amountMinor,
        idempotencyKey: `${r.id}:refund`,
      });
      if (res.status === 'succeeded') await this.transition(r.id, ['refunding'], 'refunded');
    } catch (err) {
      if (!(err instanceof PaymentError)) throw err;
      if (err.retryable) return;
      await this.transition(
        r.id,
        ['refunding'],
        'refund_failed',
        { failureCode: err.code },
        async (tx) => {
          await tx.flags.raise(
            'REFUND_FAILED',
            r.id,
            `refund refused: ${err.message}`,
            this.nowIso(),
          );
        },
      );
    }
  }

  /** Drives every intent older than `olderThanMs` to its end (reconciliation). Returns how many were tried. */
  async finishIntents(olderThanMs: number): Promise<number> {
    const before = new Date(this.deps.now().getTime() - olderThanMs).toISOString();
    const list = await this.deps.store.transaction((tx) =>
      tx.payments.listByState(INTERMEDIATE, before),
    );
    for (const p of list) {
      try {
        if (p.state === 'authorising') {
          // The process died during authorise: its outcome is unknown; release whatever happened.
          await this.transition(p.id, ['authorising'], 'voiding', { failureCode: 'INTERRUPTED' });
          await this.void(p.id);
        } else if (p.state === 'capturing') await this.capture(p.id);
        else if (p.state === 'voiding') await this.void(p.id);
        else if (p.state === 'refunding') await this.refund(p.id);
      } catch (err) {
        this.deps.logger.warn(
          { err, paymentId: p.id },
          'finishing a payment intent failed; will retry',
        );
      }
    }
    return list.length;
  }

  /**
   * Applies a verified provider webhook once (duplicates are ignored; returns false for one).
   * Webhooks arrive at least once and in any order, so an event only finishes what our own row
   * says is under way (a capture we asked for, a void, a refund); one that contradicts the row
   * (a capture or cancel nobody here asked for, a lapsed authorisation) is flagged for an
   * operator, and one for no row of ours is flagged WEBHOOK_UNMATCHED. An authorisation for a
   * row we had given up on (its answer was lost) is released at once.
   */
  async applyWebhook(ev: WebhookEvent): Promise<boolean> {
    const provider = this.deps.provider.name;
    let release: string | undefined;
    const fresh = await this.deps.store.transaction(async (tx) => {
      const at = this.nowIso();
      if (!(await tx.webhookEvents.insertIfNew(provider, ev.eventId, at))) return false;
      if (ev.type === 'ignored') return true;
      let p = await tx.payments.findByProviderRef(provider, ev.providerRef);
      if (!p && ev.reference) {
        const byRef = await tx.payments.get(ev.reference);
        if (
          byRef?.provider === provider &&
          (!byRef.providerRef || byRef.providerRef === ev.providerRef)
        )
          p = byRef;
      }
      await audit(
        tx,
        { actor: `provider:${provider}` },
        at,
        `webhook.${ev.type}`,
        p?.id ?? ev.providerRef,
        {
          eventId: ev.eventId,
          amountMinor: ev.amountMinor,
        },
      );
      const flag = async (kind: string, subject: string, message: string) => {
        this.deps.logger.warn({ eventId: ev.eventId, type: ev.type, subject }, message);
        await tx.flags.raise(kind, subject, message, at);
      };
      if (!p) {
        await flag(
          'WEBHOOK_UNMATCHED',
          `${provider}:${ev.providerRef}`,
          `${provider} event ${ev.eventId} (${ev.type}) names ${ev.providerRef}, which no payment here has; not applied`,
        );
        return true;
      }
      const unexpected = () =>
        flag(
          'WEBHOOK_UNEXPECTED',
          p.id,
          `${provider} event ${ev.eventId} (${ev.type}, ${ev.amountMinor}) does not fit payment ${p.id} in state ${p.state}; not applied`,
        );
      switch (ev.type) {
        case 'payment.authorised':
          if (['voiding', 'voided', 'declined', 'failed'].includes(p.state) && !p.providerRef) {
            // We gave up on this authorisation (its answer was lost): release what it holds.
            await this.settleIn(tx, p, 'voiding', { providerRef: ev.providerRef });
            release = p.id;
          } else if (
            !['authorising', 'authorised', 'capturing', 'captured', 'voiding', 'voided'].includes(
              p.state,
            )
          )
            await unexpected();
          break;
        case 'payment.captured':
          if (p.state === 'capturing') {
            await this.settleIn(tx, p, 'captured', { capturedMinor: ev.amountMinor });
          } else if (p.state !== 'captured' || p.capturedMinor !== ev.amountMinor)
            await unexpected();
          break;
        case 'payment.voided':
          if (ev.expired && ['authorised', 'capturing', 'capture_failed'].includes(p.state))
            await flag(
              'AUTHORISATION_LAPSED',
              p.id,
              `the authorisation of payment ${p.id} (${p.purpose} ${p.refId ?? ''}) lapsed at ${provider} before it was captured; nothing can be captured from it`,
            );
          else if (p.state === 'voiding') await this.settleIn(tx, p, 'voided', {});
          else if (!['voided', 'declined', 'failed'].includes(p.state)) await unexpected();
          break;
        case 'payment.refunded': {
          const children = await tx.payments.listChildren(p.id);
          const child = children.find(
            (c) => c.state === 'refunding' && c.amountMinor === ev.amountMinor,
          );
          if (child) await this.settleIn(tx, child, 'refunded', {});
          else if (
            !children.some((c) => c.state === 'refunded' && c.amountMinor === ev.amountMinor)
          )
            await unexpected();
          break;
        }
        case 'payment.failed':
          if (!['authorising', 'declined', 'voiding', 'voided'].includes(p.state))
            await unexpected();
          break;
      }
      return true;
    });
    if (release) await this.void(release);
    return fresh;
  }

  /** Authorised payments whose authorisation lapses within `withinMs` (reconciliation). */
  lapsing(withinMs: number): Promise<PaymentRecord[]> {
    const before = new Date(this.deps.now().getTime() + withinMs).toISOString();
    return this.deps.store.transaction((tx) => tx.payments.listLapsingBefore(before));
  }

  async get(id: string): Promise<PaymentRecord> {
    const p = await this.deps.store.transaction((tx) => tx.payments.get(id));
    if (!p) throw new Error(`payment ${id} does not exist`);
    return p;
  }

  private async settleCaptured(id: string, amount: number): Promise<void> {
    await this.transition(id, ['capturing'], 'captured', { capturedMinor: amount });
  }

  /**
   * Moves payment `id` from one of `from` to `to` in one transaction (no-op, returning
   * undefined, when it is no longer in `from`), running the purpose's settle hook and `extra`.
   */
  async transition(
    id: string,
    from: readonly PaymentState[],
    to: PaymentState,
    patch: Partial<PaymentRecord> = {},
    extra?: (tx: Tx) => Promise<void>,
  ): Promise<PaymentRecord | undefined> {
    return this.deps.store.transaction(async (tx) => {
      const cur = await tx.payments.get(id);
      if (!cur || !from.includes(cur.state)) return undefined;
      await this.settleIn(tx, cur, to, patch);
      await extra?.(tx);
      return tx.payments.get(id);
    });
  }

  /** Records a state change of `p` inside `tx` and runs its settle hook. */
  async settleIn(
    tx: Tx,
    p: PaymentRecord,
    to: PaymentState,
    patch: Partial<PaymentRecord>,
  ): Promise<void> {
    const at = this.nowIso();
    await tx.payments.update(p.id, { ...patch, state: to, updatedAt: at });
    if (to !== p.state)
      await audit(tx, SYSTEM('payments'), at, `payment.${to}`, p.id, {
        purpose: p.purpose,
        refId: p.refId,
      });
    const updated = (await tx.payments.get(p.id))!;
    const hook = this.hooks.get(p.purpose);
    if (hook && to !== p.state) await hook(tx, updated, to);
  }
}
