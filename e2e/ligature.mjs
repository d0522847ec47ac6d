// End-to-end: the ligature point register (issue 13) in headless Chromium on the demo region,
// with axe-core on every ligature page visited. Usage:
//   node ligature.mjs BASE_URL [SCREENSHOT_DIR]
// The ward manager of Ash Ward (ward.ash) opens the registers, Ash Ward's register (areas with
// their tiers, open points with their bands and risk age) and a point with its history; starts
// an audit and walks the ward on a tablet (820 x 1180): in Bedroom 3 adds a new point, takes its
// photo (a PNG made here), marks the old bed frame removed and saves the area (every target at
// least 44 px high); in the corridor adds a control; records every other area as it stands;
// signs the audit off and sees the register and the points' histories change. Then the trust
// lead (lead.r9a) opens R9A's escalation list: Ash's tier 3 wardrobe hinge, held by staff
// vigilance alone for two years, and the overdue actions. Exits non-zero if any expectation
// failed.
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { deflateSync } from 'node:zlib';
import path from 'node:path';

const [base, shots] = process.argv.slice(2);
if (!base) {
  console.error('usage: node ligature.mjs BASE_URL [SCREENSHOT_DIR]');
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

async function signIn(name, viewport = { width: 1280, height: 900 }) {
  // CSP bypassed only so that axe can be injected.
  const context = await browser.newContext({ viewport, bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.fill('#username', name);
  await page.fill('#password', 'demo-password');
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  return page;
}

async function check(page, label) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    await axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.length === 0, `accessibility (axe): ${label}: ${bad.length} serious or critical` +
    (bad.length ? ` — ${bad.map((v) => `${v.id} (${v.impact}, ${v.nodes.length}): ${v.nodes[0].target}`).join('; ')}` : ''));
  if (shots) await page.screenshot({ path: path.join(shots, `ligature-${label}.png`), fullPage: true });
}

/** Clicks `selector` (a link or a submit button) and waits for the next page. */
async function go(page, selector) {
  await Promise.all([page.waitForNavigation(), page.locator(selector).first().click()]);
}

/** A PNG of `w` x `h` pixels, all of one colour, made here (signature, IHDR, IDAT, IEND). */
function png(w, h, [r, g, b]) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: w }, () => [r, g, b]).flat())]);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The rows of the table captioned `caption` (its body), each as its cells' text. */
async function rows(page, caption) {
  const table = page.locator('table', { has: page.locator('caption', { hasText: caption }) });
  return table.locator('tbody tr').evaluateAll((trs) =>
    trs.map((tr) => [...tr.querySelectorAll('th, td')].map((c) => c.innerText.trim())));
}

/** The rows of the table just after the heading `heading`. */
async function rowsAfter(page, heading) {
  return page.evaluate((h) => {
    const head = [...document.querySelectorAll('h2')].find((x) => x.innerText.trim().startsWith(h));
    let el = head && head.nextElementSibling;
    while (el && !el.querySelector('table') && el.tagName !== 'TABLE') {
      if (el.tagName === 'H2') return [];
      el = el.nextElementSibling;
    }
    if (!el) return [];
    const table = el.tagName === 'TABLE' ? el : el.querySelector('table');
    return [...table.querySelectorAll('tbody tr')].map((tr) =>
      [...tr.querySelectorAll('th, td')].map((c) => c.innerText.trim()));
  }, heading);
}

const days = (cell) => Number((cell || '').match(/(\d+) days/)?.[1] ?? NaN);
const WARD = 'R9A-ASH';
const register = `${base}/ligature/ward/${WARD}`;

console.log('Ligature journey: the ward manager audits Ash Ward on a tablet');
const page = await signIn('ward.ash');
await page.goto(`${base}/ligature`);
expect(await page.locator('h1').innerText() === 'Ligature point registers', 'the registers page');
const ashLink = page.locator(`a[href="/ligature/ward/${WARD}"]`);
expect(await ashLink.count() === 1, "Ash Ward's register is listed, with a link");
await check(page, 'index');

