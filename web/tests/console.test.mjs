// Browser tests of the consoles: the real `sportello serve --demo` binary, staff accounts made
// with the `sportello staff` CLI against the same database, headless Chromium driven by
// playwright-core, and axe-core for WCAG 2.1 A/AA on the console pages.
//
//   1. A commune administrator (Pisa) accepts the invitation (password, then a TOTP code computed
//      here from the secret the enrolment page shows), creates an office with its hours and a
//      service routed to it; a citizen with no cookies then finds both on the public portal.
//   2. Federation staff accept their invitation on the apex host, find a commune in the ISTAT
//      list, activate it, and open its brand-new portal.
//   3. axe-core on every console page of both consoles.
//
// Run with `npm test` in web/ (or `node --test tests/console.test.mjs`). The server binary is
// taken from $SPORTELLO_BIN, or else ../target/debug/sportello. Chromium is Debian's
// /usr/bin/chromium, or $CHROMIUM_PATH.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './server.mjs';
import { chromium } from 'playwright-core';
import * as support from './support.mjs';
import { assertAccessible, openConsole, sleep } from './support.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const webDir = path.resolve(here, '..');
const repoDir = path.resolve(webDir, '..');
const serverBin = path.resolve(webDir, process.env.SPORTELLO_BIN || '../target/debug/sportello');
const tenantsDir = path.join(repoDir, 'tenants');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Pisa's ISTAT code (a demo tenant: tenants/pisa.toml). */
const PISA_ISTAT = '050026';
/** Buti (PI): in the ISTAT list, not among the demo tenants; its national slug is `buti`. */
const NEW_COMMUNE = { istat: '050002', name: 'Buti', slug: 'buti' };
/** Bientina (PI): never onboarded here, so its onboarding form can be checked at any time. */
const OTHER_COMMUNE_ISTAT = '050001';

const PASSWORD = 'ufficio anagrafe 2026';
const ADMIN = { email: 'admin@comune.pisa.it', name: 'Anna Admin' };
const OPS = { email: 'ops@federazione.example', name: 'Ops Federazione' };

/** What test 1 creates (test 3 checks their pages, or demo ones if test 1 did not run). */
const OFFICE = {
  id: 'ufficio-cultura',
  name: 'Ufficio Cultura',
  hours: 'lun 09:00-12:00\ngio 15:00-17:30',
  email: 'cultura@comune.pisa.it',
};
const SERVICE = {
  id: 'patrocinio-eventi',
  title: 'Patrocinio per eventi culturali',
  summary: 'Il Comune concede il patrocinio alle iniziative culturali del territorio.',
};
let created = { office: null, service: null };

let server;
const serverOut = { log: '' };
let tmp;
let browser;
let port;

const pisa = (p = '/') => `http://pisa.localhost:${port}${p}`;
const apex = (p = '/') => `http://localhost:${port}${p}`;
const newCommune = (p = '/') => `http://${NEW_COMMUNE.slug}.localhost:${port}${p}`;

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'sportello-console-'));
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

/** What the CLI needs to reach the server's database. */
const cliCtx = () => ({ serverBin, tmp, tenantsDir, port });
const inviteLink = (args, origin) => support.inviteLink(cliCtx(), args, origin);
const acceptInvitation = (page, link, origin, who, heading) =>
  support.acceptInvitation(page, link, origin, who, heading, PASSWORD);

/** A page in a fresh context (no cookies carried over from another test). */
async function freshPage(t) {
  const context = await browser.newContext();
  t.after(() => context.close());
  return context.newPage();
}

/** One signed-in session per console, shared by the tests (made on first use). */
let adminSession;
let opsSession;

function pisaAdmin() {
  adminSession ??= (async () => {
    const link = await inviteLink(
      [
        ...['staff', 'invite', PISA_ISTAT],
        ...['--email', ADMIN.email, '--name', ADMIN.name, '--role', 'admin'],
      ],
      pisa(''),
    );
    const context = await browser.newContext();
    const page = await context.newPage();
    await acceptInvitation(page, link, pisa(''), ADMIN, 'Console del comune');
    // The commune console's home names who is signed in.
    assert.equal(
      (await page.locator('#console-intro').innerText()).trim(),
      `${ADMIN.name} · ${ADMIN.email}`,
    );
    return page;
  })();
  return adminSession;
}

