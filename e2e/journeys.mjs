// End-to-end journeys 1 to 4 of DESIGN.md in headless Chromium, with an accessibility check
// (axe-core) of every main page. Usage:
//   node journeys.mjs BASE_URL DATA_DIR [SCREENSHOT_DIR]
// BASE_URL serves the demo region (`mhsip demo`), DATA_DIR is its data folder (for the
// Datix-style export the demo writes there). Exits non-zero if any expectation failed. Pages are
// opened with CSP bypassed only so that axe can be injected; the app itself allows no inline script.
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const [base, dataDir, shots] = process.argv.slice(2);
if (!base || !dataDir) {
  console.error('usage: node journeys.mjs BASE_URL DATA_DIR [SCREENSHOT_DIR]');
  process.exit(2);
}
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const executablePath = process.env.CHROMIUM || execSync('command -v chromium').toString().trim();
if (shots) mkdirSync(shots, { recursive: true });

let failures = 0;
function expect(ok, what) {
  if (ok) {
    console.log(`  ok   ${what}`);
  } else {
    console.log(`  FAIL ${what}`);
    failures++;
  }
}

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

async function signIn(name) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.fill('#username', name);
  await page.fill('#password', 'demo-password');
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  return page;
}

const axeResults = [];
async function check(page, label) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    await axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  axeResults.push({ page: label, violations: result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length })) });
  expect(bad.length === 0, `accessibility (axe): ${label}: ${bad.length} serious or critical` +
    (bad.length ? ` — ${bad.map((v) => `${v.id} (${v.impact}, ${v.nodes.length}): ${v.nodes[0].target}`).join('; ')}` : ''));
  if (shots) await page.screenshot({ path: path.join(shots, `${label}.png`), fullPage: false });
}

// Journey 1: a programme lead opens the region overview and clicks through to a chart.
console.log('Journey 1: region overview to a ward chart');
{
  const page = await signIn('viewer');
  expect(new URL(page.url()).pathname === '/', 'signed in, lands on the overview');
  expect(await page.locator('h1').innerText() === 'Region overview', 'overview heading');
  const rows = await page.locator('table.app-matrix tbody tr').count();
  const columns = await page.locator('table.app-matrix thead th[scope=col]').count();
  expect(rows >= 6 && columns >= 1 + 7, `one objective's measures down, the region and every trust across (${rows} rows, ${columns} columns)`);
  const icons = await page.locator('table.app-matrix svg[role=img]').count();
  expect(icons >= rows * 3, `variation and assurance icons (${icons})`);
  expect((await page.locator('h2').allInnerTexts()).includes('Needs attention'), 'what needs attention comes first');
  const fits = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth
    && [...document.querySelectorAll('table.app-matrix')].every((t) => t.scrollWidth <= t.parentElement.clientWidth));
  expect(await fits(), 'the overview matrix fits 1280 px without scrolling sideways');
  await check(page, 'overview');
  await page.selectOption('#objective', 'sexual_safety');
  await page.waitForFunction(() => location.search.includes('objective=sexual_safety'));
  const sexualRows = await page.locator('table.app-matrix tbody tr').count();
  expect(sexualRows > 0 && sexualRows < rows, `objective filter narrows the matrix (htmx, ${sexualRows} rows)`);
  await page.goto(`${base}/`);
  await Promise.all([page.waitForNavigation(), page.click('table.app-matrix a[href="/org/R9A"] >> nth=0')]);
  expect(page.url().endsWith('/org/R9A'), 'clicked through to the trust');
  expect((await page.locator('h2').allInnerTexts()).includes('Wards by measure'), 'trust page shows its wards by measures');
  expect(await page.locator('.app-small-charts svg').count() > 0, 'trust-level charts');
  expect(await fits(), "the trust's wards-by-measures matrix fits 1280 px without scrolling sideways");
  await check(page, 'trust');
  await Promise.all([page.waitForNavigation(), page.click('a[href="/org/R9A-ASH"]')]);
  expect(page.url().endsWith('/org/R9A-ASH'), 'clicked through to a ward');
  await check(page, 'ward');
  await Promise.all([page.waitForNavigation(), page.click('a[href^="/chart/R9A-ASH/ri_prone_rate"]')]);
  expect(await page.locator('#chart svg').count() === 1, 'the ward chart is drawn');
  expect(await page.locator('text=Disclosure control applies').count() === 1, 'a viewer sees figures disclosure-controlled');
  await check(page, 'chart');
  await page.goto(`${base}/measures`);
  await check(page, 'measures');
  await page.context().close();
}

