// Browser test of paying a notice by card, end to end, in Debian's Chromium against the real
// `sportello serve --demo` binary and the repository's Stripe-compatible test server
// (`tests/examples/fake_stripe.rs`, built by `cargo test`): its accounts, intents, signed
// webhook deliveries and a stand-in for Stripe.js's Payment Element (tests/support/stripe.md).
//
//   Pisa's administrator binds the commune's connected account and issues a canteen notice to
//   Giulia Bianchi from the console; Giulia signs in, ticks it in "Da pagare", is told the fee,
//   pays on the payment page (its own Content-Security-Policy lets Stripe.js in), a declined
//   card first, then a good one; Stripe sends her back and tells the server by webhook; the
//   page says paid, with the receipt, which downloads as a PDF. axe-core checks every page.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from './server.mjs';
import * as support from './support.mjs';
import { assertAccessible, openConsole } from './support.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const webDir = path.resolve(here, '..');
const serverBin = path.resolve(webDir, process.env.SPORTELLO_BIN || '../target/debug/sportello');
const stripeBin = path.resolve(
  webDir,
  process.env.FAKE_STRIPE_BIN || path.join(path.dirname(serverBin), 'examples', 'fake_stripe'),
);
const tenantsDir = path.resolve(webDir, '..', 'tenants');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const PASSWORD = 'pagamenti in ordine 2026';
const SECRET_KEY = 'sk_test_sportello_platform';
const GIULIA = 'BNCGLI85M52G702M';

let server;
let stripe;
let stripeUrl;
let browser;
let tmp;
let port;
let account;
const serverOut = { log: '' };
const pisa = (p = '/') => `http://pisa.localhost:${port}${p}`;
const login = (p = '/') => `http://login.localhost:${port}${p}`;

/** Starts the Stripe test server; resolves with its URL. */
function startStripe() {
  return new Promise((resolve, reject) => {
    stripe = spawn(stripeBin, [], { stdio: ['ignore', 'pipe', 'inherit'] });
    stripe.on('error', (e) => reject(new Error(`cannot run ${stripeBin}: ${e.message}`)));
    stripe.on('exit', (c, s) => reject(new Error(`the Stripe test server exited (${c ?? s})`)));
    createInterface({ input: stripe.stdout }).on('line', (line) => {
      const m = /^fake stripe listening on (http:\/\/\S+)$/.exec(line);
      if (m) resolve(m[1]);
    });
  });
}

/** A call to Stripe's API with the platform's secret key. */
async function stripeApi(method, p, params = {}, onAccount = null) {
  const res = await fetch(`${stripeUrl}${p}`, {
    method,
    headers: {
      authorization: `Bearer ${SECRET_KEY}`,
      'content-type': 'application/x-www-form-urlencoded',
      ...(onAccount ? { 'stripe-account': onAccount } : {}),
    },
    body: method === 'GET' ? undefined : new URLSearchParams(params).toString(),
  });
  const body = await res.json();
  assert.equal(res.status, 200, `${method} ${p}: ${JSON.stringify(body)}`);
  return body;
}

/** Stops a process: SIGTERM, then SIGKILL if it has not gone within five seconds. */
function stop(proc) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
  return exited.finally(() => clearTimeout(timer));
}

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'sportello-pay-'));
  stripeUrl = await startStripe();
  // The commune's connected account, and the platform's webhook endpoint for connected
  // accounts' events: its address is known once the server listens.
  account = (await stripeApi('POST', '/v1/accounts', { type: 'standard', country: 'IT' })).id;
  const endpoint = await stripeApi('POST', '/v1/webhook_endpoints', {
    url: 'http://127.0.0.1:9/',
    'enabled_events[]': '*',
    connect: 'true',
  });
  let started;
  [started, browser] = await Promise.all([
    startServer(
      serverBin,
      {
        tmp,
        tenantsDir,
        env: {
          SPORTELLO_STRIPE__SECRET_KEY: SECRET_KEY,
          SPORTELLO_STRIPE__PUBLISHABLE_KEY: 'pk_test_sportello_platform',
          SPORTELLO_STRIPE__WEBHOOK_SECRET: endpoint.secret,
          SPORTELLO_STRIPE__API_URL: stripeUrl,
          SPORTELLO_STRIPE__JS_URL: `${stripeUrl}/v3/`,
        },
      },
      serverOut,
    ),
    chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    }),
  ]);
  ({ proc: server, port } = started);
  await stripeApi('POST', `/v1/webhook_endpoints/${endpoint.id}`, {
    url: `http://localhost:${port}/stripe/webhook`,
  });
});

