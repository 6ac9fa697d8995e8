/**
 * The layering DESIGN.md states, enforced in `npm run lint` (dependency-cruiser). A rule broken here is a
 * design bug, not a style nit: fix the import, or move the code to the layer it belongs to.
 * test/unit/layering.test.ts proves each rule catches a violation (fixtures in test/fixtures/layering).
 */
const AWS_AND_INFRA_LIBRARIES =
  'node_modules/(@aws-sdk|@smithy|@aws-lambda-powertools|@middy|aws-cdk-lib|constructs|cdk-nag|kysely|pg|@electric-sql|aws-jwt-verify|s3rver|dynalite)/';

module.exports = {
  forbidden: [
    {
      name: 'core-is-the-domain',
      comment:
        'lambdas/core decides and knows no infrastructure: nothing from api, adapters, events, http, edge or ' +
        'deploy, nothing of shared but its pure name registry, no AWS SDK, CDK, database or HTTP library.',
      severity: 'error',
      from: { path: '^lambdas/core/' },
      to: {
        path: [
          '^lambdas/(api|adapters|events|http|edge|deploy)/',
          '^lambdas/shared/(?!resources\\.ts$)',
          '^(local|lib|bin|web|layers)/',
          AWS_AND_INFRA_LIBRARIES,
        ],
      },
    },
    {
      name: 'infrastructure-uses-no-adapter',
      comment: 'lib/ and layers/ describe resources; they never run the code that talks to them.',
      severity: 'error',
      from: { path: '^(lib|layers)/' },
      to: {
        path: '^lambdas/(adapters|api/(?!(routes|route-spec|schemas)\\.ts$)|events/(?!(consumers|schedules)\\.ts$)|http)/',
      },
    },
    {
      name: 'edge-takes-ports',
      comment:
        'lambdas/http (one middleware per concern) and lambdas/shared are handed their adapters as ports by ' +
        'each handler (lambdas/api/edge-ports.ts): they import no adapter, event handler or route module ' +
        '(route-spec types aside), and no database, AWS SDK or JWT library, so a route bundles only what its ' +
        'row in the route table asks for.',
      severity: 'error',
      from: { path: '^lambdas/(http|shared)/' },
      to: {
        path: [
          '^lambdas/(adapters|events|edge|deploy)/',
          '^lambdas/api/(?!route-spec\\.ts$)',
          'node_modules/(@aws-sdk|@smithy|kysely|pg|@electric-sql|aws-jwt-verify)/',
        ],
      },
    },
    {
      name: 'public-routes-bundle-no-data-access',
      comment:
        '/docs and /v1/openapi.json run outside the VPC with no grants: nothing they reach may be an adapter, ' +
        'the database drivers, the AWS SDK or the JWT verifier (their bundles stay small and fast to load).',
      severity: 'error',
      from: { path: '^lambdas/api/(docs|openapi)\\.ts$' },
      to: {
        path: [
          '^lambdas/adapters/',
          'node_modules/(@aws-sdk|@smithy|kysely|pg|@electric-sql|aws-jwt-verify)/',
        ],
        reachable: true,
      },
    },
    {
      name: 'queries-are-sql',
      comment:
        'A Lambda queries with plain SQL through lambdas/adapters/db/sql.ts; Kysely builds the migrations only ' +
        "(and the tests' own checks). As a query builder it was 160 KB, 42%, of every API function's bundle " +
        '(issue 14). Its types (schema.ts) may be imported: esbuild drops them.',
      severity: 'error',
      from: {
        path: '^lambdas/',
        pathNot: '^lambdas/(adapters/db/(migrate\\.ts|connect\\.ts|migrations/)|events/migrate\\.ts$)',
      },
      // connect.ts (Kysely over the connection) and migrate.ts would bring it in too.
      to: {
        path: ['node_modules/kysely/', '^lambdas/adapters/db/(connect|migrate)\\.ts$'],
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'lambdas-stand-alone',
      comment: 'What runs in Lambda never imports the local runtime, the CDK app or the browser client.',
      severity: 'error',
      from: { path: '^lambdas/' },
      to: { path: '^(local|lib|bin|web|test)/' },
    },
    {
      name: 'browser-client-is-a-browser-app',
      comment:
        'web/src talks to the API over HTTP; of the backend it shares only the web config type and the ' +
        "API's wire types (lambdas/api/schemas.ts, type-only: esbuild drops them).",
      severity: 'error',
      from: { path: '^web/src/' },
      to: {
        path: [
          '^(lambdas/(?!(shared/web-config|api/schemas)\\.ts$)|(local|lib|bin)/)',
          AWS_AND_INFRA_LIBRARIES,
        ],
      },
    },
    {
      name: 'browser-client-takes-only-types-of-the-api',
      severity: 'error',
      from: { path: '^web/src/' },
      to: { path: '^lambdas/api/schemas\\.ts$', dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.json'],
    },
    exclude: { path: ['cdk.out', 'web/dist', '\\.build'] },
  },
};
