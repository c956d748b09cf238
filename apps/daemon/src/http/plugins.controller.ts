import { Controller, Get } from '@nestjs/common';
import { PipelineKernel } from '../../../../libs/kernel/index.js';

@Controller('plugins')
export class PluginsController {
  constructor(private readonly kernel: PipelineKernel) {}

  /** The loaded plugins in their listed order: version, API range, stages, the packages whose tables it reads, migrations. */
  @Get()
  async list() {
    return { plugins: await this.kernel.describePlugins() };
  }
}
