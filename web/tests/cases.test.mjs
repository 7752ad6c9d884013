// Browser test of a case from the request to the answer, against the real `sportello serve
// --demo` binary in Debian's Chromium (playwright-core), with axe-core on every new page:
//
//   a citizen signed in at level 2 (the demo identity provider) fills the ZTL permit's form over
//   two pages, meets a refusal and a same-page condition, attaches a file, saves, signs out,
//   signs in again, resumes the draft, submits and gets the protocol number; a clerk takes the
//   case in charge and asks for a document; the citizen answers; the clerk accepts; the citizen
//   rates the service; the status page finds it by number and code.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from './server.mjs';
import * as support from './support.mjs';
import { assertAccessible, openConsole } from './support.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const webDir = path.resolve(here, '..');
const serverBin = path.resolve(webDir, process.env.SPORTELLO_BIN || '../target/debug/sportello');
const tenantsDir = path.resolve(webDir, '..', 'tenants');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const PASSWORD = 'pratiche in ordine 2026';

let server;
let browser;
let tmp;
let port;
const serverOut = { log: '' };
const pisa = (p = '/') => `http://pisa.localhost:${port}${p}`;
const login = (p = '/') => `http://login.localhost:${port}${p}`;

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'sportello-cases-'));
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

/** Signs in through the demo identity provider as Giulia Bianchi (level 2), ending on `next`. */
async function signInAsGiulia(page, next) {
  await page.goto(next);
  assert.equal(new URL(page.url()).host, `login.localhost:${port}`, 'sent to the sign-in host');
  await Promise.all([
    page.waitForURL(login('/demo/identita')),
    page.locator('a[href="/demo/identita"]').click(),
  ]);
  await Promise.all([
    page.waitForURL((u) => u.host === `pisa.localhost:${port}`),
    page.getByRole('button', { name: 'Entra come Giulia Bianchi' }).click(),
  ]);
}

async function submitWith(page, button) {
  await Promise.all([page.waitForLoadState(), page.waitForNavigation(), button.click()]);
}

