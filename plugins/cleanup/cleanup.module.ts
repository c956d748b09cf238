import { Module } from '@nestjs/common';
import { CleanupStage } from './cleanup.stage.js';

@Module({ providers: [CleanupStage] })
export class CleanupModule {}
