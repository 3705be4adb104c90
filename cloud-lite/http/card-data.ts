import type { FastifyInstance } from 'fastify';
import { sendError } from './errors.js';

/** Field names that only card details have (card number, CVC, expiry), any case, `_`/`-` free. */
const CARD_FIELD =
  /^(card)?(number|no|num|pan|cardnumber|cvc|cvv|cvc2|cvv2|csc|securitycode|exp|expiry|expiration|expmonth|expyear|expirymonth|expiryyear)$/;

/**
 * 13-19 digits, spaces or dashes allowed between them (how people type a card number), standing
 * alone or in text (not inside a word or an id such as `pm_4242…`).
 */
const PAN_SHAPE = /(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])/g;

/** Luhn's check digit test, as every payment card number passes it. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** A string that is or holds a payment card number (PAN): 13-19 digits, Luhn-valid. */
export function looksLikePan(value: string): boolean {
  for (const m of value.matchAll(PAN_SHAPE)) if (luhnValid(m[0].replace(/[ -]/g, ''))) return true;
  return false;
}

/**
 * Deeper than this, a body is not walked further: no payment schema nests that deep, so
 * validation refuses it anyway (and a recursion as deep as a 1 MB body allows would exhaust
 * the stack).
 */
const MAX_DEPTH = 32;

/**
 * Where `body` carries card details: the path of a field named like one (`number`, `cvc`,
 * `expMonth`, `cardNumber`, …) or of a string or integer that looks like a card number;
 * undefined when it carries none. Walks objects and arrays down to MAX_DEPTH levels.
 */
export function findCardData(body: unknown, path = 'body', depth = 0): string | undefined {
  if (typeof body === 'string') return looksLikePan(body) ? path : undefined;
  if (typeof body === 'number')
    return Number.isInteger(body) && looksLikePan(String(body)) ? path : undefined;
  if (depth >= MAX_DEPTH) return undefined;
  if (Array.isArray(body)) {
    for (let i = 0; i < body.length; i++) {
      const hit = findCardData(body[i], `${path}/${i}`, depth + 1);
      if (hit) return hit;
    }
    return undefined;
  }
  if (body && typeof body === 'object') {
    for (const [k, v] of Object.entries(body)) {
      if (CARD_FIELD.test(k.toLowerCase().replace(/[_-]/g, ''))) return `${path}/${k}`;
      const hit = findCardData(v, `${path}/${k}`, depth + 1);
      if (hit) return hit;
    }
  }
  return undefined;
}

/**
 * Card data never reaches the hub's rental routes: every route that may answer
 * CARD_DATA_REFUSED (the routes that take a payment: PAYMENT_ERRORS) refuses, before its
 * schema is checked, a JSON body carrying card details (400 CARD_DATA_REFUSED, naming the
 * field, never echoing its value). The card goes to the provider's own card form, which gives
 * the page a payment-method id to send instead (docs/payments.md).
 */
export function installCardDataRefusal(app: FastifyInstance): void {
  app.addHook('preValidation', async (req, reply) => {
    const codes = (req.routeOptions.schema as { 'x-error-codes'?: string[] } | undefined)?.[
      'x-error-codes'
    ];
    if (!codes?.includes('CARD_DATA_REFUSED')) return;
    const where = findCardData(req.body);
    if (!where) return;
    req.log.warn({ route: req.routeOptions.url, field: where }, 'card data refused');
    return sendError(
      reply,
      400,
      'CARD_DATA_REFUSED',
      `${where} looks like card details; the hub takes no card data: enter the card in the payment provider's form and send its payment-method id ({"paymentMethod": "pm_…"})`,
    );
  });
}
