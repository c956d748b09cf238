import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Query,
  Req,
  UnsupportedMediaTypeException,
  UseGuards,
} from '@nestjs/common';
import type { Request } from 'express';
import { z } from 'zod';
import { PipelineKernel, RunLockedError, RunRequestError, isIsoDate } from '../../../../libs/kernel/index.js';
import { BearerTokenGuard } from './bearer-token.guard.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const stageName = z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'a stage name is lower-case kebab-case');
const runRequestBody = z
  .object({
    stages: z.array(stageName).min(1).max(32).optional(),
    from: stageName.optional(),
    run_date: z.string().refine(isIsoDate, 'expected a date YYYY-MM-DD').optional(),
  })
  .strict()
  .refine((b) => !(b.stages && b.from), 'give either "stages" or "from", not both');

const pageQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  })
  .strict();

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  if (issue.code === 'unrecognized_keys') return `unknown field "${issue.keys[0]}"`;
  return issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message;
}

@Controller('runs')
export class RunsController {
  constructor(private readonly kernel: PipelineKernel) {}

  @Get()
  async list(@Query() query: unknown) {
    const parsed = pageQuery.safeParse(query ?? {});
    if (!parsed.success) throw new BadRequestException(firstIssue(parsed.error));
    const runs = await this.kernel.store.list(parsed.data.limit, parsed.data.offset);
    return { runs, active: this.kernel.runs.current };
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    if (!UUID.test(id)) throw new BadRequestException('a run id is a UUID');
    const run = await this.kernel.store.get(id);
    if (!run) throw new NotFoundException(`no run ${id}`);
    return run;
  }

  /** Starts a run now; answers as soon as it holds the lock (202) or finds it taken (409). */
  @Post()
  @HttpCode(202)
  @UseGuards(BearerTokenGuard)
  async trigger(@Body() body: unknown, @Req() request: Request) {
    // Only a JSON body is parsed; any other would be read as no body at all, and a form asking for
    // one stage (`curl -d '{"stages": ...}'` sends a form) would start a full run. An empty body
    // (Content-Length: 0, as fetch sends a POST without one) is no body, whatever its type.
    const empty = request.headers['content-length'] === '0';
    if (!empty && request.is('application/json') === false) {
      const sent = request.headers['content-type']?.split(';')[0]?.trim().slice(0, 100) || 'no content type';
      throw new UnsupportedMediaTypeException(
        `a run request's body is JSON: send it with Content-Type: application/json (got ${sent})`,
      );
    }
    const parsed = runRequestBody.safeParse(body ?? {});
    if (!parsed.success) throw new BadRequestException(firstIssue(parsed.error));
    try {
      const started = await this.kernel.runs.start({
        trigger: 'api',
        only: parsed.data.stages,
        from: parsed.data.from,
        runDate: parsed.data.run_date,
      });
      // The run goes on after the response; its end is in the run store and the logs.
      started.done.catch(() => undefined);
      return {
        run_id: started.runId,
        run_date: started.runDate,
        stages: started.stages,
        status_url: `/runs/${started.runId}`,
      };
    } catch (error) {
      if (error instanceof RunLockedError)
        throw new ConflictException('a run is in progress (the run lock is held)');
      if (error instanceof RunRequestError) throw new BadRequestException(error.message);
      throw error;
    }
  }
}
