// The dashboard's files: a page, its script and style, and uPlot from node_modules. Served as they
// are (no build step); they hold no data and so need no token: the page asks for one when the API
// answers 401.
import type { FastifyInstance } from 'fastify';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// From src/http (tsx) and dist/http (built) alike: the sources stay in src/http/dashboard.
const DASHBOARD_DIR = fileURLToPath(new URL('../../src/http/dashboard/', import.meta.url));
const require = createRequire(import.meta.url);

const FILES: Record<string, { path: string; type: string }> = {
  '/': { path: `${DASHBOARD_DIR}index.html`, type: 'text/html; charset=utf-8' },
  '/dashboard/app.js': { path: `${DASHBOARD_DIR}app.js`, type: 'text/javascript; charset=utf-8' },
  '/dashboard/app.css': { path: `${DASHBOARD_DIR}app.css`, type: 'text/css; charset=utf-8' },
  '/dashboard/uplot.js': { path: require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  '/dashboard/uplot.css': { path: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
  '/dashboard/icon.svg': { path: `${DASHBOARD_DIR}icon.svg`, type: 'image/svg+xml' },
  // Browsers ask for /favicon.ico whatever the page says; an SVG body under that name is shown too.
  '/favicon.ico': { path: `${DASHBOARD_DIR}icon.svg`, type: 'image/svg+xml' },
};

export function isDashboardPath(path: string): boolean {
  return path in FILES;
}

export function dashboardRoutes(app: FastifyInstance): void {
  for (const [url, file] of Object.entries(FILES)) {
    const body = readFileSync(file.path);
    app.get(url, { schema: { hide: true } }, async (_request, reply) => {
      reply.type(file.type).header('cache-control', 'no-cache');
      return body;
    });
  }
}
