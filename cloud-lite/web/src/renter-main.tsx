import { render } from 'preact';
import { ApiClient } from './lib/api-client.js';
import { RenterApp } from './renter/app.js';
import { ApiContext, localTokenStore } from './ui/context.js';

const api = new ApiClient({ baseUrl: '', tokens: localTokenStore('dk.session') });
const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(
    <ApiContext.Provider value={api}>
      <RenterApp />
    </ApiContext.Provider>,
    root,
  );
}
