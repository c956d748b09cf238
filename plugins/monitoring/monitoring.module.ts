import { Module } from '@nestjs/common';
import { MonitoringStage } from './monitoring.stage.js';

@Module({ providers: [MonitoringStage] })
export class MonitoringModule {}
