// Browser tests of the public portal: the real `sportello serve --demo` binary, headless
// Chromium driven by playwright-core, and axe-core for WCAG 2.1 A/AA.
//
// Run with `npm test` in web/. The server binary is taken from $SPORTELLO_BIN, or else
// ../target/debug/sportello (build it first with `cargo build`). Chromium is Debian's
// /usr/bin/chromium, or $CHROMIUM_PATH.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './server.mjs';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const webDir = path.resolve(here, '..');
const repoDir = path.resolve(webDir, '..');
const serverBin = path.resolve(webDir, process.env.SPORTELLO_BIN || '../target/debug/sportello');
const tenantsDir = path.join(repoDir, 'tenants');
const axePath = path.join(webDir, 'node_modules', 'axe-core', 'axe.min.js');
// Evaluated through the DevTools protocol, which the pages' Content-Security-Policy (no
// script at all) does not govern: the pages are checked as served, policy included.
const axeSource = readFileSync(axePath, 'utf8');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

let server;
const serverOut = { log: '' };
let tmp;
let browser;
let port;

const commune = (p = '/') => `http://pisa.localhost:${port}${p}`;
const apex = (p = '/') => `http://localhost:${port}${p}`;


before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'sportello-web-'));
  let started;
  [started, browser] = await Promise.all([
    startServer(serverBin, { tmp, tenantsDir }, serverOut),
    chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-sync',
      ],
    }),
  ]);
  ({ proc: server, port } = started);
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null && server.signalCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    const timer = setTimeout(() => server.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** A page in a fresh context (no cookies carried over from another test). */
async function freshPage(t) {
  const context = await browser.newContext();
  t.after(() => context.close());
  return context.newPage();
}

test('commune home → services → service card → office hours', async (t) => {
  const page = await freshPage(t);

  const res = await page.goto(commune('/'));
  assert.equal(res.status(), 200);
  const h1 = await page.locator('h1').first().innerText();
  const header = await page.locator('header').innerText();
  assert.ok(
    h1.includes('Pisa') || header.includes('Pisa'),
    `neither the h1 (${JSON.stringify(h1)}) nor the header names Pisa`,
  );

  // Home → services list, by following a link.
  await Promise.all([
    page.waitForURL(commune('/servizi')),
    page.locator('a[href="/servizi"]').first().click(),
  ]);
  assert.match(await page.locator('h1').innerText(), /Servizi/);

  // Services list → the service card.
  const card = page.locator('a[href="/servizi/certificato-residenza"]').first();
  await Promise.all([page.waitForURL(commune('/servizi/certificato-residenza')), card.click()]);
  assert.match(await page.locator('h1').innerText(), /Certificato di residenza/);
  const tempi = page.locator('section#tempi');
  assert.equal(await tempi.count(), 1, 'the service card has no #tempi section');
  assert.match(await tempi.locator('h2').innerText(), /Tempi/);
  assert.match(await tempi.innerText(), /Durata massima del procedimento/);

  // The office page: a week of opening hours, today marked once.
  const office = await page.goto(commune('/uffici/anagrafe'));
  assert.equal(office.status(), 200);
  const rows = page.locator('table.sp-hours tbody tr');
  assert.equal(await rows.count(), 7, 'the hours table should have one row per weekday');
  const todayRows = page.locator('table.sp-hours tbody tr[aria-current="date"]');
  assert.equal(await todayRows.count(), 1, 'exactly one row should be marked as today');
  assert.equal(await page.locator('table.sp-hours tbody tr.sp-today').count(), 1);
  // The marked row is today's weekday in Rome (the server's clock zone).
  const weekday = (d) =>
    new Intl.DateTimeFormat('it-IT', { weekday: 'long', timeZone: 'Europe/Rome' }).format(d);
  const now = Date.now();
  const candidates = new Set([weekday(now - 60_000), weekday(now)]);
  const todayLabel = (await todayRows.locator('th').innerText()).trim().toLowerCase();
  assert.ok(
    [...candidates].some((w) => todayLabel.startsWith(w)),
    `today's row is ${JSON.stringify(todayLabel)}, expected ${[...candidates].join(' or ')}`,
  );
});

/** Runs axe-core (WCAG 2.0/2.1 A and AA) on the page and fails with a readable report. */
async function assertAccessible(page, url, expectedStatus = 200) {
  const res = await page.goto(url);
  assert.equal(res.status(), expectedStatus, `${url}: unexpected status`);
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    }),
  );
  const report = result.violations
    .map((v) => {
      const n = v.nodes[0];
      return (
        `  - ${v.id} [${v.impact}] ${v.help} (${v.nodes.length} node(s))\n` +
        `      target: ${JSON.stringify(n?.target)}\n` +
        `      html:   ${n?.html}`
      );
    })
    .join('\n');
  assert.deepEqual(
    result.violations.map((v) => v.id),
    [],
    `axe found ${result.violations.length} violation(s) on ${url}:\n${report}`,
  );
  return result;
}

