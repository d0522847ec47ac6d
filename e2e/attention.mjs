// End-to-end: the attention test (issue 15) in headless Chromium. A clinician issues a
// shortened-test code; a family opens /test, enters it and runs the timing check, the practice
// and the test with scripted key presses (one key held down so the browser auto-repeats); the
// clinician opens the report and the raw log. axe-core checks the test's instruction pages and
// the clinician's pages. The measured frame jitter and onset error are printed (TIMING lines),
// and the stored test's id (CPT_TEST_ID) for crates/mhsip/tests/e2e.rs, which checks that the
// stored score equals cpt's score of the stored log. Usage:
//   node attention.mjs BASE_URL CLINICIAN PASSWORD [SCREENSHOT_DIR]
// No camera is used (the webcam head track is not part of this version).
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const [base, clinician, password, shots] = process.argv.slice(2);
if (!base || !clinician || !password) {
  console.error('usage: node attention.mjs BASE_URL CLINICIAN PASSWORD [SCREENSHOT_DIR]');
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
  if (shots) await page.screenshot({ path: path.join(shots, `${label}.png`), fullPage: true });
}

console.log('Attention test: a clinician issues a code, a family runs a shortened test at home');
// CSP is bypassed only so that axe can be injected; the app allows no inline script.
const clinic = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true })).newPage();
await clinic.goto(`${base}/login`);
await clinic.fill('#username', clinician);
await clinic.fill('#password', password);
await Promise.all([clinic.waitForNavigation(), clinic.click('button[type=submit]')]);
expect(new URL(clinic.url()).pathname === '/clinic', 'a clinician lands on the attention tests');
await check(clinic, 'clinic');
await clinic.fill('#patient_ref', 'E2E-0001');
await clinic.fill('#age', '8');
await clinic.selectOption('#sex', 'male');
await clinic.selectOption('#ethnic_group', 'White');
await clinic.check('#length-short');
await Promise.all([clinic.waitForNavigation(), clinic.click('form[action="/clinic/codes"] button[type=submit]')]);
const code = await clinic.inputValue('#new-code');
expect(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){7}$/.test(code), `a code of 32 characters is shown once (${code.slice(0, 4)}…)`);
await check(clinic, 'clinic-code-issued');

// The family: no account, no cookie.
const family = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true })).newPage();
const consoleErrors = [];
// Script errors only (a refused post shows as a failed resource, which is expected here).
family.on('pageerror', (e) => consoleErrors.push(String(e)));
await family.goto(`${base}/test`);
expect((await family.locator('h1').innerText()) === 'The attention test', 'the instructions page');
await check(family, 'test-instructions');
await family.fill('#code', 'WRONG-CODE');
await Promise.all([family.waitForNavigation(), family.click('form[action="/test"] button[type=submit]')]);
expect((await family.locator('.nhsuk-error-summary').innerText()).includes('not one we know'), 'a wrong code: a clear message');
await check(family, 'test-wrong-code');
await family.fill('#code', code.toLowerCase().replaceAll('-', ' '));
await Promise.all([family.waitForNavigation(), family.click('form[action="/test"] button[type=submit]')]);
await family.waitForSelector('#cpt-begin:not([hidden])');
expect((await family.locator('main').innerText()).includes('yellow star'), 'the test page says what to look for');
await check(family, 'test-ready');

const scheduleResponse = family.waitForResponse((r) => r.url().endsWith('/test/schedule'));
await family.click('#cpt-begin');
const { schedule } = await (await scheduleResponse).json();
expect(schedule.trials.length === 15 && schedule.practice.length === 12,
  `the schedule from the server: ${schedule.practice.length} practice trials, ${schedule.trials.length} test trials (30 s)`);

const wait = (ms) => new Promise((r) => setTimeout(r, ms));
// Presses the space bar for each target shown, 300 ms after it appears; the first target's
// press is held down long enough to send an auto-repeat.
// With `hideAt`, the page is told the tab was hidden when that trial appears, and visible
// again 2.5 s later (the Page Visibility API's property and event, as a browser sets them
// when the family switches tab; a headless page cannot be hidden for real).
async function play(trials, hideAt = null) {
  let prev = null;
  let held = false;
  let presses = 0;
  for (;;) {
    const seen = await family.waitForFunction((p) => {
      const s = document.getElementById('cpt-stage');
      if (s.dataset.trial !== undefined && s.dataset.trial !== p) return s.dataset.trial;
      if (!document.getElementById('cpt-go').hidden || s.dataset.done) return 'end';
      return false;
    }, prev, { polling: 'raf', timeout: 60000 });
    const v = await seen.jsonValue();
    if (v === 'end') return presses;
    prev = v;
    if (hideAt !== null && Number(v) === hideAt) {
      await family.evaluate(() => {
        const set = (hidden) => {
          Object.defineProperty(document, 'hidden', { value: hidden, configurable: true });
          document.dispatchEvent(new Event('visibilitychange'));
        };
        set(true);
        setTimeout(() => set(false), 2500);
      });
    }
    const t = trials[Number(v)];
    if (t && t.target) {
      await wait(300);
      if (!held) {
        held = true;
        await family.keyboard.down('Space');
        await wait(80);
        await family.keyboard.down('Space'); // the browser's auto-repeat (repeat: true)
        await family.keyboard.up('Space');
      } else {
        await family.keyboard.press('Space');
      }
      presses++;
    }
  }
}