// Ash Ward's register: areas with their tiers, open points with bands and risk age.
await go(page, `a[href="/ligature/ward/${WARD}"]`);
expect((await page.locator('h1').innerText()).includes('Ash Ward'), "Ash Ward's register opens");
const areas = await rowsAfter(page, 'Areas');
const bedroom1 = areas.find((r) => r[0].startsWith('Bedroom 1'));
expect(!!bedroom1 && bedroom1[1].startsWith('Tier 3'), `Bedroom 1 is a tier 3 area (${bedroom1 && bedroom1[1]})`);
const lounge = areas.find((r) => r[0].startsWith('Lounge'));
expect(!!lounge && lounge[1].startsWith('Tier 1'), 'the lounge is a tier 1 area');
let open = await rows(page, 'Open points');
const openBefore = open.length;
expect(openBefore === 6, `six open points (${openBefore})`);
const hinge = open.find((r) => r[0].startsWith('ASH-L001'));
expect(!!hinge && hinge[0].includes('Escalated'), 'the wardrobe hinge (ASH-L001) is marked escalated');
expect(!!hinge && hinge[3].startsWith('Extreme 15'), `at an extreme residual risk (${hinge && hinge[3]})`);
expect(!!hinge && hinge[5].includes('(vigilance only)'), 'held by staff vigilance only');
expect(!!hinge && days(hinge[6]) >= 730, `open for two years or more (${hinge && hinge[6]})`);
const bed = open.find((r) => r[0].startsWith('ASH-L006'));
expect(!!bed && bed[1].startsWith('Bedroom 3 (3)'), 'the bed frame (ASH-L006) is in Bedroom 3, tier 3');
expect(open.every((r) => /^(Low|Moderate|High|Extreme) \d+$/.test(r[3]) && days(r[6]) >= 0),
  'every open point shows its residual band and its age');
await check(page, 'ward-register');

// A point's page with its history.
await go(page, `a[href="/ligature/ward/${WARD}/points/ASH-L006"]`);
expect((await page.locator('h1').innerText()).includes('ASH-L006'), "the bed frame's page");
const bedHistory = await rows(page, 'Each signed-off audit');
expect(bedHistory.length >= 2, `its history: ${bedHistory.length} audits`);
expect(bedHistory.at(-1)?.[1] === 'New point', 'found as a new point at its first audit');
await check(page, 'point');
await go(page, `a[href="/ligature/ward/${WARD}"]`);

// The audit, on a tablet.
await page.setViewportSize({ width: 820, height: 1180 });
const auditDate = await page.inputValue('#audit-date');
await go(page, `form[action="/ligature/ward/${WARD}/audits"] button[type=submit]`);
const auditPath = new URL(page.url()).pathname;
expect(/^\/ligature\/audits\/\d+$/.test(auditPath), `the audit starts (${auditPath}, ${auditDate})`);
const audit = `${base}${auditPath}`;
const tabs = await page.locator('nav[aria-label="Areas of the ward"] li').allInnerTexts();
expect(tabs.length === 7, `a tab for each of the ward's 7 areas (${tabs.length})`);
await check(page, 'audit-form');

// Bedroom 3, one area at a time: a new point, its photo, the old bed frame removed.
await go(page, `a[href="${auditPath}?area=BED-03"]`);
expect((await page.locator('main h2').first().innerText()).startsWith('Bedroom 3'), 'the Bedroom 3 tab');
await page.fill('#new-reference', 'ASH-L009');
await page.fill('#new-description', 'Radiator cover with a gap at the top');
await page.fill('#new-location', 'Under the window');
await page.selectOption('#new-kind', 'other');
await page.selectOption('#new-height', 'low');
await page.selectOption('#new-il', '3');
await page.selectOption('#new-ic', '4');
await page.check('#new-c-observation');
await page.selectOption('#new-rl', '2');
await page.selectOption('#new-rc', '4');
await go(page, `form[action="${auditPath}/points"] button[type=submit]`);
expect(await page.locator('#point-ASH-L009').count() === 1, 'the new point is on the area form');
expect(await page.locator('.nhsuk-error-summary').count() === 0, 'without a problem');

