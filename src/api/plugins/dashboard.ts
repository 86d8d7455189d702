import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** The web UI's files: plain ES modules and CSS, served as they are (no build step). */
const DASHBOARD_DIR = fileURLToPath(new URL('../../dashboard/', import.meta.url));

/**
 * The browser libraries the UI imports by bare name ("preact", "htm"), served from node_modules at
 * the paths the import map in index.html points at. Resolved with the `import` condition, so these
 * are the packages' ES module builds.
 */
const VENDOR: Readonly<Record<string, string>> = {
  'preact.mjs': 'preact',
  'preact-hooks.mjs': 'preact/hooks',
  'htm.mjs': 'htm',
};

/**
 * Serves the dashboard (src/dashboard) at `/`, its files under `/ui/` and the libraries it uses under
 * `/ui/vendor/`. Installed beside the API's routes, outside their authentication: these are public
 * static files, and the UI signs in and reads everything through the API like any other client.
 *
 * The page's import map is an inline script, which the API's strict CSP (`script-src 'self'`) would
 * block; the page's own CSP allows exactly that script by its hash, and nothing else inline.
 */
export async function installDashboard(app: FastifyInstance): Promise<void> {
  const indexHtml = readFileSync(`${DASHBOARD_DIR}index.html`, 'utf8');
  const csp = pageCsp(indexHtml);
  const vendor = new Map(Object.entries(VENDOR).map(([file, specifier]) => [file, readFileSync(fileURLToPath(import.meta.resolve(specifier)), 'utf8')]));

  await app.register(async (scope) => {
    scope.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply.type('text/html; charset=utf-8').header('content-security-policy', csp).header('cache-control', 'no-cache').send(indexHtml),
    );
    // Registered before the static route so that these exact paths win over its wildcard.
    scope.get('/ui/vendor/:file', { schema: { hide: true } }, async (request, reply) => {
      const body = vendor.get((request.params as { file: string }).file);
      if (body === undefined) return reply.callNotFound();
      return reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(body);
    });
    await scope.register(fastifyStatic, {
      root: DASHBOARD_DIR,
      prefix: '/ui/',
      decorateReply: false,
      index: false,
      list: false,
      // The page itself is served at `/` only, where its CSP lets the import map run.
      allowedPath: (pathName) => pathName !== '/index.html',
      // Revalidated on every load (ETag): the files change with each release and are tiny.
      cacheControl: true,
      maxAge: 0,
    });
  });
}

/** The API's CSP, plus the hash of the page's one inline script (its import map). */
function pageCsp(html: string): string {
  const match = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html);
  if (!match) throw new Error('dashboard index.html has no import map');
  const hash = createHash('sha256').update(match[1]!).digest('base64');
  return [
    "default-src 'self'",
    `script-src 'self' 'sha256-${hash}'`,
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}