test('a ZTL permit from the form to the rating', { timeout: 180_000 }, async (t) => {
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await context.newPage();

  // The service card leads to the form; signing in at level 2 comes first.
  await page.goto(pisa('/servizi/permesso-ztl'));
  const start = page.locator('#start-here');
  assert.equal(await start.count(), 1, 'the service is online here');
  await signInAsGiulia(page, pisa('/servizi/permesso-ztl/avvia'));
  assert.match(page.url(), /\/pratiche\/compila\/permesso-ztl/);
  await assertAccessible(page, 'the form, page 1');

  // Page 1: the address missing is refused by its field; the typed category is kept.
  await page.locator('#f-categoria').selectOption('residente');
  await submitWith(page, page.getByRole('button', { name: 'Avanti' }));
  await page.waitForSelector('#error-summary');
  assert.equal(await page.locator('#f-categoria').inputValue(), 'residente');
  assert.equal(await page.locator('#f-indirizzo').getAttribute('aria-invalid'), 'true');
  await assertAccessible(page, 'the form, page 1, refused');
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    assert.deepEqual(await support.overlaps(page), [], `the refused form at ${width} px`);
  }
  await page.locator('#f-indirizzo').fill('Via San Martino 20');
  await submitWith(page, page.getByRole('button', { name: 'Avanti' }));
  assert.match(page.url(), /pagina=1/);

  // Page 2: the plate, the date, a file attached, then saved for later.
  await page.locator('#f-targa').fill('AB123CD');
  const from = new Date(Date.now() + 3 * 86400_000).toISOString().slice(0, 10);
  await page.locator('#f-decorrenza').fill(from);
  await submitWith(page, page.getByRole('button', { name: 'Salva e continua dopo' }));
  const file = path.join(tmp, 'libretto.pdf');
  writeFileSync(file, '%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n');
  await page.locator('#f-libretto-file').setInputFiles(file);
  await submitWith(page, page.getByRole('button', { name: 'Allega il file' }));
  assert.match(await page.locator('#files-libretto').innerText(), /libretto\.pdf/);
  assert.equal(await page.locator('#f-targa').inputValue(), 'AB123CD', 'the saved plate is there');
  await assertAccessible(page, 'the form, page 2, with a file');

  // Signed out and back: the draft waits in "my cases".
  await context.clearCookies();
  await signInAsGiulia(page, pisa('/area-personale/pratiche'));
  await page.goto(pisa('/area-personale/pratiche'));
  await assertAccessible(page, 'my cases, with a draft');
  await submitWith(page, page.locator('#drafts a').first());
  await page.goto(pisa('/pratiche/compila/permesso-ztl?pagina=1'));
  assert.equal(await page.locator('#f-targa').inputValue(), 'AB123CD');
  await page.locator('label[for="f-dichiarazione"]').click();
  await submitWith(page, page.getByRole('button', { name: 'Avanti' }));
  assert.match(page.url(), /riepilogo/);
  assert.match(await page.locator('#signed-note').innerText(), /istanza firmata/);
  await assertAccessible(page, 'the summary');
  await submitWith(page, page.getByRole('button', { name: 'Invia la domanda' }));
  const protocol = (await page.locator('#submitted-protocol').innerText()).trim();
  assert.match(protocol, /^\d{4}\/0000001$/);
  const code = (await page.locator('#case-code').innerText()).trim();
  const casePath = new URL(page.url()).pathname;
  await assertAccessible(page, 'the case page, just submitted');

  // The sign-in host lists her cases in every commune, each linking to its commune.
  await page.goto(login('/'));
  assert.match(await page.locator('#everywhere').innerText(), new RegExp(protocol));
  await assertAccessible(page, 'the sign-in host, with cases across communes');

  // A clerk of Pisa works it.
  const link = await support.inviteLink(
    { serverBin, tmp, tenantsDir, port },
    ['staff', 'invite', '050026', '--email', 'vigile@comune.pisa.it', '--name', 'Vera Vigile', '--role', 'clerk'],
    pisa(''),
  );
  const staffContext = await browser.newContext();
  t.after(() => staffContext.close());
  const clerk = await staffContext.newPage();
  await support.acceptInvitation(clerk, link, pisa(''), { email: 'vigile@comune.pisa.it' }, 'Console del comune', PASSWORD);
  await openConsole(clerk, pisa('/console/pratiche'));
  await assertAccessible(clerk, 'the back office queue');
  await submitWith(clerk, clerk.getByRole('link', { name: protocol }));
  await assertAccessible(clerk, 'the back office case page');
  await submitWith(clerk, clerk.getByRole('button', { name: 'Prendi in carico' }).last());
  const ask = clerk.locator('form', { has: clerk.locator('input[name=azione][value=chiedi]') });
  await ask.locator('textarea').fill('Manca la carta di circolazione del secondo veicolo?');
  await submitWith(clerk, ask.locator('button[type=submit]'));

  // The citizen answers the request.
  await page.goto(pisa(casePath));
  assert.match(await page.locator('#history').innerText(), /carta di circolazione/);
  await assertAccessible(page, 'the case page, waiting for the citizen');
  await page.locator('#reply-text').fill('Non c’è un secondo veicolo: solo AB123CD.');
  await submitWith(page, page.getByRole('button', { name: 'Invia' }));
  assert.match(await page.locator('#notice').innerText(), /inviato/);

  // The clerk accepts.
  await clerk.reload();
  const decide = clerk.locator('form', { has: clerk.locator('input[name=azione][value=esito]') });
  await submitWith(clerk, decide.locator('button[type=submit]'));

  // The citizen sees the outcome and rates the service.
  await page.goto(pisa(casePath));
  assert.match(await page.locator('#status').innerText(), /Accolta/);
  await page.locator('label[for="stelle-4"]').click();
  await submitWith(page, page.locator('#stars-form button[type=submit]'));
  await assertAccessible(page, 'the rating, second step');
  await page.locator('label[for="answer-clear"]').click();
  await submitWith(page, page.getByRole('button', { name: 'Invia la valutazione' }));
  assert.equal(await page.locator('#rated').count(), 1);

  // Anyone with the receipt: the status by number and code.
  const anon = await browser.newContext();
  t.after(() => anon.close());
  const visitor = await anon.newPage();
  await visitor.goto(pisa('/stato-pratica'));
  await assertAccessible(visitor, 'the status page');
  await visitor.locator('#q-protocol').fill(protocol);
  await visitor.locator('#q-code').fill(code);
  await submitWith(visitor, visitor.getByRole('button', { name: 'Mostra lo stato' }));
  assert.match(await visitor.locator('#found-status').innerText(), /Accolta/);
  await assertAccessible(visitor, 'the status page, found');
});

