import { t } from '../i18n/i18n.js';
import { useTerms } from './terms.js';

/** Where money is taken: the operator's terms and privacy pages (rental.termsUrl/privacyUrl). */
export function TermsLinks() {
  const terms = useTerms();
  if (!terms?.termsUrl && !terms?.privacyUrl) return null;
  return (
    <p class="hint terms-links">
      {t('terms.accept')}{' '}
      {terms.termsUrl ? (
        <a href={terms.termsUrl} target="_blank" rel="noopener noreferrer">
          {t('terms.terms')}
        </a>
      ) : null}
      {terms.termsUrl && terms.privacyUrl ? ' · ' : null}
      {terms.privacyUrl ? (
        <a href={terms.privacyUrl} target="_blank" rel="noopener noreferrer">
          {t('terms.privacy')}
        </a>
      ) : null}
    </p>
  );
}