await page.setInputFiles('#photo-ASH-L009', { name: 'radiator.png', mimeType: 'image/png', buffer: png(64, 48, [200, 40, 40]) });
await go(page, `form[action="/ligature/ward/${WARD}/points/ASH-L009/photos"] button[type=submit]`);
expect(page.url().endsWith(`${auditPath}?area=BED-03`), 'the photo form returns to the area');
expect((await page.locator('#point-ASH-L009 .nhsuk-hint').innerText()).includes('1 photos'), 'the new point has its photo');

// Every target of the area's points at least 44 px high (a finger on a tablet).
const targets = await page.locator('form[action$="/area"] .nhsuk-radios__item').evaluateAll((items) =>
  items.map((it) => {
    const label = it.querySelector('label').getBoundingClientRect();
    const input = it.querySelector('input').getBoundingClientRect();
    return { text: it.innerText.trim(), label: label.height, input: input.height, width: Math.max(label.right, input.right) - Math.min(label.left, input.left) };
  }));
expect(targets.length === 4, `a "Still there" and a "Removed" for each of the 2 points (${targets.length})`);
const small = targets.filter((t) => t.label < 44 && t.input < 44);
expect(small.length === 0, `every radio target at least 44 px high (smallest ${Math.min(...targets.map((t) => Math.max(t.label, t.input))).toFixed(0)} px)` +
  (small.length ? `: ${small.map((t) => `${t.text} ${t.label.toFixed(0)}/${t.input.toFixed(0)}`).join(', ')}` : ''));
const buttons = await page.locator('main button[type=submit]').evaluateAll((bs) =>
  bs.map((b) => ({ text: b.innerText.trim(), h: b.getBoundingClientRect().height })).filter((b) => b.h > 0));
const smallButtons = buttons.filter((b) => b.h < 44);
expect(smallButtons.length === 0, `every visible button at least 44 px high` +
  (smallButtons.length ? `: ${smallButtons.map((b) => `${b.text} ${b.h.toFixed(0)}`).join(', ')}` : ''));
const wide = await page.evaluate(() => document.documentElement.scrollWidth);
expect(wide <= 820, `nothing wider than the tablet (${wide} px)`);

await page.click('label[for="ASH-L006-removed"]');
expect(await page.isChecked('#ASH-L006-removed'), 'the bed frame is marked removed');
expect(await page.isChecked('#ASH-L009-there'), 'the new point is still there');
await check(page, 'audit-bedroom-3');
if (shots) {
  // What the assessor sees on the tablet's screen: the top of the area's form, then its points.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(shots, 'ligature-tablet-top.png') });
  await page.evaluate(() => document.querySelector('#point-ASH-L006').scrollIntoView());
  await page.screenshot({ path: path.join(shots, 'ligature-tablet-points.png') });
}
await go(page, `form[action="${auditPath}/area"] button[type=submit]`);
expect((await page.locator('main').innerText()).includes('Saved (BED-03)'), 'Bedroom 3 is saved');
expect(await page.locator('.nhsuk-error-summary').count() === 0, 'without a problem');
const bed3Tab = page.locator('nav[aria-label="Areas of the ward"] li', { hasText: 'Bedroom 3' });
expect((await bed3Tab.innerText()).includes('✓'), 'its tab is ticked');

// The corridor: the exposed pipework gets observation as well as restricted access.
await page.goto(`${audit}?area=CORR`);
await page.locator('#point-ASH-L004 summary').click();
await page.check('#ASH-L004-c-observation');
const ahead = new Date(Date.parse(auditDate) + 182 * 86400000).toISOString().slice(0, 10);
await page.fill('#ASH-L004-review', ahead);
await go(page, `form[action="${auditPath}/area"] button[type=submit]`);
expect((await page.locator('main').innerText()).includes('Saved (CORR)'), 'the corridor is saved with its new control');

