// The dashboard in headless Chromium, against a running service fed by the simulated trainer:
// charts and tables show the service's real numbers, a row opens a sample, and it updates live.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { trainSteps } from '../../src/sim/simulated-trainer.js';
import { fedService, launchChromium, MODEL, SKIP_BROWSER, type Fixture } from '../helpers/dashboard-fixture.js';
import { tempDbPath } from '../helpers/temp.js';

const STEPS = 50 * 5; // 5 of 12 epochs: 3 warm-up, 2 adaptive

describe('dashboard in headless Chromium', { skip: SKIP_BROWSER }, () => {
  let fixture: Fixture;
  let browser: Browser;
  let page: Page;
  const cleanups: (() => void | Promise<void>)[] = [];
  const api = async (path: string) => (await fixture.app.http.inject({ url: path })).json();

  before(async () => {
    fixture = await fedService(tempDbPath({ after: (fn: () => void | Promise<void>) => cleanups.push(fn) }), STEPS);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1200 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    cleanups.push(() => assert.deepEqual(errors, [], 'no script errors'));
    await page.goto(`http://127.0.0.1:${fixture.app.httpPort}/`);
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 15_000 });
  });
  after(async () => {
    await browser?.close();
    await fixture?.close();
    for (const cleanup of cleanups) await cleanup();
  });

  it('shows the sampler and its progress in the tiles', async () => {
    const detail = await api('/v1/samplers/fashion-demo');
    assert.equal(await page.inputValue('#sampler'), 'fashion-demo');
    assert.equal(await page.textContent('#t-step'), `${STEPS} / 600`);
    assert.equal(await page.textContent('#t-epoch'), '5 / 12');
    assert.equal(await page.textContent('#t-phase'), 'adaptive');
    assert.equal(await page.textContent('#t-pressure'), `${detail.selectionPressure.toFixed(2)}×`);
    assert.equal(await page.textContent('#t-meanf'), detail.meanUncertainty.toFixed(3));
    const latest = (await api('/v1/samplers/fashion-demo/epochs')).epochs.at(-1).diagnostics;
    assert.equal(await page.textContent('#t-ess'), latest.effectiveSampleSizeRatio.toFixed(3));
    assert.equal(await page.textContent('#t-selection'), `top tenth gets ${(100 * latest.topDecileDrawShare).toFixed(0)}% of draws`);
    assert.equal(await page.textContent('#t-predictions'), (STEPS * 100).toLocaleString('en-US'));
    assert.equal(await page.locator('#ranks tr').count(), 2);
  });

  it('draws four charts from the API numbers', async () => {
    assert.equal(await page.locator('.uplot canvas').count(), 4);
    const detail = await api('/v1/samplers/fashion-demo');
    const history = await api('/v1/samplers/fashion-demo/epochs');
    const data = async (id: string) => page.evaluate((chart) => (globalThis as any).eval('state').charts[chart].data, id);
    assert.deepEqual((await data('c-histogram'))[1], detail.histogram);
    assert.deepEqual((await data('c-pressure'))[2].filter((v: number | null) => v !== null), history.epochs.map((e: any) => e.pressure));
    assert.deepEqual((await data('c-draws'))[1], detail.uncertaintyValues.map((v: any) => v.meanDrawn));
    assert.equal((await data('c-epochs'))[0].length, 5, 'one point per epoch started');
    assert.deepEqual((await data('c-epochs'))[4], history.epochs.map((e: any) => e.diagnostics.effectiveSampleSizeRatio));
    // The uncertain samples (every 7th) are drawn more than the settled ones once adaptive.
    const draws = (await data('c-draws'))[1] as number[];
    assert.ok(draws.at(-1)! > draws[0]!, `mean draws at the highest F ${draws.at(-1)} vs F = 0 ${draws[0]}`);
  });

  it('lists the most uncertain samples and opens one', async () => {
    const rows = page.locator('#samples tr');
    assert.equal(await rows.count(), 25);
    const page1 = await api('/v1/samplers/fashion-demo/samples?order=uncertainty&limit=25');
    const first = page1.samples[0];
    assert.equal(await rows.first().locator('td').first().textContent(), String(first.index));
    assert.equal(await rows.first().locator('td').nth(1).textContent(), first.uncertainty.toFixed(3));
    assert.ok(first.index % MODEL.uncertainEvery === 0, 'the most uncertain sample is one the model keeps changing its mind on');
    await rows.first().click();
    await page.waitForSelector('#detail:not([hidden])');
    assert.equal(await page.textContent('#d-index'), String(first.index));
    // The panel opens below the table and is brought into view.
    const inView = `(() => { const r = document.getElementById('detail').getBoundingClientRect(); return r.top >= 0 && r.top < window.innerHeight; })()`;
    await page.waitForFunction(inView);
    assert.ok(await page.evaluate(inView), 'the detail panel is in the window');
    assert.match((await page.textContent('#d-fields')) ?? '', new RegExp(`window \\(oldest → newest\\)${first.window.join(' ')}`));
    // Search by index opens another.
    await page.fill('#search-index', '12');
    await page.click('#search button');
    await page.waitForFunction("document.getElementById('d-index')?.textContent === '12'");
  });

  it('opens a sample from the keyboard: rows take the focus and Enter opens one', async () => {
    const second = page.locator('#samples tr').nth(1);
    const index = await second.locator('td').first().textContent();
    await page.click('#d-close');
    await second.focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(`document.getElementById('d-index')?.textContent === '${index}' && !document.getElementById('detail').hidden`);
    assert.equal(await page.evaluate('document.activeElement?.id'), 'd-title', 'the focus moves to the opened sample');
  });

  it('has a favicon, and at 420 px wide nothing overflows the window', async () => {
    const icon = await fetch(`http://127.0.0.1:${fixture.app.httpPort}/favicon.ico`);
    assert.equal(icon.status, 200);
    assert.match(icon.headers.get('content-type') ?? '', /image\/svg\+xml/);
    const narrow = await browser.newPage({ viewport: { width: 420, height: 900 } });
    cleanups.push(() => narrow.close());
    await narrow.goto(`http://127.0.0.1:${fixture.app.httpPort}/`);
    await narrow.waitForSelector('body[data-loaded="true"]', { timeout: 15_000 });
    const overflow = (await narrow.evaluate(`({
      page: document.documentElement.scrollWidth,
      charts: [...document.querySelectorAll('.uplot')].map((c) => Math.ceil(c.getBoundingClientRect().right)),
      width: window.innerWidth,
    })`)) as { page: number; charts: number[]; width: number };
    assert.equal(overflow.charts.length, 4);
    assert.ok(overflow.page <= overflow.width, `the page is ${overflow.page} px wide in a ${overflow.width} px window`);
    for (const right of overflow.charts) assert.ok(right <= overflow.width, `a chart ends at ${right} px`);
  });

  it('updates live as training goes on', async () => {
    await trainSteps(fixture.client, 'fashion-demo', MODEL, STEPS, STEPS + 50, 2);
    await page.waitForFunction(`document.getElementById('t-step')?.textContent === '${STEPS + 50} / 600'`, undefined, { timeout: 10_000 });
    assert.equal(await page.textContent('#t-epoch'), '6 / 12');
  });
});
