/**
 * zod for everything an API function loads: zod/mini (issue 14: 39 KB of each bundle, where classic zod
 * took 97 KB), with English messages. zod/mini loads no locale of its own, so every issue would read
 * "Invalid input"; configured here, before any schema parses, the English locale gives the very
 * messages classic zod gave (the 400 problem's `errors[].message`, the configuration errors). Import
 * it as a namespace, `import * as z from '#shared/zod.ts'`; biome.json keeps `zod` and `zod/*` out of
 * lambdas/api, http, shared and adapters (but for the OpenAPI document, which runs zod-openapi).
 */
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

// The one locale, by its own module: `z.locales.en()` would keep all of them in the bundle (255 KB more).
z.config(en());

export * from 'zod/mini';