// Journey 2: an analyst uploads a Datix export through the saved mapping.
console.log('Journey 2: upload a Datix export through a saved mapping');
{
  const page = await signIn('upload.r9a');
  expect(new URL(page.url()).pathname === '/uploads', 'an uploader lands on the uploads page');
  const file = path.join(dataDir, 'demo-files', 'datix-export-R9A.csv');
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const rowCount = lines.filter((l) => l.trim()).length - 1;
  // A copy with one NHS number mistyped in its second data row (line 3).
  const cells = lines[2].split(',');
  const nhsCol = lines[0].split(',').indexOf('NHS No');
  cells[nhsCol] = cells[nhsCol].slice(0, -1) + ((Number(cells[nhsCol].slice(-1)) + 1) % 10);
  lines[2] = cells.join(',');
  const badFile = path.join(dataDir, 'datix-export-R9A-typo.csv');
  writeFileSync(badFile, lines.join('\n'));
  await page.selectOption('#kind', 'restrictive_interventions');
  await page.selectOption('#mapping', 'datix-restrictive');
  await page.setInputFiles('#file', badFile);
  await page.click('button:has-text("Check the file")');
  await page.waitForSelector('.nhsuk-error-summary');
  const err = await page.locator('.nhsuk-error-summary').innerText();
  expect(err.includes('Nothing was imported'), 'a failing row stops the import');
  expect(/datix-export-R9A-typo\.csv:3:\d+: NHS No/.test(err) || /datix-export-R9A-typo\.csv:3:\d+:/.test(err), 'the failing row is named by file, line and column');
  await check(page, 'upload-errors');
  await page.selectOption('#kind', 'restrictive_interventions');
  await page.selectOption('#mapping', 'datix-restrictive');
  await page.setInputFiles('#file', file);
  await page.click('button:has-text("Check the file")');
  await page.waitForSelector('text=Check before importing');
  const preview = await page.locator('.nhsuk-card').first().innerText();
  expect(preview.includes(`holds ${rowCount} rows`), `the preview counts the rows (${rowCount})`);
  await check(page, 'upload-preview');
  await page.click('button:has-text("Confirm and import")');
  await page.waitForSelector('text=Imported');
  const done = await page.locator('.nhsuk-card').first().innerText();
  expect(done.includes(`${rowCount} rows imported`), 'confirmed: every row imported');
  expect(await page.locator('table >> text=datix-export-R9A.csv').count() > 0, 'the upload is in the history');
  await check(page, 'uploads');
  await page.context().close();
}

