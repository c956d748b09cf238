import { Module } from '@nestjs/common';
import { AnalyticsStage } from './analytics.stage.js';

@Module({ providers: [AnalyticsStage] })
export class AnalyticsModule {}
