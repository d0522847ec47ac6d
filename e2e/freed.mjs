// End-to-end: a FREED champion's journey (issue 14) in headless Chromium on the demo region,
// with axe-core on every FREED page. Usage:
//   node freed.mjs BASE_URL [SCREENSHOT_DIR]
// The trust lead of R9A (lead.r9a) opens the FREED services, opens the trust's service and
// sees its waiting list with the breaches first, adds a referral by hand and sees its clock
// on the list; then the service's FREED charts (a clock's P chart, monthly and weekly), who is
// reached (by ethnic group), the queue, and the trust's chart of the same measure on the
// ordinary chart page. Exits non-zero if any expectation failed.
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const [base, shots] = process.argv.slice(2);
if (!base) {
  console.error('usage: node freed.mjs BASE_URL [SCREENSHOT_DIR]');
  process.exit(2);
}
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const executablePath = process.env.CHROMIUM || execSync('command -v chromium').toString().trim();
if (shots) mkdirSync(shots, { recursive: true });

let failures = 0;
function expect(ok, what) {
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
}

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

async function check(page, label) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    await axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.length === 0, `accessibility (axe): ${label}: ${bad.length} serious or critical` +
    (bad.length ? ` — ${bad.map((v) => `${v.id} (${v.impact}, ${v.nodes.length}): ${v.nodes[0].target}`).join('; ')}` : ''));
  if (shots) await page.screenshot({ path: path.join(shots, `freed-${label}.png`), fullPage: true });
}

async function open(page, url) {
  const r = await page.goto(`${base}${url}`);
  expect(r && r.status() === 200, `${url} opens (HTTP ${r && r.status()})`);
  return r;
}

console.log('FREED: a champion of R9A opens the service, sees breaches first, adds a referral');
// CSP bypassed only so that axe can be injected; the FREED pages run no script.
const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
const page = await context.newPage();
await page.goto(`${base}/login`);
await page.fill('#username', 'lead.r9a');
await page.fill('#password', 'demo-password');
await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);

await open(page, '/freed');
expect(await page.locator('a[href="/freed/R9A-FREED"]').count() === 1, 'the trust\'s service is listed');
await check(page, 'services');

await Promise.all([page.waitForNavigation(), page.click('a[href="/freed/R9A-FREED"]')]);
expect(new URL(page.url()).pathname === '/freed/R9A-FREED', 'the service opens from the list');
const rows = page.locator('table:has(caption:has-text("Waiting list")) tbody tr');
const n = await rows.count();
const breaching = [];
for (let i = 0; i < n; i++) {
  breaching.push(await rows.nth(i).locator('.nhsuk-tag--red').count() > 0);
}
const firstCalm = breaching.indexOf(false);
expect(n > 0, `the waiting list holds ${n} referrals`);
expect(breaching.some((b) => b), `${breaching.filter((b) => b).length} of them breach a clock`);
expect(firstCalm === -1 || breaching.slice(firstCalm).every((b) => !b), 'breaches are listed first');
await check(page, 'service');

// A referral typed in by hand, received yesterday at 09:00 (UK dates: the server's "now").
const yesterday = new Date(Date.now() - 24 * 3600 * 1000).toISOString().slice(0, 10);
const reference = `E2E-${Date.now() % 1000000}`;
await open(page, '/freed/R9A-FREED/referral');
await check(page, 'referral-form');
await page.fill('#reference', reference);
await page.fill('#nhs_number', '999 000 0077');
await page.fill('#received_date', yesterday);
await page.fill('#received_time', '09:00');
await page.selectOption('#source', 'self_referral');
await page.fill('#age', '19');
await page.selectOption('#first_episode', 'Y');
await page.fill('#onset', yesterday.slice(0, 7));
await page.selectOption('#diagnosis', 'BN');
await page.selectOption('#priority', 'routine');
await Promise.all([page.waitForNavigation(), page.click('form[action="/freed/R9A-FREED/referral"] button[type=submit]')]);
expect(new URL(page.url()).pathname === '/freed/R9A-FREED', 'saving goes back to the waiting list');
expect((await page.content()).includes(`Referral ${reference} was saved`), 'the page says the referral was saved');
const mine = page.locator(`table tbody tr:has(a:text-is("${reference}"))`);
expect(await mine.count() === 1, 'the new referral is on the waiting list');
const text = (await mine.first().innerText()).replace(/\s+/g, ' ');
expect(/FREED engagement/.test(text) && /left/.test(text),
  `its clock runs: the engagement call is due, with time left (${text.slice(0, 160)}…)`);
expect(!text.includes('999 000 0077') && !text.includes('9990000077'), 'the NHS number is not shown');
await check(page, 'service-after-entry');

console.log('FREED: the service\'s charts, who is reached, the queue and the trust\'s chart');
await open(page, '/freed/R9A-FREED/measures');
expect(await page.locator('a[href^="/freed/R9A-FREED/measures/freed_assessment_2w"]').count() === 1, 'the 2-week clock is among the measures');
await check(page, 'measures');
await open(page, '/freed/R9A-FREED/measures/freed_assessment_2w');
expect(await page.locator('#chart svg').count() === 1, 'the 2-week clock is charted');
expect((await page.content()).includes('>p<') || (await page.content()).toLowerCase().includes('p chart'), 'as a P chart');
await check(page, 'chart-assessment');
await open(page, '/freed/R9A-FREED/measures/freed_median_dued?period=week');
expect(await page.locator('#chart svg').count() === 1, 'the weekly DUED median is charted');
await check(page, 'chart-dued-weekly');
await open(page, '/freed/R9A-FREED/inequalities?by=ethnic_group');
expect(await page.locator('th:text-is("Asian or Asian British")').count() >= 1, 'who is reached: the Asian groups are shown');
await check(page, 'inequalities');
// Who is reached across the trust's services (linked from the service's page), then the
// region's (linked from the FREED list; disclosure-controlled for a trust's lead).
await Promise.all([page.waitForNavigation(), page.click('a[href^="/freed/org/R9A/inequalities"]')]);
expect(new URL(page.url()).pathname === '/freed/org/R9A/inequalities', 'the trust\'s page opens from the service\'s');
expect(await page.locator('th:text-is("Asian or Asian British")').count() >= 1, 'the trust\'s page shows the groups');
await check(page, 'inequalities-trust');
await open(page, '/freed');
const region = page.locator('a[href^="/freed/org/"]').first();
expect(await region.count() === 1, 'the FREED list links who is reached across the region');
await Promise.all([page.waitForNavigation(), region.click()]);
expect((await page.content()).includes('Disclosure control applies'), 'the region is disclosure-controlled for a trust\'s lead');
await check(page, 'inequalities-region');
await open(page, '/freed/R9A-FREED/queue');
await check(page, 'queue');
await open(page, '/chart/R9A/freed_assessment_2w');
expect(await page.locator('#chart svg').count() === 1, 'the trust\'s 2-week clock on the ordinary chart page');
await check(page, 'trust-chart');

await browser.close();
if (failures) {
  console.log(`${failures} FREED expectation(s) failed.`);
  process.exit(1);
}
console.log('The FREED journey passed.');
