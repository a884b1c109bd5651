import { Type } from '@sinclair/typebox';
import type { App, AppDeps } from '../app-types.js';
import { ACCESS } from '../auth.js';
import { ApiError, ErrorBody } from '../errors.js';
import { SECURITY, strictBody } from '../route-options.js';
import { ClassifyBody } from '../schemas.js';

export function registerClassify(app: App, deps: AppDeps): void {
  app.post(
    '/api/classify',
    {
      config: { scopes: ACCESS.submit },
      validatorCompiler: strictBody,
      schema: {
        tags: ['tickets'],
        summary: 'Preview a categorization without creating a ticket',
        description: '501 while no classifier is wired into this process.',
        security: SECURITY,
        body: ClassifyBody,
        response: {
          200: Type.Object({}, { additionalProperties: true }),
          '4xx': ErrorBody,
          '5xx': ErrorBody,
        },
      },
    },
    async (request) => {
      if (!deps.classify) {
        throw new ApiError(
          501,
          'CLASSIFIER_UNAVAILABLE',
          'classification preview is not available: no categorizer is wired into intake-api yet',
        );
      }
      return deps.classify(request.body);
    },
  );
}
