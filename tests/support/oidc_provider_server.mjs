// A real OpenID Connect / OAuth 2.0 authorization server for the tests: panva's oidc-provider
// (npm, pinned in tests/support/oidc_provider.py) with the device flow (RFC 8628), open dynamic
// client registration (RFC 7591), revocation (RFC 7009), introspection (RFC 7662), PKCE S256 for
// public clients and rotating refresh tokens, plus login/consent pages an HTTP client can answer
// and a few test-only endpoints under /test/.
// Usage: node oidc_provider_server.mjs PORT ['{"access_token_ttl": 5}']
//   binds 127.0.0.1:PORT, issuer http://127.0.0.1:PORT, prints "ready" when listening.
// Configuration reference: https://github.com/panva/node-oidc-provider/blob/v9.x/docs/README.md
import { generateKeyPairSync, randomBytes } from 'node:crypto';

import { Provider } from 'oidc-provider';

// oidc-provider 9 declares Node.js 22 LTS as its minimum (CHANGELOG 9.0.0, "removed support for
// Node.js 20.x") and warns on 20; what it really needs from 20 is URL.parse (20.18) and
// crypto.hash (20.12).
if (typeof URL.parse !== 'function') {
  console.error('oidc-provider 9 needs Node.js >= 20.18 (URL.parse)');
  process.exit(1);
}

const port = Number(process.argv[2]);
const issuer = `http://127.0.0.1:${port}`;
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

// Knobs a test may change at run time (POST /test/config), back to these on POST /test/reset.
const DEFAULTS = Object.freeze({
  access_token_ttl: 3600, // seconds
  refresh_token_ttl: 14 * 24 * 3600, // seconds
  device_code_ttl: 600, // seconds: the device code's (and user code's) expires_in
  // Seconds advertised as `interval` by the device authorization endpoint and enforced with
  // slow_down (see below); 0 = advertise none (clients then wait 5 s, RFC 8628 s3.2) and never
  // answer slow_down.
  device_poll_interval: 1,
  // 'always': every client allowed the refresh_token grant gets a refresh token;
  // 'offline_access': oidc-provider's own rule, only when the granted scope has offline_access
  // (and an authorization request must then also carry prompt=consent, or the scope is dropped).
  refresh_token_policy: 'always',
  rotate_refresh_tokens: true, // a used refresh token is consumed; reusing it revokes the grant
});
const settings = { ...DEFAULTS, ...JSON.parse(process.argv[3] ?? '{}') };

const ACCOUNTS = {
  alice: {
    password: 'alice-password',
    claims: { name: 'Alice Example', preferred_username: 'alice', email: 'alice@example.test', email_verified: true },
  },
  bob: {
    password: 'bob-password',
    claims: { name: 'Bob Example', preferred_username: 'bob', email: 'bob@example.test', email_verified: true },
  },
};

const SCOPES = ['openid', 'offline_access', 'profile', 'email', 'chat:read', 'chat:write'];

// Statically registered clients (docs: "clients"). The native one may use any port on its
// loopback redirect (RFC 8252 s7.3; oidc-provider ignores only the port, and only for
// application_type native with http on localhost, 127.0.0.1 or [::1]: lib/models/client.js).
const CLIENTS = [
  {
    client_id: 'multichat-native',
    client_name: 'multichat test app (native, public)',
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token', DEVICE_GRANT],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/callback'],
  },
  {
    client_id: 'multichat-web',
    client_secret: 'multichat-web-secret-7d1f0b',
    client_name: 'multichat test app (web, confidential)',
    application_type: 'web',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/callback'],
  },
];

// ---- small HTTP plumbing --------------------------------------------------------------------