// Journey 3: a ward manager marks "started safety huddles" on 1 March and rebases there.
console.log('Journey 3: annotate a change and rebase the chart');
{
  const page = await signIn('ward.ash');
  expect(new URL(page.url()).pathname === '/org/R9A-ASH', 'a ward user lands on their ward');
  await page.goto(`${base}/chart/R9A-ASH/ri_prone_rate`);
  if (!(await page.locator('#note-date').isVisible())) await page.click('text=Record a change you are testing');
  await page.fill('#note-date', '01/03/2024');
  await page.fill('#note-text', 'Started safety huddles');
  await page.check('#note-rebase');
  await page.check('#note-only');
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Save annotation")')]);
  const svg = await page.locator('#chart svg').innerHTML();
  expect(svg.includes('Started safety huddles'), 'the chart shows the annotation');
  const rebased = await page.locator('.nhsuk-card').first().innerText();
  expect(rebased.includes('2 segments'), 'the chart is rebased at the annotation');
  await page.goto(`${base}/chart/R9A-ASH/ri_prone_rate?rebase=off`);
  const unrebased = await page.locator('.nhsuk-card').first().innerText();
  expect(!unrebased.includes('segments'), 'without the rebase: one segment');
  await page.goBack();
  const centres = await page.evaluate(() => {
    const rows = [...document.querySelectorAll('details table tbody tr')];
    const at = (label) => rows.find((r) => r.querySelector('th').textContent.trim() === label)?.children[4].textContent.trim();
    return [at('Feb 2024'), at('Mar 2024')];
  });
  expect(Number(centres[1]) < Number(centres[0]) / 2, `the new segment's centre line is far lower (${centres[0]} → ${centres[1]})`);
  // Judged against how things were before the change, the later months are special cause.
  await Promise.all([page.waitForNavigation(), page.click('a:has-text("Compare with before")')]);
  const frozen = await page.locator('.nhsuk-card').first().innerText();
  expect(frozen.includes('Compared with before 2024-03-01'), 'limits from before the change, extended');
  const types = await page.evaluate(() => [...document.querySelectorAll('details table tbody tr')]
    .map((r) => [r.querySelector('th').textContent.trim(), r.children[7].textContent.trim()]));
  const after = types.filter(([p]) => /202[5-6]/.test(p));
  const improved = after.filter(([, t]) => t === 'improvement').length;
  expect(improved > after.length / 2, `the improvement shows as special cause once it holds (${improved} of ${after.length} months in 2025-26)`);
  expect(/improvement/i.test(frozen), `the variation icon says improvement (${frozen.split('\n').find((l) => l.startsWith('Variation'))})`);
  await check(page, 'chart-annotated');
  // Another ward's chart is out of bounds for a ward user, whatever the URL says.
  const other = await page.goto(`${base}/chart/R9A-ELM/ri_prone_rate`);
  expect(other.status() === 403, 'another ward: 403');
  const otherTrust = await page.goto(`${base}/api/series/R9B-ROWAN/ri_prone_rate`);
  expect(otherTrust.status() === 403, 'another trust in the API: 403');
  await page.context().close();
}

// Journey 4: inequalities with rates, ratios, intervals and suppression.
console.log('Journey 4: inequalities');
{
  const page = await signIn('lead.r9a');
  await page.goto(`${base}/inequalities?measure=ri_rate&org=R9A`);
  const captions = await page.locator('caption').allInnerTexts();
  for (const c of ['Ethnic group', 'Age band', 'Sex', 'Learning disability or autism']) {
    expect(captions.includes(c), `a table by ${c}`);
  }
  const body = await page.locator('main').innerText();
  expect(body.includes('reference'), 'a reference group');
  expect(/\d+\.\d\d to \d+\.\d\d/.test(body), '95% confidence intervals');
  expect(await page.locator('figure.app-forest svg[role=img]').count() >= 1, 'a forest plot of the rate ratios');
  await check(page, 'inequalities');
  await page.goto(`${base}/inequalities?measure=ri_rate&org=R9B`);
  const other = await page.locator('main').innerText();
  expect(other.includes('Disclosure control applies'), "another trust's figures are disclosure-controlled");
  await page.goto(`${base}/completeness`);
  await check(page, 'completeness');
  await page.context().close();
}

console.log('Administration pages');
{
  const page = await signIn('admin');
  await page.goto(`${base}/admin`);
  await check(page, 'admin');
  await page.goto(`${base}/admin/audit`);
  const log = await page.locator('main').innerText();
  expect(log.includes('upload') && log.includes('annotate'), 'the audit log shows the upload and the annotation');
  await check(page, 'audit');
  await page.context().close();
  const anon = await browser.newContext({ bypassCSP: true });
  const login = await anon.newPage();
  await login.goto(`${base}/`);
  expect(new URL(login.url()).pathname === '/login', 'signed out: the login page');
  await check(login, 'login');
  await anon.close();
}

await browser.close();
if (shots) writeFileSync(path.join(shots, 'axe.json'), JSON.stringify(axeResults, null, 2));
console.log(failures ? `${failures} expectation(s) failed` : 'All journeys passed.');
process.exit(failures ? 1 : 0);
