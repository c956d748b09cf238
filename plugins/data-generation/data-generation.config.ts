import { z } from 'zod';
import { dayNumberOf } from './calendar.js';

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD')
  .refine((value) => dayNumberOf(value) !== null, 'not a calendar date');

// Prices and cost are integer cents; these bounds keep quantity * price * 10000 exact in a double.
const MAX_PRICE = 1_000_000;
const MAX_QUANTITY = 1_000;

const price = z.number().min(0.01).max(MAX_PRICE);

const categorySchema = z
  .object({
    min_price: price,
    max_price: price,
    sub_categories: z.array(z.string().trim().min(1)).min(1),
  })
  .strict();

const rangeSchema = (min: number, max: number, defaults: { min: number; max: number }) =>
  z
    .object({
      min: z.number().int().min(min).max(max).default(defaults.min),
      max: z.number().int().min(min).max(max).default(defaults.max),
    })
    .strict()
    .prefault({});

export const DEFAULT_CATEGORIES: Readonly<Record<string, z.input<typeof categorySchema>>> = {
  Electronics: {
    min_price: 50,
    max_price: 2000,
    sub_categories: ['Smartphones', 'Laptops', 'Headphones', 'Cameras', 'Accessories'],
  },
  Clothing: {
    min_price: 10,
    max_price: 200,
    sub_categories: ['Men', 'Women', 'Kids', 'Footwear', 'Outerwear'],
  },
  'Home & Kitchen': {
    min_price: 15,
    max_price: 500,
    sub_categories: ['Cookware', 'Furniture', 'Decor', 'Appliances', 'Bedding'],
  },
  Books: {
    min_price: 5,
    max_price: 60,
    sub_categories: ['Fiction', 'Non-Fiction', 'Children', 'Education', 'Comics'],
  },
  Sports: {
    min_price: 10,
    max_price: 400,
    sub_categories: ['Fitness', 'Outdoor', 'Team Sports', 'Cycling', 'Yoga'],
  },
  Beauty: {
    min_price: 5,
    max_price: 150,
    sub_categories: ['Skincare', 'Makeup', 'Haircare', 'Fragrance', 'Personal Care'],
  },
};

const share = z.number().min(0).max(1);

/** More workers than this only adds memory: the main thread hashing and writing the bytes is the limit. */
const MAX_WORKERS = 16;
const WORKERS_EXPECTED = `expected auto or a whole number of worker threads from 0 to ${MAX_WORKERS}`;

const dailySchema = z
  .object({
    transactions: z.number().int().min(0).max(10_000_000).default(300),
    change_share: share.default(0.02),
    disappear_share: share.default(0.005),
    return_share: share.default(0.1),
  })
  .strict()
  .prefault({});

/** The `data_generation` section of the configuration. */
export const dataGenerationConfigSchema = z
  .object({
    seed: z.number().int().min(0).max(0xffffffff).default(42),
    mode: z.enum(['auto', 'full', 'daily']).default('auto'),
    customers: z.number().int().min(1).max(50_000_000).default(1_000),
    products: z.number().int().min(1).max(10_000_000).default(500),
    transactions: z.number().int().min(0).max(500_000_000).default(10_000),
    items_per_transaction: rangeSchema(1, 100, { min: 1, max: 5 }),
    quantity: rangeSchema(1, MAX_QUANTITY, { min: 1, max: 3 }),
    start_date: isoDate.default('2024-01-01'),
    end_date: isoDate.default('2024-12-31'),
    reference_date: isoDate.nullable().default(null),
    discounts: z
      .array(
        z
          .number()
          .min(0)
          .max(100)
          .refine(
            (d) => Math.abs(d * 100 - Math.round(d * 100)) < 1e-6,
            'a percentage with at most two decimals',
          ),
      )
      .min(1)
      .default([0, 5, 10, 15]),
    payment_methods: z
      .array(z.string().trim().min(1))
      .min(1)
      .default(['Credit Card', 'Debit Card', 'UPI', 'Cash on Delivery', 'Net Banking']),
    categories: z
      .record(z.string().trim().min(1), categorySchema)
      .refine((c) => Object.keys(c).length > 0, 'at least one category')
      .default(() => structuredClone(DEFAULT_CATEGORIES) as Record<string, z.output<typeof categorySchema>>),
    daily: dailySchema,
    // Worker threads for the transactions: `auto` is one per core, up to two; 0 is the main
    // thread only. Under 150,000 transactions the main thread does it anyway. The files are the
    // same bytes whatever the number.
    workers: z
      .union(
        [
          z.literal('auto'),
          z.number().int(WORKERS_EXPECTED).min(0, WORKERS_EXPECTED).max(MAX_WORKERS, WORKERS_EXPECTED),
        ],
        { error: WORKERS_EXPECTED },
      )
      .default('auto'),
  })
  .strict()
  .superRefine((value, ctx) => {
    for (const key of ['items_per_transaction', 'quantity'] as const) {
      if (value[key].min > value[key].max) {
        ctx.addIssue({
          code: 'custom',
          path: [key, 'max'],
          message: `must be >= ${key}.min (${value[key].min}), got ${value[key].max}`,
        });
      }
    }
    if (value.start_date > value.end_date) {
      ctx.addIssue({
        code: 'custom',
        path: ['end_date'],
        message: `must not be before start_date (${value.start_date}), got ${value.end_date}`,
      });
    }
    for (const [name, category] of Object.entries(value.categories)) {
      if (category.min_price > category.max_price) {
        ctx.addIssue({
          code: 'custom',
          path: ['categories', name, 'max_price'],
          message: `must be >= min_price (${category.min_price}), got ${category.max_price}`,
        });
      }
    }
    const duplicate = value.payment_methods.find((m, i) => value.payment_methods.indexOf(m) !== i);
    if (duplicate !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['payment_methods'], message: `"${duplicate}" is listed twice` });
    }
  });

export type DataGenerationSettings = z.output<typeof dataGenerationConfigSchema>;
export type CategorySettings = z.output<typeof categorySchema>;
