// The admin console and the self-service portal in a real headless Chromium (Debian's
// /usr/bin/chromium), driven by playwright-core, against a real gateway with the simulators
// (`mdm-gateway demo --setup-only`: apns-sim, dep-sim, mdm-core-stub as child processes). Every
// step is what an admin does by hand; a screenshot of each page goes to $MDMGW_BROWSER_ARTIFACTS.
//
//   MDMGW_GATEWAY=build/gateway/mdm-gateway node --test tests/browser/console.test.mjs
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {spawn, execFileSync} from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import {chromium} from 'playwright-core';

const here = path.dirname(new URL(import.meta.url).pathname);
const GATEWAY = process.env.MDMGW_GATEWAY || path.resolve(here, '../../build/gateway/mdm-gateway');
const CHROMIUM = process.env.MDMGW_CHROMIUM || '/usr/bin/chromium';
const ART = process.env.MDMGW_BROWSER_ARTIFACTS || path.resolve(here, 'artifacts');
const DEP_DEVICES = 40000;  // enough that a sync takes long enough to show its progress

let work, demo, setup, browser, context, page;
const pageErrors = [];  // script errors in the console's page: none may happen

// Starts `mdm-gateway demo --setup-only` and waits for its JSON line.
function startDemo() {
  return new Promise((resolve, reject) => {
    demo = spawn(GATEWAY, ['demo', '--setup-only', '--data-dir', path.join(work, 'demo'),
                           '--listen', '127.0.0.1:0', '--devices', String(DEP_DEVICES),
                           '--devices-per-method', '1'],
                 {stdio: ['ignore', 'pipe', 'pipe']});
    const lines = [];
    const timer = setTimeout(() => reject(new Error(`demo gave no setup line:\n${lines.join('\n')}`)), 60000);
    demo.on('exit', (code) => reject(new Error(`demo exited ${code}:\n${lines.join('\n')}`)));
    demo.stderr.on('data', (d) => lines.push(String(d)));
    readline.createInterface({input: demo.stdout}).on('line', (line) => {
      lines.push(line);
      if (line.startsWith('demo-setup: ')) {
        clearTimeout(timer);
        resolve(JSON.parse(line.slice('demo-setup: '.length)));
      }
    });
  });
}

// A request to a simulator over its TLS (its own CA), e.g. dep-sim's token issuer.
function simRequest(url, method, body, type) {
  return new Promise((resolve, reject) => {
    const req = https.request(url, {method, ca: fs.readFileSync(setup.sim_ca_file),
                                    headers: {'content-type': type}}, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({status: res.statusCode, body: Buffer.concat(chunks)}));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function shot(name) {
  await page.screenshot({path: path.join(ART, `${name}.png`), fullPage: true});
}

async function go(section) {
  await page.getByRole('link', {name: section, exact: true}).click();
  await page.locator('main h1').first().waitFor();
}

// Polls |fn| in the page until it returns true. (Not page.waitForFunction: its polling evaluates a
// string, which the console's content security policy rightly refuses.)
async function until(fn, what) {
  for (let i = 0; i < 300; ++i) {
    if (await page.evaluate(fn)) return;
    await page.waitForTimeout(100);
  }
  assert.fail(`timed out waiting for ${what}`);
}

// Every form control on the page has a label (accessible forms).
async function assertLabelled() {
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('main input, main select, main textarea')]
    .filter((e) => e.type !== 'hidden' && !e.labels.length && !e.getAttribute('aria-label'))
    .map((e) => e.outerHTML));
  assert.deepEqual(unlabelled, [], 'controls without a label');
}

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mdmgw-browser-'));
  fs.mkdirSync(ART, {recursive: true});
  setup = await startDemo();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--disable-dev-shm-usage'],  // containers often have a tiny /dev/shm
  });
  // The gateway's certificate is its own self-signed one (embedded defaults).
  context = await browser.newContext({ignoreHTTPSErrors: true, acceptDownloads: true,
                                      viewport: {width: 1280, height: 800}});
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
});

after(async () => {
  if (browser) await browser.close();
  if (demo && demo.exitCode === null) {
    const exited = new Promise((r) => demo.once('exit', r));
    demo.kill('SIGTERM');
    await exited;
  }
  if (work) fs.rmSync(work, {recursive: true, force: true});
});

