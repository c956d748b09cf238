import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { PipelineKernel } from '../../../../libs/kernel/index.js';
import { stageList } from './api-schemas.js';
import { ApiAnswer } from './openapi.js';

@ApiTags('stages')
@Controller('stages')
export class StagesController {
  constructor(private readonly kernel: PipelineKernel) {}

  /** The registry, in run order. */
  @Get()
  @ApiAnswer(200, 'the registered stages in run order: name, dependencies, phase, enabled', stageList)
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
