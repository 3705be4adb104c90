import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import { formatDuration, formatMoney } from '../lib/format.js';
import type { Terms } from '../lib/types.js';

/** The hub's rental terms (GET /api/terms), loaded once at start; undefined if that failed. */
export const TermsContext = createContext<Terms | undefined>(undefined);

export function useTerms(): Terms | undefined {
  return useContext(TermsContext);
}

/** How long a prepared reservation is held, and the no-show fee: said before paying. */
export function holdSentence(terms: Terms): string {
  const window = formatDuration(terms.holdWindowSeconds);
  return terms.noShowFeeMinor > 0
    ? t('kiosk.hold', { window, fee: formatMoney(terms.noShowFeeMinor, terms.currency) })
    : t('kiosk.holdNoFee', { window });
}
