// Every kind of form, at a phone's width (390 px) and a desk's (1280 px): empty, prefilled by the
// server, and sent back after a refusal. No label may sit on its field's text, on another label,
// on a heading or on a checkbox; a refused form keeps what was typed, says why by each field in
// the page's language, and its summary (focused) links to each field; and axe finds nothing.
//
// Against the real `sportello serve --demo` binary (see server.mjs), in Debian's Chromium.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from './server.mjs';
import * as support from './support.mjs';
import { assertAccessible, openConsole, overlaps } from './support.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const webDir = path.resolve(here, '..');
const serverBin = path.resolve(webDir, process.env.SPORTELLO_BIN || '../target/debug/sportello');
const tenantsDir = path.resolve(webDir, '..', 'tenants');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const PASSWORD = 'tastiera lenta 2026';
const WIDTHS = [390, 1280];

let server;
let browser;
let tmp;
let port;
const serverOut = { log: '' };
const pisa = (p = '/') => `http://pisa.localhost:${port}${p}`;
const apex = (p = '/') => `http://localhost:${port}${p}`;
const login = (p = '/') => `http://login.localhost:${port}${p}`;
const cliCtx = () => ({ serverBin, tmp, tenantsDir, port });

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'sportello-forms-'));
  let started;
  [started, browser] = await Promise.all([
    startServer(serverBin, { tmp, tenantsDir }, serverOut),
    chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    }),
  ]);
  ({ proc: server, port } = started);
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null && server.signalCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Checks the page as it is, at each width; `what` names it in the failures. */
async function checkLayout(page, what) {
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    assert.deepEqual(await overlaps(page), [], `${what} at ${width} px`);
  }
  await assertAccessible(page, what);
}

/** A refused form came back: its summary is focused, and each link points at a field. */
async function checkRefused(page, what, expectedFields) {
  const summary = page.locator('#error-summary');
  assert.equal(await summary.count(), 1, `${what}: no error summary`);
  assert.equal(
    await page.evaluate(() => document.activeElement?.id),
    'error-summary',
    `${what}: the summary does not take the focus`,
  );
  const targets = await summary.locator('a').evaluateAll((as) => as.map((a) => a.hash));
  assert.deepEqual(targets, expectedFields.map((f) => `#${f}`), `${what}: summary links`);
  for (const t of targets) {
    const field = page.locator(t);
    assert.equal(await field.count(), 1, `${what}: ${t} is not on the page`);
    assert.equal(await field.getAttribute('aria-invalid'), 'true', `${what}: ${t}`);
    const described = await field.getAttribute('aria-describedby');
    assert.ok(described?.includes(`${t.slice(1)}-error`), `${what}: ${t} does not cite its error`);
  }
  await checkLayout(page, what);
}

async function freshPage(t) {
  const context = await browser.newContext();
  t.after(() => context.close());
  return context.newPage();
}

test('the sign-in host: registration, sign-in and recovery forms', { timeout: 60_000 }, async (t) => {
  const page = await freshPage(t);
  for (const url of [login('/registrati'), login('/'), login('/recupero')]) {
    await page.goto(url);
    await checkLayout(page, `${url} (empty)`);
  }
  await page.goto(login('/registrati'));
  await page.locator('#family_name').fill('Bianchi');
  await page.locator('#email').fill('bianchi@');
  await page.locator('#password').fill('corta');
  await page.locator('#password_again').fill('corta');
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST'),
    page.locator('form#register-form button[type=submit]').click(),
  ]);
  assert.equal(res.status(), 400);
  await page.waitForLoadState();
  await checkRefused(page, 'the registration refused', ['given_name', 'email', 'password', 'privacy']);
  assert.equal(await page.locator('#family_name').inputValue(), 'Bianchi', 'the value is kept');
  assert.equal(await page.locator('#email').inputValue(), 'bianchi@');
  assert.equal(await page.locator('#password').inputValue(), '', 'a password is never sent back');
  assert.match(await page.locator('#privacy-error').innerText(), /informativa/);
  // The notice the consent box asks about is one click away.
  assert.equal(await page.locator('#register-form a[href$="/privacy"]').count(), 1);
});

test('the commune console: prefilled forms, a refused one, and the destructive ones', { timeout: 120_000 }, async (t) => {
  const link = await support.inviteLink(
    cliCtx(),
    ['staff', 'invite', '050026', '--email', 'moduli@comune.pisa.it', '--name', 'Mara Moduli', '--role', 'admin'],
    pisa(''),
  );
  const page = await freshPage(t);
  const who = { email: 'moduli@comune.pisa.it' };
  await support.acceptInvitation(page, link, pisa(''), who, 'Console del comune', PASSWORD, {
    wrongFirst: true,
  });
  for (const p of [
    '/console/uffici',
    '/console/uffici/anagrafe',
    '/console/servizi/certificato-residenza',
    '/console/personale',
    '/console/impostazioni',
    '/console/identita',
    '/console/supporto',
    '/console/messaggi',
  ]) {
    await openConsole(page, pisa(p));
    await checkLayout(page, `${p} (prefilled)`);
  }
  // A mistake in the office form: the same form, the typed hours kept, the reason by them.
  await openConsole(page, pisa('/console/uffici/anagrafe'));
  await page.locator('#s1-hours').fill('lun 8.30-12.30');
  await page.locator('#s1-email').fill('non-un-indirizzo');
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST'),
    page.locator('#s1-form button[type=submit]').click(),
  ]);
  assert.equal(res.status(), 400);
  await page.waitForLoadState();
  await checkRefused(page, 'the office form refused', ['s1-email', 's1-hours']);
  assert.equal(await page.locator('#s1-hours').inputValue(), 'lun 8.30-12.30');
  assert.match(await page.locator('#s1-hours-error').innerText(), /«8\.30-12\.30» non è un orario/);
  // Deleting the office asks first: the reason and the tick, refused without them.
  const del = page.locator('form[action="/console/uffici/anagrafe/elimina"]');
  assert.equal(await del.count(), 1, 'the office page offers its deletion');
  const reasonId = await del.locator('textarea').getAttribute('id');
  const confirmId = await del.locator('input[type=checkbox]').getAttribute('id');
  await Promise.all([page.waitForLoadState(), del.locator('button[type=submit]').click()]);
  await page.waitForSelector('#error-summary');
  await checkRefused(page, 'the deletion without a reason', [reasonId, confirmId]);
});

test('the federation console: onboarding and suspension forms', { timeout: 120_000 }, async (t) => {
  const link = await support.inviteLink(
    cliCtx(),
    ['staff', 'invite-federation', '--email', 'moduli@federazione.example', '--name', 'Fede Moduli'],
    apex(''),
  );
  const page = await freshPage(t);
  const who = { email: 'moduli@federazione.example' };
  await support.acceptInvitation(page, link, apex(''), who, 'Console della federazione', PASSWORD);
  for (const p of ['/console', '/console/comuni?q=pisa', '/console/comuni/nuovo?istat=050001', '/console/comuni/050026/stato']) {
    await openConsole(page, apex(p));
    await checkLayout(page, `${p} (prefilled)`);
  }
  await openConsole(page, apex('/console/comuni/nuovo?istat=050001'));
  await page.locator('#s1-admin_email').fill('sindaco@');
  await Promise.all([page.waitForLoadState(), page.locator('#s1-form button[type=submit]').click()]);
  await page.waitForSelector('#error-summary');
  await checkRefused(page, 'the onboarding refused', ['s1-admin_email']);
  assert.equal(await page.locator('#s1-admin_email').inputValue(), 'sindaco@');
});
