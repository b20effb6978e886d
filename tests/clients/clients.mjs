// The real clients, unmodified, pointed at nudged's collector. Run by
// tests/integration/collector_tests.py:
//   node clients.mjs CLIENT HOST:PORT WRITEKEY USERID
// CLIENT is segment-node (@segment/analytics-node), rudder-node
// (@rudderstack/rudder-sdk-node, gzip on: its default) or browser (Debian's
// chromium, headless, driven by puppeteer-core, running analytics-next's umd
// bundle from a page on another origin, so CORS is exercised). Each sends an
// identify with an email, a page view and one "Order Completed", and exits 0
// only when the client reports no error. Every wait is bounded.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const [client, hostport, writeKey, userId] = process.argv.slice(2);
const deadline = setTimeout(() => { console.error('clients.mjs: timed out'); process.exit(3); }, 60000);

async function segmentNode() {
  const { Analytics } = require('@segment/analytics-node');
  const errors = [];
  const a = new Analytics({ writeKey, host: `http://${hostport}`, flushAt: 1, maxRetries: 1 });
  a.on('error', (e) => errors.push(e));
  a.identify({ userId, traits: { email: `${userId}@example.com` } });
  a.page({ userId, name: 'Pricing', properties: { path: '/pricing' } });
  a.track({ userId, event: 'Order Completed', properties: { total: 42 } });
  await a.closeAndFlush({ timeout: 20000 });
  if (errors.length) throw new Error('segment-node: ' + errors.map(String).join('; '));
}

async function rudderNode() {
  const Analytics = require('@rudderstack/rudder-sdk-node');
  const a = new Analytics(writeKey, { dataPlaneUrl: `http://${hostport}`, flushAt: 3, flushInterval: 200 });
  const errors = [];
  const cb = (err) => { if (err) errors.push(err); };
  a.identify({ userId, traits: { email: `${userId}@example.com` } }, cb);
  a.page({ userId, name: 'Pricing', properties: { path: '/pricing' } }, cb);
  a.track({ userId, event: 'Order Completed', properties: { total: 42 } }, cb);
  await a.flush();
  if (errors.length) throw new Error('rudder-node: ' + errors.map(String).join('; '));
}

// A page on its own origin that loads analytics-next and reports each call.
function servePage() {
  const umd = path.join(here, 'node_modules/@segment/analytics-next/dist/umd');
  const page = `<!doctype html><html><head><title>shop</title>
<script src="/umd/index.js"></script></head><body><script>
window.done = (async () => {
  const [analytics] = await AnalyticsNext.AnalyticsBrowser.load({
    writeKey: ${JSON.stringify(writeKey)},
    cdnSettings: { integrations: { 'Segment.io': { apiKey: ${JSON.stringify(writeKey)},
                   apiHost: ${JSON.stringify(hostport + '/v1')}, protocol: 'http' } } },
  }, { retryQueue: false });
  const out = [];
  out.push((await analytics.identify(${JSON.stringify(userId)}, { email: ${JSON.stringify(userId + '@example.com')} })).event.type);
  out.push((await analytics.page('Pricing')).event.type);
  out.push((await analytics.track('Order Completed', { total: 42 })).event.type);
  return out;
})();
</script></body></html>`;
  const server = http.createServer((req, res) => {
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(page);
      return;
    }
    const file = path.join(umd, path.basename(req.url.replace(/^\/umd\//, '')));
    if (!req.url.startsWith('/umd/') || !fs.existsSync(file)) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': 'application/javascript' });
    fs.createReadStream(file).pipe(res);
  });
  // PAGE_PORT: the page's origin, so the test can name it in cors_origins.
  const port = Number(process.env.PAGE_PORT || 0);
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

async function browser() {
  const puppeteer = require('puppeteer-core');
  const server = await servePage();
  const b = await puppeteer.launch({ executablePath: '/usr/bin/chromium', headless: true,
                                     args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  try {
    const page = await b.newPage();
    const statuses = [];
    page.on('response', (r) => { if (r.url().includes(hostport)) statuses.push(`${r.request().method()} ${r.status()}`); });
    page.on('requestfailed', (r) => statuses.push(`failed ${r.url()} ${r.failure()?.errorText}`));
    await page.goto(`http://127.0.0.1:${server.address().port}/`, { timeout: 20000 });
    const types = await page.evaluate(() => window.done);
    // analytics-next resolves a call before its request ends: wait for the three.
    const end = Date.now() + 20000;
    while (statuses.filter((s) => s.startsWith('POST')).length < 3 && Date.now() < end)
      await new Promise((r) => setTimeout(r, 100));
    console.log(JSON.stringify({ types, statuses }));
    const bad = statuses.filter((s) => !/^(POST 200|OPTIONS 204)$/.test(s));
    if (bad.length || statuses.filter((s) => s === 'POST 200').length !== 3)
      throw new Error('browser: unexpected answers: ' + JSON.stringify(statuses));
  } finally {
    await b.close();
    server.close();
  }
}

const run = { 'segment-node': segmentNode, 'rudder-node': rudderNode, browser }[client];
if (!run) { console.error('usage: node clients.mjs segment-node|rudder-node|browser HOST:PORT WRITEKEY USERID'); process.exit(2); }
run().then(() => { clearTimeout(deadline); process.exit(0); },
           (e) => { console.error(String(e && e.stack || e)); process.exit(1); });
