import { hostname } from 'node:os';
import {
  ConflictException,
  Controller,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Query,
  UnprocessableEntityException,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { Response } from 'express';
import {
  CancelRefusedError,
  PipelineKernel,
  RetryRefusedError,
  RunCancellations,
  RunLockedError,
  RunRequestError,
  planRetry,
} from '../../../../libs/kernel/index.js';
import { ApiBearerAuth, ApiParam, ApiTags } from '@nestjs/swagger';
import { cancelRequested, parseOr400, retryDryRun, retryQuery, retryStarted, runId } from './api-schemas.js';
import { ApiAnswer, ApiErrors, ApiQueryFrom, DATABASE_UNAVAILABLE } from './openapi.js';
import { BearerTokenGuard } from './bearer-token.guard.js';

/** An operator's hands on a run: cancel it wherever it runs, retry it from its failed stage. */
@ApiTags('runs')
@ApiBearerAuth()
@Controller('runs')
@UseGuards(BearerTokenGuard)
export class RunsControlController {
  private readonly cancellations: RunCancellations;

  constructor(private readonly kernel: PipelineKernel) {
    this.cancellations = new RunCancellations(kernel.db.pool, kernel.config.pipeline.heartbeat_interval_ms);
  }

  /**
   * Records the request in the run store and answers at once (202): the replica running the run
   * reads it within one heartbeat interval, rolls back and ends the run `cancelled`.
   */
  @Post(':id/cancel')
  @HttpCode(202)
  @ApiParam({ name: 'id', description: 'run id (UUID)' })
  @ApiAnswer(202, 'the cancel is recorded; the run ends cancelled within one heartbeat', cancelRequested)
  @ApiErrors({
    400: 'the id is not a UUID',
    401: 'no valid bearer token',
    404: 'no such run',
    409: 'the run is not running, or is abandoned (its process stopped: no heartbeat)',
    ...DATABASE_UNAVAILABLE,
  })
  async cancel(@Param('id') id: string) {
    parseOr400(runId, id);
    try {
      const request = await this.cancellations.request(id, `api on ${hostname()}`);
      return {
        run_id: id,
        cancel_requested_at: request.requestedAt.toISOString(),
        already_requested: request.alreadyRequested,
        status_url: `/runs/${id}`,
      };
    } catch (error) {
      if (error instanceof CancelRefusedError) {
        if (error.reason === 'unknown') throw new NotFoundException(error.message);
        throw new ConflictException(error.message);
      }
      throw error;
    }
  }

  /**
   * A new run for the same business date from the given run's first unfinished stage (202), or with
   * `dry_run=true` the stages it would run (200).
   */
  @Post(':id/retry')
  @HttpCode(202)
  @ApiParam({ name: 'id', description: 'run id (UUID) of a failed, abandoned, interrupted or cancelled run' })
  @ApiQueryFrom(retryQuery)
  @ApiAnswer(200, 'dry run: the stages a retry would run', retryDryRun)
  @ApiAnswer(202, 'the retry holds the lock and has started', retryStarted)
  @ApiErrors({
    400: 'the id or dry_run is invalid',
    401: 'no valid bearer token',
    404: 'no such run',
    409: 'the run still runs, or another run holds the run lock',
    422: 'the run succeeded: nothing to retry',
    ...DATABASE_UNAVAILABLE,
  })
  async retry(
    @Param('id') id: string,
    @Query() query: unknown,
    @Res({ passthrough: true }) response: Response,
  ) {
    parseOr400(runId, id);
    const { dry_run } = parseOr400(retryQuery, query);
    try {
      const plan = await planRetry(this.kernel.store, this.kernel.registry, id);
      if (dry_run === 'true') {
        // Nothing was started: an answer, not an accepted request.
        response.status(200);
        return {
          dry_run: true,
          retry_of: id,
          run_date: plan.runDate,
          from: plan.from,
          stages: this.kernel.runs.plan('api', { from: plan.from }).map((s) => s.name),
        };
      }
      const started = await this.kernel.runs.start({ trigger: 'api', resume: id });
      // The run goes on after the response; its end is in the run store and the logs.
      started.done.catch(() => undefined);
      return {
        run_id: started.runId,
        retry_of: id,
        run_date: started.runDate,
        stages: started.stages,
        status_url: `/runs/${started.runId}`,
      };
    } catch (error) {
      if (error instanceof RetryRefusedError) {
        if (error.reason === 'unknown') throw new NotFoundException(error.message);
        if (error.reason === 'running') throw new ConflictException(error.message);
        throw new UnprocessableEntityException(error.message);
      }
      if (error instanceof RunLockedError)
        throw new ConflictException('a run is in progress (the run lock is held)');
      if (error instanceof RunRequestError) throw new UnprocessableEntityException(error.message);
      throw error;
    }
  }
}