function federationStaff() {
  opsSession ??= (async () => {
    const link = await inviteLink(
      ['staff', 'invite-federation', '--email', OPS.email, '--name', OPS.name],
      apex(''),
    );
    const context = await browser.newContext();
    const page = await context.newPage();
    await acceptInvitation(page, link, apex(''), OPS, 'Console della federazione');
    return page;
  })();
  return opsSession;
}

// --- the calendar the office hours follow ------------------------------------------------------

/** This week's dates in Rome (the server's clock zone), Monday to Sunday, as `YYYY-MM-DD`. */
function thisWeekInRome() {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Rome' }).format(new Date());
  const [y, m, d] = today.split('-').map(Number);
  const utc = new Date(Date.UTC(y, m - 1, d));
  const fromMonday = (utc.getUTCDay() + 6) % 7;
  return Array.from({ length: 7 }, (_, i) =>
    new Date(Date.UTC(y, m - 1, d - fromMonday + i)).toISOString().slice(0, 10),
  );
}

/** Easter Sunday of `year` (anonymous Gregorian algorithm), as a UTC midnight Date. */
function easterSunday(year) {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return new Date(Date.UTC(year, month - 1, day));
}

/**
 * Whether Pisa's offices are closed all day on `date` (`YYYY-MM-DD`) whatever their weekly hours:
 * Italy's national holidays (Easter Monday and, from 2026, 4 October included) and Pisa's patron
 * saint's day (17 June, tenants/pisa.toml).
 */
function closedAllDay(date) {
  const year = Number(date.slice(0, 4));
  const md = date.slice(5);
  const fixed = [
    ...['01-01', '01-06', '04-25', '05-01', '06-02'],
    ...['08-15', '11-01', '12-08', '12-25', '12-26'],
  ];
  const easterMonday = new Date(easterSunday(year).getTime() + 86_400_000)
    .toISOString()
    .slice(0, 10);
  return (
    fixed.includes(md) ||
    (year >= 2026 && md === '10-04') ||
    date === easterMonday ||
    md === '06-17'
  );
}

/** The success notice shown after a form post (`?esito=…`). */
async function assertNotice(page, text) {
  const notice = page.locator('#console-notice');
  assert.equal(await notice.count(), 1, `no #console-notice on ${page.url()}`);
  assert.equal((await notice.innerText()).trim(), text);
}

/**
 * Loads a public page until it answers 200 (the change should be visible at once on a single
 * node; up to 2 s of slack). Returns the response.
 */
async function openPublic(page, url) {
  const deadline = Date.now() + 2_000;
  let res = await page.goto(url);
  while (res.status() !== 200 && Date.now() < deadline) {
    await sleep(200);
    res = await page.goto(url);
  }
  assert.equal(res.status(), 200, `${url}: unexpected status`);
  return res;
}

// --- the tests -----------------------------------------------------------------------------------