test('sign in: a wrong key is refused, the key stays in this tab only', async () => {
  await page.goto(setup.console_url);
  await page.getByLabel('Admin API key').fill('mdmgw_not-a-real-key');
  await page.getByRole('button', {name: 'Sign in'}).click();
  await page.getByText('That key is not an active admin key.').waitFor();
  // Keyboard only: type the key and press Enter.
  await page.getByLabel('Admin API key').fill(setup.admin_key);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', {name: 'Overview'}).waitFor();
  assert.equal(await page.evaluate(() => localStorage.length), 0, 'nothing in localStorage');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('mdmgw.admin_key')), setup.admin_key);
  // A fresh install: no push certificate, shown as a problem in colour and in words.
  await page.locator('.notice.bad', {hasText: 'No APNs push certificate'}).waitFor();
  await shot('01-overview-fresh');
});

test('APNs: upload the push certificate, then a different topic is refused until confirmed', async () => {
  await go('APNs');
  await assertLabelled();
  await page.getByLabel('Certificate (PEM; may also hold the key)').setInputFiles(setup.push_cert_file);
  await page.getByLabel('Private key (PEM), if not in the certificate file').setInputFiles(setup.push_key_file);
  await page.getByLabel('Apple ID that created the certificate').fill('mdm-admin@example.com');
  await page.getByRole('button', {name: 'Upload certificate'}).click();
  await page.locator('#apns-result .notice.ok').waitFor();
  assert.equal(await page.locator('#apns-topic').textContent(), setup.topic);
  await shot('02-apns-uploaded');

  // Another certificate, another topic: refused with both topics named and a confirm step.
  const other = 'com.apple.mgmt.External.00000000-1111-4222-8333-444444444444';
  const issued = JSON.parse(execFileSync(setup.apns_sim, ['--issue-push-cert', path.join(work, 'other'), '--topic', other]));
  await page.getByLabel('Certificate (PEM; may also hold the key)').setInputFiles(issued.cert_file);
  await page.getByLabel('Private key (PEM), if not in the certificate file').setInputFiles(issued.key_file);
  await page.getByRole('button', {name: 'Upload certificate'}).click();
  const warning = page.locator('#topic-change');
  await warning.waitFor();
  const text = await warning.textContent();
  assert.ok(text.includes(setup.topic) && text.includes(other), `both topics named: ${text}`);
  const replace = page.getByRole('button', {name: 'Replace the certificate anyway'});
  assert.ok(await replace.isDisabled(), 'the confirm button waits for the acknowledgement');
  await shot('03-apns-topic-change-refused');
  await page.getByRole('button', {name: 'Cancel'}).click();
  await go('APNs');
  assert.equal(await page.locator('#apns-topic').textContent(), setup.topic, 'the stored certificate is unchanged');
});

test('DEP: add a server, exchange the token, sync with progress, see devices and their state', async () => {
  await go('DEP servers');
  await assertLabelled();
  await page.getByLabel('Name').fill('abm');
  await page.getByLabel('Base URL').fill(setup.dep_sim_url);
  await page.getByRole('button', {name: 'Add server'}).click();
  await page.getByRole('heading', {name: 'DEP server abm'}).waitFor();

  // The exchange certificate as Apple Business Manager gets it, and the .p7m it gives back.
  const [dl] = await Promise.all([page.waitForEvent('download'),
                                  page.getByRole('button', {name: 'Download the exchange certificate'}).click()]);
  const certPath = path.join(work, 'abm-exchange.pem');
  await dl.saveAs(certPath);
  const pem = fs.readFileSync(certPath, 'utf8');
  assert.match(pem, /^-----BEGIN CERTIFICATE-----/);
  const token = await simRequest(`${setup.dep_sim_url}/sim/token`, 'POST', pem, 'application/x-pem-file');
  assert.equal(token.status, 200);
  const p7m = path.join(work, 'abm_Token.p7m');
  fs.writeFileSync(p7m, token.body);
  await page.getByLabel('Server token from Apple Business Manager (.p7m)').setInputFiles(p7m);
  await page.getByRole('button', {name: 'Upload token'}).click();
  await page.locator('#dep-message .notice.ok', {hasText: 'Token accepted'}).waitFor();
  await shot('04-dep-token');

  // Sync now: the progress bar shows while dep-sim's devices arrive, then the result.
  await page.getByRole('button', {name: 'Sync now'}).click();
  await page.locator('#sync-progress progress').waitFor();
  const seen = [];
  while (!(await page.locator('#sync-done').count())) {
    const line = await page.locator('#sync-progress p').first().textContent().catch(() => '');
    if (line && !seen.includes(line)) seen.push(line);
    if (await page.locator('#sync-progress .notice.bad').count()) {
      assert.fail(`sync failed: ${await page.locator('#sync-progress').textContent()}`);
    }
    await page.waitForTimeout(100);
  }
  const done = await page.locator('#sync-done').textContent();
  assert.ok(done.includes(`${DEP_DEVICES} devices`), done);
  // While it ran, the line told how far it was (phase, devices so far, seconds).
  assert.ok(seen.some((l) => /^Syncing \(.+\) — \d+ devices so far, \d+ s$/.test(l)),
            `progress lines seen: ${JSON.stringify(seen)}`);
  console.log(`sync progress lines: ${JSON.stringify(seen)}`);
  await shot('05-dep-synced');

  // The devices with their assignment state; the filter asks the gateway for one state only.
  const rows = page.locator('#dep-devices tbody tr');
  assert.equal(await rows.count(), 100, 'first page of 100');
  await page.getByLabel('Assignment state').selectOption('unassigned');
  await until(() => [...document.querySelectorAll('#dep-devices tbody tr td:last-child')]
    .every((td) => td.textContent === 'unassigned'), 'only unassigned devices');
  const first = (await rows.first().locator('td').first().textContent()).trim();
  await page.getByLabel('Search this page').fill(first);
  await until(() => document.querySelectorAll('#dep-devices tbody tr').length === 1, 'one matching device');
  await shot('06-dep-devices-filtered');
});