const esc = (value) => String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function readBody(ctx) {
  const chunks = [];
  for await (const chunk of ctx.req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  if (ctx.is('application/json')) return text ? JSON.parse(text) : {};
  return Object.fromEntries(new URLSearchParams(text));
}

function json(ctx, status, body) {
  ctx.status = status;
  ctx.body = body;
}

// Our pages load nothing from elsewhere (oidc-provider's own import a Google font, and the
// tests run offline).
function page(ctx, status, { title, prompt, body }) {
  if (status !== undefined) ctx.status = status;
  ctx.type = 'html';
  ctx.set('cache-control', 'no-store');
  const meta = prompt ? `<meta name="interaction-prompt" content="${prompt}">` : '';
  ctx.body = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${esc(title)}</title>${meta}</head>
<body><h1>${esc(title)}</h1>${body}</body></html>`;
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

const provider = new Provider(issuer, {
  clients: CLIENTS,
  async findAccount(ctx, id) {
    const account = ACCOUNTS[id];
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...account.claims }) };
  },
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  scopes: SCOPES,
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), use: 'sig', kid: 'test-rs256' }] },
  features: {
    devInteractions: { enabled: false }, // ours are below: they check the password, offer Deny
    deviceFlow: {
      enabled: true,
      // The docs' default pages (features.deviceFlow), on our plain layout; `form` is
      // oidc-provider's own form (lib/helpers/user_code_form.js) with its xsrf field.
      async userCodeInputSource(ctx, form, out, err) {
        let message = 'Enter the code displayed on your device';
        if (err?.userCode || err?.name === 'NoCodeError') message = 'The code you entered is incorrect. Try again';
        else if (err?.name === 'AbortedError') message = 'The Sign-in request was interrupted';
        else if (err) message = 'There was an error processing your request';
        page(ctx, undefined, {
          title: 'Sign-in',
          body: `<p>${message}</p>${form}<button type="submit" form="op.deviceInputForm">Continue</button>`,
        });
      },
      async userCodeConfirmSource(ctx, form, client, deviceInfo, userCode) {
        page(ctx, undefined, {
          title: 'Confirm Device',
          body: `<p><strong>${esc(client.clientName ?? client.clientId)}</strong></p>
<p>The following code should be displayed on your device: <code>${esc(userCode)}</code></p>
${form}
<button autofocus type="submit" form="op.deviceConfirmForm">Continue</button>
<button type="submit" form="op.deviceConfirmForm" value="yes" name="abort">Abort</button>`,
        });
      },
      async successSource(ctx) {
        page(ctx, undefined, { title: 'Sign-in Success', body: '<p>You can now close this page.</p>' });
      },
    },
    registration: { enabled: true, initialAccessToken: false }, // open: no initial access token
    revocation: { enabled: true },
    introspection: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        page(ctx, undefined, {
          title: 'Sign out?',
          body: `${form}<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`,
        });
      },
      async postLogoutSuccessSource(ctx) {
        page(ctx, undefined, { title: 'Signed out', body: '<p>You are signed out.</p>' });
      },
    },
  },
  // Public clients must send a PKCE challenge; S256 is the only method oidc-provider accepts.
  pkce: { required: (ctx, client) => client.clientAuthMethod === 'none' },
  async issueRefreshToken(ctx, client, code) {
    if (!client.grantTypeAllowed('refresh_token')) return false;
    return settings.refresh_token_policy === 'always' || code.scopes.has('offline_access');
  },
  rotateRefreshToken: () => settings.rotate_refresh_tokens,
  ttl: {
    AccessToken: () => settings.access_token_ttl,
    RefreshToken: () => settings.refresh_token_ttl,
    DeviceCode: () => settings.device_code_ttl,
    AuthorizationCode: 60,
    IdToken: 3600,
    Interaction: 3600,
    Session: 3600,
    Grant: 14 * 24 * 3600,
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async renderError(ctx, out) {
    const lines = Object.entries(out).map(([key, value]) => `<pre><strong>${esc(key)}</strong>: ${esc(value)}</pre>`);
    page(ctx, undefined, { title: 'Error', body: lines.join('') });
  },
});

provider.on('server_error', (ctx, error) => console.error('server_error', error));

// ---- login and consent: plain HTML forms, answerable by a browser or an HTTP client ----------
// Contract with oidc_provider.py: GET /interaction/UID shows a page whose
// <meta name="interaction-prompt"> is "login" or "consent"; POST /interaction/UID/login takes
// username + password, POST /interaction/UID/consent takes decision=allow|deny.

async function finish(ctx, result, mergeWithLastSubmission) {
  const to = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission });
  ctx.redirect(to);
  ctx.status = 303;
}

function loginPage(ctx, uid, client, error) {
  const name = client?.clientName ?? client?.clientId ?? 'an application';
  page(ctx, 200, {
    title: 'Sign in',
    prompt: 'login',
    body: `<p>Sign in to continue to <strong>${esc(name)}</strong>.</p>
${error ? `<p id="error" role="alert">${esc(error)}</p>` : ''}
<form id="login" method="post" action="/interaction/${esc(uid)}/login">
  <label>Username <input name="username" autocomplete="username" autofocus></label>
  <label>Password <input name="password" type="password" autocomplete="current-password"></label>
  <button type="submit">Sign in</button>
</form>`,
  });
}

function consentPage(ctx, uid, client, params) {
  const name = client?.clientName ?? params.client_id;
  const scopes = (params.scope ?? '').split(' ').filter(Boolean);
  page(ctx, 200, {
    title: 'Authorize',
    prompt: 'consent',
    body: `<p><strong>${esc(name)}</strong> asks for: ${scopes.map((s) => `<code>${esc(s)}</code>`).join(' ')}</p>
<form id="consent" method="post" action="/interaction/${esc(uid)}/consent">
  <button type="submit" name="decision" value="allow">Allow</button>
  <button type="submit" name="decision" value="deny">Deny</button>
</form>`,
  });
}

async function interaction(ctx, uid, action) {
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const { prompt, params } = details;
  const client = await provider.Client.find(params.client_id);

  if (ctx.method === 'GET' && !action) {
    if (prompt.name === 'login') return loginPage(ctx, uid, client);
    return consentPage(ctx, uid, client, params);
  }
  if (ctx.method !== 'POST') return json(ctx, 405, { error: 'method_not_allowed' });
  const form = await readBody(ctx);

  if (action === 'login' && prompt.name === 'login') {
    const account = ACCOUNTS[form.username];
    if (!account || account.password !== form.password) {
      return loginPage(ctx, uid, client, 'Wrong username or password.');
    }
    return finish(ctx, { login: { accountId: form.username } }, false);
  }
  if (action === 'consent' && prompt.name === 'consent') {
    if (form.decision !== 'allow') {
      return finish(ctx, { error: 'access_denied', error_description: 'End-User denied the request' }, false);
    }
    // As in oidc-provider's example/routes/koa.js: grant what the consent prompt says is missing.
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
    const missing = prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scope] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scope.join(' '));
    }
    const grantId = await grant.save();
    return finish(ctx, { consent: details.grantId ? {} : { grantId } }, true);
  }
  return json(ctx, 400, { error: 'invalid_request', error_description: `no ${action} step now: ${prompt.name}` });
}

// ---- test-only endpoints ------------------------------------------------------------------

const lastPoll = new Map(); // device_code -> ms of its previous token request

function normalizeUserCode(input) {
  // The same normalisation as oidc-provider's lib/helpers/user_codes.js: upper case, no dashes.
  return String(input ?? '').toUpperCase().replace(/\W/g, '');
}

// Approve (as an account, alice by default) or deny a pending device code without the pages:
// it does to the DeviceCode what oidc-provider's device_resume step does (lib/actions/authorization/device.js).
async function decideDevice(body) {
  const code = await provider.DeviceCode.findByUserCode(normalizeUserCode(body.user_code), { ignoreExpiration: true });
  if (!code) return [404, { error: 'not_found' }];
  if (code.isExpired) return [410, { error: 'expired' }];
  if (code.error || code.accountId || code.inFlight) return [409, { error: 'already_used' }];

  if (body.decision === 'deny') {
    Object.assign(code, { error: 'access_denied', errorDescription: 'End-User denied the device' });
  } else if (body.decision === 'allow') {
    const accountId = body.account_id ?? 'alice';
    if (!ACCOUNTS[accountId]) return [400, { error: 'unknown_account' }];
    const scope = (code.params.scope ?? '').split(' ').filter((s) => SCOPES.includes(s)).join(' ');
    const grant = new provider.Grant({ accountId, clientId: code.clientId });
    grant.addOIDCScope(scope);
    Object.assign(code, {
      accountId,
      grantId: await grant.save(),
      scope,
      authTime: Math.floor(Date.now() / 1000),
    });
  } else {
    return [400, { error: 'decision must be allow or deny' }];
  }
  await code.save();
  return [200, { ok: true, user_code: code.userCode, decision: body.decision }];
}

async function testEndpoint(ctx, path) {
  if (path === '/test/info') {
    return json(ctx, 200, {
      issuer,
      clients: CLIENTS,
      accounts: Object.fromEntries(Object.entries(ACCOUNTS).map(([id, a]) => [id, { password: a.password, ...a.claims }])),
      settings,
      defaults: DEFAULTS,
    });
  }
  if (ctx.method !== 'POST') return json(ctx, 405, { error: 'method_not_allowed' });
  const body = await readBody(ctx);
  if (path === '/test/config') {
    for (const [key, value] of Object.entries(body)) {
      if (!(key in DEFAULTS)) return json(ctx, 400, { error: `unknown setting ${key}` });
      settings[key] = value;
    }
    return json(ctx, 200, settings);
  }
  if (path === '/test/reset') {
    Object.assign(settings, DEFAULTS);
    lastPoll.clear();
    return json(ctx, 200, settings);
  }
  if (path === '/test/device/approve') {
    const [status, answer] = await decideDevice(body);
    return json(ctx, status, answer);
  }
  return json(ctx, 404, { error: 'not_found' });
}

// RFC 8628 s3.5 slow_down: oidc-provider defines the error (errors.SlowDown) but never answers
// it, and its device authorization response carries no `interval`; both are added here.
function devicePolling(ctx) {
  const route = ctx.oidc?.route;
  if (route === 'device_authorization' && ctx.status === 200 && settings.device_poll_interval > 0) {
    ctx.body.interval = settings.device_poll_interval;
  }
  if (route !== 'token' || ctx.oidc.params?.grant_type !== DEVICE_GRANT) return;
  const deviceCode = ctx.oidc.params.device_code;
  const now = Date.now();
  const previous = lastPoll.get(deviceCode);
  lastPoll.set(deviceCode, now);
  const tooSoon = previous !== undefined && now - previous < settings.device_poll_interval * 1000;
  if (tooSoon && ctx.body?.error === 'authorization_pending') {
    ctx.body = { error: 'slow_down', error_description: `poll at most every ${settings.device_poll_interval} s` };
  }
}

provider.use(async (ctx, next) => {
  const path = ctx.path;
  try {
    if (path.startsWith('/test/')) return await testEndpoint(ctx, path);
    const match = /^\/interaction\/([\w-]+)(?:\/(login|consent))?$/.exec(path);
    if (match) return await interaction(ctx, match[1], match[2]);
  } catch (error) {
    // e.g. SessionNotFound when the interaction cookie is missing or the interaction expired
    const status = error.status ?? 500;
    if (status >= 500) console.error(error);
    const body = `<pre><strong>${esc(error.error ?? 'server_error')}</strong>: ${esc(error.error_description ?? error.message)}</pre>`;
    return page(ctx, status, { title: 'Error', body });
  }
  await next();
  devicePolling(ctx);
});

const server = provider.listen(port, '127.0.0.1', () => console.log('ready'));
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