test(
  'a commune administrator adds an office and a service, and a citizen sees them on the portal',
  { timeout: 120_000 },
  async (t) => {
    const page = await pisaAdmin();

    // The office: created from the list, then its hours and e-mail on its own page.
    await openConsole(page, pisa('/console/uffici'));
    const newOffice = page.locator('form[action="/console/uffici"]');
    await newOffice.getByLabel('Identificativo').fill(OFFICE.id);
    await newOffice.getByLabel('Nome', { exact: true }).fill(OFFICE.name);
    await Promise.all([
      page.waitForURL(pisa(`/console/uffici/${OFFICE.id}?esito=creato`)),
      newOffice.getByRole('button', { name: "Crea l'ufficio" }).click(),
    ]);
    await assertNotice(page, 'Creato.');
    assert.equal((await page.locator('h1').innerText()).trim(), OFFICE.name);

    const officeForm = page.locator(`form[action="/console/uffici/${OFFICE.id}"]`);
    // The hours typed as rows of times (Chromium's own time inputs), a closure by its date.
    await officeForm.getByLabel('Lunedì, Fascia 1: apre').fill('09:00');
    await officeForm.getByLabel('Lunedì, Fascia 1: chiude').fill('12:00');
    await officeForm.getByLabel('Giovedì, Fascia 1: apre').fill('15:00');
    await officeForm.getByLabel('Giovedì, Fascia 1: chiude').fill('17:30');
    await officeForm.getByLabel('Data (1)').fill('2026-12-24');
    await officeForm.getByLabel('Motivo (1)').fill('Vigilia di Natale');
    await officeForm.getByLabel('E-mail').fill(OFFICE.email);
    await Promise.all([
      page.waitForURL(pisa(`/console/uffici/${OFFICE.id}?esito=salvato`)),
      officeForm.getByRole('button', { name: 'Salva' }).click(),
    ]);
    await assertNotice(page, 'Modifiche salvate.');
    const savedHours = await page.locator('form [name=hours]').inputValue();
    assert.match(savedHours, /lun 09:00-12:00/, `hours saved as ${JSON.stringify(savedHours)}`);
    assert.match(savedHours, /gio 15:00-17:30/, `hours saved as ${JSON.stringify(savedHours)}`);
    assert.equal(await page.locator('form [name=email]').inputValue(), OFFICE.email);
    assert.match(
      await page.locator('form [name=closures]').inputValue(),
      /2026-12-24 Vigilia di Natale/,
    );
    assert.equal(await page.locator('input[name="week:thu:1:to"]').inputValue(), '17:30');
    // A new office is a draft until published: citizens do not find it yet.
    const early = await freshPage(t);
    const notYet = await early.goto(pisa(`/uffici/${OFFICE.id}`));
    assert.equal(notYet.status(), 404, 'a draft office is not public');
    await Promise.all([
      page.waitForURL(pisa(`/console/uffici/${OFFICE.id}?esito=pubblicato`)),
      page.getByRole('button', { name: "Pubblica l'ufficio" }).click(),
    ]);
    created.office = OFFICE.id;

    // The list now shows it.
    await openConsole(page, pisa('/console/uffici'));
    assert.equal(
      await page.locator(`table a[href="/console/uffici/${OFFICE.id}"]`).count(),
      1,
      'the office list does not link the new office',
    );

    // The service, routed to the new office.
    await openConsole(page, pisa('/console/servizi'));
    const newService = page.locator('form[action="/console/servizi"]');
    await newService.getByLabel('Identificativo').fill(SERVICE.id);
    await newService.getByLabel('Titolo').fill(SERVICE.title);
    await newService.getByLabel('Ufficio competente').selectOption(OFFICE.id);
    await Promise.all([
      page.waitForURL(pisa(`/console/servizi/${SERVICE.id}?esito=creato`)),
      newService.getByRole('button', { name: 'Crea il servizio' }).click(),
    ]);
    await assertNotice(page, 'Creato.');
    assert.equal((await page.locator('h1').innerText()).trim(), SERVICE.title);
    const serviceForm = page.locator(`form[action="/console/servizi/${SERVICE.id}"]`);
    assert.equal(
      await serviceForm.locator('[name=office]').inputValue(),
      OFFICE.id,
      'the new service is not routed to the new office',
    );
    await serviceForm.getByLabel('In breve').fill(SERVICE.summary);
    await Promise.all([
      page.waitForURL(pisa(`/console/servizi/${SERVICE.id}?esito=salvato`)),
      serviceForm.getByRole('button', { name: 'Salva' }).click(),
    ]);
    await assertNotice(page, 'Modifiche salvate.');
    created.service = SERVICE.id;

    // A citizen, no cookies: the office page with its hours…
    const citizen = await freshPage(t);
    await openPublic(citizen, pisa(`/uffici/${OFFICE.id}`));
    assert.equal((await citizen.locator('h1').innerText()).trim(), OFFICE.name);
    const rows = citizen.locator('table.sp-hours tbody tr');
    assert.equal(await rows.count(), 7, 'the hours table should have one row per weekday');
    // This week, Monday to Sunday: Monday and Thursday open as entered, the other days closed,
    // and so is any day that is a national holiday or Pisa's patron saint's day this week.
    const week = thisWeekInRome();
    const expected = ['lunedì', 'martedì', 'mercoledì', 'giovedì', 'venerdì', 'sabato', 'domenica'];
    const ranges = { 0: /^09:00\D+12:00$/, 3: /^15:00\D+17:30$/ };
    for (const [i, day] of expected.entries()) {
      const row = rows.nth(i);
      const label = (await row.locator('th').innerText()).trim().toLowerCase();
      assert.ok(
        label.startsWith(day),
        `row ${i} of the hours table is ${JSON.stringify(label)}, expected ${day}`,
      );
      const cell = (await row.locator('td').innerText()).trim();
      const holiday = closedAllDay(week[i]);
      const want = ranges[i] && !holiday ? ranges[i] : /^chiuso$/i;
      assert.match(
        cell,
        want,
        `${day} ${week[i]}${holiday ? ' (a holiday)' : ''} reads ${JSON.stringify(cell)}`,
      );
    }
    assert.ok(
      (await citizen.locator('body').innerText()).includes(OFFICE.email),
      'the office page does not show its e-mail',
    );
    assert.equal(
      await citizen.locator(`a[href="/servizi/${SERVICE.id}"]`).count(),
      1,
      "the office page does not list the service routed to it",
    );

    // …and the service card, pointing at the office.
    await openPublic(citizen, pisa(`/servizi/${SERVICE.id}`));
    assert.equal((await citizen.locator('h1').innerText()).trim(), SERVICE.title);
    assert.ok(
      (await citizen.locator('main, body').first().innerText()).includes(SERVICE.summary),
      'the service card does not show its summary',
    );
    const where = citizen.locator('section#dove');
    assert.equal(
      (await where.locator(`h3 a[href="/uffici/${OFFICE.id}"]`).innerText()).trim(),
      OFFICE.name,
      'the service card does not name the office it is routed to',
    );

    // And the public lists.
    await openPublic(citizen, pisa('/uffici'));
    assert.ok(
      (await citizen.locator(`a[href="/uffici/${OFFICE.id}"]`).count()) >= 1,
      'the public office list does not link the new office',
    );
    await openPublic(citizen, pisa('/servizi'));
    assert.ok(
      (await citizen.locator(`a[href="/servizi/${SERVICE.id}"]`).count()) >= 1,
      'the public service list does not link the new service',
    );
  },
);

