import { Controller, Get, NotFoundException, Param, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { readRunLog } from '../../../../libs/logging/index.js';
import { PipelineKernel } from '../../../../libs/kernel/index.js';
import { parseOr400, runId, runLogsQuery } from './api-schemas.js';

/** A run's own log lines, as JSON lines (one object a line), optionally of one stage and attempt. */
@Controller('runs')
export class RunsLogsController {
  constructor(private readonly kernel: PipelineKernel) {}

  @Get(':id/logs')
  async logs(
    @Param('id') id: string,
    @Query() query: unknown,
    @Res({ passthrough: true }) response: Response,
  ): Promise<string> {
    parseOr400(runId, id);
    const filter = parseOr400(runLogsQuery, query);
    const lines = await readRunLog(this.kernel.db.pool, id, filter);
    if (lines.length === 0 && !(await this.kernel.store.get(id))) throw new NotFoundException(`no run ${id}`);
    // Set here, not by decorator: an error answered instead stays application/json.
    response.type('application/x-ndjson; charset=utf-8');
    return lines.map((line) => `${JSON.stringify(line)}\n`).join('');
  }
}
