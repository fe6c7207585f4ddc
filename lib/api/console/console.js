// The Tessera console: sign in, see repositories, mint and revoke tokens, change the password.
//
// Security model (DESIGN.md, "Ticket API"):
// * The console uses the HttpOnly flow: the ticket lives only in the __Host-PBSAuthCookie cookie,
//   which this script can neither read nor write. It never sees a ticket.
// * The CSRFPreventionToken is kept in a variable of this closure only (never localStorage,
//   sessionStorage or a cookie) and sent as the CSRFPreventionToken header on every non-GET call.
// * Tickets live 7200 s; the session is renewed every 15 minutes by logging in again with the
//   `ticket-info` of the last login or renewal as the password (the server renews from the cookie
//   and answers a new CSRF token and ticket-info).
// * After a reload the CSRF token is gone. The ticket-info (the ticket's text without its
//   signature: user name and time, nothing that authenticates) is kept in sessionStorage, so a
//   reload renews the session from the cookie and gets a new CSRF token; when that fails, the
//   sign-in screen is shown. sessionStorage dies with the tab, and sign-out clears it.
// * Nothing from the server is put into the page as HTML: all text goes through textContent.
// No framework, no eval, no inline script or style (the Content-Security-Policy forbids them).
'use strict';

(function () {
  const API = '/api2/json';
  const RENEW_EVERY_MS = 15 * 60 * 1000;
  const TICKET_LIFETIME_MS = 7200 * 1000;
  const INFO_KEY = 'tessera.ticket-info';  // sessionStorage: the non-secret ticket-info only

  // The session, in memory only.
  let csrf = null;
  let ticketInfo = null;
  let userid = null;
  let renewedAt = 0;
  let renewTimer = null;
  let repoNames = [];

  const $ = (id) => document.getElementById(id);

  // ---- Messages (the aria-live region) ----

  function say(text, kind) {
    const box = $('message');
    box.className = 'message ' + (kind || 'ok');
    box.textContent = text;
  }
  function sayError(text) { say(text, 'error'); }
  function clearMessage() {
    const box = $('message');
    box.className = 'message';
    box.textContent = '';
  }

  // ---- The API ----

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  // Calls the API; resolves to the envelope's `data`, rejects with an ApiError carrying the
  // server's message. A 401 outside sign-in means the session is gone: back to the sign-in
  // screen.
  async function api(method, path, body, options) {
    const opts = options || {};
    const headers = { 'Accept': 'application/json' };
    if (method !== 'GET' && method !== 'HEAD' && csrf) headers['CSRFPreventionToken'] = csrf;
    let payload;
    if (body instanceof URLSearchParams) {
      payload = body;  // fetch sets application/x-www-form-urlencoded
    } else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(API + path, {
        method: method,
        headers: headers,
        body: payload,
        credentials: 'same-origin',
        cache: 'no-store',
        redirect: 'error',
      });
    } catch (e) {
      throw new ApiError(0, 'The server could not be reached.');
    }
    let envelope = null;
    try {
      envelope = await response.json();
    } catch (e) {
      envelope = null;
    }
    if (!response.ok) {
      const message = envelope && typeof envelope.message === 'string' && envelope.message
          ? envelope.message : 'HTTP ' + response.status;
      if (response.status === 401 && !opts.signingIn) {
        const ended = 'Your session has ended. Please sign in again.';
        endSession(ended);
        throw new ApiError(401, ended);
      }
      throw new ApiError(response.status, message);
    }
    return envelope ? envelope.data : null;
  }

  // ---- Session ----

  // Takes a login, renewal or password-change answer: {username, ticket-info, CSRFPreventionToken}.
  function adopt(data) {
    if (!data || typeof data.CSRFPreventionToken !== 'string' || typeof data['ticket-info'] !== 'string') {
      throw new ApiError(0, 'The server answered the sign-in in an unexpected form.');
    }
    csrf = data.CSRFPreventionToken;
    ticketInfo = data['ticket-info'];
    userid = data.username;
    renewedAt = Date.now();
    try { sessionStorage.setItem(INFO_KEY, JSON.stringify({ userid: userid, info: ticketInfo })); } catch (e) { /* storage off: a reload signs in again */ }
    scheduleRenewal();
  }

  function scheduleRenewal() {
    if (renewTimer !== null) clearInterval(renewTimer);
    renewTimer = setInterval(renew, RENEW_EVERY_MS);
  }

  async function login(username, password, signingIn) {
    const form = new URLSearchParams();
    form.set('username', username);
    form.set('password', password);
    form.set('http-only', '1');
    const data = await api('POST', '/access/ticket', form, { signingIn: signingIn });
    adopt(data);
  }

  async function renew() {
    if (!ticketInfo || !userid) return;
    if (Date.now() - renewedAt >= TICKET_LIFETIME_MS) {
      endSession('Your session has expired. Please sign in again.');
      return;
    }
    try {
      await login(userid, ticketInfo, false);
    } catch (e) {
      // 401 has already ended the session; other failures (network) are retried next time.
      if (e.status !== 401) sayError('Could not renew the session: ' + e.message);
    }
  }

  // Forgets everything about the session and shows the sign-in screen.
  function endSession(message) {
    csrf = null;
    ticketInfo = null;
    userid = null;
    if (renewTimer !== null) clearInterval(renewTimer);
    renewTimer = null;
    try { sessionStorage.removeItem(INFO_KEY); } catch (e) { /* nothing stored */ }
    hideMinted();
    for (const id of ['signin-form', 'mint-form', 'password-form']) $(id).reset();
    showSignIn();
    if (message) sayError(message);
  }

  // A tab that slept past renewals renews at once when it is shown again.
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible' && ticketInfo && Date.now() - renewedAt >= RENEW_EVERY_MS) renew();
  });

  // ---- Screens ----

  function showSignIn() {
    $('overview-screen').hidden = true;
    $('session').hidden = true;
    $('signin-screen').hidden = false;
    document.title = 'Sign in – Tessera console';
    $('signin-user').focus();
  }

  function showOverview() {
    $('signin-screen').hidden = true;
    $('session-user').textContent = userid;
    $('session').hidden = false;
    $('overview-screen').hidden = false;
    document.title = 'Tessera console';
    $('password-user').value = userid;
    $('overview-title').focus();
    refresh();
  }

  async function refresh() {
    const results = await Promise.allSettled([loadUsage(), loadRepos(), loadTokens()]);
    const failed = results.filter((r) => r.status === 'rejected').map((r) => r.reason.message);
    if (failed.length) sayError(failed.join(' '));
  }

  // ---- Formatting ----

  function formatBytes(n) {
    if (typeof n !== 'number' || !isFinite(n)) return '–';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
    let i = 0;
    let v = n;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (i === 0 ? String(v) : v.toFixed(v < 10 ? 1 : 0)) + ' ' + units[i];
  }

  function pad(n) { return String(n).padStart(2, '0'); }

  // Unix seconds as local "YYYY-MM-DD HH:MM"; null or missing as `none`.
  function formatTime(seconds, none) {
    if (typeof seconds !== 'number' || seconds <= 0) return none;
    const d = new Date(seconds * 1000);
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + pad(d.getHours()) + ':' + pad(d.getMinutes());
  }

  function cell(row, label, text, className) {
    const td = document.createElement('td');
    td.dataset.label = label;
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function setState(prefix, text, isError) {
    const state = $(prefix + '-state');
    state.textContent = text;
    state.className = 'state' + (isError ? ' error' : '');
    state.hidden = text === '';
  }

  // ---- Usage against the account's bounds ----

  // Sets one gauge: a <meter> (coloured by the browser as it nears the bound: low 80 %, high
  // 95 %) and its text. Without a bound only the text shows.
  function gauge(id, used, bound, text) {
    const meter = $(id);
    const limited = typeof bound === 'number' && bound > 0;
    meter.hidden = !limited;
    if (limited) {
      meter.max = bound;
      meter.low = bound * 0.8;
      meter.high = bound * 0.95;
      meter.value = Math.min(used, bound);
    }
    $(id + '-text').textContent = text;
  }

  function percent(used, bound) {
    return Math.min(100, Math.round((100 * used) / bound)) + ' %';
  }

  async function loadUsage() {
    let u;
    try {
      u = await api('GET', '/usage');
    } catch (e) {
      $('usage').hidden = true;
      throw new ApiError(e.status, 'Usage: ' + e.message + '.');
    }
    const bytes = Number(u.bytes) || 0;
    const quota = typeof u.quota_bytes === 'number' ? u.quota_bytes : null;
    gauge('usage-bytes', bytes, quota, quota === null
      ? formatBytes(bytes) + ' used, no quota'
      : formatBytes(bytes) + ' of ' + formatBytes(quota) + ' (' + percent(bytes, quota) + ')');
    const repos = Number(u.repos) || 0;
    const cap = Number(u.repo_max_count) || 0;
    gauge('usage-repos', repos, cap, repos + ' of ' + cap +
      (cap > 0 && repos >= cap ? ': the limit, ask your administrator for more' : ''));
    $('usage').hidden = false;
  }

  // ---- Repositories ----

  async function loadRepos() {
    let repos;
    try {
      repos = await api('GET', '/repos');
    } catch (e) {
      $('repos-table').hidden = true;
      setState('repos', 'Could not load the repositories: ' + e.message, true);
      throw new ApiError(e.status, 'Repositories: ' + e.message + '.');
    }
    if (!Array.isArray(repos)) repos = [];
    const body = $('repos-body');
    body.replaceChildren();
    repoNames = [];
    for (const r of repos) {
      repoNames.push(String(r.repo));
      const tr = document.createElement('tr');
      cell(tr, 'Repository', String(r.repo));
      cell(tr, 'Size', formatBytes(r.bytes), 'num');
      cell(tr, 'Objects', String(r.objects ?? '–'), 'num');
      cell(tr, 'Snapshots', String(r.snapshots ?? '–'), 'num');
      cell(tr, 'Last snapshot', formatTime(r.last_snapshot, 'never'));
      body.appendChild(tr);
    }
    const list = $('repo-names');
    list.replaceChildren();
    for (const name of repoNames) {
      const option = document.createElement('option');
      option.value = name;
      list.appendChild(option);
    }
    $('repos-table').hidden = repos.length === 0;
    setState('repos', repos.length === 0 ? 'No repositories yet. Create one with restic init and a token that may write.' : '', false);
  }

  // ---- Tokens ----

  function tokenStatus(t) {
    if (typeof t.revoked === 'number' && t.revoked > 0) return 'revoked';
    if (typeof t.expire === 'number' && t.expire > 0 && t.expire * 1000 <= Date.now()) return 'expired';
    return 'active';
  }

  function rights(t) {
    const r = [];
    if (t.read) r.push('read');
    if (t.write) r.push('write');
    if (t.delete) r.push('delete');
    return r.length ? r.join(', ') : 'none';
  }

  async function loadTokens() {
    let tokens;
    try {
      tokens = await api('GET', '/access/tokens');
    } catch (e) {
      $('tokens-table').hidden = true;
      setState('tokens', 'Could not load the tokens: ' + e.message, true);
      throw new ApiError(e.status, 'Tokens: ' + e.message + '.');
    }
    if (!Array.isArray(tokens)) tokens = [];
    const body = $('tokens-body');
    body.replaceChildren();
    for (const t of tokens) {
      const name = String(t.name);
      const status = tokenStatus(t);
      const tr = document.createElement('tr');
      tr.dataset.token = name;
      tr.dataset.status = status;
      cell(tr, 'Name', name);
      cell(tr, 'Rights', rights(t));
      cell(tr, 'Repository', t.repo === null || t.repo === undefined ? 'any' : String(t.repo));
      cell(tr, 'Expires', formatTime(t.expire, 'never'));
      cell(tr, 'Status', status, 'status-' + status);
      const action = cell(tr, 'Action', '');
      if (status === 'active') {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'danger revoke';
        button.textContent = 'Revoke';
        button.setAttribute('aria-label', 'Revoke token ' + name);
        button.addEventListener('click', () => revoke(name, button));
        action.appendChild(button);
      }
      body.appendChild(tr);
    }
    $('tokens-table').hidden = tokens.length === 0;
    setState('tokens', tokens.length === 0 ? 'No tokens yet.' : '', false);
  }

  async function revoke(name, button) {
    clearMessage();
    button.disabled = true;
    try {
      await api('DELETE', '/access/tokens/' + encodeURIComponent(name));
      say('Token ' + name + ' revoked.');
      await loadTokens().catch((e) => sayError(e.message));
      $('tokens-title').focus();
    } catch (e) {
      button.disabled = false;
      sayError('Could not revoke ' + name + ': ' + e.message);
    }
  }

  // The restic repository URL for a new token, as conf/dev-up prints it: the token is the
  // password of HTTP Basic (the user name is the account's, percent-encoded), on this origin.
  function resticCommand(token, repo) {
    const path = repo ? repo : '<repository>';
    // encodeURIComponent leaves !'()* as they are; a userid may hold them, and a ' would end the
    // shell quoting below.
    const user = encodeURIComponent(userid).replace(/[!'()*]/g,
        (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
    const url = 'rest:' + location.protocol + '//' + user + ':' + token + '@' + location.host + '/backup/' + path + '/';
    return "export RESTIC_REPOSITORY='" + url + "'\nrestic snapshots";
  }

  function hideMinted() {
    $('minted-token').textContent = '';
    $('minted-command').textContent = '';
    $('minted-name').textContent = '';
    $('minted').hidden = true;
  }

  // The expiry the form asks for, in Unix seconds; 0 when neither field is set (the longest the
  // account allows). Throws an ApiError-like message for bad input.
  function expiryFromForm() {
    const date = $('mint-date').value;
    const days = $('mint-days').value.trim();
    if (date && days) throw new ApiError(0, 'Give either an expiry date or a number of days, not both.');
    if (days) {
      if (!/^[0-9]+$/.test(days) || Number(days) < 1) throw new ApiError(0, 'Days must be a whole number, at least 1.');
      return Math.floor(Date.now() / 1000) + Number(days) * 86400;
    }
    if (date) {
      const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
      if (!m) throw new ApiError(0, 'The expiry date is not a date.');
      // The end of that day, local time.
      const end = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 23, 59, 59);
      const seconds = Math.floor(end.getTime() / 1000);
      if (seconds * 1000 <= Date.now()) throw new ApiError(0, 'The expiry date is in the past.');
      return seconds;
    }
    return 0;
  }

  async function mint(event) {
    event.preventDefault();
    clearMessage();  // a new action: an old message would answer for it
    hideMinted();
    const name = $('mint-name').value.trim();
    const repo = $('mint-repo').value.trim();
    const request = {
      name: name,
      read: $('mint-read').checked,
      write: $('mint-write').checked,
      delete: $('mint-delete').checked,
    };
    try {
      if (!name) throw new ApiError(0, 'The token needs a name.');
      if (!request.read && !request.write && !request.delete) throw new ApiError(0, 'Choose at least one right.');
      if (repo) request.repo = repo;
      const expire = expiryFromForm();
      if (expire) request.expire = expire;
    } catch (e) {
      sayError(e.message);
      return;
    }
    const submit = $('mint-submit');
    submit.disabled = true;
    try {
      const data = await api('POST', '/access/tokens', request);
      if (!data || typeof data.token !== 'string') throw new ApiError(0, 'The server answered without a token.');
      $('minted-name').textContent = String(data.name);
      $('minted-token').textContent = data.token;
      $('minted-command').textContent = resticCommand(data.token, data.repo || repo);
      $('minted').hidden = false;
      $('mint-form').reset();
      say('Token ' + data.name + ' created. Copy it now: it is not shown again.');
      $('minted-title').focus();
      await loadTokens().catch((e) => sayError(e.message));
    } catch (e) {
      sayError('Could not create the token: ' + e.message);
    } finally {
      submit.disabled = false;
    }
  }

  async function copyCommand() {
    const text = $('minted-command').textContent;
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(text);
      say('The restic command is on the clipboard.');
    } catch (e) {
      // Clipboard access can be refused (permissions, an insecure origin): select it instead.
      const range = document.createRange();
      range.selectNodeContents($('minted-command'));
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      sayError('Could not copy automatically; the command is selected, copy it with Ctrl+C.');
    }
  }

  // ---- Password ----

  async function changePassword(event) {
    event.preventDefault();
    clearMessage();  // a new action: an old message would answer for it
    const current = $('password-current').value;
    const next = $('password-new').value;
    const again = $('password-confirm').value;
    if (!current || !next) { sayError('Fill in the current and the new password.'); return; }
    if (next !== again) { sayError('The new passwords differ.'); $('password-confirm').focus(); return; }
    const submit = $('password-submit');
    submit.disabled = true;
    try {
      const data = await api('PUT', '/access/password', { userid: userid, password: next, 'confirmation-password': current });
      adopt(data);  // the change ended every other session; this one goes on with a new ticket
      $('password-form').reset();
      $('password-user').value = userid;
      say('Password changed.');
    } catch (e) {
      sayError('Could not change the password: ' + e.message);
    } finally {
      submit.disabled = false;
    }
  }

  // ---- Sign in and out ----

  async function signIn(event) {
    event.preventDefault();
    clearMessage();  // a new action: an old message would answer for it
    const username = $('signin-user').value.trim();
    const password = $('signin-password').value;
    if (!username || !password) { sayError('Enter your user name (name@realm) and password.'); return; }
    if (!username.includes('@')) { sayError('The user name has the form name@realm, e.g. alice@pbs.'); return; }
    const submit = $('signin-submit');
    submit.disabled = true;
    try {
      await login(username, password, true);
      $('signin-password').value = '';
      clearMessage();
      showOverview();
    } catch (e) {
      sayError('Sign-in failed: ' + e.message);
      $('signin-password').focus();
    } finally {
      submit.disabled = false;
    }
  }

  async function signOut() {
    let problem = null;
    try {
      await api('DELETE', '/access/ticket');
    } catch (e) {
      if (e.status !== 401) problem = e.message;
    }
    endSession(null);
    if (problem) sayError('Sign-out failed on the server: ' + problem);
    else say('Signed out.');
  }

  // After a reload: renew from the cookie with the stored ticket-info, else sign in.
  async function resume() {
    let stored = null;
    try { stored = JSON.parse(sessionStorage.getItem(INFO_KEY) || 'null'); } catch (e) { stored = null; }
    if (!stored || typeof stored.userid !== 'string' || typeof stored.info !== 'string') {
      showSignIn();
      return;
    }
    try {
      await login(stored.userid, stored.info, true);
      showOverview();
    } catch (e) {
      endSession(null);
    }
  }

  document.addEventListener('DOMContentLoaded', function () {
    $('signin-form').addEventListener('submit', signIn);
    $('mint-form').addEventListener('submit', mint);
    $('password-form').addEventListener('submit', changePassword);
    $('signout').addEventListener('click', signOut);
    $('minted-copy').addEventListener('click', copyCommand);
    $('minted-done').addEventListener('click', function () { hideMinted(); clearMessage(); $('mint-name').focus(); });
    resume();
  });
})();
