// The import rules of the layers (docs/architecture.md, "Layout and layers"), checked by
// dependency-cruiser in `npm run lint` (`npm run lint:deps`). There is no baseline of tolerated
// violations: any violation fails lint.
//
// The rules restrict imports of our own folders; npm packages and node: built-ins are free,
// except in protocol/ (no I/O).

/** Imports of packages and built-ins, not of our folders. */
const PACKAGES = ['core', 'npm', 'npm-dev', 'npm-peer', 'npm-optional', 'npm-no-pkg'];

/** Files in `from` may import, of ours, only the folders matching `allowed`. */
function layer(name, comment, from, allowed) {
  return {
    name,
    severity: 'error',
    comment,
    from: typeof from === 'string' ? { path: from } : from,
    to: { dependencyTypesNot: PACKAGES, pathNot: allowed },
  };
}

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles anywhere.',
      from: {},
      to: { circular: true },
    },
    layer(
      'common-imports-nothing-of-ours',
      'common/ is the bottom layer (migration runner, keyed queue, error base class).',
      '^common/',
      '^common/',
    ),
    layer(
      'protocol-imports-nothing-of-ours',
      'protocol/ is the wire contract: it imports nothing of ours but the bottom layer.',
      '^protocol/',
      '^(protocol|common)/',
    ),
    {
      name: 'protocol-has-no-io',
      severity: 'error',
      comment: 'protocol/ has no I/O: of the packages it uses node: built-ins and TypeBox only.',
      from: { path: '^protocol/' },
      to: {
        dependencyTypes: ['npm', 'npm-dev', 'npm-peer', 'npm-optional', 'npm-no-pkg'],
        pathNot: '@sinclair/typebox',
      },
    },
    layer(
      'hal-imports-nothing-of-ours',
      'hal/ drives hardware and knows no business rules: it imports hal/ and the bottom layer.',
      '^hal/',
      '^(hal|common)/',
    ),
    {
      name: 'hal-device-internals',
      severity: 'error',
      comment:
        "A device folder uses another device only through that device's index.ts or types.ts.",
      from: { path: '^hal/([^/]+)/' },
      to: { path: '^hal/[^/]+/', pathNot: ['^hal/$1/', '^hal/[^/]+/(index|types)\\.ts$'] },
    },
    layer(
      'kiosk-layers',
      'kiosk/ imports hal/, protocol/ and the bottom layer: never cloud-lite/ (they meet on the wire).',
      '^kiosk/',
      '^(kiosk|hal|protocol|common)/',
    ),
    {
      name: 'kioskctl-never-reaches-hal',
      severity: 'error',
      comment:
        'kioskctl never touches hardware (kioskd owns it): nothing kiosk/kioskctl/ imports, directly or not, is in hal/, types included.',
      from: { path: '^kiosk/kioskctl/' },
      to: { path: '^hal/', reachable: true },
    },
    {
      name: 'kioskctl-and-the-server-apart',
      severity: 'error',
      comment:
        "kioskctl (kiosk/kioskctl/) and the daemon's maintenance server (kiosk/maintenance/) share only kiosk/maintenance-wire.ts: neither imports the other's folder.",
      from: { path: '^kiosk/(kioskctl|maintenance)/' },
      to: { path: '^kiosk/(kioskctl|maintenance)/', pathNot: '^kiosk/$1/' },
    },
    layer(
      'cloud-lite-layers',
      'cloud-lite/ imports protocol/ and the bottom layer: never kiosk/ or hal/ (they meet on the wire).',
      { path: '^cloud-lite/', pathNot: '^cloud-lite/web/src/' },
      '^(cloud-lite|protocol|common)/',
    ),
    {
      name: 'cloud-lite-store-below-the-domains',
      severity: 'error',
      comment:
        "cloud-lite/store/ is below the hub's domains and its HTTP edge: it never imports them.",
      from: { path: '^cloud-lite/store/' },
      to: { path: '^cloud-lite/(hub|registry|rental|content|updates|api|http|web)/' },
    },
    {
      name: 'cloud-lite-domains-below-http',
      severity: 'error',
      comment:
        "cloud-lite's domains (hub/, registry/, rental/, content/, updates/) and store/ expose functions: they never import the HTTP edge (cloud-lite/http/) nor fastify, so no domain registers routes.",
      from: { path: '^cloud-lite/(hub|registry|rental|content|updates|store)/' },
      to: { path: ['^cloud-lite/http/', '^node_modules/(fastify|@fastify/)'] },
    },
    {
      name: 'cloud-lite-content-apart',
      severity: 'error',
      comment:
        "cloud-lite/content/ (the content origin) imports neither the rental domain nor the hub's internals.",
      from: { path: '^cloud-lite/content/' },
      to: { path: '^cloud-lite/(rental|hub)/' },
    },
    {
      name: 'domains-reach-kiosks-through-the-port',
      severity: 'error',
      comment:
        "The rental and updates domains reach kiosks only through the KioskCommands port (cloud-lite/hub/kiosk-commands.ts), never the hub's other files.",
      from: { path: '^cloud-lite/(rental|updates)/' },
      to: { path: '^cloud-lite/hub/', pathNot: '^cloud-lite/hub/kiosk-commands\\.ts$' },
    },
    layer(
      'web-is-browser-code',
      'The browser code (cloud-lite/web/src/) imports only itself, never server code.',
      '^cloud-lite/web/src/',
      '^cloud-lite/web/src/',
    ),
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve hides what it would import.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|images/(out|work))/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.d.ts'],
    },
  },
};