test('axe-core: no WCAG 2.1 A/AA violations', async (t) => {
  const page = await freshPage(t);
  const pages = [
    [commune('/')],
    [commune('/servizi/certificato-residenza')],
    [commune('/uffici/anagrafe')],
    [commune('/servizi')],
    [commune('/personale')],
    [commune('/cerca?q=anagrafe')],
    [commune('/servizi/certificato-residenza?lang=en')],
    [apex('/?q=pisa')],
    [commune('/privacy')],
    [commune('/privacy?lang=en')],
    [commune('/note-legali')],
    [commune('/cookie')],
    [commune('/accessibilita')],
    [apex('/privacy')],
    // German beside the Italian (Bolzano/Bozen).
    [`http://bolzano.localhost:${port}/servizi/certificato-residenza`],
    [`http://bolzano.localhost:${port}/uffici/anagrafe`],
    [`http://bolzano.localhost:${port}/servizi`],
    [`http://nowhere.localhost:${port}/`, 404],
  ];
  for (const [url, status] of pages) {
    await t.test(url, async () => {
      const result = await assertAccessible(page, url, status);
      assert.ok(result.passes.length > 0, `axe ran no passing rule on ${url}`);
    });
  }
});

test('search: the service people mean comes first, from the search box', async (t) => {
  const page = await freshPage(t);
  for (const [words, first] of [
    ['CIE', '/servizi/carta-identita-elettronica'],
    ["carta d'identità", '/servizi/carta-identita-elettronica'],
    ['residenza', '/servizi/cambio-residenza'],
  ]) {
    await page.goto(commune('/'));
    await page.locator('#site-search').fill(words);
    await Promise.all([page.waitForURL(/\/cerca\?/), page.locator('#site-search').press('Enter')]);
    const found = page.locator('#res-services-h + ul a');
    assert.equal(await found.first().getAttribute('href'), first, `first result for ${words}`);
  }
  // The federation's portal finds communes by region.
  await page.goto(apex('/?q=Toscana'));
  assert.ok((await page.locator('main').innerText()).includes('Volterra'));
});

test('language switch sets English and the choice sticks', async (t) => {
  const page = await freshPage(t);
  await page.goto(commune('/servizi'));
  assert.equal(await page.locator('html').getAttribute('lang'), 'it');

  const sw = page.locator('a.sp-lang-switch');
  await Promise.all([page.waitForURL(/[?&]lang=en\b/), sw.click()]);
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');

  const cookies = await page.context().cookies(commune('/'));
  assert.equal(cookies.find((c) => c.name === 'lang')?.value, 'en', 'no lang=en cookie');

  // A plain link, no ?lang= in it: the cookie keeps English.
  await Promise.all([
    page.waitForURL(commune('/uffici')),
    page.locator('nav a[href="/uffici"]').first().click(),
  ]);
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  assert.match(await page.locator('h1').innerText(), /Offices/i);
});
