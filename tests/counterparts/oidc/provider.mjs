// A real OpenID Connect provider (npm `oidc-provider` 9.x) for Sportello's
// integration tests. Started as a subprocess; see README.md beside this file
// for the contract. Everything lives in memory.
//
// stdout carries exactly one line: {"ready":true,"issuer":"http://127.0.0.1:<port>"}.
// Every log line goes to stderr.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';

// oidc-provider prints NOTICEs with console.info (stdout). Route every console
// method to stderr *before* the library is loaded, so stdout stays one line.
for (const method of ['log', 'info', 'debug', 'warn', 'error', 'trace']) {
  console[method] = (...args) => process.stderr.write(`[oidc] ${args.map(String).join(' ')}\n`);
}
const log = (...args) => console.error(...args);

const { default: Provider, interactionPolicy } = await import('oidc-provider');

// ---------------------------------------------------------------- arguments

const argv = process.argv.slice(2);
let port = 0;
let watchStdin = true;
let tlsCert;
let tlsKey;
for (let i = 0; i < argv.length; i += 1) {
  if (argv[i] === '--tls-cert') {
    tlsCert = fs.readFileSync(argv[(i += 1)]);
  } else if (argv[i] === '--tls-key') {
    tlsKey = fs.readFileSync(argv[(i += 1)]);
  } else if (argv[i] === '--port') {
    port = Number.parseInt(argv[(i += 1)], 10);
  } else if (argv[i].startsWith('--port=')) {
    port = Number.parseInt(argv[i].slice('--port='.length), 10);
  } else if (argv[i] === '--ignore-stdin') {
    watchStdin = false;
  } else {
    log(`unknown argument ${argv[i]}`);
    process.exit(2);
  }
}
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  log('--port must be an integer in 0..65535');
  process.exit(2);
}

// ---------------------------------------------------------------- lifetime

const exit = (why) => {
  log(`exiting: ${why}`);
  process.exit(0);
};
if (watchStdin) {
  // The test process holds our stdin; when it dies, the pipe reaches EOF.
  process.stdin.on('end', () => exit('stdin EOF'));
  process.stdin.on('close', () => exit('stdin closed'));
  process.stdin.on('error', () => exit('stdin error'));
  process.stdin.resume();
}
process.on('SIGTERM', () => exit('SIGTERM'));
process.on('SIGINT', () => exit('SIGINT'));
process.on('unhandledRejection', (err) => log('unhandled rejection:', err?.stack ?? err));

// ---------------------------------------------------------------- constants

const SPID_ACRS = [
  'https://www.spid.gov.it/SpidL1',
  'https://www.spid.gov.it/SpidL2',
  'https://www.spid.gov.it/SpidL3',
];
const ACCOUNT_CLAIMS = ['given_name', 'family_name', 'email', 'phone_number', 'fiscal_number'];
const TAMPER_MODES = new Set([
  'none', 'wrong_iss', 'wrong_aud', 'expired', 'iat_future', 'nonce', 'foreign_key',
  'unknown_kid_foreign', 'hs256', 'azp', 'aud_twice', 'userinfo_sub', 'clear',
]);

const b64u = (buf) => Buffer.from(buf).toString('base64url');
const newKid = () => b64u(crypto.randomBytes(12));
const now = () => Math.floor(Date.now() / 1000);

// ---------------------------------------------------------------- state (memory)

/** client_id -> client metadata (as given to oidc-provider) */
const clients = new Map();
/** sub -> account object ({sub, given_name, ..., acr}) */
const accounts = new Map();
/** account used by the next automatic login */
let currentAccount;
/** signing keys, newest first: {kid, jwk (private), key (KeyObject)} */
const keys = [];
/** one-shot hostile behaviours */
let tokenTamper; // a TAMPER_MODES member, applied to the next token response
let userinfoTamper = false; // next userinfo response gets another sub
/** GET /jwks requests served so far */
let jwksFetches = 0;

