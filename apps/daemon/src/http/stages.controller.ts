import { Controller, Get } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { PipelineKernel } from '../../../../libs/kernel/index.js';

@ApiTags('stages')
@Controller('stages')
export class StagesController {
  constructor(private readonly kernel: PipelineKernel) {}

  /** The registry, in run order. */
  @Get()
  @ApiResponse({ status: 200, description: 'the registered stages: name, dependencies, phase, enabled' })
  list() {
    return {
      stages: this.kernel.registry.ordered.map((s) => ({
        name: s.name,
        description: s.description,
        depends_on: s.dependsOn,
        phase: s.phase,
        enabled: s.enabled,
        retry: s.retry,
        timeout_ms: s.timeoutMs,
      })),
    };
  }
}
