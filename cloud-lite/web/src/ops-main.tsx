import { render } from 'preact';
import { ApiClient } from './lib/api-client.js';
import { OpsApp } from './ops/app.js';
import { ApiContext, localTokenStore } from './ui/context.js';

const tokens = localTokenStore('dk.ops');
const api = new ApiClient({ baseUrl: '', tokens });
const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(
    <ApiContext.Provider value={api}>
      <OpsApp tokens={tokens} />
    </ApiContext.Provider>,
    root,
  );
}
