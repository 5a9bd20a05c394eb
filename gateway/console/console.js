// mdm-gateway admin console: plain JavaScript, no framework and no build step, so the gateway
// binary can carry it (cmake/embed_files.cmake) and nothing is fetched from elsewhere. Every
// figure comes from /api/v1 with the admin key kept in sessionStorage (this tab only). The DOM is
// built with textContent, never innerHTML, so nothing the API returns can run as markup.
'use strict';

const KEY_ITEM = 'mdmgw.admin_key';
const view = document.getElementById('view');

// ---------- small helpers ----------

// h('p', {class: 'x'}, 'text', child, ...): an element; attributes starting with "on" are listeners.
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

let uid = 0;
// A labelled form field: returns {wrap, input}.
function field(label, input, hint) {
  const id = input.id || `f${++uid}`;
  input.id = id;
  const err = h('span', {class: 'field-error', id: `${id}-err`, 'aria-live': 'polite'});
  input.setAttribute('aria-describedby', `${id}-err${hint ? ` ${id}-hint` : ''}`);
  const wrap = h('div', {class: 'field'}, h('label', {for: id}, label),
                 hint ? h('span', {class: 'hint', id: `${id}-hint`}, hint) : null, input, err);
  return {wrap, input, err};
}
function checkField(label, input, hint) {
  const id = input.id || `f${++uid}`;
  input.id = id;
  return {wrap: h('div', {class: 'field check'}, input, h('label', {for: id}, label),
                  hint ? h('span', {class: 'hint'}, hint) : null), input};
}

