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
import {
  PipelineKernel,
  RunHistory,
  RunLockedError,
  RunRequestError,
} from '../../../../libs/kernel/index.js';
import { ApiBearerAuth, ApiParam, ApiTags } from '@nestjs/swagger';
import {
  parseOr400,
  runDetail,
  runFilterOf,
  runId,
  runList,
  runListQuery,
  runRequestBody,
  runStarted,
} from './api-schemas.js';
import { ApiAnswer, ApiBodyFrom, ApiErrors, ApiQueryFrom, DATABASE_UNAVAILABLE } from './openapi.js';
import { BearerTokenGuard } from './bearer-token.guard.js';

@ApiTags('runs')
@Controller('runs')
export class RunsController {
  private readonly history: RunHistory;

  constructor(private readonly kernel: PipelineKernel) {
    this.history = new RunHistory(kernel.db.pool);
  }

  /** Newest first, filtered; `total` counts every run the filter matches, not just this page. */
  @Get()
  @ApiQueryFrom(runListQuery)
  @ApiAnswer(200, 'one page of runs, newest first', runList)
  @ApiErrors({ 400: 'a filter or page parameter is invalid (named)', ...DATABASE_UNAVAILABLE })
  async list(@Query() query: unknown) {
    const q = parseOr400(runListQuery, query);
    const { runs, total, next } = await this.history.find(runFilterOf(q));
    return {
      runs,
      total,
      limit: q.limit,
      offset: q.offset,
      next_before: next?.encode() ?? null,
      active: this.kernel.runs.current,
    };
  }

  /** One run in full: each stage with its attempts, durations, rows and errors. */
  @Get(':id')
  @ApiParam({ name: 'id', description: 'run id (UUID)' })
  @ApiAnswer(200, 'the run, each stage with its attempts', runDetail)
  @ApiErrors({ 400: 'the id is not a UUID', 404: 'no such run', ...DATABASE_UNAVAILABLE })
  async get(@Param('id') id: string) {
    parseOr400(runId, id);
    const run = await this.history.detail(id);
    if (!run) throw new NotFoundException(`no run ${id}`);
    return run;
  }

  /** Starts a run now; answers as soon as it holds the lock (202) or finds it taken (409). */
  @Post()
  @HttpCode(202)
  @UseGuards(BearerTokenGuard)
  @ApiBearerAuth()
  @ApiBodyFrom(runRequestBody)
  @ApiAnswer(202, 'the run holds the lock and has started', runStarted)
  @ApiErrors({
    400: 'the body is invalid (the field is named)',
    401: 'no valid bearer token',
    409: 'another run holds the run lock',
    413: 'the body is too large',
    415: 'the body is not JSON',
    ...DATABASE_UNAVAILABLE,
  })
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
    const parsed = parseOr400(runRequestBody, body);
    try {
      const started = await this.kernel.runs.start({
        trigger: 'api',
        only: parsed.stages,
        from: parsed.from,
        runDate: parsed.run_date,
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
