import type { SandboxCard } from './types.js';

export interface CardInput {
  number: string;
  /** "MM/YY" or "MM/YYYY". */
  expiry: string;
  cvc: string;
  /** The renter asks to save the card once the payment is authorised (`saveCard: true`). */
  save?: boolean;
}

/** The sandbox provider's test cards, shown as a hint next to its card form. */
export const SANDBOX_CARDS: ReadonlyArray<{ number: string; outcome: string }> = [
  { number: '4242 4242 4242 4242', outcome: 'approved' },
  { number: '4000 0000 0000 0002', outcome: 'declined' },
  { number: '4000 0000 0000 9995', outcome: 'insufficient funds' },
  { number: '4000 0000 0000 0119', outcome: 'payment service times out' },
];

/**
 * Checks the sandbox card form's fields the way a renter can fix them (the provider decides the
 * rest) and returns what the sandbox's card endpoint takes, or a sentence naming the field.
 */
export function parseCard(
  input: CardInput,
  now: Date = new Date(),
): { card: SandboxCard } | { error: string } {
  const number = input.number.replace(/[\s-]/g, '');
  if (!/^\d{12,19}$/.test(number)) {
    return { error: 'Enter the card number: 12 to 19 digits.' };
  }
  const m = /^\s*(\d{1,2})\s*\/\s*(\d{2}|\d{4})\s*$/.exec(input.expiry);
  if (!m) return { error: 'Enter the expiry date as MM/YY.' };
  const expMonth = Number(m[1]);
  let expYear = Number(m[2]);
  if (expYear < 100) expYear += 2000;
  if (expMonth < 1 || expMonth > 12) return { error: 'The expiry month must be 01 to 12.' };
  const endOfMonth = new Date(Date.UTC(expYear, expMonth, 1));
  if (endOfMonth.getTime() <= now.getTime()) return { error: 'This card has expired.' };
  if (!/^\d{3,4}$/.test(input.cvc.trim())) {
    return { error: 'Enter the 3 or 4 digit security code (CVC).' };
  }
  return { card: { number, expMonth, expYear, cvc: input.cvc.trim() } };
}
