// The dashboard in headless Chromium, against a running service fed by the simulated trainer:
// charts and tables show the service's real numbers, a row opens a sample, and it updates live.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { trainSteps } from '../../src/sim/simulated-trainer.js';
import { fedService, launchChromium, MODEL, type Fixture } from '../helpers/dashboard-fixture.js';
import { tempDbPath } from '../helpers/temp.js';

const STEPS = 50 * 5; // 5 of 12 epochs: 3 warm-up, 2 adaptive

describe('dashboard in headless Chromium', () => {
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
    assert.match((await page.textContent('#d-fields')) ?? '', new RegExp(`window \\(oldest → newest\\)${first.window.join(' ')}`));
    // Search by index opens another.
    await page.fill('#search-index', '12');
    await page.click('#search button');
    await page.waitForFunction("document.getElementById('d-index')?.textContent === '12'");
  });

  it('updates live as training goes on', async () => {
    await trainSteps(fixture.client, 'fashion-demo', MODEL, STEPS, STEPS + 50, 2);
    await page.waitForFunction(`document.getElementById('t-step')?.textContent === '${STEPS + 50} / 600'`, undefined, { timeout: 10_000 });
    assert.equal(await page.textContent('#t-epoch'), '6 / 12');
  });
});