function fmtTime(unix) {
  if (!unix) return 'never';
  const d = new Date(unix * 1000);
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}
function fmtAge(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} days ago`;
}
function ago(unix) {
  return unix ? fmtAge(Math.max(0, Math.round(Date.now() / 1000 - unix))) : 'never';
}
// Days left as a coloured badge with words: expired, expires soon, ok.
function daysBadge(days) {
  if (days === null || days === undefined) return h('span', {class: 'badge bad'}, 'none');
  if (days < 0) return h('span', {class: 'badge bad'}, `expired ${-days} days ago`);
  if (days <= 30) return h('span', {class: 'badge warn'}, `${days} days left — renew soon`);
  return h('span', {class: 'badge ok'}, `${days} days left`);
}
function stateBadge(text, kind) { return h('span', {class: `badge ${kind}`}, text); }

function toast(text) {
  const box = document.getElementById('toast');
  const p = h('p', {}, text);
  box.append(p);
  while (box.children.length > 3) box.firstElementChild.remove();
  setTimeout(() => p.remove(), 6000);
}

// A table: columns [{label, get(row) → text|Node, num}], rows, optional empty text.
function table(columns, rows, empty, caption) {
  if (!rows.length) return h('p', {class: 'muted'}, empty || 'Nothing yet.');
  return h('table', {class: 'responsive'},
           caption ? h('caption', {class: 'hint'}, caption) : null,
           h('thead', {}, h('tr', {}, columns.map((c) => h('th', {scope: 'col', class: c.num ? 'num' : null}, c.label)))),
           h('tbody', {}, rows.map((r) => h('tr', {}, columns.map((c) =>
             h('td', {'data-label': c.label, class: c.num ? 'num' : null}, c.get(r)))))));
}

// ---------- the admin API ----------

class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

// api('GET', '/api/v1/...', {body, type, headers, raw}) → parsed JSON (or the Response with raw).
async function api(method, path, opts = {}) {
  const headers = Object.assign({Authorization: `Bearer ${sessionStorage.getItem(KEY_ITEM) || ''}`},
                                opts.headers || {});
  let body = opts.body;
  if (body !== undefined && !(body instanceof ArrayBuffer) && typeof body !== 'string' &&
      !(body instanceof Blob)) {
    body = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  } else if (opts.type) {
    headers['Content-Type'] = opts.type;
  }
  let res;
  try {
    res = await fetch(path, {method, headers, body, cache: 'no-store'});
  } catch (e) {
    throw new ApiError(0, 'unreachable', `the gateway did not answer (${e.message})`);
  }
  if (res.status === 401) {
    signOut('Your key was refused (revoked or mistyped). Sign in again.');
    throw new ApiError(401, 'unauthenticated', 'signed out');
  }
  if (opts.raw && res.ok) return res;
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (_) { json = null; }
  if (!res.ok) {
    const e = json && json.error ? json.error : {};
    throw new ApiError(res.status, e.code || `http_${res.status}`,
                       e.message || `HTTP ${res.status}`, json);
  }
  return json;
}

function errorNotice(e) {
  return h('div', {class: 'notice bad', role: 'alert'},
           h('strong', {}, 'Refused: '), e.message, e.code ? h('span', {class: 'hint'}, ` (${e.code})`) : null);
}

// Saves a download the API answered (certificate, export) under |name|.
async function download(path, name) {
  const res = await api('GET', path, {raw: true});
  const blob = await res.blob();
  const cd = res.headers.get('content-disposition') || '';
  const m = /filename="?([^";]+)"?/.exec(cd);
  const a = h('a', {href: URL.createObjectURL(blob), download: m ? m[1] : name});
  document.body.append(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  return m ? m[1] : name;
}

function readFile(file, asText) {
  return asText ? file.text() : file.arrayBuffer();
}

// ---------- sign in / out ----------

function signOut(message) {
  sessionStorage.removeItem(KEY_ITEM);
  document.getElementById('app').hidden = true;
  document.getElementById('login').hidden = false;
  document.getElementById('login-error').textContent = message || '';
  document.getElementById('login-key').focus();
}

async function signIn(event) {
  event.preventDefault();
  const key = document.getElementById('login-key').value.trim();
  const err = document.getElementById('login-error');
  if (!key) { err.textContent = 'Enter the admin API key.'; return; }
  const res = await fetch('/api/v1/info', {headers: {Authorization: `Bearer ${key}`}}).catch(() => null);
  if (!res) { err.textContent = 'The gateway did not answer.'; return; }
  if (res.status === 401) { err.textContent = 'That key is not an active admin key.'; return; }
  if (!res.ok) { err.textContent = `The gateway answered HTTP ${res.status}.`; return; }
  sessionStorage.setItem(KEY_ITEM, key);
  document.getElementById('login-key').value = '';
  err.textContent = '';
  showApp();
}

function showApp() {
  document.getElementById('login').hidden = true;
  document.getElementById('app').hidden = false;
  if (!location.hash || location.hash === '#') location.hash = '#/overview';
  else route();
}

// ---------- pages ----------

const pages = {overview, apns, dep, profiles, devices, reports, portal};

async function route() {
  if (!sessionStorage.getItem(KEY_ITEM)) return signOut();
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const name = pages[parts[0]] ? parts[0] : 'overview';
  for (const a of document.querySelectorAll('.top nav a')) {
    if (a.dataset.page === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  view.replaceChildren(h('p', {class: 'muted'}, 'Loading…'));
  try {
    await pages[name](...parts.slice(1));
  } catch (e) {
    if (e.status === 401) return;
    view.replaceChildren(h('h1', {}, 'Something went wrong'), errorNotice(e));
  }
  document.title = `${view.querySelector('h1') ? view.querySelector('h1').textContent : 'Console'} — mdm-gateway`;
}

// Optional fetch: the value, or null when the API answers 404 (nothing stored yet).
async function maybe(promise) {
  try { return await promise; } catch (e) { if (e.status === 404) return null; throw e; }
}

async function overview() {
  const [info, cert, servers, devs, profs, report] = await Promise.all([
    api('GET', '/api/v1/info'),
    maybe(api('GET', '/api/v1/apns/certificate')),
    api('GET', '/api/v1/dep/servers'),
    api('GET', '/api/v1/devices?limit=1000'),
    api('GET', '/api/v1/enrollment-profiles'),
    api('GET', '/api/v1/reports/incomplete-enrollments?hours=24'),
  ]);
  const serverList = servers.servers || [];
  const warnings = [];
  if (!cert) warnings.push(['bad', 'No APNs push certificate: enrolled devices cannot be woken, and no enrollment profile can be served.']);
  else if (cert.days_left < 0) warnings.push(['bad', `The APNs certificate expired ${-cert.days_left} days ago: pushes fail. Renew it at identity.apple.com.`]);
  else if (cert.days_left <= 30) warnings.push(['warn', `The APNs certificate expires in ${cert.days_left} days. Renew it with the same Apple ID (${cert.apple_id || 'unknown'}).`]);
  for (const s of serverList) {
    if (!s.token) warnings.push(['warn', `DEP server ${s.name} has no token yet: download its certificate and upload the .p7m from Apple Business Manager.`]);
    else if (s.token.days_left < 0) warnings.push(['bad', `DEP server ${s.name}: the token expired. Download a new one from Apple Business Manager.`]);
    else if (s.token.days_left <= 30) warnings.push(['warn', `DEP server ${s.name}: the token expires in ${s.token.days_left} days.`]);
    if (s.terms === 'not_signed') warnings.push(['bad', `DEP server ${s.name}: Apple's new Terms and Conditions are not accepted in Apple Business Manager; syncs and assignments stop until they are.`]);
  }
  const devList = devs.devices || [];
  const incomplete = (report.profile_served_no_token_update || []).length +
                     (report.dep_assigned_never_enrolled || []).length;
  view.replaceChildren(
    h('h1', {}, 'Overview'),
    warnings.length ? h('section', {'aria-label': 'Warnings'}, warnings.map(([k, t]) =>
      h('p', {class: `notice ${k}`}, h('strong', {}, k === 'bad' ? 'Problem: ' : 'Warning: '), t)))
      : h('p', {class: 'notice ok'}, 'Everything is in order.'),
    h('div', {class: 'counts'},
      h('div', {class: 'count'}, h('b', {}, devList.length + (devs.next_after ? '+' : '')), 'enrolled channels'),
      h('div', {class: 'count'}, h('b', {}, serverList.reduce((n, s) => n + (s.devices || 0), 0)), 'DEP devices'),
      h('div', {class: 'count'}, h('b', {}, (profs.profiles || []).length), 'enrollment profiles'),
      h('div', {class: 'count'}, h('b', {}, incomplete), h('a', {href: '#/reports'}, 'incomplete enrollments'))),
    h('div', {class: 'grid'},
      h('section', {class: 'card', 'aria-labelledby': 'ov-apns'}, h('h2', {id: 'ov-apns'}, 'APNs certificate'),
        cert ? h('dl', {class: 'facts'},
          h('dt', {}, 'Topic'), h('dd', {}, cert.topic),
          h('dt', {}, 'Expires'), h('dd', {}, cert.not_after, ' ', daysBadge(cert.days_left)),
          h('dt', {}, 'Apple ID'), h('dd', {}, cert.apple_id || '—'))
          : h('p', {}, stateBadge('none', 'bad'), ' ', h('a', {href: '#/apns'}, 'Upload the push certificate'))),
      h('section', {class: 'card', 'aria-labelledby': 'ov-dep'}, h('h2', {id: 'ov-dep'}, 'DEP tokens and syncs'),
        table([
          {label: 'Server', get: (s) => h('a', {href: `#/dep/${encodeURIComponent(s.name)}`}, s.name)},
          {label: 'Token', get: (s) => daysBadge(s.token ? s.token.days_left : null)},
          {label: 'T&C', get: (s) => termsBadge(s.terms)},
          {label: 'Last sync', get: (s) => s.sync ? fmtAge(s.sync.last_sync_age_seconds) : 'never'},
          {label: 'Devices', num: true, get: (s) => s.devices},
        ], serverList, 'No DEP server yet.'))),
    h('p', {class: 'hint'}, `Gateway ${info.version || '?'} · store ${(info.store && info.store.backend) || '?'} · schema ${(info.store && info.store.schema_version) || '?'}`));
}