await family.waitForSelector('#cpt-go:not([hidden])', { timeout: 20000 });
const refused = await family.evaluate(() => document.getElementById('cpt-stage').dataset.refused === 'true');
expect(!refused, 'the timing check passes on this machine');
expect((await family.locator('#cpt-message').innerText()).includes('practice'), 'the practice comes first');
await family.click('#cpt-go');
const practicePresses = await play(schedule.practice);
await family.waitForSelector('#cpt-go:not([hidden])', { timeout: 20000 });
const afterPractice = await family.locator('#cpt-message').innerText();
expect(afterPractice.includes('Well done'), `the practice is passed (${practicePresses} presses): "${afterPractice.slice(0, 40)}…"`);
await family.click('#cpt-go');
const testPresses = await play(schedule.trials, 4);
await family.waitForFunction(() => {
  const s = document.getElementById('cpt-stage').dataset;
  return s.stored === 'true' || s.failed === 'true';
}, null, { timeout: 30000 });
const done = await family.locator('#cpt-message').innerText();
expect(done.includes('sent to the clinic'), `the test is stored (${testPresses} presses): "${done.slice(0, 60)}"`);
expect(consoleErrors.length === 0, `no script errors${consoleErrors.length ? `: ${consoleErrors.join('; ')}` : ''}`);
// The same code again: used.
await family.goto(`${base}/test`);
await family.fill('#code', code);
await Promise.all([family.waitForNavigation(), family.click('form[action="/test"] button[type=submit]')]);
expect((await family.locator('.nhsuk-error-summary').innerText()).includes('already been used'), 'the code cannot be used twice');

// The clinician's report.
await clinic.goto(`${base}/clinic`);
const href = await clinic.locator('a[href^="/clinic/tests/"]').first().getAttribute('href');
const id = href.split('/').pop();
await clinic.goto(`${base}${href}`);
const report = await clinic.locator('main').innerText();
for (const must of ['supports a clinical assessment and does not replace it', 'A shortened test', 'Activity was not measured',
  'Timing check', 'Frame jitter', 'Stimulus onset error', 'By quarter of the test']) {
  expect(report.includes(must), `the report shows "${must}"`);
}
expect(await clinic.locator('svg[role=img][aria-labelledby="rt-hist-title"]').count() === 1, 'the reaction-time histogram (SVG)');
expect(await clinic.locator('svg[role=img][aria-labelledby="quarter-title"]').count() === 1, 'the chart of the quarters (SVG)');
await check(clinic, 'clinic-report');
const facts = await clinic.evaluate(() => Object.fromEntries([...document.querySelectorAll('.nhsuk-summary-list__row')]
  .map((r) => [r.querySelector('dt').innerText.trim(), r.querySelector('dd').innerText.trim()])));
console.log(`TIMING frame interval: ${facts['Frame interval, median']}`);
console.log(`TIMING frame jitter: ${facts['Frame jitter (SD of the interval)']}`);
console.log(`TIMING frames dropped: ${facts['Frames dropped']}`);
console.log(`TIMING onset error mean ± SD: ${facts['Stimulus onset error against the schedule, mean ± SD']}`);
console.log(`TIMING largest onset error: ${facts['Largest onset error']}`);
expect(facts['Interruptions (tab hidden or full screen left)'] === '1' && facts['Times the tab was hidden'] === '1',
  `the tab hidden mid-test is one interruption (${facts['Interruptions (tab hidden or full screen left)']})`);
const shown = facts['Stimuli shown'] || '';
expect(/^1[0-4] of 15 planned$/.test(shown) && Number(facts['Trials excluded (the test was interrupted)']) >= 1,
  `the trials it hid are not shown and those it overlaps are excluded (${shown}; excluded ${facts['Trials excluded (the test was interrupted)']})`);
expect(facts['Auto-repeats of a key held down (ignored)'] === '1', `the held key's auto-repeat is counted and ignored (${facts['Auto-repeats of a key held down (ignored)']})`);
const csv = await clinic.evaluate(async (u) => (await fetch(u)).text(), `${base}${href}/log.csv`);
const lines = csv.trim().split('\n');
expect(lines[0].startsWith('event,trial,target,time_ms') && lines.filter((l) => l.startsWith('stimulus,')).length > 0,
  `the raw log as CSV (${lines.length - 1} rows)`);
console.log(`CPT_TEST_ID=${id}`);

await browser.close();
console.log(failures ? `${failures} expectation(s) failed` : 'The attention test journey passed.');
process.exit(failures ? 1 : 0);
