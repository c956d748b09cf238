import { Module } from '@nestjs/common';
import { WarehouseStage } from './warehouse.stage.js';

@Module({ providers: [WarehouseStage] })
export class WarehouseModule {}
