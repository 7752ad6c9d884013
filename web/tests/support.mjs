// What the browser tests share: the `sportello` CLI against the server's database, staff
// invitations accepted with a TOTP code computed here (RFC 6238), and axe-core.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const axePath = path.join(here, '..', 'node_modules', 'axe-core', 'axe.min.js');
// Evaluated through the DevTools protocol, which the pages' Content-Security-Policy (no
// script at all) does not govern: the pages are checked as served, policy included.
const axeSource = readFileSync(axePath, 'utf8');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- the CLI -----------------------------------------------------------------------------------

/**
 * Runs `sportello <args>` against the server's database; resolves with its stdout. SPORTELLO_BIND
 * carries the server's port so that the printed links do too.
 */
export function cli(ctx, args) {
  const { serverBin, tmp, tenantsDir, port } = ctx;
  return new Promise((resolve, reject) => {
    execFile(
      serverBin,
      args,
      {
        cwd: tmp,
        env: {
          ...process.env,
          SPORTELLO_DATABASE_URL: `sqlite://${path.join(tmp, 'db.sqlite')}?mode=rwc`,
          SPORTELLO_TENANTS_DIR: tenantsDir,
          SPORTELLO_MAIL_OUTBOX: path.join(tmp, 'mail-outbox'),
          SPORTELLO_BIND: `127.0.0.1:${port}`,
        },
        timeout: 30_000,
      },
      (err, stdout, stderr) => {
        if (err) {
          reject(new Error(`sportello ${args.join(' ')} failed: ${err.message}\n${stderr}`));
        } else {
          resolve(stdout);
        }
      },
    );
  });
}

/** The invitation link a `staff invite…` command printed (its last stdout line). */
export async function inviteLink(ctx, args, expectedOrigin) {
  const out = await cli(ctx, args);
  const link = out.trim().split('\n').pop().trim();
  assert.ok(
    link.startsWith(`${expectedOrigin}/console/invito?token=`),
    `sportello ${args.join(' ')} printed ${JSON.stringify(out)}, ` +
      `expected a link on ${expectedOrigin}`,
  );
  return link;
}

// --- TOTP (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits) ------------------------------------------

function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of s.replace(/[\s=]/g, '').toUpperCase()) {
    const v = alphabet.indexOf(ch);
    if (v < 0) throw new Error(`not base32: ${JSON.stringify(s)}`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export function totp(secretBase32, unixSeconds = Math.floor(Date.now() / 1000)) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac('sha1', base32Decode(secretBase32)).update(counter).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const bin = (mac.readUInt32BE(off) & 0x7fffffff) % 1_000_000;
  return String(bin).padStart(6, '0');
}

// --- staff sign-in -----------------------------------------------------------------------------

/**
 * Completes an invitation in `page`: the password form, then the TOTP enrolment with a code
 * computed from the secret shown. Ends signed in on `<origin>/console`, whose h1 is `heading`.
 */
export async function acceptInvitation(page, link, origin, who, heading, password, opts = {}) {
  const res = await page.goto(link);
  assert.equal(res.status(), 200, `${link}: unexpected status`);
  assert.ok(
    (await page.locator('main, body').first().innerText()).includes(who.email),
    'the invitation page does not name the invited person',
  );
  await page.locator('#password').fill(password);
  await page.locator('#password_again').fill(password);
  await Promise.all([
    page.waitForURL(`${origin}/console/invito`),
    page.locator('form[action="/console/invito"] button[type=submit]').click(),
  ]);
  const secretEl = page.locator('#totp-secret');
  assert.equal(
    await secretEl.count(),
    1,
    'no TOTP secret after the password step:\n' +
      (await page.locator('body').innerText()).slice(0, 800),
  );
  const secret = (await secretEl.innerText()).trim();
  assert.match(secret, /^[A-Z2-7]+$/, 'the TOTP secret is not base32');
  // The QR code beside the key carries the same link: decoded here from what Chromium drew.
  const uri = (await page.locator('#totp-uri').innerText()).trim();
  assert.equal(await decodeQr(page.locator('#totp-qr svg')), uri, 'the QR code is not the link');
  await assertAccessible(page, 'the authenticator enrolment page');
  if (opts.wrongFirst) {
    // A wrong first code: the same page again, the same secret, the reason by the field.
    const wrong = totp(secret) === '000000' ? '111111' : '000000';
    await page.locator('#code').fill(wrong);
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.locator('form[action="/console/invito/codice"] button[type=submit]').click(),
    ]);
    assert.equal(res.status(), 403, 'a wrong first code is refused');
    await page.waitForSelector('#code-error');
    assert.equal((await page.locator('#totp-secret').innerText()).trim(), secret, 'the same secret');
    assert.equal(
      await decodeQr(page.locator('#totp-qr svg')),
      uri,
      'the same QR code after a wrong code',
    );
  }
  await page.locator('#code').fill(totp(secret));
  await Promise.all([
    page.waitForURL(`${origin}/console/invito/codice`),
    page.locator('form[action="/console/invito/codice"] button[type=submit]').click(),
  ]);
  // Signed in: the recovery codes, shown once, then on to the console.
  assert.equal(await page.locator('#recovery-codes li').count(), 10, 'ten recovery codes');
  await assertAccessible(page, 'the recovery codes page');
  await Promise.all([page.waitForURL(`${origin}/console`), page.locator('#to-console').click()]);
  assert.equal((await page.locator('h1').innerText()).trim(), heading);
}

