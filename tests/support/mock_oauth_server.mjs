// oauth2-mock-server (npm, v9) with what the OAuth tests need on top: request counters,
// a switch that makes the next refresh fail with invalid_grant, short token lifetimes,
// a denied consent, and an optional delay on /token to widen race windows.
// Usage: node mock_oauth_server.mjs PORT   (binds 127.0.0.1; prints "ready" when listening)
import http from 'node:http';
import { OAuth2Issuer, OAuth2Service, Events } from 'oauth2-mock-server';

const port = Number(process.argv[2]);
const issuer = new OAuth2Issuer();
issuer.url = `http://127.0.0.1:${port}`;
await issuer.keys.generate('RS256');
const service = new OAuth2Service(issuer);

const stats = { token: {}, authorize: 0, revoke: 0, userinfo: 0, last_authorize: null, last_token: null };
const config = { fail_next_refresh: false, expires_in: null, deny_next: false, token_delay_ms: 0 };

service.on(Events.BeforeAuthorizeRedirect, (redirect, req) => {
  stats.authorize += 1;
  stats.last_authorize = Object.fromEntries(new URL(req.url, issuer.url).searchParams);
  if (config.deny_next) {
    config.deny_next = false;
    redirect.url.searchParams.delete('code');
    redirect.url.searchParams.set('error', 'access_denied');
    redirect.url.searchParams.set('error_description', 'The user said no');
  }
});

service.on(Events.BeforeResponse, (response, req) => {
  const grant = req.body.grant_type;
  stats.token[grant] = (stats.token[grant] ?? 0) + 1;
  stats.last_token = { ...req.body, authorization: req.headers.authorization ?? null };
  if (grant === 'refresh_token' && config.fail_next_refresh) {
    config.fail_next_refresh = false;
    response.statusCode = 400;
    response.body = { error: 'invalid_grant', error_description: 'refresh token revoked' };
    return;
  }
  if (config.expires_in !== null && response.body.access_token) {
    response.body.expires_in = config.expires_in;
  }
});

service.on(Events.BeforeRevoke, () => { stats.revoke += 1; });
service.on(Events.BeforeUserinfo, () => { stats.userinfo += 1; });

const send = (res, body) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, issuer.url);
  if (url.pathname === '/__stats') return send(res, stats);
  if (url.pathname === '/__reset') {
    Object.assign(stats, { token: {}, authorize: 0, revoke: 0, userinfo: 0, last_authorize: null, last_token: null });
    Object.assign(config, { fail_next_refresh: false, expires_in: null, deny_next: false, token_delay_ms: 0 });
    return send(res, { ok: true });
  }
  if (url.pathname === '/__config') {
    for (const [key, value] of url.searchParams) {
      if (key === 'expires_in' || key === 'token_delay_ms') config[key] = Number(value);
      else config[key] = value === '1' || value === 'true';
    }
    return send(res, config);
  }
  if (url.pathname === '/token' && config.token_delay_ms > 0) {
    await new Promise((resolve) => setTimeout(resolve, config.token_delay_ms));
  }
  return service.requestHandler(req, res);
});

server.listen(port, '127.0.0.1', () => console.log('ready'));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
