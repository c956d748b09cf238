import { Module } from '@nestjs/common';
import { ProductionEtlStage } from './production-etl.stage.js';

@Module({ providers: [ProductionEtlStage] })
export class ProductionEtlModule {}
