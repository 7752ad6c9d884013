// Browser test of the SAML sign-in: the real `sportello serve --demo` binary with the pysaml2
// test IdP (tests/counterparts/saml/idp.py) as its only SAML identity provider, headless
// Chromium driven by playwright-core, and axe-core for WCAG 2.1 A/AA on every page met.
//
// The IdP's answer is a cross-site, script-submitted POST to the sign-in host's ACS: it carries
// no SameSite=Lax cookie, so the sign-in only completes if the app parks the verified answer and
// finishes on the top-level GET that follows (which does carry the browser's flow cookie). A real
// browser context with its own cookie jar is what makes that part of the test mean something.
//
// Run with `npm test` in web/ (or `node --test tests/signin.test.mjs`). The server binary is taken
// from $SPORTELLO_BIN, or else ../target/debug/sportello; the IdP needs the counterparts' venv
// (`bash tests/counterparts/setup.sh`). Chromium is Debian's /usr/bin/chromium, or $CHROMIUM_PATH.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startServer } from './server.mjs';
import { chromium } from 'playwright-core';
import { assertAccessible, overlaps } from './support.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const webDir = path.resolve(here, '..');
const repoDir = path.resolve(webDir, '..');
const serverBin = path.resolve(webDir, process.env.SPORTELLO_BIN || '../target/debug/sportello');
const tenantsDir = path.join(repoDir, 'tenants');
const idpPython = path.join(repoDir, 'tests', 'counterparts', '.venv', 'bin', 'python');
const idpScript = path.join(repoDir, 'tests', 'counterparts', 'saml', 'idp.py');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** The citizen the IdP asserts. */
const USER = {
  fiscalNumber: 'TINIT-RSSMRA80A01G702C',
  name: 'Mario',
  familyName: 'Rossi',
  email: 'mario@example.org',
  mobilePhone: '+393331234567',
  dateOfBirth: '1980-01-01',
  placeOfBirth: 'G702',
};
const FISCAL_CODE = 'RSSMRA80A01G702C';

let server;
const serverOut = { log: '' };
let idp;
let idpLog = '';
/** The IdP's ready line: entity_id, metadata_url, sso_redirect_url, sso_post_url. */
let idpInfo;
/** `127.0.0.1:<port>` of the IdP. */
let idpHost;
/** The name the sign-in page gives the IdP (OrganizationDisplayName, else the entityID). */
let idpName;
let tmp;
let browser;
let port;

const at = (host) => (p = '/') => `http://${host}.localhost:${port}${p}`;
const login = at('login');
const pisa = at('pisa');
const calci = at('calci');

