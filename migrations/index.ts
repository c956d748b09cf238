import { Contract1764100000000 } from './1764100000000-contract.js';
import { WarehouseDiscountPercentage1764100005000 } from './1764100005000-warehouse-discount-percentage.js';

/** Every migration, oldest first. A new one is a file beside this one and a line here. */
export const migrations = [Contract1764100000000, WarehouseDiscountPercentage1764100005000];
