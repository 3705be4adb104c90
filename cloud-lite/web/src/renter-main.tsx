import { render } from 'preact';
import { initLanguage } from './i18n/i18n.js';
import { ApiClient } from './lib/api-client.js';
import { setHubCurrency } from './lib/format.js';
import type { Terms } from './lib/types.js';
import { RenterApp } from './renter/app.js';
import { ApiContext, announceSession } from './ui/context.js';
import { TermsContext } from './ui/terms.js';

// The session is the hub's HttpOnly cookie; the page only asks whether it is valid.
const api = new ApiClient({ baseUrl: '', onSessionChange: announceSession });
const root = document.getElementById('app');
initLanguage();
if (root) {
  void Promise.all([
    api.restoreSession(),
    api.terms().catch((): Terms | undefined => undefined),
  ]).then(([, terms]) => {
    setHubCurrency(terms?.currency);
    root.textContent = '';
    render(
      <ApiContext.Provider value={api}>
        <TermsContext.Provider value={terms}>
          <RenterApp />
        </TermsContext.Provider>
      </ApiContext.Provider>,
      root,
    );
  });
}
