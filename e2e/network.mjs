// End-to-end: the Patient Safety Network (issue 12) in headless Chromium on the demo region,
// with axe-core on every network page. Usage: node network.mjs BASE_URL [SCREENSHOT_DIR]
// A trust lead reads the feed, the change idea library, an idea with its sites' effects, forest
// plot and pooled estimate, the funnel plot of wards of one type, and the stories; a ward lead
// opens the idea, sees where it worked, compares their ward with its peers on the funnel plot
// and shares a story with their chart (drawn on the story's page); the network beyond
// inpatient care; a programme viewer (disclosure-controlled) sees other organisations
// unnamed; the programme admin's page.
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const [base, shots] = process.argv.slice(2);
if (!base) {
  console.error('usage: node network.mjs BASE_URL [SCREENSHOT_DIR]');
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

async function signIn(name) {
  // CSP bypassed only so that axe can be injected.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
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
  if (shots) await page.screenshot({ path: path.join(shots, `network-${label}.png`), fullPage: true });
}

console.log('Network journey: a trust lead learns from other wards');
const lead = await signIn('lead.r9a');
let r = await lead.goto(`${base}/network`);
expect(r.status() === 200, 'the network feed');
await check(lead, 'feed');
r = await lead.goto(`${base}/network/ideas`);
expect(r.status() === 200, 'the change idea library');
const ideaLinks = await lead.locator('main a[href^="/network/ideas/"]').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
expect(ideaLinks.length >= 1, `ideas are listed (${ideaLinks.length})`);
await check(lead, 'library');
// The idea with the most sites: the demo's safety huddles.
let best = null;
let bestSites = -1;
for (const href of [...new Set(ideaLinks)]) {
  await lead.goto(`${base}${href}`);
  const svgs = await lead.locator('main svg').count();
  if (svgs > bestSites) {
    bestSites = svgs;
    best = href;
  }
}
await lead.goto(`${base}${best}`);
const ideaText = await lead.locator('main').textContent();
expect(/\d\.\d\d \(\d\.\d\d.{1,4}\d\.\d\d\)/.test(ideaText), 'site effects as ratios with 95% intervals');
expect(await lead.locator('main svg').count() >= 1, 'a forest plot');
expect(/pooled/i.test(ideaText), 'a pooled estimate');
await check(lead, 'idea');
r = await lead.goto(`${base}/network/funnel?measure=ri_rate&level=ward`);
expect(r.status() === 200, 'the funnel plot of wards');
expect(await lead.locator('main svg').count() >= 1, 'the funnel is drawn');
const funnelText = await lead.locator('main').textContent();
expect(/99\.8/.test(funnelText), 'with 95% and 99.8% limits');
await check(lead, 'funnel-wards');
r = await lead.goto(`${base}/network/funnel?measure=ri_rate&level=trust`);
expect(r.status() === 200, 'the funnel plot of trusts');
await check(lead, 'funnel-trusts');
r = await lead.goto(`${base}/network/stories`);
expect(r.status() === 200, 'the stories');
await check(lead, 'stories');
const storyLinks = await lead.locator('main a[href^="/network/stories/"]').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
if (storyLinks.length) {
  await lead.goto(`${base}${storyLinks[0]}`);
  await check(lead, 'story');
}
await lead.context().close();

console.log("Network journey: a ward lead compares their ward and shares a story with its chart");
const ward = await signIn('ward.ash');
await ward.goto(`${base}${best}`);
const wardIdea = await ward.locator('main').textContent();
expect(/Ash Ward|another trust/.test(wardIdea), 'the ward lead sees where the idea was tested');
expect(/\d\.\d\d \(\d\.\d\d.{1,4}\d\.\d\d\)/.test(wardIdea), 'and its measured effect at each site');
await check(ward, 'idea-as-ward');
r = await ward.goto(`${base}/network/funnel?measure=ri_rate&level=ward&ward_type=adult_acute`);
expect(r.status() === 200, 'the funnel plot of adult acute wards');
const wardFunnel = await ward.locator('main table').textContent();
expect(/Ash Ward/.test(wardFunnel), 'the ward lead finds their own ward among its peers');
expect(/in another trust|another /.test(wardFunnel), "and the other trusts' wards unnamed");
await check(ward, 'funnel-as-ward');
r = await ward.goto(`${base}/network/stories`);
expect(r.status() === 200, 'the stories, with the form to share one');
await ward.selectOption('#org', 'R9A-ASH');
await ward.fill('#title', 'Huddles at every handover on Ash');
await ward.fill('#body', 'Ten minutes at each shift change to name who is at risk. Restraint fell within three months.');
const huddlesValue = await ward.locator('#idea option').evaluateAll((os) =>
  (os.find((o) => /huddles/i.test(o.textContent)) || { value: '' }).value);
if (huddlesValue) await ward.selectOption('#idea', huddlesValue);
await ward.selectOption('#chart_measure', 'ri_rate');
await Promise.all([ward.waitForNavigation(), ward.click('main form[action="/network/stories"] button[type=submit]')]);
expect(/\/network\/stories\/\d+$/.test(ward.url()), `the story is shared (${ward.url()})`);
const storyText = await ward.locator('main').textContent();
expect(/Huddles at every handover on Ash/.test(storyText), 'the story page shows it, waiting for moderation');
expect(await ward.locator('main figure.app-chart svg').count() === 1, "with the team's live chart drawn from its own data");
await check(ward, 'story-shared');
await ward.context().close();

const leadBeyond = await signIn('lead.r9a');
r = await leadBeyond.goto(`${base}/network/beyond`);
expect(r.status() === 200, 'beyond inpatient care: acute trusts and staff figures');
expect(/Acute trust/.test(await leadBeyond.locator('main').textContent()), 'the acute trust is in the network');
await check(leadBeyond, 'beyond');
await leadBeyond.context().close();

const viewer = await signIn('viewer');
await viewer.goto(`${base}/network/funnel?measure=ri_rate&level=ward`);
const controlled = await viewer.locator('main').textContent();
expect(/another trust/i.test(controlled) || /disclosure/i.test(controlled), 'a programme viewer sees other organisations unnamed or under disclosure control');
expect(!/R9A-ASH/.test(controlled), "no ward's code is shown to a viewer who may not see its detail");
await check(viewer, 'funnel-as-viewer');
await viewer.context().close();

const admin = await signIn('admin');
r = await admin.goto(`${base}/network/admin`);
expect(r.status() === 200, "the programme admin's page");
await check(admin, 'admin');
await admin.context().close();

await browser.close();
console.log(failures ? `${failures} expectation(s) failed` : 'The network journey passed.');
process.exit(failures ? 1 : 0);