function termsBadge(t) {
  if (t === 'accepted') return stateBadge('accepted', 'ok');
  if (t === 'not_signed') return stateBadge('not signed', 'bad');
  return stateBadge('unknown until a sync', 'warn');
}

// --- APNs ---

async function apns() {
  const cert = await maybe(api('GET', '/api/v1/apns/certificate'));
  const result = h('div', {'aria-live': 'polite'});
  const format = h('select', {}, h('option', {value: 'pem'}, 'PEM: certificate and private key'),
                   h('option', {value: 'p12'}, 'PKCS#12 (.p12 / .pfx)'));
  const certFile = field('Certificate (PEM; may also hold the key)', h('input', {type: 'file', accept: '.pem,.crt,.cer'}));
  const keyFile = field('Private key (PEM), if not in the certificate file', h('input', {type: 'file', accept: '.pem,.key'}));
  const p12File = field('PKCS#12 file', h('input', {type: 'file', accept: '.p12,.pfx'}));
  const password = field('PKCS#12 password', h('input', {type: 'password', autocomplete: 'off'}));
  const appleId = field('Apple ID that created the certificate', h('input', {type: 'email', autocomplete: 'off'}),
                        'Renewals must use the same Apple ID; the gateway keeps it with the certificate.');
  const pemBox = h('div', {class: 'stack'}, certFile.wrap, keyFile.wrap);
  const p12Box = h('div', {class: 'stack', hidden: true}, p12File.wrap, password.wrap);
  format.addEventListener('change', () => {
    pemBox.hidden = format.value !== 'pem';
    p12Box.hidden = format.value !== 'p12';
  });
  const formatField = field('Format', format);

  async function upload(force) {
    result.replaceChildren();
    document.getElementById('apns-result').replaceChildren();
    let body, type, headers = {};
    if (format.value === 'pem') {
      const c = certFile.input.files[0];
      if (!c) { certFile.err.textContent = 'Choose the certificate file.'; return; }
      certFile.err.textContent = '';
      body = await readFile(c, true);
      if (keyFile.input.files[0]) body += '\n' + await readFile(keyFile.input.files[0], true);
      type = 'application/x-pem-file';
    } else {
      const p = p12File.input.files[0];
      if (!p) { p12File.err.textContent = 'Choose the PKCS#12 file.'; return; }
      p12File.err.textContent = '';
      body = await readFile(p, false);
      type = 'application/x-pkcs12';
      headers['X-Pkcs12-Password'] = password.input.value;
    }
    const q = new URLSearchParams();
    if (force) q.set('force', '1');
    if (appleId.input.value) q.set('apple_id', appleId.input.value);
    try {
      const info = await api('PUT', `/api/v1/apns/certificate${q.toString() ? '?' + q : ''}`, {body, type, headers});
      toast(`Push certificate stored: topic ${info.topic}`);
      await apns();
      document.getElementById('apns-result').replaceChildren(h('p', {class: 'notice ok'},
        `Stored. Topic ${info.topic}, expires ${info.not_after} (${info.days_left} days).`,
        info.topic_changed ? ' The topic changed: every device enrolled before must enroll again.' : ''));
    } catch (e) {
      if (e.code === 'topic_changed') {
        const understood = checkField('I understand that every enrolled device stops answering pushes and must enroll again',
                                      h('input', {type: 'checkbox'}));
        const confirm = h('button', {type: 'button', class: 'danger', disabled: true,
                                     onclick: () => upload(true)}, 'Replace the certificate anyway');
        understood.input.addEventListener('change', () => { confirm.disabled = !understood.input.checked; });
        result.replaceChildren(h('div', {class: 'notice bad', role: 'alert', id: 'topic-change'},
          h('h2', {}, 'This certificate has a different topic'), h('p', {}, e.message),
          understood.wrap, h('div', {class: 'actions'}, confirm,
            h('button', {type: 'button', class: 'secondary', onclick: () => result.replaceChildren()}, 'Cancel'))));
        understood.input.focus();
      } else {
        result.replaceChildren(errorNotice(e));
      }
    }
  }

  const csrName = field('Common name', h('input', {type: 'text', value: 'mdm-gateway push'}));
  const csrMail = field('Email', h('input', {type: 'email'}));
  const csrOut = h('div');
  view.replaceChildren(
    h('h1', {}, 'APNs push certificate'),
    h('section', {class: 'card', 'aria-labelledby': 'apns-now'}, h('h2', {id: 'apns-now'}, 'Current certificate'),
      cert ? h('dl', {class: 'facts'},
        h('dt', {}, 'Topic'), h('dd', {id: 'apns-topic'}, cert.topic),
        h('dt', {}, 'Subject'), h('dd', {}, cert.subject || '—'),
        h('dt', {}, 'Serial'), h('dd', {}, cert.serial || '—'),
        h('dt', {}, 'Valid'), h('dd', {}, `${cert.not_before} → ${cert.not_after} `, daysBadge(cert.days_left)),
        h('dt', {}, 'Apple ID'), h('dd', {}, cert.apple_id || '—'),
        h('dt', {}, 'Uploaded'), h('dd', {}, cert.updated_at || '—'))
        : h('p', {class: 'notice bad'}, 'No push certificate is stored. Devices cannot be enrolled or woken until one is.')),
    h('section', {class: 'card', 'aria-labelledby': 'apns-up'}, h('h2', {id: 'apns-up'}, cert ? 'Renew (upload a new certificate)' : 'Upload'),
      h('form', {class: 'stack', id: 'apns-form', onsubmit: (ev) => { ev.preventDefault(); upload(false); }},
        formatField.wrap, pemBox, p12Box, appleId.wrap,
        h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Upload certificate'))),
      h('div', {id: 'apns-result'}), result),
    h('section', {class: 'card', 'aria-labelledby': 'apns-csr'}, h('h2', {id: 'apns-csr'}, 'Certificate signing request'),
      h('p', {class: 'hint'}, 'The gateway makes the key (kept sealed) and a CSR for your vendor to sign; upload Apple\'s certificate alone afterwards.'),
      h('form', {class: 'inline', onsubmit: async (ev) => {
        ev.preventDefault();
        try {
          const r = await api('POST', '/api/v1/apns/csr', {body: {common_name: csrName.input.value, email: csrMail.input.value}});
          const pem = r.csr_pem || r.csr || '';
          csrOut.replaceChildren(field('CSR (PEM)', h('textarea', {class: 'mono', rows: 8, readonly: true}, pem)).wrap);
        } catch (e) { csrOut.replaceChildren(errorNotice(e)); }
      }}, csrName.wrap, csrMail.wrap, h('button', {type: 'submit', class: 'secondary'}, 'Make a CSR')), csrOut));
}

// --- DEP ---

async function dep(name) {
  if (name) return depServer(name);
  const servers = (await api('GET', '/api/v1/dep/servers')).servers || [];
  const nm = field('Name', h('input', {type: 'text', required: true, pattern: '[A-Za-z0-9._-]+'}), 'letters, digits, . _ -');
  const url = field('Base URL', h('input', {type: 'url', placeholder: 'https://mdmenrollment.apple.com'}),
                    'leave empty for Apple\'s');
  const out = h('div');
  view.replaceChildren(
    h('h1', {}, 'DEP servers'),
    h('section', {class: 'card'}, table([
      {label: 'Name', get: (s) => h('a', {href: `#/dep/${encodeURIComponent(s.name)}`}, s.name)},
      {label: 'Organisation', get: (s) => (s.account && s.account.org_name) || '—'},
      {label: 'Token', get: (s) => daysBadge(s.token ? s.token.days_left : null)},
      {label: 'T&C', get: (s) => termsBadge(s.terms)},
      {label: 'Last sync', get: (s) => s.sync ? fmtAge(s.sync.last_sync_age_seconds) : 'never'},
      {label: 'Devices', num: true, get: (s) => s.devices},
    ], servers, 'No DEP server yet: add one below, one per Apple Business Manager MDM server.')),
    h('section', {class: 'card', 'aria-labelledby': 'dep-add'}, h('h2', {id: 'dep-add'}, 'Add a DEP server'),
      h('form', {class: 'stack', onsubmit: async (ev) => {
        ev.preventDefault();
        if (!nm.input.value) { nm.err.textContent = 'A name is needed.'; nm.input.setAttribute('aria-invalid', 'true'); return; }
        try {
          const body = {};
          if (url.input.value) body.base_url = url.input.value;
          await api('PUT', `/api/v1/dep/servers/${encodeURIComponent(nm.input.value)}`, {body});
          location.hash = `#/dep/${encodeURIComponent(nm.input.value)}`;
        } catch (e) { out.replaceChildren(errorNotice(e)); }
      }}, nm.wrap, url.wrap, h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Add server'))), out));
}

async function depServer(name) {
  const base = `/api/v1/dep/servers/${encodeURIComponent(name)}`;
  const [s, profs, enrollProfiles] = await Promise.all([
    api('GET', base), api('GET', `${base}/profiles`), api('GET', '/api/v1/enrollment-profiles')]);
  const msg = h('div', {id: 'dep-message', 'aria-live': 'polite'});
  const progress = h('div', {id: 'sync-progress', 'aria-live': 'polite'});

  const tokenInput = field('Server token from Apple Business Manager (.p7m)', h('input', {type: 'file', accept: '.p7m'}));
  async function uploadToken(force) {
    const f = tokenInput.input.files[0];
    if (!f) { tokenInput.err.textContent = 'Choose the .p7m file.'; return; }
    tokenInput.err.textContent = '';
    try {
      const r = await api('PUT', `${base}/token${force ? '?force=1' : ''}`, {body: await readFile(f, false), type: 'application/pkcs7-mime'});
      toast(`Token uploaded for ${name}`);
      await depServer(name);
      document.getElementById('dep-message').replaceChildren(h('p', {class: 'notice ok'},
        `Token accepted${r.account && r.account.org_name ? ` for ${r.account.org_name}` : ''}.`));
    } catch (e) {
      if (e.code === 'consumer_key_changed') {
        msg.replaceChildren(h('div', {class: 'notice warn', role: 'alert'}, h('p', {}, e.message),
          h('button', {type: 'button', class: 'danger', onclick: () => uploadToken(true)}, 'Use this token anyway')));
      } else {
        msg.replaceChildren(errorNotice(e));
      }
    }
  }

  async function syncNow() {
    const button = document.getElementById('sync-now');
    button.disabled = true;
    const bar = h('progress', {'aria-label': 'Sync progress'});
    const line = h('p', {id: 'sync-line'}, 'Sync started…');
    progress.replaceChildren(bar, line);
    let done = false;
    const started = Date.now();
    // The sync's own answer (wait=1) ends it; meanwhile the server record shows how far it is.
    const poll = (async () => {
      while (!done) {
        await new Promise((r) => setTimeout(r, 300));
        if (done) break;
        try {
          const now = await api('GET', base);
          const phase = now.sync && now.sync.phase ? now.sync.phase : 'fetching';
          line.textContent = `Syncing (${phase}) — ${now.devices} devices so far, ${Math.round((Date.now() - started) / 1000)} s`;
        } catch (_) { /* the next poll tries again */ }
      }
    })();
    try {
      const r = await api('POST', `${base}/sync?wait=1`);
      done = true;
      await poll;
      // Redraw the page (state, T&C, counts, devices), then say what the sync did.
      await depServer(name);
      document.getElementById('sync-progress').replaceChildren(h('p', {class: 'notice ok', id: 'sync-done'},
        `Sync done: ${r.devices ?? '?'} devices (${r.fetched ?? 0} fetched, ${r.added ?? 0} added, ` +
        `${r.modified ?? 0} modified, ${r.deleted ?? 0} deleted) in ${r.pages ?? 0} pages, ${r.seconds ?? '?'} s.`));
    } catch (e) {
      done = true;
      await poll;
      progress.replaceChildren(errorNotice(e));
    } finally {
      if (button.isConnected) button.disabled = false;
    }
  }

  const filter = h('select', {id: 'dep-filter'}, h('option', {value: ''}, 'all'),
    ['assigned', 'pushed', 'unassigned', 'throttled', 'failed', 'not_accessible'].map((v) => h('option', {value: v}, v)));
  const search = h('input', {type: 'search', id: 'dep-search', placeholder: 'serial, model…'});
  const devBox = h('div', {id: 'dep-devices'});
  let cursor = null;
  async function refreshDevices(next) {
    const q = new URLSearchParams({server: name, limit: '100'});
    if (filter.value) q.set('status', filter.value);
    if (next) q.set('cursor', next);
    const r = await api('GET', `/api/v1/dep/devices?${q}`);
    cursor = r.next_cursor || null;
    const needle = search.value.trim().toLowerCase();
    const rows = (r.devices || []).filter((d) => !needle ||
      [d.serial_number, d.model, d.description, d.color].some((v) => v && String(v).toLowerCase().includes(needle)));
    devBox.replaceChildren(table([
      {label: 'Serial', get: (d) => d.serial_number},
      {label: 'Model', get: (d) => d.model || d.description || '—'},
      {label: 'OS', get: (d) => d.os || '—'},
      {label: 'Profile status', get: (d) => d.profile_status || '—'},
      {label: 'Assignment', get: (d) => assignmentBadge(d.assignment)},
    ], rows, 'No devices match.'),
    cursor ? h('div', {class: 'actions'}, h('button', {type: 'button', class: 'secondary', onclick: () => refreshDevices(cursor)}, 'Next 100')) : null);
  }
  filter.addEventListener('change', () => refreshDevices());
  search.addEventListener('input', () => refreshDevices());

  const profName = field('DEP profile name', h('input', {type: 'text', value: 'default'}));
  const profFrom = field('From enrollment profile', h('select', {},
    (enrollProfiles.profiles || []).filter((p) => p.method === 'dep').map((p) => h('option', {value: p.id}, `${p.name} (${p.id})`))),
    'its supervision, lock, Setup Assistant items and URL');
  const profDefault = checkField('Default profile: new devices get it automatically', h('input', {type: 'checkbox', checked: true}));
  const profMsg = h('div');

  view.replaceChildren(
    h('h1', {}, `DEP server ${name}`),
    h('p', {}, h('a', {href: '#/dep'}, '← all DEP servers')),
    msg,
    h('div', {class: 'grid'},
      h('section', {class: 'card', 'aria-labelledby': 'dep-state'}, h('h2', {id: 'dep-state'}, 'State'),
        h('dl', {class: 'facts'},
          h('dt', {}, 'Organisation'), h('dd', {}, (s.account && s.account.org_name) || '—'),
          h('dt', {}, 'Apple base URL'), h('dd', {}, s.base_url),
          h('dt', {}, 'Token'), h('dd', {}, daysBadge(s.token ? s.token.days_left : null)),
          h('dt', {}, 'Terms and Conditions'), h('dd', {}, termsBadge(s.terms)),
          h('dt', {}, 'Last sync'), h('dd', {}, s.sync ? `${fmtTime(s.sync.last_sync_at)} (${fmtAge(s.sync.last_sync_age_seconds)})` : 'never'),
          h('dt', {}, 'Devices'), h('dd', {id: 'dep-count'}, String(s.devices)),
          h('dt', {}, 'Default profile'), h('dd', {}, s.default_profile || '—'))),
      h('section', {class: 'card', 'aria-labelledby': 'dep-token'}, h('h2', {id: 'dep-token'}, 'Token exchange'),
        h('ol', {},
          h('li', {}, h('button', {type: 'button', class: 'secondary', id: 'dep-cert',
            onclick: async () => { try { toast(`Saved ${await download(`${base}/certificate`, `${name}-exchange-certificate.pem`)}`); } catch (e) { msg.replaceChildren(errorNotice(e)); } }},
            'Download the exchange certificate'), ' and upload it to Apple Business Manager ("Add MDM Server").'),
          h('li', {}, 'Download the server token there, then upload it here:')),
        h('form', {class: 'stack', onsubmit: (ev) => { ev.preventDefault(); uploadToken(false); }},
          tokenInput.wrap, h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Upload token'))))),
    h('section', {class: 'card', 'aria-labelledby': 'dep-sync'}, h('h2', {id: 'dep-sync'}, 'Sync'),
      h('div', {class: 'actions'}, h('button', {type: 'button', id: 'sync-now', onclick: syncNow, disabled: !s.token}, 'Sync now')),
      s.token ? null : h('p', {class: 'hint'}, 'Upload a token first.'), progress),
    h('section', {class: 'card', 'aria-labelledby': 'dep-profiles'}, h('h2', {id: 'dep-profiles'}, 'DEP profiles'),
      table([
        {label: 'Name', get: (p) => p.name || p.profile},
        {label: 'UUID', get: (p) => p.profile_uuid || p.uuid || '—'},
        {label: 'Default', get: (p) => p.default ? 'yes' : 'no'},
      ], profs.profiles || [], 'No DEP profile defined yet.'),
      h('form', {class: 'inline', onsubmit: async (ev) => {
        ev.preventDefault();
        try {
          await api('PUT', `${base}/profiles/${encodeURIComponent(profName.input.value)}`,
                    {body: {enrollment_profile: profFrom.input.value, default: profDefault.input.checked}});
          toast('DEP profile defined at Apple');
          await depServer(name);
        } catch (e) { profMsg.replaceChildren(errorNotice(e)); }
      }}, profName.wrap, profFrom.wrap, profDefault.wrap, h('button', {type: 'submit', class: 'secondary'}, 'Define at Apple')), profMsg),
    h('section', {class: 'card', 'aria-labelledby': 'dep-devs'}, h('h2', {id: 'dep-devs'}, 'Devices'),
      h('form', {class: 'inline', onsubmit: (ev) => ev.preventDefault()},
        field('Assignment state', filter).wrap, field('Search this page', search).wrap),
      devBox));
  await refreshDevices();
}

function assignmentBadge(a) {
  if (!a || !a.state) return stateBadge('unassigned', 'warn');
  const kind = a.state === 'assigned' || a.state === 'pushed' ? 'ok'
             : a.state === 'failed' || a.state === 'not_accessible' ? 'bad' : 'warn';
  return stateBadge(a.state, kind);
}

// --- enrollment profiles ---

async function profiles() {
  const [list, methods] = await Promise.all([api('GET', '/api/v1/enrollment-profiles'),
                                             api('GET', '/api/v1/enrollment-methods')]);
  const table_ = (methods.methods || []);
  const byName = Object.fromEntries(table_.map((m) => [m.method, m]));
  const msg = h('div', {id: 'profile-message', 'aria-live': 'polite'});

  const nm = field('Name', h('input', {type: 'text', required: true, maxlength: 125}));
  const method = field('Method', h('select', {}, table_.map((m) => h('option', {value: m.method}, `${m.method} — ${m.description}`))));
  const flags = {
    supervised: checkField('Supervised', h('input', {type: 'checkbox'})),
    locked: checkField('Locked (the user cannot remove management)', h('input', {type: 'checkbox'})),
    user_affinity: checkField('User affinity (enrolled with a user)', h('input', {type: 'checkbox'})),
  };
  const awaitCfg = checkField('Await configuration (hold Setup Assistant until the MDM releases it)', h('input', {type: 'checkbox'}));
  const org = field('Organisation', h('input', {type: 'text'}));
  const rules = h('p', {class: 'hint', id: 'method-rules'});
  // The method table decides which flags may be chosen: "yes" and "no" are fixed, "optional" is free.
  function applyRules() {
    const m = byName[method.input.value];
    if (!m) return;
    const words = [];
    for (const [k, f] of Object.entries(flags)) {
      const rule = m[k];
      f.input.disabled = rule !== 'optional';
      if (rule === 'yes') f.input.checked = true;
      if (rule === 'no') f.input.checked = false;
      words.push(`${k.replace('_', ' ')}: ${rule === 'optional' ? 'your choice' : rule === 'yes' ? 'always' : 'never'}`);
    }
    awaitCfg.wrap.hidden = m.method !== 'dep' && m.method !== 'usb-sa';
    rules.textContent = `${m.method}: ${m.factory_reset ? 'wipes the device' : 'no wipe'}; ${words.join('; ')}.`;
  }
  method.input.addEventListener('change', applyRules);

  async function create(ev) {
    ev.preventDefault();
    nm.err.textContent = '';
    nm.input.removeAttribute('aria-invalid');
    if (!nm.input.value.trim()) { nm.err.textContent = 'A name is needed.'; nm.input.setAttribute('aria-invalid', 'true'); nm.input.focus(); return; }
    const body = {name: nm.input.value.trim(), method: method.input.value,
                  supervised: flags.supervised.input.checked, locked: flags.locked.input.checked,
                  user_affinity: flags.user_affinity.input.checked};
    if (!awaitCfg.wrap.hidden) body.await_configuration = awaitCfg.input.checked;
    if (org.input.value) body.organization = org.input.value;
    try {
      const p = await api('POST', '/api/v1/enrollment-profiles', {body});
      toast(`Profile ${p.name} created`);
      await profiles();
      document.getElementById('profile-message').replaceChildren(h('p', {class: 'notice ok'}, `Created ${p.name} (${p.method}), id ${p.id}.`));
    } catch (e) {
      msg.replaceChildren(errorNotice(e));
      if (e.code === 'name_taken') { nm.err.textContent = e.message; nm.input.setAttribute('aria-invalid', 'true'); }
    }
  }

  const rows = list.profiles || [];
  view.replaceChildren(
    h('h1', {}, 'Enrollment profiles'), msg,
    h('section', {class: 'card'}, table([
      {label: 'Name', get: (p) => p.name},
      {label: 'Method', get: (p) => p.method},
      {label: 'Supervised', get: (p) => p.supervised ? 'yes' : 'no'},
      {label: 'Locked', get: (p) => p.locked ? 'yes' : 'no'},
      {label: 'User', get: (p) => p.user_affinity ? 'yes' : 'no'},
      {label: 'Exports', get: (p) => exportActions(p, msg)},
    ], rows, 'No enrollment profile yet.')),
    h('section', {class: 'card', 'aria-labelledby': 'prof-new'}, h('h2', {id: 'prof-new'}, 'New enrollment profile'),
      h('form', {class: 'stack', id: 'profile-form', onsubmit: create}, nm.wrap, method.wrap, rules,
        h('fieldset', {}, h('legend', {}, 'Management'), flags.supervised.wrap, flags.locked.wrap, flags.user_affinity.wrap, awaitCfg.wrap),
        org.wrap, h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Create profile')))));
  applyRules();
}

function exportActions(p, msg) {
  const base = `/api/v1/enrollment-profiles/${encodeURIComponent(p.id)}`;
  const save = (format, name, zip) => async () => {
    try { toast(`Saved ${await download(`${base}/export?format=${format}${zip ? '&download=zip' : ''}`, name)}`); }
    catch (e) { msg.replaceChildren(errorNotice(e)); }
  };
  const buttons = [];
  if (p.method === 'usb-sa') {
    buttons.push(h('button', {type: 'button', class: 'secondary', onclick: save('usb-sa', `${p.name}-configurator.zip`, true)}, 'Configurator zip'));
    buttons.push(h('button', {type: 'button', class: 'secondary', onclick: async () => {
      try {
        const r = await api('GET', `${base}/export?format=usb-sa`);
        msg.replaceChildren(h('div', {class: 'notice ok'}, h('p', {}, 'Apple Configurator → Settings → Servers → Profile URL:'),
          h('code', {id: 'profile-url'}, r.enrollment_url)));
      } catch (e) { msg.replaceChildren(errorNotice(e)); }
    }}, 'Profile URL'));
    buttons.push(h('button', {type: 'button', class: 'secondary', onclick: () => serialsForm(p, msg)}, 'Serial list'));
  } else if (p.method === 'usb-direct') {
    buttons.push(h('button', {type: 'button', class: 'secondary', onclick: save('usb-direct', `${p.name}.mobileconfig`)}, 'Download .mobileconfig'));
  } else if (p.method === 'ota') {
    buttons.push(h('button', {type: 'button', class: 'secondary', onclick: () => inviteForm(p, msg)}, 'Invite a user'));
  }
  return h('div', {class: 'actions'}, buttons);
}

// Apple Configurator's serial list for a usb-sa profile: "serial,details" lines, no header.
function serialsForm(p, msg) {
  const file = field(`Serial list for ${p.name} (CSV: serial,details — no header, at most 5,000 lines)`,
                     h('input', {type: 'file', accept: '.csv,text/csv'}));
  const lines = h('div');
  msg.replaceChildren(h('form', {class: 'inline card', id: 'serials-form', onsubmit: async (ev) => {
    ev.preventDefault();
    const f = file.input.files[0];
    if (!f) { file.err.textContent = 'Choose the CSV file.'; return; }
    try {
      const r = await api('PUT', `/api/v1/enrollment-profiles/${encodeURIComponent(p.id)}/serials`,
                          {body: await f.text(), type: 'text/csv'});
      msg.replaceChildren(h('p', {class: 'notice ok', id: 'serials-done'},
        `Imported ${r.imported} serials for ${p.name}.`, (r.warnings || []).length ? ` Warnings: ${r.warnings.join('; ')}` : ''));
    } catch (e) {
      lines.replaceChildren(errorNotice(e), e.body && e.body.lines ? table(
        [{label: 'Line', num: true, get: (x) => x.line}, {label: 'Problem', get: (x) => x.error}], e.body.lines) : null);
    }
  }}, file.wrap, h('button', {type: 'submit'}, 'Import serials'), lines));
  file.input.focus();
}

function inviteForm(p, msg) {
  const user = field(`Invite a user to ${p.name}`, h('input', {type: 'email', required: true}), 'their work email; the link works once');
  msg.replaceChildren(h('form', {class: 'inline card', onsubmit: async (ev) => {
    ev.preventDefault();
    try {
      const r = await api('POST', `/api/v1/enrollment-profiles/${encodeURIComponent(p.id)}/invitations`, {body: {user: user.input.value}});
      const link = r.portal_url || r.url;
      msg.replaceChildren(h('div', {class: 'notice ok'}, h('p', {}, `Invitation for ${user.input.value} (send them this link; it works once):`),
        h('a', {id: 'invitation-link', href: link}, link)));
    } catch (e) { user.err.textContent = e.message; }
  }}, user.wrap, h('button', {type: 'submit'}, 'Create invitation')));
  user.input.focus();
}

// --- devices ---

async function devices() {
  const search = h('input', {type: 'search', id: 'device-search', placeholder: 'UDID, serial, model, user…'});
  const box = h('div', {id: 'device-list'});
  const msg = h('div', {'aria-live': 'polite'});
  let all = [];
  let after = null;
  async function load(more) {
    const q = new URLSearchParams({limit: '500'});
    if (more && after) q.set('after', after);
    const r = await api('GET', `/api/v1/devices?${q}`);
    all = more ? all.concat(r.devices || []) : (r.devices || []);
    after = r.next_after || null;
    render();
  }
  async function push(id) {
    try {
      const r = await api('POST', '/api/v1/push', {body: {enrollment_ids: [id]}});
      const x = (r.results || [])[0] || {};
      if (x.delivered) msg.replaceChildren(h('p', {class: 'notice ok'}, `Push to ${id} accepted by APNs (${x.apns_id || 'no id'}).`));
      else msg.replaceChildren(h('p', {class: 'notice bad', role: 'alert'}, `Push to ${id} failed: ${x.error ? `${x.error.message} (${x.error.code})` : 'unknown'}`));
    } catch (e) { msg.replaceChildren(errorNotice(e)); }
  }
  function render() {
    const needle = search.value.trim().toLowerCase();
    const rows = all.filter((d) => !needle || [d.id, d.serial, d.model, d.device_name, d.enrollment_method, d.user && d.user.short_name]
      .some((v) => v && String(v).toLowerCase().includes(needle)));
    box.replaceChildren(table([
      {label: 'UDID / id', get: (d) => h('code', {}, d.id)},
      {label: 'Serial', get: (d) => d.serial || '—'},
      {label: 'Model', get: (d) => [d.model, d.os_version].filter(Boolean).join(' · ') || '—'},
      {label: 'Method', get: (d) => d.enrollment_method || '—'},
      {label: 'State', get: (d) => stateBadge(d.status, d.status === 'enrolled' ? 'ok' : d.status === 'checked_out' ? 'bad' : 'warn')},
      {label: 'Last seen', get: (d) => ago(d.last_seen_at)},
      {label: 'Push token', get: (d) => d.push && d.push.token_present ? stateBadge('yes', 'ok') : stateBadge('no', 'warn')},
      {label: 'User', get: (d) => d.user ? (d.user.short_name || d.user.id) : '—'},
      {label: '', get: (d) => h('button', {type: 'button', class: 'secondary', 'aria-label': `Push now to ${d.id}`,
                                            disabled: !(d.push && d.push.token_present) || d.status === 'checked_out',
                                            onclick: () => push(d.id)}, 'Push now')},
    ], rows, all.length ? 'No device matches.' : 'No device has checked in yet.',
    `${rows.length} of ${all.length}${after ? '+' : ''} enrollments`),
    after ? h('button', {type: 'button', class: 'secondary', onclick: () => load(true)}, 'Load more') : null);
  }
  search.addEventListener('input', render);
  view.replaceChildren(h('h1', {}, 'Devices'), msg,
    h('section', {class: 'card'}, h('form', {class: 'inline', role: 'search', onsubmit: (ev) => ev.preventDefault()},
      field('Search', search).wrap, h('button', {type: 'button', class: 'secondary', onclick: () => load()}, 'Refresh')), box));
  await load();
}

// --- incomplete enrollments ---

async function reports() {
  const hours = field('Stalled for more than (hours)', h('input', {type: 'number', min: 0, max: 8760, value: 24}));
  const box = h('div');
  async function load() {
    const r = await api('GET', `/api/v1/reports/incomplete-enrollments?hours=${encodeURIComponent(hours.input.value || '0')}`);
    box.replaceChildren(
      h('section', {class: 'card', 'aria-labelledby': 'rep-1'}, h('h2', {id: 'rep-1'}, 'Profile served, no TokenUpdate since'),
        table([{label: 'UDID', get: (x) => x.udid || '—'}, {label: 'Serial', get: (x) => x.serial || '—'},
               {label: 'Method', get: (x) => x.method}, {label: 'Profile', get: (x) => x.profile},
               {label: 'Served', get: (x) => fmtTime(x.profile_served_at)}],
              r.profile_served_no_token_update || [], 'None.')),
      h('section', {class: 'card', 'aria-labelledby': 'rep-2'}, h('h2', {id: 'rep-2'}, 'Assigned in DEP, never enrolled'),
        table([{label: 'Server', get: (x) => x.server}, {label: 'Serial', get: (x) => x.serial},
               {label: 'Profile UUID', get: (x) => x.profile_uuid}, {label: 'Assigned', get: (x) => fmtTime(x.assigned_at)}],
              r.dep_assigned_never_enrolled || [], 'None.')),
      h('p', {}, `Configurator / link downloads not tied to a device: ${r.link_downloads_not_tied_to_a_device}`));
  }
  view.replaceChildren(h('h1', {}, 'Incomplete enrollments'),
    h('form', {class: 'inline card', onsubmit: (ev) => { ev.preventDefault(); load().catch((e) => box.replaceChildren(errorNotice(e))); }},
      hours.wrap, h('button', {type: 'submit', class: 'secondary'}, 'Show')), box);
  await load();
}

// --- self-service portal branding ---

const PORTAL_FIELDS = [
  ['company_name', 'Company name', 40, 'letters, digits and spaces'],
  ['contact_name', 'IT contact name', 40],
  ['phone', 'IT phone', 20],
  ['email', 'IT email', 40],
  ['additional_info', 'Additional information', 120],
  ['privacy_url', 'Privacy statement URL', 79, 'https://'],
  ['website_url', 'Support website URL', 150, 'https://'],
  ['website_name', 'Support website name', 40, '"Go to IT website" when empty'],
  ['theme_color', 'Theme colour', 7, '#RRGGBB'],
];

async function portal() {
  const current = await api('GET', '/api/v1/portal');
  const b = current.branding || current;
  const fields = {};
  const msg = h('div', {id: 'portal-message', 'aria-live': 'polite'});
  // No maxlength on the inputs: the gateway enforces the limits and says which were exceeded, so
  // a pasted over-long value is reported rather than silently cut.
  for (const [k, label, max, hint] of PORTAL_FIELDS) {
    fields[k] = field(label, h('input', {type: 'text', name: k, value: b[k] || ''}),
                      `at most ${max} characters${hint ? `; ${hint}` : ''}`);
  }
  const logo = field('Logo (PNG or JPEG, at most 400×100 px and 750 KB)', h('input', {type: 'file', accept: 'image/png,image/jpeg'}));
  async function save(ev) {
    ev.preventDefault();
    const body = {};
    for (const [k] of PORTAL_FIELDS) {
      body[k] = fields[k].input.value;
      fields[k].err.textContent = '';
      fields[k].input.removeAttribute('aria-invalid');
    }
    logo.err.textContent = '';
    const f = logo.input.files[0];
    if (f) {
      const bytes = new Uint8Array(await f.arrayBuffer());
      let bin = '';
      for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      body.logo_base64 = btoa(bin);
    }
    try {
      await api('PUT', '/api/v1/portal', {body});
      toast('Portal branding saved');
      msg.replaceChildren(h('p', {class: 'notice ok'}, 'Saved. Invited users see it at once.'));
    } catch (e) {
      // The gateway names each bad field: "company_name: at most 40 characters (got 41); ...".
      let first = null;
      for (const part of e.message.split('; ')) {
        const m = /^([a-z_]+): (.*)$/.exec(part);
        const target = m ? (m[1] === 'logo' ? logo : fields[m[1]]) : null;
        if (target) {
          target.err.textContent = m[2];
          target.input.setAttribute('aria-invalid', 'true');
          first = first || target.input;
        }
      }
      msg.replaceChildren(errorNotice(e));
      if (first) first.focus();
    }
  }
  view.replaceChildren(h('h1', {}, 'Self-service portal'),
    h('p', {}, 'What users who enroll their own devices see when they open an invitation (', h('a', {href: '#/profiles'}, 'invite from an ota profile'), ').'),
    msg,
    h('section', {class: 'card'}, h('form', {class: 'stack', id: 'portal-form', onsubmit: save},
      PORTAL_FIELDS.map(([k]) => fields[k].wrap), logo.wrap,
      h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Save branding')))));
}

// ---------- start ----------

document.getElementById('login-form').addEventListener('submit', signIn);
document.getElementById('logout').addEventListener('click', () => signOut('Signed out.'));
window.addEventListener('hashchange', route);
if (sessionStorage.getItem(KEY_ITEM)) showApp();
else signOut();