function rsaKey(kid = newKid()) {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  return { kid, jwk, key: privateKey };
}

// Models oidc-provider persists (sessions, interactions, codes, grants,
// tokens) go to one module-level store, so they survive a Provider rebuild
// after a key rotation. Client lookups are answered from `clients`.
const store = new Map(); // `${model}:${id}` -> { payload, expiresAt }
const grantIndex = new Map(); // grantId -> Set of store keys
const uidIndex = new Map(); // `${model}:${uid}` -> id
const userCodeIndex = new Map(); // `${model}:${userCode}` -> id

class MemoryAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    if (this.model === 'Client') {
      clients.set(id, payload);
      return;
    }
    const key = this.key(id);
    store.set(key, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
    if (payload.grantId) {
      if (!grantIndex.has(payload.grantId)) grantIndex.set(payload.grantId, new Set());
      grantIndex.get(payload.grantId).add(key);
    }
    if (payload.uid) uidIndex.set(`${this.model}:${payload.uid}`, id);
    if (payload.userCode) userCodeIndex.set(`${this.model}:${payload.userCode}`, id);
  }

  async find(id) {
    if (this.model === 'Client') {
      const c = clients.get(id);
      return c ? structuredClone(c) : undefined;
    }
    const key = this.key(id);
    const entry = store.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return entry.payload;
  }

  async findByUid(uid) {
    const id = uidIndex.get(`${this.model}:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = userCodeIndex.get(`${this.model}:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const entry = store.get(this.key(id));
    if (entry) entry.payload.consumed = now();
  }

  async destroy(id) {
    if (this.model === 'Client') {
      clients.delete(id);
      return;
    }
    store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const key of grantIndex.get(grantId) ?? []) store.delete(key);
    grantIndex.delete(grantId);
  }
}

// ---------------------------------------------------------------- provider

function interactionsPolicy() {
  const policy = interactionPolicy.base();
  const login = policy.get('login');
  // Every authorization request goes through /interaction/:uid, so each one
  // logs in as the account currently set through /__admin/account, even when
  // the user agent still carries a session cookie from an earlier login.
  login.checks.add(new interactionPolicy.Check(
    'fresh_login',
    'every request logs in as the admin-set account',
    'login_required',
    (ctx) => (ctx.oidc.result?.login
      ? interactionPolicy.Check.NO_NEED_TO_PROMPT
      : interactionPolicy.Check.REQUEST_PROMPT),
  ), 0);
  // The acr is whatever the admin set, even if an essential acr was asked
  // for (otherwise oidc-provider would loop back to the interaction).
  login.checks.remove('essential_acr');
  login.checks.remove('essential_acrs');
  return policy;
}

async function findAccount(_ctx, id) {
  const account = accounts.get(id);
  if (!account) return undefined;
  return {
    accountId: id,
    async claims() {
      const out = { sub: id };
      for (const name of ACCOUNT_CLAIMS) {
        if (account[name] !== undefined) out[name] = account[name];
      }
      return out;
    },
  };
}

let issuer;
let provider;
let providerCallback;

