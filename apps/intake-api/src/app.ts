import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import type { App, AppDeps } from './app-types.js';
import { installAuth } from './auth.js';
import { installErrorHandling } from './errors.js';
import { installHttpMetrics } from './http-metrics.js';
import { installJsonParser } from './json-body.js';
import { lazyChildLogger } from './request-logger.js';
import { registerApiKeyAdmin } from './routes/api-keys.js';
import { registerClassify } from './routes/classify.js';
import { registerConsole } from './routes/console.js';
import { registerDashboard } from './routes/dashboard.js';
import { registerOps } from './routes/ops.js';
import { registerRouting } from './routes/routing.js';
import { registerSubmitTicket } from './routes/submit-ticket.js';
import { registerTicketCommands } from './routes/ticket-commands.js';
import { registerTicketQueries } from './routes/tickets.js';

/**
 * The intake API as a Fastify instance, not listening: tests drive it with inject(),
 * start.ts listens. Everything it talks to comes in `deps`.
 */
export async function buildApp(deps: AppDeps): Promise<App> {
  const loggerInstance: FastifyBaseLogger = deps.logger.child({ component: 'http' });
  const app = Fastify({
    loggerInstance,
    // One line per failed request (error handler) instead of two per request.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.bodyLimitBytes,
    trustProxy: false,
    ajv: { customOptions: { removeAdditional: false, allErrors: true, coerceTypes: 'array' } },
    // A request's child logger is made only if the request logs.
    childLoggerFactory: lazyChildLogger,
  }).withTypeProvider<TypeBoxTypeProvider>();

  let closing = false;
  app.addHook('onClose', async () => {
    closing = true;
  });

  installErrorHandling(app);
  installJsonParser(app);
  const metrics = installHttpMetrics(app, deps.registry);
  // Authentication, scopes and the per-key rate limit, in one hook.
  installAuth(app, deps.apiKeys, deps.rateLimitPerMinute);

  // No origins configured: no CORS hook at all (a cross-origin preflight gets 404).
  if (deps.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: deps.corsOrigins.includes('*') ? true : [...deps.corsOrigins],
      allowedHeaders: ['authorization', 'x-api-key', 'content-type', 'idempotency-key', 'prefer'],
      exposedHeaders: ['location', 'retry-after', 'preference-applied'],
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      maxAge: 600,
    });
  }
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'mailroom intake API',
        version: '1.0.0',
        description:
          'Submit support tickets, query them, change and route them. Writes are commands on ' +
          'Kafka (202 Accepted); reads come from Postgres. Errors: `{ error: { code, message, retriable } }`.',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer' },
          apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
        },
      },
      tags: [
        { name: 'tickets' },
        { name: 'departments' },
        { name: 'routing' },
        { name: 'keys' },
        { name: 'operations' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  registerOps(app, deps);
  registerSubmitTicket(app, deps, metrics, () => closing);
  registerTicketQueries(app, deps);
  registerDashboard(app, deps);
  registerTicketCommands(app, deps, metrics);
  registerRouting(app, deps, metrics);
  registerClassify(app, deps);
  registerApiKeyAdmin(app, deps);
  registerConsole(app);
  return app;
}