// Every other area with points, as it stands (the wardrobe hinge still held by vigilance).
for (const area of ['BED-01', 'EN-01', 'GARDEN', 'LOUNGE']) {
  await page.goto(`${audit}?area=${area}`);
  const form = page.locator(`form[action="${auditPath}/area"]`);
  if (await form.count() === 0) {
    expect(false, `${area} has an area form`);
    continue;
  }
  await go(page, `form[action="${auditPath}/area"] button[type=submit]`);
  expect((await page.locator('main').innerText()).includes(`Saved (${area})`), `${area} is recorded`);
}
const counter = await page.locator('main p').filter({ hasText: 'points recorded' }).first().innerText();
expect(counter.startsWith('7 of 7'), `every point recorded (${counter.split('.')[0]})`);

// Sign-off; the register takes the audit's state.
await go(page, `form[action="${auditPath}/signoff"] button[type=submit]`);
expect(new URL(page.url()).pathname === `/ligature/ward/${WARD}`, 'signed off, back on the register');
expect((await page.locator('main').innerText()).includes('The audit was signed off and the register updated.'), 'the register says so');
open = await rows(page, 'Open points');
expect(!open.some((r) => r[0].startsWith('ASH-L006')), 'the bed frame is no longer open');
expect(open.some((r) => r[0].startsWith('ASH-L009') && r[1].startsWith('Bedroom 3 (3)') && r[3] === 'High 8'), 'the new point is open in Bedroom 3, at its residual risk (high 8)');
expect(open.length === openBefore, `still ${openBefore} open points (one removed, one new)`);
const pipe = open.find((r) => r[0].startsWith('ASH-L004'));
expect(!!pipe && pipe[5].includes('Observation') && pipe[5].includes('Restricted access'), 'the pipework shows its two controls');
expect(open.some((r) => r[0].startsWith('ASH-L001') && r[0].includes('Escalated')), 'the wardrobe hinge is still escalated');
const removedList = await page.locator('details', { hasText: 'Removed points' }).textContent();
expect(removedList.includes('ASH-L006'), 'the bed frame is among the removed points');
const signed = await rowsAfter(page, 'Audits signed off');
const mine = signed.find((r) => r[0] === auditDate && r[1] === 'ward.ash');
expect(!!mine && mine.slice(2).join(',') === '4,1,1,1', `the audit's row: present, changed, removed, new = ${mine && mine.slice(2).join(',')}`);

// The points' histories grow.
await page.goto(`${register}/points/ASH-L006`);
const bedAfter = await rows(page, 'Each signed-off audit');
expect(bedAfter.length === bedHistory.length + 1, `the bed frame's history grows (${bedHistory.length} to ${bedAfter.length})`);
expect(bedAfter[0][0] === auditDate && bedAfter[0][1] === 'Removed', 'newest first: removed at this audit');
await page.goto(`${register}/points/ASH-L009`);
const newHistory = await rows(page, 'Each signed-off audit');
expect(newHistory.length === 1 && newHistory[0][1] === 'New point', 'the new point has its first history row');
const img = page.locator('ul.app-photos img');
expect(await img.count() === 1, 'its photo is on its page');
if (await img.count() === 1) {
  const natural = await img.evaluate((el) => el.complete && el.naturalWidth);
  expect(natural === 64, `the photo is served and shows (${natural} px wide)`);
}
await page.goto(`${register}/points/ASH-L004`);
const pipeHistory = await rows(page, 'Each signed-off audit');
expect(pipeHistory[0][1] === 'Changed' && pipeHistory[0][5].includes('Observation'), 'the pipework: changed, with observation');
// Incidents at the place (item 4): the en-suite's area page lists the demo's incident at the
// basin taps, replaced with an anti-ligature fitting before it, flagged for review.
await page.goto(`${register}/areas/EN-01`);
const atEnsuite = await rows(page, 'Self-harm incidents recorded here');
const tapsIncident = atEnsuite.find((r) => r[3] === 'ASH-L007');
expect(!!tapsIncident && tapsIncident[6].includes('Flagged for review') && tapsIncident[6].includes('anti-ligature'),
  `the incident at the taps (ASH-L007) is flagged for review (${tapsIncident && tapsIncident[6]})`);
