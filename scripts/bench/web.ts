/**
 * bench:web: how fast a renter's phone shows the kiosk's QR page (/k/<id>). Chromium (Debian's,
 * through playwright-core and the DevTools protocol) under the classic mobile throttling:
 * "Fast 3G" as DevTools applies it (562.5 ms round trip, 1.47 Mbit/s down, 675 kbit/s up) and
 * the CPU 4x slower. Every load is cold (fresh browser context, cache off). Measured:
 *   FCP     first contentful paint (the paint timing entry)
 *   usable  when the kiosk's offer is on screen and its rent button can be pressed: the disk
 *           type's title shown in the list and its Rent button there and enabled (the hub
 *           renders the offer into the page, where that button works before the app's script
 *           runs: a plain GET of the checkout), checked in the page at every animation frame
 *           and timed in the first frame that shows it (no frame is drawn while a stylesheet
 *           loads or a script runs), from the navigation's start
 * of /k/<id> of an online kiosk with disks ready (one kioskd on simulated hardware, as the demo
 * runs it) on a hub serving the production build (hashed, precompressed assets), and of the
 * floor: an empty HTML page from a plain HTTP server on the same loopback with the pages'
 * headers, loaded the same way (same throttling, cold; usable = its DOMContentLoaded). Prints medians, both, the
 * ratio, the aim (usable within 1.5 s) and the machine's load average.
 *
 *   npm run bench:web [-- --runs 5 --chromium /usr/bin/chromium]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { type Browser, chromium } from 'playwright-core';
import { CONTENT_SECURITY_POLICY } from '../../cloud-lite/http/routes/web-routes.js';
import { buildWeb } from '../build-web.js';
import { Cleanup, guardProcess } from '../lib/cleanup.js';
import { startFleet } from '../lib/fleet.js';

const FAST_3G = {
  offline: false,
  latency: 562.5,
  downloadThroughput: (1474.56 * 1024) / 8,
  uploadThroughput: (675 * 0.9 * 1024) / 8,
};
const CPU_SLOWDOWN = 4;
const AIM_MS = 1500;

interface Sample {
  fcp: number;
  usable: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** What makes the page usable: the disk type `typeId` with `title`, and its Rent button enabled. */
interface Offer {
  typeId: string;
  title: string;
}

/**
 * A watcher the page runs from its start (an init script, given through the DevTools protocol:
 * no eval, so the pages' CSP allows it): at every animation frame (frames are drawn only once
 * no stylesheet is loading and no script is running) it checks whether the offer's disk type,
 * with its content title, shows an enabled Rent button with a box on screen, and records that
 * first frame's time as `__offerShownAt`.
 */
const offerWatcher = ({ typeId, title }: Offer) => `(() => {
  const typeId = ${JSON.stringify(typeId)}, title = ${JSON.stringify(title)};
  const check = () => {
    const list = document.getElementById('types-title')?.parentElement;
    const item = [...(list?.querySelectorAll('[data-disk-type]') ?? [])].find(
      (e) => e.getAttribute('data-disk-type') === typeId,
    );
    const button = item?.querySelector('button.primary');
    const box = button?.getBoundingClientRect();
    if (item?.textContent?.includes(title) && button && !button.disabled && box.width > 0 && box.height > 0) {
      window.__offerShownAt = performance.now();
    } else requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})();`;

