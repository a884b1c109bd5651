import { stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../app-types.js';
import { ApiError } from '../errors.js';

// The agent console (apps/console) is a static single-page app built by Vite into
// apps/console/dist; intake-api serves it so there is no second server to run. Browsers
// (Accept: text/html) get the console at `/` and at any other path outside /api and
// /docs (its client-side routes); everyone else keeps the JSON index of ops.ts at `/`.

/** apps/console/dist, seen from apps/intake-api/src/routes. */
export const DEFAULT_CONSOLE_ROOT = fileURLToPath(
  new URL('../../../console/dist/', import.meta.url),
);

export interface ConsoleOptions {
  /** The built console (index.html + assets/); default DEFAULT_CONSOLE_ROOT. */
  root?: string;
}

const wantsHtml = (request: FastifyRequest) =>
  request.headers.accept?.includes('text/html') ?? false;

// Paths the console never answers: the API's and the docs' own 404s stay JSON.
const RESERVED = /^\/(api|docs)(\/|$)/;

/** Vite names every asset by its content hash: cacheable for good; index.html never. */
const IMMUTABLE = { maxAge: 365 * 24 * 3600 * 1000, immutable: true };
const NO_CACHE = { cacheControl: false } as const;

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') return false;
    throw err;
  }
}

/** The URL's path, percent-decoded; undefined when its escapes are malformed. */
function decodedPath(url: string): string | undefined {
  try {
    return decodeURIComponent(url.split('?')[0] ?? '/');
  } catch {
    return undefined;
  }
}

export function registerConsole(app: App, options: ConsoleOptions = {}): void {
  const root = resolve(options.root ?? DEFAULT_CONSOLE_ROOT);
  const indexFile = resolve(root, 'index.html');

  const sendIndex = async (reply: FastifyReply) => {
    if (!(await isFile(indexFile))) {
      throw new ApiError(
        404,
        'CONSOLE_NOT_BUILT',
        `the agent console is not built (${indexFile} is missing): run npm run build:console`,
      );
    }
    return reply.header('cache-control', 'no-cache').sendFile('index.html', root, NO_CACHE);
  };

  // Browsers ask for text/html: they take this `/`, API clients the unconstrained one.
  if (!app.hasConstraintStrategy('accept')) {
    app.addConstraintStrategy({
      name: 'accept',
      mustMatchWhenDerived: false,
      storage() {
        const handlers = new Map<string, unknown>();
        return {
          get: (value: string) => (handlers.get(value) ?? null) as never,
          set: (value: string, handler: unknown) => void handlers.set(value, handler),
        };
      },
      deriveConstraint: (req) => (req.headers.accept?.includes('text/html') ? 'html' : ''),
    });
  }

  void app.register(async (scope) => {
    // serve: false: only reply.sendFile (path-traversal safe, ETag, ranges) in this scope.
    await scope.register(fastifyStatic, { root, serve: false });

    scope.get(
      '/',
      { constraints: { accept: 'html' }, schema: { hide: true } },
      async (_request, reply) => sendIndex(reply),
    );

    scope.get('/*', { schema: { hide: true } }, async (request, reply) => {
      const path = decodedPath(request.url);
      if (path === undefined || RESERVED.test(path)) return reply.callNotFound();
      const file = resolve(root, `.${path}`);
      if (file.startsWith(root + sep) && (await isFile(file))) {
        const relative = file.slice(root.length + 1);
        const cache = relative.startsWith(`assets${sep}`) ? IMMUTABLE : {};
        return reply.sendFile(relative, root, cache);
      }
      // A client-side route (e.g. /tickets/42 after a reload) or a missing asset.
      if (wantsHtml(request) && !extname(path)) return sendIndex(reply);
      return reply.callNotFound();
    });
  });
}
