// Hostile stored text in a real browser: Chromium's HTML5 parser decides what a page is, not a
// string search. A commune whose service description tries to end the JSON-LD block early or
// open a comment must still get its whole page, and the JSON-LD must still say exactly what
// was stored.
//
// Run with `npm test` in web/ (see browser.test.mjs for the binary and Chromium).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './server.mjs';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const webDir = path.resolve(here, '..');
const serverBin = path.resolve(webDir, process.env.SPORTELLO_BIN || '../target/debug/sportello');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

// Every way out of a <script> element's text, and the characters JSON in HTML must escape.
const HOSTILE = 'Inizio <!--<script> & </script><p id="injected">preso</p> fine';

const commune = `
[commune]
istat_code = "050026"
primary_host = "pisa.localhost"

[[offices]]
id = "ufficio"
name = "Ufficio"

[[services]]
id = "servizio-ostile"
title = "Servizio con testo ostile"
summary = "Sintesi"
description = ${JSON.stringify(HOSTILE)}
audience = "citizens"
life_events = ["family"]
office = "ufficio"
channels = ["desk"]
`;

let server;
const serverOut = { log: '' };
let tmp;
let browser;
let port;

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'sportello-hostile-'));
  const tenants = path.join(tmp, 'tenants');
  mkdirSync(tenants);
  writeFileSync(path.join(tenants, 'pisa.toml'), commune);
  let started;
  [started, browser] = await Promise.all([
    startServer(serverBin, { tmp, tenantsDir: tenants }, serverOut),
    chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] }),
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

test('stored text cannot end the JSON-LD block nor blank the rest of the page', async (t) => {
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  const res = await page.goto(`http://pisa.localhost:${port}/servizi/servizio-ostile`);
  assert.equal(res.status(), 200, serverOut.log);
  const seen = await page.evaluate(() => {
    const blocks = [...document.querySelectorAll('script[type="application/ld+json"]')];
    let description = null;
    try {
      description = JSON.parse(blocks[0].textContent)['dct:description'][0]['@value'];
    } catch (e) {
      description = `unparsable: ${e}`;
    }
    return {
      blocks: blocks.length,
      description,
      injected: document.getElementById('injected') !== null,
      footer: document.querySelector('footer') !== null,
      heading: document.querySelector('h1')?.textContent?.trim() ?? null,
    };
  });
  assert.equal(seen.blocks, 1);
  assert.equal(seen.description, HOSTILE, 'the JSON-LD says exactly what was stored');
  assert.equal(seen.injected, false, 'no element comes out of the script block');
  assert.equal(seen.footer, true, 'the rest of the page is still there');
  assert.equal(seen.heading, 'Servizio con testo ostile');
  // The description shown on the page is text, not markup.
  assert.ok((await page.content()).includes('&lt;/script&gt;&lt;p id="injected"&gt;'));
});

test('the pages work under their own Content-Security-Policy', async (t) => {
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  const violations = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  for (const p of ['/', '/servizi/servizio-ostile', '/uffici', '/accedi']) {
    const res = await page.goto(`http://pisa.localhost:${port}${p}`);
    assert.ok(res.status() < 500, `${p}: ${res.status()}`);
    assert.match(res.headers()['content-security-policy'] ?? '', /frame-ancestors 'none'/);
  }
  // The stylesheets still apply (none was refused by the policy).
  const sheets = await page.evaluate(() => document.styleSheets.length);
  assert.ok(sheets >= 3, `stylesheets loaded: ${sheets}`);
  assert.deepEqual(violations, []);
});
