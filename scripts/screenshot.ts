// npm run screenshot: the dashboard of a service fed by the simulated trainer, as docs/dashboard.png.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fedService, launchChromium } from '../test/helpers/dashboard-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'recency-sampler-screenshot-'));
const fixture = await fedService(join(dir, 'db'), 50 * 7);
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, deviceScaleFactor: 1 });
  await page.goto(`http://127.0.0.1:${fixture.app.httpPort}/`);
  await page.waitForSelector('body[data-loaded="true"]');
  await page.locator('#samples tr').first().click();
  await page.waitForSelector('#detail:not([hidden])');
  await page.screenshot({ path: 'docs/dashboard.png', fullPage: true });
  console.log('wrote docs/dashboard.png');
} finally {
  await browser.close();
  await fixture.close();
  rmSync(dir, { recursive: true, force: true });
}