async function measure(browser: Browser, url: string, usable: Offer | 'dcl'): Promise<Sample> {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 3,
    isMobile: true,
    hasTouch: true,
  });
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await cdp.send('Network.emulateNetworkConditions', FAST_3G);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
    page.setDefaultTimeout(60_000);
    if (usable !== 'dcl') await page.addInitScript(offerWatcher(usable));
    await page.goto(url, { waitUntil: 'commit' });
    let usableAt: number;
    if (usable === 'dcl') {
      await page.waitForLoadState('domcontentloaded');
      usableAt = (await page.evaluate(
        'performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd',
      )) as number;
    } else {
      // Taken in the page, in the frame that shows it (a separate call afterwards would wait
      // behind whatever script runs by then).
      // Asked through the DevTools protocol (the page's CSP forbids eval in the page).
      const deadline = Date.now() + 60_000;
      for (;;) {
        const at = (await page.evaluate('window.__offerShownAt')) as number | undefined;
        if (at !== undefined) {
          usableAt = at;
          break;
        }
        if (Date.now() > deadline) throw new Error(`${url}: the offer never showed`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const fcp = (await page.evaluate(`new Promise((resolve) => {
      const get = () => performance.getEntriesByName('first-contentful-paint')[0];
      const e = get();
      if (e) return resolve(e.startTime);
      new PerformanceObserver(() => get() && resolve(get().startTime)).observe({ type: 'paint', buffered: true });
    })`)) as number;
    return { fcp, usable: usableAt };
  } finally {
    await context.close();
  }
}

async function main(): Promise<void> {
  const o = new Command('bench:web')
    .option('--runs <n>', 'cold loads of each page (medians are printed)', '5')
    .option('--chromium <path>', 'the browser', process.env.CHROMIUM_PATH ?? '/usr/bin/chromium')
    .parse()
    .opts<{ runs: string; chromium: string }>();
  const runs = Math.max(1, Number(o.runs) || 5);
  const cleanup = new Cleanup((what, err) =>
    process.stderr.write(`bench:web: ${what}: ${err.message}\n`),
  );
  const release = guardProcess(cleanup, { name: 'bench:web' });
  try {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-web-'));
    cleanup.add('remove the temp dir', () => rm(dir, { recursive: true, force: true }));
    const assets = path.join(dir, 'web');
    await buildWeb({ outDir: assets }); // the production build: minified, hashed, precompressed
    // The kiosk a renter scans: online (a kioskd on simulated hardware) with films disks ready,
    // so its Rent button is live (an offline or sold-out kiosk shows the button disabled).
    const fleet = await startFleet({
      dir: path.join(dir, 'fleet'),
      kiosks: 1,
      backing: 'directory',
      readyStock: 'registered',
      kioskLogLevel: 'warn',
      hub: { logLevel: 'silent', webAssetDir: assets },
      cleanup,
    });
    const hub = fleet.hub;
    const kiosk = fleet.kiosks[0]!;
    const type = fleet.diskTypes[0]!;
    const title = fleet.content.find((c) => c.spec.id === type.contentId)?.spec.title;
    if (!title) throw new Error(`no content ${type.contentId}`);
    // The floor: an empty page from a plain Node HTTP server on loopback, with the pages'
    // headers, through the same throttled browser (the hub's routes are fixed once it listens).
    const floorServer = createServer((_req, res) => {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-cache',
        'content-security-policy': CONTENT_SECURITY_POLICY,
        'x-content-type-options': 'nosniff',
      });
      res.end(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>floor</title></head><body><p>floor</p></body></html>\n',
      );
    });
    await new Promise<void>((resolve) => floorServer.listen(0, '127.0.0.1', resolve));
    cleanup.add('stop the floor server', () => new Promise((r) => floorServer.close(r)));
    const floorPort = (floorServer.address() as AddressInfo).port;

    const browser = await chromium.launch({
      executablePath: o.chromium,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    cleanup.add('close the browser', () => browser.close());
    const page = `${hub.baseUrl}/k/${kiosk.id}`;
    const floor = `http://127.0.0.1:${floorPort}/`;
    // The offer's disk type with its content title and its Rent button, enabled (in stock).
    const ready: Offer = { typeId: type.id, title };
    await measure(browser, page, ready); // warm the hub (first reads of the manifest, SQLite)
    const pageRuns: Sample[] = [];
    const floorRuns: Sample[] = [];
    for (let i = 0; i < runs; i++) {
      floorRuns.push(await measure(browser, floor, 'dcl'));
      pageRuns.push(await measure(browser, page, ready));
    }
    const f = {
      fcp: median(floorRuns.map((s) => s.fcp)),
      usable: median(floorRuns.map((s) => s.usable)),
    };
    const p = {
      fcp: median(pageRuns.map((s) => s.fcp)),
      usable: median(pageRuns.map((s) => s.usable)),
    };
    const ms = (x: number) => `${Math.round(x)} ms`.padStart(8);
    const [l1, l5, l15] = os.loadavg().map((x) => x.toFixed(2));
    process.stdout.write(
      [
        `bench:web: /k/<id> in Chromium, Fast 3G (562.5 ms RTT, 1.47 Mbit/s down) and CPU ${CPU_SLOWDOWN}x slower, cold, median of ${runs}`,
        `                      FCP    usable`,
        `empty page (floor) ${ms(f.fcp)}  ${ms(f.usable)}`,
        `/k/<id>            ${ms(p.fcp)}  ${ms(p.usable)}`,
        `ratio to the floor ${`${(p.fcp / f.fcp).toFixed(2)}x`.padStart(8)}  ${`${(p.usable / f.usable).toFixed(2)}x`.padStart(8)}`,
        `aim: usable within ${AIM_MS} ms: ${p.usable <= AIM_MS ? 'met' : 'NOT met'}`,
        `load average: ${l1} ${l5} ${l15} (${os.cpus().length} cores)`,
        `runs (usable, ms): page ${pageRuns.map((s) => Math.round(s.usable)).join(' ')}; floor ${floorRuns.map((s) => Math.round(s.usable)).join(' ')}`,
        '',
      ].join('\n'),
    );
  } finally {
    await cleanup.run();
    release();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench:web: ${err.message}\n`);
  process.exit(1);
});