function buildProvider() {
  const p = new Provider(issuer, {
    adapter: MemoryAdapter,
    jwks: { keys: keys.map((k) => k.jwk) },
    findAccount,
    acrValues: SPID_ACRS,
    scopes: ['openid', 'profile', 'email', 'phone', 'fiscal_number'],
    claims: {
      acr: null,
      auth_time: null,
      iss: null,
      sid: null,
      openid: ['sub'],
      profile: ['given_name', 'family_name', 'fiscal_number'],
      email: ['email'],
      phone: ['phone_number'],
      fiscal_number: ['fiscal_number'],
    },
    // Scope-granted claims go into the ID token too, not only into userinfo.
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    pkce: { required: () => true },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
    enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
    features: {
      devInteractions: { enabled: false },
      claimsParameter: { enabled: true },
      userinfo: { enabled: true },
      revocation: { enabled: true },
    },
    interactions: {
      policy: interactionsPolicy(),
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 120,
      IdToken: 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
    async renderError(ctx, out, error) {
      log(`render error: ${error?.message ?? error}`);
      ctx.type = 'json';
      ctx.body = out;
    },
  });

  p.on('server_error', (_ctx, err) => log('server_error:', err?.stack ?? err));
  for (const ev of ['authorization.error', 'grant.error', 'userinfo.error', 'introspection.error', 'revocation.error']) {
    p.on(ev, (_ctx, err) => log(`${ev}: ${err?.message}${err?.error_description ? ` (${err.error_description})` : ''}`));
  }

  p.use(async (ctx, next) => {
    // Let user agents without a cookie jar resume: /auth/:uid needs the
    // _interaction_resume cookie (unsigned here), whose value is the uid.
    const resume = /^\/auth\/([^/]+)$/.exec(ctx.path);
    if (resume && !/(^|;\s*)_interaction_resume=/.test(ctx.get('cookie'))) {
      const prev = ctx.req.headers.cookie;
      ctx.req.headers.cookie = `${prev ? `${prev}; ` : ''}_interaction_resume=${resume[1]}`;
    }

    await next();
    log(`${ctx.method} ${ctx.path} -> ${ctx.status}`);

    if (ctx.method === 'POST' && ctx.path === '/token' && ctx.status === 200
        && ctx.body && typeof ctx.body.id_token === 'string' && tokenTamper) {
      const mode = tokenTamper;
      tokenTamper = undefined;
      ctx.body = { ...ctx.body, id_token: await tamperIdToken(ctx.body.id_token, mode, ctx) };
      log(`tampered id_token: ${mode}`);
    }
    if (ctx.path === '/me' && ctx.status === 200 && ctx.body && typeof ctx.body === 'object'
        && userinfoTamper) {
      userinfoTamper = false;
      ctx.body = { ...ctx.body, sub: `${ctx.body.sub}-someone-else` };
      log('tampered userinfo: sub');
    }
  });

  provider = p;
  providerCallback = p.callback();
}

// ---------------------------------------------------------------- tampering

function decodeJwt(jwt) {
  const [h, p] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url')),
    payload: JSON.parse(Buffer.from(p, 'base64url')),
  };
}

function signJwt(header, payload, { alg, key }) {
  const input = `${b64u(JSON.stringify({ ...header, alg }))}.${b64u(JSON.stringify(payload))}`;
  let sig;
  if (alg === 'none') sig = '';
  else if (alg === 'RS256') sig = b64u(crypto.sign('sha256', Buffer.from(input), key));
  else if (alg === 'HS256') sig = b64u(crypto.createHmac('sha256', key).update(input).digest());
  else throw new Error(`alg ${alg}`);
  return `${input}.${sig}`;
}

async function tamperIdToken(idToken, mode, ctx) {
  const { header, payload } = decodeJwt(idToken);
  const real = { alg: 'RS256', key: keys[0].key };
  const t = now();
  switch (mode) {
    case 'none':
      return signJwt({}, payload, { alg: 'none' });
    case 'wrong_iss':
      return signJwt(header, { ...payload, iss: `${payload.iss}/wrong-issuer` }, real);
    case 'wrong_aud':
      return signJwt(header, { ...payload, aud: 'some-other-client' }, real);
    case 'expired': {
      const iat = t - 3660;
      return signJwt(header, {
        ...payload, iat, exp: t - 3600, auth_time: Math.min(payload.auth_time ?? iat, iat),
      }, real);
    }
    case 'iat_future':
      return signJwt(header, { ...payload, iat: t + 3600, exp: t + 7200 }, real);
    case 'nonce':
      return signJwt(header, { ...payload, nonce: `not-your-nonce-${newKid()}` }, real);
    case 'foreign_key':
      return signJwt({ ...header, kid: keys[0].kid }, payload, { alg: 'RS256', key: rsaKey().key });
    case 'unknown_kid_foreign': {
      const foreign = rsaKey();
      return signJwt({ ...header, kid: foreign.kid }, payload, { alg: 'RS256', key: foreign.key });
    }
    case 'hs256': {
      const { client } = ctx.oidc;
      return signJwt({ ...header, kid: undefined }, payload, { alg: 'HS256', key: Buffer.from(client.clientSecret, 'utf8') });
    }
    case 'azp':
      return signJwt(header, { ...payload, azp: 'other' }, real);
    case 'aud_twice': {
      const aud = Array.isArray(payload.aud) ? payload.aud[0] : payload.aud;
      const { azp, ...rest } = payload;
      return signJwt(header, { ...rest, aud: [aud, aud] }, real);
    }
    default:
      throw new Error(`unknown tamper mode ${mode}`);
  }
}