test(
  'federation staff onboard a commune from the ISTAT list and open its portal',
  { timeout: 120_000 },
  async (t) => {
    // Not live before: no portal on its host.
    const before = await freshPage(t);
    const res = await before.goto(newCommune('/'));
    assert.equal(res.status(), 404, `${NEW_COMMUNE.name} answers before it is onboarded`);

    const page = await federationStaff();

    // The console home offers "Attiva un comune"; search the ISTAT list by name.
    await openConsole(page, apex('/console'));
    await Promise.all([
      page.waitForURL(apex('/console/comuni')),
      page.locator('nav a[href="/console/comuni"]').click(),
    ]);
    await page.locator('form[role=search] input[name=q]').fill(NEW_COMMUNE.name);
    await Promise.all([
      page.waitForURL(apex(`/console/comuni?q=${NEW_COMMUNE.name}`)),
      page.locator('form[role=search]').getByRole('button', { name: 'Cerca' }).click(),
    ]);
    const row = page.locator('table tbody tr', {
      has: page.locator('td', { hasText: NEW_COMMUNE.istat }),
    });
    assert.equal(
      await row.count(),
      1,
      `the ISTAT search for ${NEW_COMMUNE.name} has no ${NEW_COMMUNE.istat} row`,
    );
    assert.equal((await row.locator('th').innerText()).trim(), NEW_COMMUNE.name);
    // A demo commune in the same search would read "già attivo"; this one offers Attiva.
    const activate = row.getByRole('link', { name: 'Attiva' });
    await Promise.all([
      page.waitForURL(apex(`/console/comuni/nuovo?istat=${NEW_COMMUNE.istat}`)),
      activate.click(),
    ]);

    // The onboarding form, prefilled with the national slug on the apex.
    const form = page.locator('form[action="/console/comuni"]');
    assert.equal(await form.locator('[name=istat]').inputValue(), NEW_COMMUNE.istat);
    assert.equal(
      await form.getByLabel('Indirizzo del portale').inputValue(),
      `${NEW_COMMUNE.slug}.localhost`,
    );
    const adminEmail = `sindaco@comune.${NEW_COMMUNE.slug}.it`;
    await form.getByLabel('E-mail del primo amministratore').fill(adminEmail);
    await form.getByLabel('Nome del primo amministratore').fill('Bruno Buti');
    await Promise.all([
      page.waitForURL((u) => u.host === `localhost:${port}` && u.pathname === '/console'),
      form.getByRole('button', { name: 'Attiva il comune' }).click(),
    ]);
    await assertNotice(page, 'Creato.');

    // The federation console home lists it, being prepared, with a link to its portal.
    await openConsole(page, apex('/console'));
    const listed = page.locator('table tbody tr', {
      has: page.locator('td', { hasText: new RegExp(`^\\s*${NEW_COMMUNE.istat}\\s*$`) }),
    });
    assert.equal(
      await listed.count(),
      1,
      `the federation console does not list ${NEW_COMMUNE.name}`,
    );
    const cells = await listed.locator('td').allInnerTexts();
    const trimmed = cells.map((c) => c.trim());
    for (const want of ['in preparazione', `${NEW_COMMUNE.slug}.localhost`]) {
      assert.ok(
        trimmed.includes(want),
        `${NEW_COMMUNE.name}'s row reads ${JSON.stringify(cells)}, no ${want}`,
      );
    }
    const portalLink = listed.locator('th a');
    assert.equal((await portalLink.innerText()).trim(), NEW_COMMUNE.name);
    assert.equal(await portalLink.getAttribute('href'), newCommune('/'));

    // Being prepared: a citizen (no cookies) finds a page that says so.
    const citizen = await freshPage(t);
    const early = await citizen.goto(newCommune('/servizi'));
    assert.equal(early.status(), 503, 'a commune being prepared is not public');
    assert.match(await citizen.locator('h1').innerText(), /in preparazione/i);

    // Its first administrator was invited by e-mail (the development outbox): they accept,
    // review, and publish the portal.
    const outbox = path.join(tmp, 'mail-outbox');
    const deadline = Date.now() + 3_000;
    let mail = null;
    while (!mail && Date.now() < deadline) {
      let files = [];
      try {
        files = readdirSync(outbox);
      } catch {
        // not created yet
      }
      mail = files
        .map((f) => readFileSync(path.join(outbox, f), 'utf8'))
        .find((m) => m.includes(adminEmail));
      if (!mail) await sleep(200);
    }
    assert.ok(mail, `no invitation mail to ${adminEmail} in ${outbox}`);
    // Quoted-printable: soft line breaks and the escaped "=".
    const plain = mail.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
    const link = plain.match(/http:\/\/[^\s"<>]+\/console\/invito\?token=[A-Za-z0-9_-]+/)?.[0];
    assert.ok(link, `no invitation link in the mail:\n${plain.slice(0, 1500)}`);
    const admin = await freshPage(t);
    await support.acceptInvitation(
      admin,
      link,
      newCommune(''),
      { email: adminEmail },
      'Console del comune',
      PASSWORD,
    );
    await Promise.all([
      admin.waitForURL(newCommune('/console?esito=pubblicato')),
      admin.getByRole('button', { name: 'Pubblica il portale' }).click(),
    ]);

    // Published: live with the starter charter.
    await openPublic(citizen, newCommune('/'));
    assert.ok(
      (await citizen.locator('.it-brand-title').first().innerText()).includes(
        `Comune di ${NEW_COMMUNE.name}`,
      ),
      `the new portal's header does not read "Comune di ${NEW_COMMUNE.name}"`,
    );
    assert.match(await citizen.title(), new RegExp(`Comune di ${NEW_COMMUNE.name}`));
    await openPublic(citizen, newCommune('/servizi'));
    assert.ok(
      (await citizen.locator('a[href^="/servizi/"]').count()) > 0,
      'the new portal has no services (starter charter)',
    );
  },
);

test('console pages have no axe violations', { timeout: 300_000 }, async (t) => {
  const admin = await pisaAdmin();
  // Test 1's office and service if it ran, else demo ones.
  const officeId = created.office ?? 'anagrafe';
  const serviceId = created.service ?? 'certificato-residenza';
  const communePages = [
    '/console',
    '/console/uffici',
    `/console/uffici/${officeId}`,
    `/console/uffici/${officeId}?esito=salvato`,
    '/console/servizi',
    `/console/servizi/${serviceId}`,
    '/console/personale',
    '/console/permessi',
    '/console/impostazioni',
    '/console/identita',
    '/console/registro',
    '/console/messaggi',
    '/console/messaggi?canale=email',
    '/console/supporto',
  ];
  for (const p of communePages) {
    const url = pisa(p);
    await t.test(url, async () => {
      await openConsole(admin, url);
      await assertAccessible(admin, url);
    });
  }

  const ops = await federationStaff();
  const federationPages = [
    '/console',
    `/console/comuni?q=${NEW_COMMUNE.name}`,
    `/console/comuni?q=${PISA_ISTAT}`,
    `/console/comuni/nuovo?istat=${OTHER_COMMUNE_ISTAT}`,
    '/console/assistenza',
  ];
  for (const p of federationPages) {
    const url = apex(p);
    await t.test(url, async () => {
      await openConsole(ops, url);
      await assertAccessible(ops, url);
    });
  }

  // The doors too: sign-in page of both consoles, as a stranger sees them.
  const stranger = await freshPage(t);
  for (const url of [pisa('/console/accedi'), apex('/console/accedi')]) {
    await t.test(url, async () => {
      await openConsole(stranger, url);
      await assertAccessible(stranger, url);
    });
  }
});
