// graphql-codegen's client preset: typed documents for every graphql(`...`) in src/, from
// the facade's committed schema, plus the persisted-documents manifest (sha256 -> document)
// that the facade runs alone when ONEWEB_TRUSTED_DOCUMENTS points at it.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: '../../schema/schema.graphql',
  documents: ['src/**/*.ts', '!src/gql/**'],
  // ESM imports with .js extensions, so that node runs the compiled client as is.
  emitLegacyCommonJSImports: false,
  generates: {
    './src/gql/': {
      preset: 'client',
      presetConfig: {
        fragmentMasking: false,
        persistedDocuments: { hashAlgorithm: 'sha256' },
      },
      config: {
        scalars: { JSON: 'unknown', DateTime: 'string' },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;
