import { Controller, Get, NotFoundException, Param, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { readRunLog } from '../../../../libs/logging/index.js';
import { PipelineKernel } from '../../../../libs/kernel/index.js';
import { ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { parseOr400, runId, runLogLine, runLogsQuery } from './api-schemas.js';
import { ApiErrors, ApiQueryFrom, DATABASE_UNAVAILABLE, openApiSchema } from './openapi.js';

/**
 * A run's own log lines, as JSON lines (one object a line), optionally of one stage and attempt,
 * a page at a time: the `Next-After` header, when there is one, is the `after` of the next page.
 */
@ApiTags('runs')
@Controller('runs')
export class RunsLogsController {
  constructor(private readonly kernel: PipelineKernel) {}

  @Get(':id/logs')
  @ApiParam({ name: 'id', description: 'run id (UUID)' })
  @ApiQueryFrom(runLogsQuery)
  // Content given here, not by @ApiProduces: that would say the JSON errors are JSON lines too.
  @ApiResponse({
    status: 200,
    description:
      "the run's kept log lines in order, one JSON object a line (each as the schema says), at most `limit` of them",
    content: { 'application/x-ndjson': { schema: openApiSchema(runLogLine) } },
    headers: {
      'Next-After': {
        description:
          'present when more lines follow: ask again with `after` set to it (the last sequence number of this page)',
        schema: { type: 'integer' },
      },
    },
  })
  @ApiErrors({ 400: 'the id or a filter is invalid (named)', 404: 'no such run', ...DATABASE_UNAVAILABLE })
  async logs(
    @Param('id') id: string,
    @Query() query: unknown,
    @Res({ passthrough: true }) response: Response,
  ): Promise<string> {
    parseOr400(runId, id);
    const { after, limit, ...filter } = parseOr400(runLogsQuery, query);
    const { lines, nextAfter } = await readRunLog(this.kernel.db.pool, id, filter, { after, limit });
    if (lines.length === 0 && !(await this.kernel.store.get(id))) throw new NotFoundException(`no run ${id}`);
    // Set here, not by decorator: an error answered instead stays application/json.
    response.type('application/x-ndjson; charset=utf-8');
    if (nextAfter !== null) response.setHeader('Next-After', String(nextAfter));
    return lines.map((line) => `${JSON.stringify(line)}\n`).join('');
  }
}
