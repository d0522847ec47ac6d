// End-to-end: a ward manager's quality improvement journey (issue 11) in headless Chromium on
// the demo region, with axe-core on every QI and report page. Usage:
//   node qi.mjs BASE_URL [SCREENSHOT_DIR]
// The ward manager of Ash Ward (ward.ash) starts a project, sets the aim, links measures
// (restraint from the catalogue as the outcome, a huddle measure of the team's own as the
// process, uploaded as daily tallies), draws a driver diagram, logs a PDSA cycle with a
// prediction, sees it on the chart, studies it against limits frozen before it, adopts it with
// a rebase, and sees the suggested score move. Then the programme view, the ward report and
// the board report (page and PDF). Exits non-zero if any expectation failed.
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const [base, shots] = process.argv.slice(2);
if (!base) {
  console.error('usage: node qi.mjs BASE_URL [SCREENSHOT_DIR]');
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
  // CSP bypassed only so that axe can be injected; the pages themselves run no script here.
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
  if (shots) await page.screenshot({ path: path.join(shots, `qi-${label}.png`), fullPage: true });
}

/** Submits the form `formSelector` (its submit button) and waits for the next page. */
async function submit(page, formSelector) {
  await Promise.all([
    page.waitForNavigation(),
    page.locator(`${formSelector} button[type=submit]`).first().click(),
  ]);
}

const suggested = async (page) => Number(await page.locator('#suggested-score').innerText());

console.log('QI journey: a ward manager runs a project on Ash Ward');
const page = await signIn('ward.ash');
await page.goto(`${base}/qi`);
expect(await page.locator('h1').innerText() === 'Quality improvement projects', 'the programme view');
expect(await page.locator('#projects tbody tr').count() >= 1, "the ward's planted project is listed");
expect(await page.locator('svg.qi-levels').count() === 1, 'the chart of projects at each level by month');
await check(page, 'programme-view');

await Promise.all([page.waitForNavigation(), page.click('a[href="/qi/new"]')]);
await check(page, 'new-project');
await page.selectOption('select[name=org]', 'R9A-ASH');
await page.fill('input[name=title]', 'Fewer restraints at handover');
await page.fill('textarea[name=charter]', 'Restraint on Ash Ward peaks at the evening handover.');
await Promise.all([page.waitForNavigation(), page.click('main button[type=submit]')]);
const projectUrl = new URL(page.url());
expect(/^\/qi\/\d+$/.test(projectUrl.pathname), `the project is created (${projectUrl.pathname})`);
const pid = projectUrl.pathname.split('/')[2];
const project = `${base}/qi/${pid}`;
expect(await suggested(page) === 1.0, 'a charter and its lead: 1.0 suggested');

// The aim: restraint per 1,000 occupied bed days, from its baseline to a target.
await page.selectOption('#form-aim select[name=measure]', 'catalogue:ri_rate');
await page.fill('#form-aim input[name=baseline]', '30');
await page.fill('#form-aim input[name=target]', '15');
await page.fill('#form-aim input[name=target_date]', '2027-12-31');
await submit(page, '#form-aim');
expect((await page.locator('main').innerText()).includes('2027-12-31'), 'the aim is set');

// A process measure of the team's own, its values from a file of daily tallies.
await page.fill('#form-own_measure input[name=id]', 'huddles');
await page.fill('#form-own_measure input[name=name]', '% of handovers with a safety huddle');
await page.fill('#form-own_measure input[name=unit]', '% of handovers');
await page.selectOption('#form-own_measure select[name=direction]', 'increase');
await page.selectOption('#form-own_measure select[name=role]', 'process');
await submit(page, '#form-own_measure');
let tallies = 'measure,date,count,out_of\n';
for (let m = 1; m <= 6; m++) {
  for (let d = 1; d <= 28; d++) {
    const held = m >= 3 ? 2 : (d % 3 === 0 ? 1 : 0);
    tallies += `huddles,2024-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')},${held},2\n`;
  }
}
await page.setInputFiles('#values-file', { name: 'huddles.csv', mimeType: 'text/csv', buffer: Buffer.from(tallies) });
await submit(page, '#form-values-file');
const huddleCard = await page.locator('#measure-project-huddles').innerText();
expect(huddleCard.includes('Mar 2024') && huddleCard.includes('100'), 'the tallies are charted as monthly percentages (March 2024: 100%)');
expect(await suggested(page) === 1.5, 'aim and measures: 1.5 suggested');