test('the desk, API access, case settings, the form editor and delegations', { timeout: 180_000 }, async (t) => {
  const staff = async (email, name, role) => {
    const link = await support.inviteLink(
      { serverBin, tmp, tenantsDir, port },
      ['staff', 'invite', '050026', '--email', email, '--name', name, '--role', role],
      pisa(''),
    );
    const context = await browser.newContext();
    t.after(() => context.close());
    const p = await context.newPage();
    await support.acceptInvitation(p, link, pisa(''), { email }, 'Console del comune', PASSWORD);
    return p;
  };

  // A front desk files a report for a citizen who is there.
  const desk = await staff('sportello@comune.pisa.it', 'Sara Sportello', 'front_desk');
  await openConsole(desk, pisa('/console/sportello'));
  await assertAccessible(desk, 'the desk');
  const start = desk.locator('form[action="/console/sportello"]');
  await start.locator('[name=service]').selectOption('segnalazioni');
  await start.locator('[name=fiscal_code]').fill('VRDGPP80A01G702C');
  await start.locator('[name=given_name]').fill('Giuseppe');
  await start.locator('[name=family_name]').fill('Verdi');
  await start.locator('[name=purpose]').fill('Presente allo sportello, carta d’identità CA12345AB');
  await submitWith(desk, start.locator('button[type=submit]'));
  assert.match(desk.url(), /\/console\/sportello\/bozze\/50026\//);
  assert.match(await desk.locator('#for-whom').innerText(), /VRDGPP80A01G702C/);
  await assertAccessible(desk, 'a form filled in at the desk');
  await desk.locator('#f-categoria').selectOption('strade');
  await desk.locator('#f-oggetto').fill('Buca in Via Roma');
  await desk.locator('#f-descrizione').fill('Una buca profonda davanti al civico 3, pericolosa.');
  await desk.locator('#f-luogo').fill('Via Roma 3');
  await submitWith(desk, desk.getByRole('button', { name: 'Avanti' }));
  await desk.locator('#f-email').fill('giuseppe@example.org');
  await submitWith(desk, desk.getByRole('button', { name: 'Avanti' }));
  assert.match(desk.url(), /riepilogo/);
  await assertAccessible(desk, 'the summary at the desk');
  await submitWith(desk, desk.getByRole('button', { name: 'Invia la domanda' }));
  assert.match(desk.url(), /\/console\/sportello\/pratiche\/50026\//);
  assert.match(await desk.locator('main').innerText(), /CA12345AB/);
  await assertAccessible(desk, 'a case filed at the desk');
  await openConsole(desk, pisa('/console/accesso-api'));
  await assertAccessible(desk, 'my API access');

  // An administrator's case settings and form editor, with its preview.
  const admin = await staff('amministra@comune.pisa.it', 'Ada Amministra', 'admin');
  for (const [url, label] of [
    ['/console/pratiche-impostazioni', 'case settings'],
    ['/console/servizi/segnalazioni/modulo', 'the form editor'],
    ['/console/servizi/segnalazioni/modulo/anteprima?pagina=1', 'the form preview'],
  ]) {
    await openConsole(admin, pisa(url));
    await assertAccessible(admin, label);
  }

  // An intermediary's delegations.
  const caf = await staff('caf@cafpisa.it', 'Carla Caf', 'intermediary');
  await openConsole(caf, pisa('/console/deleghe'));
  await assertAccessible(caf, 'delegations');
});
