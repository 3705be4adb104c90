import { render } from 'preact';
import { initLanguage } from './i18n/i18n.js';
import { ApiClient } from './lib/api-client.js';
import { setHubCurrency } from './lib/format.js';
import { readPreloaded, setPreloaded } from './lib/preload.js';
import type { Terms } from './lib/types.js';
import { RenterApp } from './renter/app.js';
import { ApiContext, announceSession } from './ui/context.js';
import { TermsContext } from './ui/terms.js';

// /k/<id> comes with the kiosk's offer (its terms included) and its markup, rendered by the
// hub (lib/preload.ts): the app takes that markup over at once, with the session as the hub saw
// it (the page follows /api/me's answer), so nothing on screen waits for the API.
const preloaded = readPreloaded(document);
// The session is the hub's HttpOnly cookie; the page only asks whether it is valid.
const api = new ApiClient({
  baseUrl: '',
  onSessionChange: announceSession,
  signedIn: preloaded?.signedIn === true,
});
const root = document.getElementById('app');
initLanguage();
setPreloaded(preloaded);
const start = (terms: Terms | undefined) => {
  if (!root) return;
  setHubCurrency(terms?.currency);
  if (!root.hasAttribute('data-ssr')) root.textContent = '';
  render(
    <ApiContext.Provider value={api}>
      <TermsContext.Provider value={terms}>
        <RenterApp />
      </TermsContext.Provider>
    </ApiContext.Provider>,
    root,
  );
};
if (root?.hasAttribute('data-ssr') && preloaded?.offer) {
  start(preloaded.offer.terms);
  void api.restoreSession();
} else {
  void Promise.all([
    api.restoreSession(),
    preloaded?.offer?.terms ?? api.terms().catch((): Terms | undefined => undefined),
  ]).then(([, terms]) => start(terms));
}
