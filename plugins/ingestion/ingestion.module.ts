import { Module } from '@nestjs/common';
import { IngestionStage } from './ingestion.stage.js';

@Module({ providers: [IngestionStage] })
export class IngestionModule {}
