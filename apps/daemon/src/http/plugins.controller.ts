import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { PipelineKernel } from '../../../../libs/kernel/index.js';
import { pluginList } from './api-schemas.js';
import { ApiAnswer, ApiErrors, DATABASE_UNAVAILABLE } from './openapi.js';

@ApiTags('plugins')
@Controller('plugins')
export class PluginsController {
  constructor(private readonly kernel: PipelineKernel) {}

  /** The loaded plugins in their listed order: version, API range, stages, the packages whose tables it reads, migrations. */
  @Get()
  @ApiAnswer(
    200,
    'the loaded plugins in their listed order, each with its migrations applied and pending',
    pluginList,
  )
  @ApiErrors({ ...DATABASE_UNAVAILABLE })
  async list() {
    return { plugins: await this.kernel.describePlugins() };
  }
}