// ---------------------------------------------------------------- interaction

async function handleInteraction(req, res, uid) {
  // Looked up by uid rather than by the _interaction cookie, so user agents
  // without a cookie jar work too.
  const interaction = await provider.Interaction.find(uid);
  if (!interaction) {
    return sendJson(res, 400, { error: 'interaction not found or expired', uid });
  }
  const { params } = interaction;
  if (!currentAccount) {
    interaction.result = { error: 'access_denied', error_description: 'no account set via POST /__admin/account' };
  } else {
    const grant = new provider.Grant({ accountId: currentAccount.sub, clientId: params.client_id });
    if (params.scope) grant.addOIDCScope(params.scope);
    // Claims asked for through the `claims` parameter, if any.
    if (params.claims) {
      try {
        const requested = JSON.parse(params.claims);
        const names = new Set([
          ...Object.keys(requested.id_token ?? {}),
          ...Object.keys(requested.userinfo ?? {}),
        ]);
        if (names.size) grant.addOIDCClaims([...names]);
      } catch { /* oidc-provider already validated it */ }
    }
    const grantId = await grant.save();
    interaction.result = {
      login: {
        accountId: currentAccount.sub,
        acr: currentAccount.acr,
        amr: ['pwd'],
        ts: now(),
        remember: false,
      },
      consent: { grantId },
    };
  }
  await interaction.save(Math.max(interaction.exp - now(), 1));
  log(`interaction ${uid}: ${interaction.result.error ?? `login as ${currentAccount.sub} acr ${currentAccount.acr}`}`);
  res.statusCode = 303;
  res.setHeader('Location', interaction.returnTo);
  res.setHeader('Content-Length', '0');
  res.end();
  return undefined;
}

// ---------------------------------------------------------------- admin

function sendJson(res, status, body) {
  const data = Buffer.from(JSON.stringify(body));
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', data.length);
  res.end(data);
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return {};
  return JSON.parse(text);
}

class BadRequest extends Error {}

const isNonEmptyString = (v) => typeof v === 'string' && v.length > 0;