let cartProfileUrl;
test('profiles: the method table rules the form; a usb-sa profile and its Configurator export', async () => {
  await go('Enrollment profiles');
  await assertLabelled();
  const supervised = page.getByLabel('Supervised', {exact: true});
  await page.getByLabel('Method').selectOption('usb-direct');
  assert.ok(await supervised.isDisabled() && !(await supervised.isChecked()), 'usb-direct: never supervised');
  await page.getByLabel('Method').selectOption('usb-sa');
  assert.ok(await supervised.isDisabled() && (await supervised.isChecked()), 'usb-sa: always supervised');
  await page.getByLabel('Name').fill('cart');
  await page.getByRole('button', {name: 'Create profile'}).click();
  await page.locator('#profile-message .notice.ok', {hasText: 'Created cart'}).waitFor();

  // A second profile with the same name: the gateway's refusal is shown at the field.
  await page.getByLabel('Name').fill('cart');
  await page.getByLabel('Method').selectOption('usb-sa');
  await page.getByRole('button', {name: 'Create profile'}).click();
  await page.locator('#profile-message .notice.bad').waitFor();

  const row = page.locator('tr', {hasText: 'cart'}).first();
  const [zip] = await Promise.all([page.waitForEvent('download'),
                                   row.getByRole('button', {name: 'Configurator zip'}).click()]);
  const zipPath = path.join(work, 'cart.zip');
  await zip.saveAs(zipPath);
  assert.equal(fs.readFileSync(zipPath).subarray(0, 2).toString(), 'PK', 'a zip file');
  await row.getByRole('button', {name: 'Profile URL'}).click();
  cartProfileUrl = (await page.locator('#profile-url').textContent()).trim();
  assert.match(cartProfileUrl, /\/enroll\/dep\/[A-Za-z0-9_-]+$/);

  // Apple Configurator's serial list for the cart.
  await row.getByRole('button', {name: 'Serial list'}).click();
  const csv = path.join(work, 'serials.csv');
  fs.writeFileSync(csv, 'BRWS0001,browser test iPad\n');
  await page.getByLabel(/Serial list for cart/).setInputFiles(csv);
  await page.getByRole('button', {name: 'Import serials'}).click();
  await page.locator('#serials-done', {hasText: 'Imported 1 serials'}).waitFor();
  await shot('07-profiles');
});

test('devices: a device enrolled by device-sim appears, and can be pushed', async () => {
  const [identity] = setup.device_identities;
  const profile = path.join(work, 'device.mobileconfig');
  const common = ['--ca', setup.gateway_ca_file];
  execFileSync(setup.device_sim, ['enroll', '--url', cartProfileUrl, '--identity-cert', identity.cert_file,
                                  '--identity-key', identity.key_file, '--udid', 'BROWSER-TEST-0001',
                                  '--serial', 'BRWS0001', '--out', profile, ...common]);
  execFileSync(setup.device_sim, ['checkin', '--profile', profile, '--udid', 'BROWSER-TEST-0001',
                                  '--serial', 'BRWS0001', '--messages', 'authenticate,tokenupdate', ...common]);
  await go('Devices');
  await assertLabelled();
  await page.getByLabel('Search').fill('BROWSER-TEST');
  const row = page.locator('#device-list tbody tr', {hasText: 'BROWSER-TEST-0001'});
  await row.waitFor();
  assert.ok((await row.textContent()).includes('usb-sa'), 'enrollment method shown');
  await row.getByRole('button', {name: 'Push now to BROWSER-TEST-0001'}).click();
  await page.locator('.notice.ok', {hasText: 'accepted by APNs'}).waitFor();
  await shot('08-devices');
});

