// Runs graphql-http's GraphQL-over-HTTP server audit against a URL and prints one JSON
// array of results: {id, name, status: "ok" | "notice" | "warn" | "error", reason}.
//   node audit.mjs http://127.0.0.1:8000/graphql
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs URL');
  process.exit(2);
}
const results = await auditServer({ url });
const summary = results.map(({ id, name, status, reason }) => ({ id, name, status, reason: reason ?? null }));
console.log(JSON.stringify(summary));
