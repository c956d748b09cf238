import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import { ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { METRICS } from '../../../../libs/kernel/index.js';
import type { PipelineMetrics } from '../../../../libs/metrics/index.js';

@ApiTags('health')
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(METRICS) private readonly metrics: PipelineMetrics) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiProduces('text/plain')
  @ApiResponse({ status: 200, description: 'Prometheus text format' })
  async scrape(@Res() response: Response): Promise<void> {
    response.type(this.metrics.contentType).send(await this.metrics.render());
  }
}
