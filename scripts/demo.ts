// `npm run demo`: will start cloud-lite, seed a catalog and a renter, start three
// kioskd processes on simulated hardware and print the URLs. Until the programs it
// needs exist, it says so instead of pretending.
process.stdout.write(
  [
    'disk-kiosk demo',
    '',
    'Not available yet: the demo needs the hub (cloud-lite), the kiosk runtime (kioskd)',
    'and the renter pages, which are still being built. When they land, this command',
    'will start a hub with an embedded SQLite file, three simulated kiosks at nearby',
    'locations, print the renter and operator URLs with their credentials, and with',
    '`npm run demo -- --scripted` run a rental, a reservation with pickup and a return.',
    '',
  ].join('\n'),
);
process.exitCode = 1;