async function handleAdmin(req, res, path) {
  const route = `${req.method} ${path}`;
  if (route === 'GET /__admin/health') {
    return sendJson(res, 200, { ok: true, issuer, kid: keys[0].kid, jwks_fetches: jwksFetches });
  }
  if (req.method !== 'POST') {
    return sendJson(res, 404, { error: `no admin route ${route}` });
  }

  let body;
  try {
    body = await readJson(req);
  } catch {
    return sendJson(res, 400, { error: 'body must be JSON' });
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return sendJson(res, 400, { error: 'body must be a JSON object' });
  }

  try {
    switch (path) {
      case '/__admin/clients': {
        const { client_id: clientId, client_secret: clientSecret, redirect_uris: redirectUris } = body;
        if (!isNonEmptyString(clientId)) throw new BadRequest('client_id must be a non-empty string');
        if (!isNonEmptyString(clientSecret)) throw new BadRequest('client_secret must be a non-empty string');
        if (!Array.isArray(redirectUris) || !redirectUris.length || !redirectUris.every(isNonEmptyString)) {
          throw new BadRequest('redirect_uris must be a non-empty array of strings');
        }
        const metadata = {
          client_id: clientId,
          client_secret: clientSecret,
          redirect_uris: redirectUris,
          application_type: 'web',
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
          id_token_signed_response_alg: 'RS256',
          require_auth_time: true,
        };
        if (Array.isArray(body.post_logout_redirect_uris)) {
          metadata.post_logout_redirect_uris = body.post_logout_redirect_uris;
        }
        try {
          await provider.Client.validate(metadata);
        } catch (err) {
          throw new BadRequest(`invalid client metadata: ${err.error_description ?? err.message}`);
        }
        clients.set(clientId, metadata);
        log(`client registered: ${clientId} ${redirectUris.join(' ')}`);
        return sendJson(res, 200, { client_id: clientId, redirect_uris: redirectUris });
      }
      case '/__admin/account': {
        if (!isNonEmptyString(body.sub)) throw new BadRequest('sub must be a non-empty string');
        const account = { sub: body.sub, acr: body.acr ?? SPID_ACRS[1] };
        if (!isNonEmptyString(account.acr)) throw new BadRequest('acr must be a non-empty string');
        for (const name of ACCOUNT_CLAIMS) {
          if (body[name] === undefined || body[name] === null) continue;
          if (typeof body[name] !== 'string') throw new BadRequest(`${name} must be a string`);
          account[name] = body[name];
        }
        accounts.set(account.sub, account);
        currentAccount = account;
        log(`account set: ${account.sub} acr ${account.acr}`);
        return sendJson(res, 200, account);
      }
      case '/__admin/rotate': {
        const fresh = rsaKey();
        keys.unshift(fresh);
        buildProvider();
        log(`rotated: signing kid ${fresh.kid}; jwks ${keys.map((k) => k.kid).join(',')}`);
        return sendJson(res, 200, { kid: fresh.kid });
      }
      case '/__admin/tamper': {
        const { mode } = body;
        if (!TAMPER_MODES.has(mode)) {
          return sendJson(res, 400, { error: `unknown mode ${JSON.stringify(mode)}`, modes: [...TAMPER_MODES] });
        }
        if (mode === 'clear') {
          tokenTamper = undefined;
          userinfoTamper = false;
        } else if (mode === 'userinfo_sub') {
          userinfoTamper = true;
        } else {
          tokenTamper = mode;
        }
        log(`tamper armed: ${mode}`);
        return sendJson(res, 200, { mode });
      }
      default:
        return sendJson(res, 404, { error: `no admin route ${route}` });
    }
  } catch (err) {
    if (err instanceof BadRequest) return sendJson(res, 400, { error: err.message });
    throw err;
  }
}

// ---------------------------------------------------------------- server

const handler = async (req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  if (path === '/jwks' && req.method === 'GET') jwksFetches += 1;
  try {
    if (path.startsWith('/__admin/')) {
      await handleAdmin(req, res, path);
      return;
    }
    const interaction = /^\/interaction\/([^/]+)$/.exec(path);
    if (interaction && req.method === 'GET') {
      await handleInteraction(req, res, interaction[1]);
      return;
    }
    providerCallback(req, res);
  } catch (err) {
    log(`error handling ${req.method} ${path}:`, err?.stack ?? err);
    if (!res.headersSent) sendJson(res, 500, { error: String(err?.message ?? err) });
    else res.destroy();
  }
};
const server = tlsCert && tlsKey
  ? https.createServer({ cert: tlsCert, key: tlsKey }, handler)
  : http.createServer(handler);

server.listen(port, '127.0.0.1', () => {
  const actual = server.address().port;
  issuer = `${tlsCert ? 'https' : 'http'}://127.0.0.1:${actual}`;
  keys.push(rsaKey());
  buildProvider();
  log(`listening: issuer ${issuer}, signing kid ${keys[0].kid}`);
  process.stdout.write(`${JSON.stringify({ ready: true, issuer })}\n`);
});
server.on('error', (err) => {
  log('server error:', err?.stack ?? err);
  process.exit(1);
});
