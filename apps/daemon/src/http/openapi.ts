/**
 * The OpenAPI 3 description of the HTTP API, generated from the controllers by @nestjs/swagger and
 * served at `/openapi.json`. Request and response schemas come from the zod schemas in
 * `api-schemas.ts` (`z.toJSONSchema`), the ones the endpoints validate with: they are written once.
 */
import { applyDecorators } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { ApiBody, ApiQuery, ApiResponse, DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';
import { z } from 'zod';
import { apiError } from './api-schemas.js';

type JsonSchema = Record<string, unknown>;

/** A zod schema as an OpenAPI 3.0 schema object; `input` for what a client sends. */
export function openApiSchema(schema: z.ZodType, io: 'input' | 'output' = 'output'): JsonSchema {
  return z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' }) as JsonSchema;
}

/** Each property of a query schema (a zod object) as a query parameter. */
export function ApiQueryFrom(schema: z.ZodType): MethodDecorator {
  const json = openApiSchema(schema, 'input') as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  return applyDecorators(
    ...Object.entries(json.properties ?? {}).map(([name, property]) =>
      ApiQuery({ name, required: json.required?.includes(name) ?? false, schema: property }),
    ),
  );
}

export function ApiBodyFrom(schema: z.ZodType): MethodDecorator {
  return ApiBody({ required: false, schema: openApiSchema(schema, 'input') });
}

/** A successful answer's status, description and body schema. */
export function ApiAnswer(status: number, description: string, schema?: z.ZodType): MethodDecorator {
  return ApiResponse({ status, description, ...(schema ? { schema: openApiSchema(schema) } : {}) });
}

/**
 * What an endpoint that reads or writes the database answers while the database is down or refuses
 * connections (`ApiExceptionFilter`): spread into `ApiErrors`.
 */
export const DATABASE_UNAVAILABLE = { 503: 'the database is unavailable; try again later' } as const;

/** The client errors (and 503) an endpoint answers, each a JSON error naming what is wrong. */
export function ApiErrors(errors: Record<number, string>): MethodDecorator {
  return applyDecorators(
    ...Object.entries(errors).map(([status, description]) =>
      ApiResponse({ status: Number(status), description, schema: openApiSchema(apiError) }),
    ),
  );
}

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('E-commerce pipeline daemon')
    .setDescription(
      'Health, metrics, the stage registry, run history, and operator controls: start, cancel and retry runs, read their logs. Endpoints that change anything need `Authorization: Bearer <token>` (PIPELINE_API_TOKEN).',
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  return SwaggerModule.createDocument(app, config);
}

/** Serves the document at `/openapi.json` (built on first request); no UI. Call before `init()`. */
export function serveOpenApi(app: INestApplication): void {
  SwaggerModule.setup('openapi', app, () => buildOpenApiDocument(app), {
    ui: false,
    raw: ['json'],
    jsonDocumentUrl: 'openapi.json',
  });
}