// The driver diagram: a primary driver, a secondary driver, a change idea.
for (const [form, text, parents] of [
  ['#form-diagram_add_primary', 'A calm, predictable handover', ''],
  ['#form-diagram_add_secondary', 'Everyone knows the plan for the shift', 'p1'],
  ['#form-diagram_add_change_idea', 'A five-minute safety huddle at handover', 's1'],
]) {
  await page.fill(`${form} [name=text]`, text);
  if (parents) await page.fill(`${form} [name=parents]`, parents);
  await submit(page, form);
}
expect(await page.locator('#diagram svg[role=img]').count() === 1, 'the driver diagram is drawn');
expect((await page.locator('main').innerText()).includes('A five-minute safety huddle at handover'), 'with its text version');

// A cycle with a prediction on the outcome measure, done in February 2024.
await page.fill('#form-cycle_new [name=question]', 'Will a huddle at the evening handover cut restraint?');
await page.selectOption('#form-cycle_new select[name=prediction_measure]', 'catalogue:ri_rate');
await page.selectOption('#form-cycle_new select[name=prediction_direction]', 'decrease');
await page.fill('#form-cycle_new [name=prediction_text]', 'Fewer restraints in the evenings');
await page.fill('#form-cycle_new [name=who]', 'Nurse in charge');
await page.fill('#form-cycle_new [name=start]', '2024-02-05');
await page.fill('#form-cycle_new [name=end]', '2024-02-25');
await submit(page, '#form-cycle_new');
const afterCycle = await suggested(page);
// The charts' data tables are folded away (details): read the text, shown or not.
const text = await page.locator('main').textContent();
expect(text.includes('2024-02-05 PDSA c1 starts (ends 2024-02-25)'), 'the cycle is on the chart as a dated note');
expect(afterCycle >= 2.5, `a cycle done: ${afterCycle} suggested`);
await check(page, 'project');

// Study: the chart with limits frozen before the cycle started.
const studyHref = await page.locator('#cycle-c1 a[href*="freeze=2024-02-05"]').first().getAttribute('href');
expect(!!studyHref, 'a link to study the cycle against limits frozen before it');
await page.goto(`${base}${studyHref}`);
expect((await page.locator('main').innerText()).includes('Compared with before 2024-02-05'), 'the chart says its limits come from before the cycle');
await page.goto(project);

// Act: adopt, with a rebase at the adoption.
const cycleForm = page.locator('#cycle-c1 form');
await page.locator('#cycle-c1 details summary').first().click();
await cycleForm.locator('[name=study]').fill('Restraint fell in the evenings');
await cycleForm.locator('select[name=act]').selectOption('adopt');
await cycleForm.locator('[name=act_date]').fill('2024-03-01');
await cycleForm.locator('[name=act_rebase]').check();
await Promise.all([page.waitForNavigation(), cycleForm.locator('button[type=submit]').click()]);
const afterAdopt = await suggested(page);
expect(afterAdopt > afterCycle, `the suggested score moves after adoption (${afterCycle} to ${afterAdopt})`);
expect((await page.locator('main').textContent()).includes('PDSA c1 adopted, chart rebased'), 'the adoption rebases the chart');
expect((await page.locator('#evidence').innerText()).length > 0, 'the evidence is shown beside the score');

await page.goto(`${base}/qi`);
expect((await page.locator('#projects').innerText()).includes('Fewer restraints at handover'), 'the project is in the programme view');

// The ward report: page and PDF.
await page.goto(`${base}/reports/ward/R9A-ASH`);
expect((await page.locator('main').innerText()).includes('Fewer restraints at handover'), "the ward report lists the ward's projects");
await check(page, 'ward-report');
const pdf = await page.request.get(`${base}/reports/ward/R9A-ASH/pdf`);
expect(pdf.ok() && (await pdf.body()).subarray(0, 5).toString() === '%PDF-', 'the ward report as a PDF');
await page.context().close();

const lead = await signIn('lead.r9a');
await lead.goto(`${base}/reports/board/R9A`);
await check(lead, 'board-report');
const board = await lead.request.get(`${base}/reports/board/R9A/pdf`);
expect(board.ok() && (await board.body()).subarray(0, 5).toString() === '%PDF-', 'the board report as a PDF');
await lead.goto(project);
await check(lead, 'project-as-trust-lead');
await lead.context().close();

await browser.close();
console.log(failures ? `${failures} expectation(s) failed` : 'The QI journey passed.');
process.exit(failures ? 1 : 0);