/** The text of a QR code on the page, read by `zbarimg` (Debian's zbar-tools) from a screenshot. */
export async function decodeQr(locator) {
  const dir = mkdtempSync(path.join(tmpdir(), 'sportello-qr-'));
  const file = path.join(dir, 'qr.png');
  try {
    await locator.screenshot({ path: file });
    const out = await new Promise((resolve, reject) =>
      execFile('zbarimg', ['--raw', '-q', file], (err, stdout, stderr) =>
        err ? reject(new Error(`zbarimg: ${err.message} ${stderr}`)) : resolve(stdout),
      ),
    );
    return out.trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Opens a console page; a 403 right after sign-in may only mean the roles the CLI gave have not
 * reached the server's authorization yet (it polls), so it reloads for up to 5 s.
 */
export async function openConsole(page, url, expectedStatus = 200) {
  const deadline = Date.now() + 5_000;
  let res = await page.goto(url);
  while (res.status() === 403 && expectedStatus !== 403 && Date.now() < deadline) {
    await sleep(250);
    res = await page.goto(url);
  }
  assert.equal(
    res.status(),
    expectedStatus,
    `${url}: unexpected status\n${(await page.locator('body').innerText()).slice(0, 500)}`,
  );
  return res;
}

// --- axe -----------------------------------------------------------------------------------------

/** Runs axe-core (WCAG 2.0/2.1 A and AA) on the page as it is and fails with a readable report. */
export async function assertAccessible(page, label = page.url()) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    }),
  );
  const report = result.violations
    .map((v) => {
      const nodes = v.nodes
        .slice(0, 5)
        .map(
          (n) =>
            `      target: ${JSON.stringify(n.target)}\n` +
            `      html:   ${n.html}\n` +
            `      why:    ${n.failureSummary?.replace(/\n/g, ' ')}`,
        )
        .join('\n');
      return `  - ${v.id} [${v.impact}] ${v.help} (${v.nodes.length} node(s))\n${nodes}`;
    })
    .join('\n');
  assert.deepEqual(
    result.violations.map((v) => v.id),
    [],
    `axe found ${result.violations.length} violation(s) on ${label}:\n${report}`,
  );
  assert.ok(result.passes.length > 0, `axe ran no passing rule on ${label}`);
}


/**
 * Every overlap on the page between a form's label and: its own field, another field, another
 * label, a heading. Boxes are the elements' client rectangles; touching edges are not overlaps.
 */
export async function overlaps(page) {
  return page.evaluate(() => {
    const visible = (el) => {
      const r = el.getBoundingClientRect();
      const s = getComputedStyle(el);
      return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
    };
    const box = (el) => el.getBoundingClientRect();
    const meet = (a, b) =>
      a.left < b.right - 0.5 &&
      b.left < a.right - 0.5 &&
      a.top < b.bottom - 0.5 &&
      b.top < a.bottom - 0.5;
    const name = (el) => `${el.tagName.toLowerCase()}#${el.id || el.getAttribute('for') || '?'}`;
    const found = [];
    for (const form of document.querySelectorAll('main form')) {
      const labels = [...form.querySelectorAll('label')].filter(visible);
      const fields = [...form.querySelectorAll('input, select, textarea')].filter(
        (f) => f.type !== 'hidden' && visible(f),
      );
      const headings = [...document.querySelectorAll('main h1, main h2, main h3')].filter(visible);
      for (const [i, l] of labels.entries()) {
        for (const f of fields) {
          // A checkbox sits beside its own label (inside Bootstrap Italia's drawn box).
          if (f.type === 'checkbox' && l.htmlFor === f.id) continue;
          if (meet(box(l), box(f))) found.push(`${name(l)} on ${name(f)}`);
        }
        for (const other of labels.slice(i + 1)) {
          if (meet(box(l), box(other))) found.push(`${name(l)} on ${name(other)}`);
        }
        for (const h of headings) {
          if (meet(box(l), box(h))) found.push(`${name(l)} on ${name(h)}`);
        }
      }
    }
    return found;
  });
}