after(async () => {
  await browser?.close();
  await stop(server);
  stripe?.removeAllListeners('exit');
  await stop(stripe);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function submitWith(page, button) {
  await Promise.all([page.waitForLoadState(), page.waitForNavigation(), button.click()]);
}

test('a canteen notice paid by card, a declined card first', { timeout: 180_000 }, async (t) => {
  // --- Pisa's administrator: the connected account, then a notice for Giulia -----------------
  const link = await support.inviteLink(
    { serverBin, tmp, tenantsDir, port },
    ['staff', 'invite', '050026', '--email', 'ragioneria@comune.pisa.it', '--name', 'Rita Ragioneria', '--role', 'admin'],
    pisa(''),
  );
  const staffContext = await browser.newContext();
  t.after(() => staffContext.close());
  const admin = await staffContext.newPage();
  await support.acceptInvitation(admin, link, pisa(''), { email: 'ragioneria@comune.pisa.it' }, 'Console del comune', PASSWORD);
  await openConsole(admin, pisa('/console/pagamenti'));
  const settings = admin.locator('form[action="/console/pagamenti/impostazioni"]');
  await settings.locator('[name=tax_code]').fill('00341620508');
  // The box is drawn by its label (Bootstrap Italia), which takes the click.
  await settings.locator('label', { hasText: 'Mensa scolastica' }).click();
  assert.equal(await settings.locator('[name="kind:canteen"]').isChecked(), true);
  await settings.locator('[name=stripe_account]').fill(account);
  await submitWith(admin, settings.locator('button[type=submit]'));
  assert.match(admin.url(), /esito=salvato/, 'the settings are saved');
  const notice = admin.locator('form[action="/console/pagamenti/avvisi"]');
  await notice.locator('[name=reference]').fill('MENSA-2026-10-001');
  await notice.locator('[name=fiscal_code]').fill(GIULIA);
  await notice.locator('[name=payer_name]').fill('Giulia Bianchi');
  await notice.locator('[name=kind]').selectOption("canteen");
  await notice.locator('[name=reason]').fill('Mensa scolastica, ottobre 2026');
  await notice.locator('[name=amount]').fill('45,60');
  await notice.locator('[name=due_on]').fill('2030-10-31');
  await submitWith(admin, notice.locator('button[type=submit]'));
  assert.match(admin.url(), /\/console\/pagamenti\/avvisi\/\d{18}\?esito=creato/, 'the notice is issued');
  const number = /avvisi\/(\d{18})/.exec(admin.url())[1];

  // --- Giulia ------------------------------------------------------------------------------------
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  const blocked = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) blocked.push(m.text());
  });
  await page.goto(pisa('/area-personale/pagamenti'));
  assert.equal(new URL(page.url()).host, `login.localhost:${port}`, 'sent to the sign-in host');
  await Promise.all([
    page.waitForURL(login('/demo/identita')),
    page.locator('a[href="/demo/identita"]').click(),
  ]);
  await Promise.all([
    page.waitForURL((u) => u.host === `pisa.localhost:${port}`),
    page.getByRole('button', { name: 'Entra come Giulia Bianchi' }).click(),
  ]);
  await page.goto(pisa('/area-personale/pagamenti'));
  const row = page.locator(`#notice-${number}`);
  assert.match(await row.innerText(), /45,60/, 'the notice is in "Da pagare" with its amount');
  await assertAccessible(page, '"Da pagare" with a notice to pay');
  await row.locator(`label[for="pay-${number}"]`).click();
  assert.equal(await row.locator('input[type=checkbox]').isChecked(), true);
  await submitWith(page, page.locator('#pay-notices button[type=submit]'));
  assert.match(page.url(), /\/area-personale\/pagamenti\/pagamento\/[^/?]+$/, 'on the payment page');
  assert.match(await page.locator('#payment-fee').innerText(), /1,00/, 'the fee is said before paying');
  assert.match(await page.locator('#payment-total').innerText(), /46,60/, 'and the total');

  // The Payment Element is drawn: Stripe.js was let in by the page's policy, and pay.js ran.
  const number_ = page.locator('#stripe-card-number');
  await number_.waitFor({ timeout: 10_000 });
  assert.equal(await page.locator('#pay-form').isVisible(), true, 'the card form is shown');
  await assertAccessible(page, 'the payment page with the card form');

  // A declined card: Stripe's message on the page, the page stays, nothing is paid.
  await number_.fill('4000 0000 0000 0002');
  await page.locator('#stripe-card-expiry').fill('12 / 30');
  await page.locator('#stripe-card-cvc').fill('123');
  const pageUrl = page.url();
  await page.locator('#pay-form button[type=submit]').click();
  await page.waitForFunction(() => document.getElementById('pay-error').textContent.length > 0);
  assert.match(await page.locator('#pay-error').innerText(), /declined/, 'the decline is said');
  assert.equal(page.url(), pageUrl, 'still on the payment page');
  assert.equal(await page.locator('#pay-form button[type=submit]').isEnabled(), true, 'may try again');

  // A good card: Stripe sends the browser back; the server asks Stripe and records it paid.
  await number_.fill('4242 4242 4242 4242');
  await Promise.all([
    page.waitForURL(/redirect_status=succeeded/),
    page.locator('#pay-form button[type=submit]').click(),
  ]);
  await page.waitForLoadState();
  const receipt = page.locator('#receipt a');
  assert.equal(await receipt.count(), 1, `a receipt link:\n${(await page.locator('main').innerText()).slice(0, 600)}`);
  assert.equal(await page.locator('#pay-form').count(), 0, 'no card form once paid');
  await assertAccessible(page, 'the paid payment page');
  // The receipt, fetched by the page itself (with its cookies, on its host).
  const pdf = await page.evaluate(async (href) => {
    const r = await fetch(href);
    const head = new Uint8Array(await r.arrayBuffer()).subarray(0, 5);
    return { status: r.status, type: r.headers.get('content-type'), head: String.fromCharCode(...head) };
  }, await receipt.getAttribute('href'));
  assert.deepEqual(pdf, { status: 200, type: 'application/pdf', head: '%PDF-' }, 'the receipt is a PDF');

  // "Da pagare": the notice is paid, the payment listed with its receipt.
  await page.goto(pisa('/area-personale/pagamenti'));
  assert.equal(await page.locator(`#notice-${number} input[type=checkbox]`).count(), 0, 'nothing left to tick');
  assert.match(await page.locator('#my-payments').innerText(), /46,60/, 'the payment is listed');
  assert.deepEqual(blocked, [], 'the page policy blocked nothing Stripe.js needs');

  // Stripe's own delivery reached the server too: the signed `payment_intent.succeeded` event
  // was accepted (a 2xx takes it off the event's pending webhooks).
  let pending;
  for (let i = 0; i < 50; i += 1) {
    const events = await stripeApi('GET', '/v1/events?type=payment_intent.succeeded', {}, account);
    assert.equal(events.data.length, 1, 'one payment succeeded at Stripe');
    pending = events.data[0].pending_webhooks;
    if (pending === 0) break;
    await support.sleep(100);
  }
  assert.equal(pending, 0, `the webhook was not accepted:\n${serverOut.log.slice(-2000)}`);
});