/** Ends a child process: SIGTERM, then SIGKILL after 5 s. */
async function stop(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Starts the test IdP and resolves with its ready line. Its stdin stays open: EOF ends it. */
function startIdp() {
  return new Promise((resolve, reject) => {
    idp = spawn(idpPython, [idpScript, '--port', '0'], {
      cwd: repoDir,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const timer = setTimeout(
      () => reject(new Error(`the SAML IdP did not start within 30 s:\n${idpLog}`)),
      30_000,
    );
    idp.on('error', (e) => {
      clearTimeout(timer);
      reject(
        new Error(
          `cannot run ${idpPython} (run \`bash tests/counterparts/setup.sh\`): ${e.message}`,
        ),
      );
    });
    idp.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the SAML IdP exited early (${code ?? signal}):\n${idpLog}`));
    });
    idp.stderr.on('data', (d) => {
      idpLog += d;
    });
    createInterface({ input: idp.stdout }).on('line', (line) => {
      idpLog += `${line}\n`;
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      if (msg.ready) {
        clearTimeout(timer);
        resolve(msg);
      }
    });
  });
}


/** A GET to the server with an explicit Host header (fetch would not let us set it). */
function getFromServer(hostHeader, p) {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: p, headers: { Host: hostHeader } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode, body }));
      },
    );
    req.on('error', reject);
  });
}

/** A POST to one of the IdP's admin endpoints; fails unless it answers 200. */
async function idpAdmin(p, body, contentType) {
  const res = await fetch(new URL(p, idpInfo.metadata_url), {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
  });
  const text = await res.text();
  assert.equal(res.status, 200, `IdP ${p}: ${res.status} ${text}\n${idpLog}`);
  return text;
}

const xmlUnescape = (s) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'sportello-signin-'));
  const launching = chromium.launch({
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
  });
  launching.catch(() => {}); // awaited below; don't let an early failure go unhandled
  idpInfo = await startIdp();
  idpHost = new URL(idpInfo.metadata_url).host;
  ({ proc: server, port } = await startServer(
    serverBin,
    { tmp, tenantsDir, env: { SPORTELLO_SAML_IDPS: idpInfo.metadata_url } },
    serverOut,
  ));
  browser = await launching;

  // The name the sign-in page shows: the IdP metadata's OrganizationDisplayName, else its entityID.
  const metadata = await (await fetch(idpInfo.metadata_url)).text();
  const display = /<(?:\w+:)?OrganizationDisplayName\b[^>]*>([^<]*)</.exec(metadata);
  idpName = display ? xmlUnescape(display[1]).trim() : idpInfo.entity_id;

  // The SP lives on the sign-in host: register its metadata with the IdP.
  const sp = await getFromServer(`login.localhost:${port}`, '/saml/metadata');
  assert.equal(
    sp.status,
    200,
    `GET login.localhost/saml/metadata answered ${sp.status} (is the server built with SAML, ` +
      `and did it load ${idpInfo.metadata_url}?):\n${sp.body.slice(0, 300)}\n${serverOut.log}`,
  );
  await idpAdmin('/__admin/sp', sp.body, 'application/samlmetadata+xml');
  await idpAdmin(
    '/__admin/next',
    JSON.stringify({ user: USER, level: null, mutation: null }),
    'application/json',
  );
});

after(async () => {
  await browser?.close();
  await stop(server);
  if (idp) {
    idp.stdin.end();
    await stop(idp);
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** A page in a fresh context (its own cookie jar, nothing carried over from another test). */
async function freshPage(t) {
  const context = await browser.newContext();
  t.after(() => context.close());
  return context.newPage();
}

/** Runs axe-core (WCAG 2.0/2.1 A and AA) on the page as it is and fails with a readable report. */
/** Goes to a URL, checks the status, then runs axe. */
async function visitAccessible(page, url, expectedStatus = 200) {
  const res = await page.goto(url);
  assert.equal(res.status(), expectedStatus, `${url}: unexpected status`);
  await assertAccessible(page, url);
}

test('a citizen signs in with SAML at Pisa, enters Calci with no prompt, and signs out everywhere', async (t) => {
  const page = await freshPage(t);
  const context = page.context();
  /** Every request the page makes, as `METHOD url`. */
  let requests = [];
  page.on('request', (r) => requests.push({ method: r.method(), url: r.url() }));
  const seen = (method, url) => requests.some((r) => r.method === method && r.url.startsWith(url));
  const toIdp = () => requests.filter((r) => new URL(r.url).host === idpHost);

  // 1. Pisa's personal area sends an anonymous visitor to the shared sign-in page.
  await page.goto(pisa('/area-personale'));
  assert.equal(page.url(), login('/'), 'the personal area should redirect to the sign-in page');
  assert.ok(seen('GET', login('/autorizza?')), 'the hand-off went through /autorizza');
  assert.match(await page.locator('main, body').first().innerText(), /Pisa/);

  const flowCookie = (await context.cookies(login('/'))).find((c) => c.name === 'sportello_flow');
  assert.ok(flowCookie, 'the sign-in host set no flow cookie');
  assert.equal(flowCookie.sameSite, 'Lax', 'the flow cookie should be SameSite=Lax');

  // The IdP's button: a link to /saml/login?idp=<its entityID>, named after it.
  const links = page.locator('a[href^="/saml/login?idp="]');
  assert.equal(await links.count(), 1, 'the sign-in page should offer exactly one SAML IdP');
  const link = links.first();
  const linkText = await link.innerText();
  assert.ok(
    linkText.includes(idpName),
    `the SAML link reads ${JSON.stringify(linkText)}, expected it to name ${JSON.stringify(idpName)}`,
  );
  const href = await link.getAttribute('href');
  assert.equal(
    new URL(href, login('/')).searchParams.get('idp'),
    idpInfo.entity_id,
    `the SAML link ${href} does not name the IdP's entityID`,
  );
  await assertAccessible(page, 'the sign-in page (login.localhost/)');

  // 2. Through the IdP (HTTP-Redirect binding, then its auto-submitting POST to the ACS) and back.
  t.diagnostic(`IdP link: ${JSON.stringify(linkText)} → ${href}`);
  requests = [];
  try {
    await Promise.all([page.waitForURL(pisa('/area-personale'), { timeout: 30_000 }), link.click()]);
  } catch (e) {
    const text = await page
      .locator('body')
      .innerText()
      .catch(() => '');
    throw new Error(
      `${e.message}\nthe browser stopped at ${page.url()}:\n${text.slice(0, 1000)}\n` +
        `requests:\n${requests.map((r) => `  ${r.method} ${r.url}`).join('\n')}\n` +
        `server log (end):\n${serverOut.log.slice(-3000)}\nIdP log (end):\n${idpLog.slice(-2000)}`,
    );
  }
  assert.ok(seen('GET', login('/saml/login?')), 'no request to /saml/login');
  assert.ok(
    seen('GET', idpInfo.sso_redirect_url),
    `the browser never went to the IdP (${idpInfo.sso_redirect_url}):\n` +
      requests.map((r) => `  ${r.method} ${r.url}`).join('\n'),
  );
  assert.ok(seen('POST', login('/saml/acs')), 'the IdP did not post back to /saml/acs');
  assert.ok(seen('GET', login('/saml/completa?')), 'the sign-in did not finish on /saml/completa');
  assert.ok(seen('GET', pisa('/accedi/ritorno?')), 'Pisa did not receive a hand-off code');

  assert.equal(await page.locator('#fiscal-code').innerText(), FISCAL_CODE);
  // The profile's own fields (the header shows the name on every page: not proof).
  assert.equal(await page.locator('#given-name').innerText(), 'Mario');
  assert.equal(await page.locator('#family-name').innerText(), 'Rossi');
  await assertAccessible(page, "Pisa's personal area");
  // The contacts form, prefilled, at a phone's and a desk's width: no label over a field.
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    assert.deepEqual(await overlaps(page), [], `the personal area at ${width} px`);
  }

  // 3. Calci: signed in already at the sign-in host, so no prompt and no trip to the IdP.
  requests = [];
  await page.goto(calci('/area-personale'));
  assert.equal(page.url(), calci('/area-personale'), 'Calci should open the personal area directly');
  assert.ok(seen('GET', login('/autorizza?')), 'Calci did not ask the sign-in host');
  assert.deepEqual(
    toIdp().map((r) => `${r.method} ${r.url}`),
    [],
    'entering Calci should not involve the IdP',
  );
  assert.equal(await page.locator('#fiscal-code').innerText(), FISCAL_CODE);
  assert.equal(await page.locator('#family-name').innerText(), 'Rossi');

  // 3b. On the sign-in host itself: the way back to the commune used last and the area there.
  await page.goto(login('/'));
  const back = page.locator('#way-back a');
  assert.equal(await back.count(), 2, 'the sign-in host should offer the way back');
  assert.equal(await back.first().getAttribute('href'), calci('/'));
  await Promise.all([page.waitForURL(calci('/area-personale')), back.nth(1).click()]);
  await assertAccessible(page, 'the personal area, reached from the sign-in host');

  // 4. Sign out of every commune, from Calci: Sportello ends its sessions, then sends the
  //    browser to the IdP's SingleLogoutService with a signed LogoutRequest, and the IdP's
  //    signed LogoutResponse comes back to the sign-in host.
  requests = [];
  const signOut = page.getByRole('button', { name: 'Esci da tutti i Comuni' });
  await Promise.all([
    page.waitForURL((u) => u.host === `login.localhost:${port}` && u.pathname === '/saml/slo'),
    signOut.click(),
  ]);
  assert.ok(
    toIdp().some((r) => new URL(r.url).pathname === '/slo/redirect'),
    'signing out should log out at the IdP too',
  );
  assert.match(await page.locator('h1').innerText(), /Sei uscito/);
  await assertAccessible(page, 'the signed-out page');

  // 5. Pisa's session (its cookie is still in the browser) was ended too: back to signing in.
  await page.goto(pisa('/area-personale'));
  assert.equal(page.url(), login('/'), 'after signing out, Pisa should ask to sign in again');
  assert.equal(await page.locator('a[href^="/saml/login?idp="]').count(), 1);
  assert.equal(await page.locator('#fiscal-code').count(), 0);
  // And the sign-in host no longer knows the citizen either.
  assert.ok(!(await page.locator('body').innerText()).includes('Mario Rossi'));
  // Nor does any commune's header.
  await page.goto(pisa('/servizi'));
  assert.ok(!(await page.locator('header').innerText()).includes('Mario'), 'a name after sign-out');
  assert.equal(await page.locator('header a[href^="/accedi?next="]').count(), 1);
});

test('the registration and password pages pass axe', async (t) => {
  const page = await freshPage(t);
  for (const url of [login('/registrati'), login('/recupero'), pisa('/console/accedi')]) {
    await t.test(url, () => visitAccessible(page, url));
  }
});

test('a newcomer signs in as a demo person at level 2 and opens a service that needs it', async (t) => {
  const page = await freshPage(t);
  const service = pisa('/servizi/certificato-residenza/avvia');
  // The service needs SPID level 2: the sign-in host, which in demo mode offers the demo IdP.
  await page.goto(service);
  assert.equal(new URL(page.url()).host, `login.localhost:${port}`, 'sent to the sign-in host');
  const demo = page.locator('a[href="/demo/identita"]');
  assert.equal(await demo.count(), 1, 'the sign-in page should offer the demo identities');
  await Promise.all([page.waitForURL(login('/demo/identita')), demo.click()]);
  assert.match(await page.locator('#demo-warning').innerText(), /Solo dimostrazione/);
  await assertAccessible(page, 'the demo identity provider (login.localhost/demo/identita)');
  // Mario's credential is level 1: not offered for this sign-in.
  assert.equal(await page.getByRole('button', { name: 'Entra come Mario Rossi' }).count(), 0);
  await Promise.all([
    page.waitForURL(service),
    page.getByRole('button', { name: 'Entra come Giulia Bianchi' }).click(),
  ]);
  assert.ok((await page.locator('body').innerText()).includes('Giulia Bianchi'));
  await assertAccessible(page, 'the service start page, signed in at level 2');
});
