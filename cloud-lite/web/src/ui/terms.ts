import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Terms } from '../lib/types.js';

/** The hub's rental terms (GET /api/terms), loaded once at start; undefined if that failed. */
export const TermsContext = createContext<Terms | undefined>(undefined);

export function useTerms(): Terms | undefined {
  return useContext(TermsContext);
}
