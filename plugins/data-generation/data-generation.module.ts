import { Module } from '@nestjs/common';
import { DataGenerationStage } from './data-generation.stage.js';

@Module({ providers: [DataGenerationStage] })
export class DataGenerationModule {}