await check(page, 'area');
await go(page, 'a[href$="/points/ASH-L007"]');
const atTaps = await rows(page, 'Self-harm incidents recorded here');
expect(atTaps.length >= 1 && atTaps[0][4] === 'Ligature with an anchor point', `the point's page shows its incident and method (${atTaps.length})`);
await page.goto(`${register}/points/ASH-L001`);
const atHinge = await rows(page, 'Self-harm incidents recorded here');
expect(atHinge.length >= 1 && atHinge.every((r) => r[6] === 'no flag'), `the hinge's incidents (vigilance only) are not flagged (${atHinge.length})`);
await check(page, 'point-incidents');
await page.context().close();

// The trust lead: the escalations and the overdue actions.
console.log("Ligature journey: the trust lead reads R9A's escalations");
const lead = await signIn('lead.r9a');
await lead.goto(`${base}/ligature`);
await go(lead, 'a[href="/ligature/trust/R9A"]');
expect((await lead.locator('h1').innerText()).length > 0 && new URL(lead.url()).pathname === '/ligature/trust/R9A', "R9A's escalation list opens from the registers");
const escalated = await rowsAfter(lead, 'Escalated points');
const wardrobe = escalated.find((r) => r[0].startsWith('ASH-L001'));
expect(!!wardrobe, `Ash's wardrobe hinge is escalated (${escalated.length} escalated)`);
if (wardrobe) {
  expect(wardrobe[1] === 'Ash Ward' && wardrobe[2].endsWith('(3)'), `on Ash Ward, in a tier 3 area (${wardrobe[1]}, ${wardrobe[2]})`);
  expect(wardrobe[3].startsWith('Extreme'), `at ${wardrobe[3]}`);
  expect(Number(wardrobe[5]) >= 730, `vigilance only since ${wardrobe[4]}: ${wardrobe[5]} days`);
}
expect(!escalated.some((r) => r[0].startsWith('ASH-L006')), 'the removed bed frame is not escalated');
const overdue = await rowsAfter(lead, 'Overdue actions');
const bid = overdue.find((r) => r[0] === 'ASH-L001');
expect(!!bid && bid.some((c) => c.includes('CB-2022-041')), "the wardrobe's capital bid is an overdue action");
expect(overdue.every((r) => Number(r[5]) > 0), `every overdue action is overdue (${overdue.length})`);
const flaggedRows = await rowsAfter(lead, 'Incidents at controlled points');
expect(flaggedRows.some((r) => r[0] === 'ASH-L007' && r[1] === 'R9A-ASH'), `the incident at the replaced taps is listed for review (${flaggedRows.length})`);
expect(!flaggedRows.some((r) => r[0] === 'ASH-L001'), 'the hinge held by vigilance only is not');
await check(lead, 'trust');
await lead.context().close();

// Estates staff (item 6): the trust's actions only, updated from their page.
console.log("Ligature journey: estates staff update an action's work order");
const estates = await signIn('estates.r9a', { width: 820, height: 1180 });
expect(new URL(estates.url()).pathname === '/ligature/estates/R9A', `estates staff land on R9A's actions (${new URL(estates.url()).pathname})`);
const bedAction = estates.locator('.nhsuk-card', { hasText: 'anti-ligature wardrobe' });
expect(await bedAction.count() === 1, "the wardrobe's action is listed");
await check(estates, 'estates');
await bedAction.locator('select[name=status]').selectOption('in_progress');
await bedAction.locator('input[name=reference]').fill('WO-E2E-7781');
await Promise.all([estates.waitForNavigation(), bedAction.locator('button[type=submit]').click()]);
expect((await estates.locator('.nhsuk-inset-text').innerText()).includes('was saved'), 'the update is saved');
const after = estates.locator('.nhsuk-card', { hasText: 'anti-ligature wardrobe' });
expect((await after.innerText()).includes('WO-E2E-7781'), 'with its work order');
const denied = await estates.goto(register);
expect(denied.status() === 403, `the register itself is not theirs (${denied.status()})`);
await estates.context().close();

await browser.close();
console.log(failures ? `${failures} expectation(s) failed` : 'The ligature journey passed.');
process.exit(failures ? 1 : 0);
