// Browser test of the population registry in Debian's Chromium against the real
// `sportello serve --demo` binary (its synthetic residents: Giulia Bianchi lives in Pisa with
// her family):
//
//   Giulia signs in at SPID level 2 through the demo identity provider, reads her registry
//   position, downloads a residence certificate with a stamp duty exemption; the 2D code
//   printed on the PDF (rendered by poppler's pdftoppm, read by zbarimg) opens the commune's
//   verification page, which says it is authentic; the CLI verifies the PDF offline with the
//   keys the commune publishes, and refuses it once a byte of its text is changed. The registry
//   office reads her record (saying why), an agency is given an agreement, its verifier checks
//   her, and Giulia sees both looks. axe-core checks every new page.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
const PASSWORD = 'anagrafe in ordine 2026';

let server;
let browser;
let tmp;
let port;
const serverOut = { log: '' };
const pisa = (p = '/') => `http://pisa.localhost:${port}${p}`;
const login = (p = '/') => `http://login.localhost:${port}${p}`;
const ctx = () => ({ serverBin, tmp, tenantsDir, port });

function run(bin, args) {
  return new Promise((resolve, reject) =>
    execFile(bin, args, (err, stdout, stderr) =>
      err ? reject(new Error(`${bin} ${args.join(' ')}: ${err.message} ${stderr}`)) : resolve(stdout),
    ),
  );
}

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'sportello-reg-'));
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
  server?.kill('SIGKILL');
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function submitWith(page, button) {
  await Promise.all([page.waitForLoadState(), page.waitForNavigation(), button.click()]);
}

async function staff(t, email, name, role) {
  const link = await support.inviteLink(
    ctx(),
    ['staff', 'invite', '050026', '--email', email, '--name', name, '--role', role],
    pisa(''),
  );
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  await support.acceptInvitation(page, link, pisa(''), { email }, 'Console del comune', PASSWORD);
  return page;
}

