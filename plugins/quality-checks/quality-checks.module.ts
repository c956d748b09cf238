import { Module } from '@nestjs/common';
import { QualityChecksStage } from './quality-checks.stage.js';

@Module({ providers: [QualityChecksStage] })
export class QualityChecksModule {}
