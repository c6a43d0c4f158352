// A minimal GraphQL client for the facade: sends a generated document by its persisted
// id (the facade runs only known documents when ONEWEB_TRUSTED_DOCUMENTS is set) and
// returns its typed result. Any fetch-based client (urql, graphql-request, Apollo) does
// the same with a few more features.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';

export interface ClientOptions {
  /** The facade's GraphQL endpoint, e.g. http://127.0.0.1:8000/graphql. */
  endpoint: string;
  /** Sent with every request: in production the proxy or a bearer token says who is asking. */
  headers?: Record<string, string>;
}

export interface GraphQLErrorEntry {
  message: string;
  extensions?: { code?: string };
}

export class GraphQLRequestError extends Error {
  constructor(
    readonly status: number,
    readonly errors: GraphQLErrorEntry[],
  ) {
    super(errors.map((error) => `${error.extensions?.code ?? 'ERROR'}: ${error.message}`).join('; '));
  }
}

interface PersistedDocument {
  __meta__?: { hash?: string };
}

export function createClient(options: ClientOptions) {
  return async function execute<TResult, TVariables>(
    document: TypedDocumentNode<TResult, TVariables>,
    variables: TVariables,
  ): Promise<TResult> {
    const documentId = (document as PersistedDocument).__meta__?.hash;
    if (documentId === undefined) {
      throw new Error('the document has no persisted hash: run `npm run codegen`');
    }
    const response = await fetch(options.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        // The spec's media type: a request error is then a 4xx without data.
        accept: 'application/graphql-response+json, application/json;q=0.9',
        ...options.headers,
      },
      body: JSON.stringify({ documentId, variables }),
    });
    const body = (await response.json()) as { data?: TResult | null; errors?: GraphQLErrorEntry[] };
    if (body.errors !== undefined && body.errors.length > 0) {
      throw new GraphQLRequestError(response.status, body.errors);
    }
    if (body.data === undefined || body.data === null) {
      throw new GraphQLRequestError(response.status, [{ message: 'no data in the response' }]);
    }
    return body.data;
  };
}