test('portal: every over-long field is refused by name; the invited user sees the branding', async () => {
  await go('Portal');
  await assertLabelled();
  const long = {
    'Company name': 'A'.repeat(41), 'IT contact name': 'B'.repeat(41), 'IT phone': '1'.repeat(21),
    'IT email': `${'c'.repeat(40)}@example.com`, 'Additional information': 'D'.repeat(121),
    'Privacy statement URL': `https://example.com/${'p'.repeat(70)}`,
    'Support website URL': `https://example.com/${'w'.repeat(140)}`, 'Support website name': 'E'.repeat(41),
  };
  for (const [label, value] of Object.entries(long)) await page.getByLabel(label, {exact: true}).fill(value);
  await page.getByRole('button', {name: 'Save branding'}).click();
  await page.locator('#portal-message .notice.bad').waitFor();
  for (const label of Object.keys(long)) {
    const input = page.getByLabel(label, {exact: true});
    assert.equal(await input.getAttribute('aria-invalid'), 'true', `${label} marked invalid`);
    const err = await page.locator(`#${await input.getAttribute('id')}-err`).textContent();
    assert.match(err, /at most \d+ characters/, `${label}: ${err}`);
  }
  await shot('09-portal-refused');

  const good = {
    'Company name': 'Example Corp', 'IT contact name': 'Help Desk', 'IT phone': '+1 555 0100',
    'IT email': 'help@example.com', 'Additional information': 'Open 8-18 on weekdays.',
    'Privacy statement URL': 'https://example.com/privacy', 'Support website URL': 'https://help.example.com',
    'Support website name': 'Example help',
  };
  for (const [label, value] of Object.entries(good)) await page.getByLabel(label, {exact: true}).fill(value);
  await page.getByRole('button', {name: 'Save branding'}).click();
  await page.locator('#portal-message .notice.ok').waitFor();

  // An ota profile, an invitation, and the page the invited user opens.
  await go('Enrollment profiles');
  await page.getByLabel('Name').fill('byod');
  await page.getByLabel('Method').selectOption('ota');
  await page.getByRole('button', {name: 'Create profile'}).click();
  await page.locator('#profile-message .notice.ok', {hasText: 'Created byod'}).waitFor();
  await page.locator('tr', {hasText: 'byod'}).first().getByRole('button', {name: 'Invite a user'}).click();
  await page.getByLabel(/Invite a user to byod/).fill('jane@example.com');
  await page.getByRole('button', {name: 'Create invitation'}).click();
  const link = await page.locator('#invitation-link').getAttribute('href');
  assert.match(link, /\/portal\/\?invite=/);
  const user = await context.newPage();
  await user.goto(new URL(link, setup.gateway_url).toString());
  const body = await user.locator('body').textContent();
  for (const want of ['Example Corp', 'Help Desk', 'help@example.com', 'jane@example.com']) {
    assert.ok(body.includes(want), `the portal page shows ${want}`);
  }
  assert.equal(await user.locator('a[href="https://example.com/privacy"]').count(), 1, 'privacy link');
  await user.screenshot({path: path.join(ART, '10-portal-invited-user.png'), fullPage: true});
  await user.close();
});

test('overview and report after the story; a narrow window has no sideways scroll', async () => {
  await go('Incomplete enrollments');
  await assertLabelled();
  await shot('11-incomplete-enrollments');
  await go('Overview');
  await page.locator('.notice.ok', {hasText: 'Everything is in order.'}).waitFor();
  const ov = await page.locator('main').textContent();
  assert.ok(ov.includes(setup.topic), 'the APNs topic on the overview');
  assert.ok(ov.includes('accepted'), 'T&C state shown');
  await shot('12-overview');
  for (const section of ['Overview', 'DEP servers', 'Devices', 'Portal']) {
    await page.setViewportSize({width: 390, height: 844});
    await go(section);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `${section}: ${overflow}px wider than a narrow window`);
  }
  await go('Devices');
  await shot('13-devices-narrow');
  await page.setViewportSize({width: 1280, height: 800});
  await page.getByRole('button', {name: 'Sign out'}).click();
  await page.getByLabel('Admin API key').waitFor();
  assert.deepEqual(pageErrors, [], 'script errors in the console');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('mdmgw.admin_key')), null, 'the key is forgotten');
});