test('a certificate downloaded at level 2, verified by its code and offline', { timeout: 180_000 }, async (t) => {
  // --- Giulia: her position, then a certificate ---------------------------------------------
  const context = await browser.newContext({ acceptDownloads: true });
  t.after(() => context.close());
  const page = await context.newPage();
  await page.goto(pisa('/area-personale/anagrafe'));
  assert.equal(new URL(page.url()).host, `login.localhost:${port}`, 'sent to the sign-in host');
  await Promise.all([page.waitForURL(login('/demo/identita')), page.locator('a[href="/demo/identita"]').click()]);
  await Promise.all([
    page.waitForURL((u) => u.host === `pisa.localhost:${port}`),
    page.getByRole('button', { name: 'Entra come Giulia Bianchi' }).click(),
  ]);
  await page.goto(pisa('/area-personale/anagrafe'));
  assert.match(await page.locator('#my-record').innerText(), /BIANCHI GIULIA/);
  assert.match(await page.locator('#my-address').innerText(), /LUNGARNO PACINOTTI 43/);
  assert.equal(await page.locator('#my-family tbody tr').count(), 3, 'her family of three');
  assert.equal(await page.locator('#no-accesses').count(), 1, 'nobody has looked yet');
  await assertAccessible(page, 'my registry position');

  const form = page.locator('#certificate-form');
  await form.locator('[name=kind]').selectOption('residence');
  await form.locator('[name=purpose]').fill('iscrizione scolastica');
  await form.locator('[name=exemption]').selectOption('school');
  const [download] = await Promise.all([page.waitForEvent('download'), form.locator('button[type=submit]').click()]);
  const pdfPath = path.join(tmp, 'certificato.pdf');
  await download.saveAs(pdfPath);
  const pdf = readFileSync(pdfPath);
  assert.equal(pdf.subarray(0, 5).toString(), '%PDF-', 'a PDF');
  const text = await run('pdftotext', [pdfPath, '-']);
  assert.match(text, /CERTIFICATO DI RESIDENZA/);
  assert.match(text, /art\. 11 Tab\. B DPR 642\/1972/, 'the exemption with its rule');
  assert.match(text, /non può essere prodotto agli organi/, 'the legend of art. 40');

  // --- The code on the PDF opens the verification page ---------------------------------------
  await run('pdftoppm', ['-png', '-r', '200', '-f', '1', '-l', '1', pdfPath, path.join(tmp, 'page')]);
  const png = path.join(tmp, 'page-1.png');
  const code = (await run('zbarimg', ['--raw', '-q', png])).trim();
  assert.ok(code.startsWith(pisa('/verifica?t=SPT1.')), `the code holds the verification address: ${code}`);
  const anyone = await (await browser.newContext()).newPage();
  t.after(() => anyone.context().close());
  await anyone.goto(code);
  assert.equal(await anyone.locator('#verify-result').getAttribute('data-verdict'), 'authentic');
  assert.match(await anyone.locator('#verify-lines').innerText(), /LUNGARNO PACINOTTI n\. 43/);
  await assertAccessible(anyone, 'the verification page with an authentic certificate');
  await anyone.goto(pisa('/verifica'));
  await assertAccessible(anyone, 'the verification page');

  // --- Offline: the CLI with the published keys ------------------------------------------------
  const keys = await anyone.evaluate(() => fetch('/.well-known/timbro-digitale.json').then((r) => r.text()));
  const keysPath = path.join(tmp, 'pisa-keys.json');
  writeFileSync(keysPath, keys);
  const ok = await support.cli(ctx(), ['certificates', 'verify', pdfPath, '--keys', keysPath]);
  assert.match(ok, /^authentic: certificate \d{4}\/\d+ of commune 50026/m);
  const tampered = Buffer.from(pdf.toString('latin1').replace('LUNGARNO PACINOTTI n. 43', 'LUNGARNO PACINOTTI n. 45'), 'latin1');
  assert.notDeepEqual(tampered, pdf);
  const tamperedPath = path.join(tmp, 'tampered.pdf');
  writeFileSync(tamperedPath, tampered);
  await assert.rejects(
    support.cli(ctx(), ['certificates', 'verify', tamperedPath, '--keys', keysPath]),
    /not verified: altered/,
  );

  // --- The registry office, an agency's agreement, its verifier ----------------------------
  const admin = await staff(t, 'anagrafe.demo@comune.pisa.it', 'Ufficio Anagrafe', 'admin');
  await openConsole(admin, pisa('/console/anagrafe?q=BNCGLI85M52G702M'));
  await assertAccessible(admin, 'the registry console');
  const person = admin.locator('a[href^="/console/anagrafe/persone/"]', { hasText: 'BIANCHI GIULIA' });
  await submitWith(admin, person);
  await admin.locator('[name=scopo]').fill('verifica TARI 2026');
  await submitWith(admin, admin.locator('main form button[type=submit]').first());
  assert.match(await admin.locator('main').innerText(), /BNCGLI85M52G702M/);
  await assertAccessible(admin, "a person's record");
  await openConsole(admin, pisa('/console/anagrafe/residenze'));
  await assertAccessible(admin, 'the declarations of residence');
  await openConsole(admin, pisa('/console/anagrafe'));
  const agency = admin.locator('form[action="/console/anagrafe/enti"]');
  await agency.locator('[name=id]').fill('polizia-locale');
  await agency.locator('[name=name]').fill('Polizia locale');
  await agency.locator('label', { hasText: 'Indirizzo' }).click();
  await agency.locator('[name=purposes]').fill('accertamento di residenza');
  await submitWith(admin, agency.locator('button[type=submit]'));
  assert.match(admin.url(), /esito=salvato/, 'the agreement is saved');
  const verifier = await staff(t, 'agente@polizia.pisa.it', 'Agente Verdi', 'verifier');
  const member = admin.locator('form[action="/console/anagrafe/enti/membri"]');
  await member.locator('[name=email]').fill('agente@polizia.pisa.it');
  await submitWith(admin, member.locator('button[type=submit]'));
  assert.match(admin.url(), /esito=salvato/, 'the verifier acts for the agency');
  await openConsole(verifier, pisa('/console/verifiche'));
  const check = verifier.locator('form[action="/console/verifiche"]');
  await check.locator('[name=fiscal_code]').fill('BNCGLI85M52G702M');
  await check.locator('[name=reference]').fill('VERB-2026-7');
  await submitWith(verifier, check.locator('button[type=submit]'));
  const answer = await verifier.locator('main').innerText();
  assert.match(answer, /LUNGARNO PACINOTTI/, 'the address the agreement allows');
  assert.doesNotMatch(answer, /1985-08-12/, 'not the birth it does not');
  await assertAccessible(verifier, "a verifier's check");

  // --- Giulia sees both looks ------------------------------------------------------------------
  await page.goto(pisa('/area-personale/anagrafe'));
  const looks = await page.locator('#my-accesses').innerText();
  assert.match(looks, /verifica TARI 2026/);
  assert.match(looks, /accertamento di residenza \(VERB-2026-7\)/);
  assert.match(await page.locator('#my-certificates').innerText(), /Residenza/);
  await assertAccessible(page, 'my registry position with looks and a certificate');
});
