// End-to-end: the attention test (issue 15) in headless Chromium. A clinician issues a
// shortened-test code; a family opens /test, enters it and runs the timing check, the practice
// and the test with scripted key presses (one key held down so the browser auto-repeats); the
// clinician opens the report and the raw log. axe-core checks the test's instruction pages and
// the clinician's pages. The measured frame jitter and onset error are printed (TIMING lines),
// and the stored test's id (CPT_TEST_ID) for crates/mhsip/tests/e2e.rs, which checks that the
// stored score equals cpt's score of the stored log. The first run ticks the camera box in a
// browser that has no camera (the test runs on; the report says activity was not measured);
// the second runs in a browser whose camera is a video file this script makes (face-video.mjs:
// a drawn face moving on a known path), with the site's CSP in force: the face detector runs
// in the page, the head track is stored (CPT_CAMERA_TEST_ID), the report shows activity, and
// every request the page sends is inspected for image data (TRACKING lines: the rate and
// jitter of the tracking). Usage:
//   node attention.mjs BASE_URL CLINICIAN PASSWORD [SCREENSHOT_DIR]
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { writeFaceVideo } from './face-video.mjs';
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
const familyPage = family;
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

expect((await family.locator('main').innerText()).includes('No picture or video is saved or sent'), 'the test page says no image leaves the device');
// This browser has no camera: the family agrees, the camera cannot start, the test runs on.
await family.check('#cpt-camera');
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
async function play(trials, hideAt = null, family = familyPage) {
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
for (const must of ['supports a clinical assessment and does not replace it', 'A shortened test', 'Activity was not measured: the camera could not be used',
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

// ----- the same with a camera: a video file of a drawn face as Chromium's fake camera -----
console.log('Attention test with a camera (a video of a drawn face), the site\'s CSP in force');
const videoDir = mkdtempSync(path.join(os.tmpdir(), 'mhsip-e2e-camera-'));
const video = path.join(videoDir, 'face.y4m');
writeFaceVideo(video, { width: 320, height: 240, fps: 30, seconds: 12 });
const camBrowser = await chromium.launch({
  executablePath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
    `--use-file-for-fake-video-capture=${video}`],
});
await clinic.goto(`${base}/clinic`);
await clinic.fill('#patient_ref', 'E2E-0002');
await clinic.fill('#age', '9');
await clinic.selectOption('#sex', 'female');
await clinic.selectOption('#ethnic_group', 'Asian');
await clinic.check('#length-short');
await Promise.all([clinic.waitForNavigation(), clinic.click('form[action="/clinic/codes"] button[type=submit]')]);
const camCode = await clinic.inputValue('#new-code');
const camContext = await camBrowser.newContext({ viewport: { width: 1280, height: 900 }, permissions: ['camera'] });
const cam = await camContext.newPage();
const camErrors = [];
cam.on('pageerror', (e) => camErrors.push(String(e)));
// A CSP refusal of a script, WebAssembly or a fetch (the NHS.UK stylesheet's web fonts, which
// the site's font-src 'self' blocks on every page, are not the test's).
cam.on('console', (m) => {
  if (m.type() === 'error' && /Content Security Policy|Refused/.test(m.text()) && !/Loading the font/.test(m.text())) camErrors.push(m.text());
});
// Every request the page sends, with its body.
const sent = [];
cam.on('request', (r) => sent.push({ url: r.url(), method: r.method(), type: r.resourceType(), body: r.postDataBuffer() }));
await cam.goto(`${base}/test`);
await cam.fill('#code', camCode);
await Promise.all([cam.waitForNavigation(), cam.click('form[action="/test"] button[type=submit]')]);
await cam.waitForSelector('#cpt-begin:not([hidden])');
await cam.check('#cpt-camera');
const camSchedule = cam.waitForResponse((r) => r.url().endsWith('/test/schedule'));
await cam.click('#cpt-begin');
const camPlan = (await (await camSchedule).json()).schedule;
await cam.waitForSelector('#cpt-go:not([hidden])', { timeout: 60000 });
expect(await cam.evaluate(() => document.getElementById('cpt-stage').dataset.refused !== 'true'),
  'the timing check passes with the face detector running');
await cam.click('#cpt-go');
await play(camPlan.practice, null, cam);
await cam.waitForSelector('#cpt-go:not([hidden])', { timeout: 20000 });
expect((await cam.locator('#cpt-message').innerText()).includes('Well done'), 'the practice is passed (camera run)');
await cam.click('#cpt-go');
await play(camPlan.trials, null, cam);
await cam.waitForFunction(() => {
  const s = document.getElementById('cpt-stage').dataset;
  return s.stored === 'true' || s.failed === 'true';
}, null, { timeout: 30000 });
expect((await cam.locator('#cpt-message').innerText()).includes('sent to the clinic'), 'the test with its head track is stored');
expect(camErrors.length === 0, `no script errors or CSP refusals${camErrors.length ? `: ${camErrors.join('; ')}` : ''}`);
expect(await cam.evaluate(() => document.querySelectorAll('video, canvas').length) === 1,
  'the camera\'s video element is gone after the test (only the stimulus canvas is left)');

// No image data leaves the page: every request is to this server; every body is JSON of the
// test's own fields; a head track holds only times, positions and sizes.
const origin = new URL(base).origin;
const elsewhere = sent.filter((r) => new URL(r.url).origin !== origin);
expect(elsewhere.every((r) => r.type === 'font' && r.method === 'GET' && !r.body),
  `every request but the stylesheet's fonts (blocked by the CSP) goes to this server (${sent.length} requests; ${elsewhere.length} font requests elsewhere)`);
expect(sent.filter((r) => r.url.includes('/assets/face-api/')).length >= 3, 'the detector, its weights and its WebAssembly come from /assets');
const imageLike = /data:image|base64|\bimage\/|ImageData|blob:/i;
const posts = sent.filter((r) => r.body && r.body.length > 0);
let trackSamples = null;
let problems = [];
for (const r of posts) {
  const text = r.body.toString('utf8');
  if (Buffer.from(text, 'utf8').compare(r.body) !== 0) { problems.push(`${r.url}: a binary body`); continue; }
  if (imageLike.test(text)) problems.push(`${r.url}: image-like text`);
  if (r.url.endsWith('/test')) continue; // the code form
  let j;
  try { j = JSON.parse(text); } catch { problems.push(`${r.url}: not JSON`); continue; }
  const walk = (v, where) => {
    if (typeof v === 'string' && v.length > 300) problems.push(`${where}: a string of ${v.length} characters`);
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${where}[${i}]`));
    else if (v && typeof v === 'object') Object.entries(v).forEach(([k, x]) => walk(x, `${where}.${k}`));
  };
  walk(j, new URL(r.url).pathname);
  if (j.head_track) {
    trackSamples = j.head_track.samples;
    const keys = new Set(trackSamples.flatMap((x) => Object.keys(x)));
    if ([...keys].sort().join(',') !== 'size,t_ms,x,y') problems.push(`head_track sample keys: ${[...keys]}`);
    if (Object.keys(j.head_track).sort().join(',') !== 'frame_aspect,samples') problems.push(`head_track keys: ${Object.keys(j.head_track)}`);
  }
}
expect(problems.length === 0, `no image data in any of the ${posts.length} request bodies${problems.length ? `: ${problems.slice(0, 5).join('; ')}` : ''}`);
expect(Array.isArray(trackSamples) && trackSamples.length > 0, `the result carries the head track (${trackSamples ? trackSamples.length : 0} positions)`);
if (trackSamples && trackSamples.length > 1) {
  const xs = trackSamples.map((q) => q.x);
  const sizes = trackSamples.map((q) => q.size).sort((a, b) => a - b);
  const lo = Math.min(...xs); const hi = Math.max(...xs);
  // The drawn face's centre moves from 0.32 to 0.68 of the frame's width.
  expect(lo < 0.42 && hi > 0.58 && hi - lo < 0.6, `the track follows the face across the frame (x from ${lo.toFixed(2)} to ${hi.toFixed(2)})`);
  const med = sizes[sizes.length >> 1];
  expect(med > 0.3 && med < 0.75, `the face's size is the drawn face's (median ${med.toFixed(2)} of the width; drawn 0.44)`);
  const steps = trackSamples.slice(1).map((q, i) => q.t_ms - trackSamples[i].t_ms);
  const secs = (trackSamples[trackSamples.length - 1].t_ms - trackSamples[0].t_ms) / 1000;
  console.log(`TRACKING positions: ${trackSamples.length} over ${secs.toFixed(1)} s (${(trackSamples.length / secs).toFixed(1)} a second, page side)`);
  const m = steps.reduce((a, b) => a + b, 0) / steps.length;
  const sd = Math.sqrt(steps.reduce((a, b) => a + (b - m) ** 2, 0) / (steps.length - 1));
  console.log(`TRACKING interval mean ± SD: ${m.toFixed(2)} ± ${sd.toFixed(2)} ms; longest ${Math.max(...steps).toFixed(1)} ms`);
}
await clinic.goto(`${base}/clinic`);
const camHref = await clinic.locator('a[href^="/clinic/tests/"]').first().getAttribute('href');
const camId = camHref.split('/').pop();
expect(camId !== id, `the camera test is a new test (${camId})`);
await clinic.goto(`${base}${camHref}`);
const camReport = await clinic.locator('main').innerText();
expect(camReport.includes('Measured on the family\'s device'), 'the report shows activity measured on the device');
expect(!camReport.includes('Activity was not measured'), 'the report does not say activity was not measured');
expect(await clinic.locator('svg[role=img][aria-labelledby="activity-title"]').count() === 1, 'the activity trace (SVG)');
await check(clinic, 'clinic-report-camera');
const camFacts = await clinic.evaluate(() => Object.fromEntries([...document.querySelectorAll('.nhsuk-summary-list__row')]
  .map((r) => [r.querySelector('dt').innerText.trim(), r.querySelector('dd').innerText.trim()])));
const rate = parseFloat(camFacts['Head tracking rate'] || '0');
expect(rate >= 25, `the head is tracked 25 or more times a second (${camFacts['Head tracking rate']})`);
console.log(`TRACKING rate (server, over the test): ${camFacts['Head tracking rate']}`);
console.log(`TRACKING interval median ± jitter: ${camFacts['Head tracking interval, median ± jitter (SD)']}`);
console.log(`TRACKING detector time per frame: ${camFacts['Face detector time per frame, median']}`);
console.log(`TIMING (camera on) frame interval: ${camFacts['Frame interval, median']}; jitter ${camFacts['Frame jitter (SD of the interval)']}; dropped ${camFacts['Frames dropped']}`);
console.log(`TIMING (camera on) onset error mean ± SD: ${camFacts['Stimulus onset error against the schedule, mean ± SD']}; largest ${camFacts['Largest onset error']}`);
console.log(`CPT_CAMERA_TEST_ID=${camId}`);
await camBrowser.close();
rmSync(videoDir, { recursive: true, force: true });

await browser.close();
console.log(failures ? `${failures} expectation(s) failed` : 'The attention test journey passed.');
process.exit(failures ? 1 : 0);
