// Starts GraphiQL from the page's JSON config (no inline script: the page's
// Content-Security-Policy allows scripts from this origin only).
"use strict";

(function () {
  // GraphiQL's dialogs add a <style> element; the policy admits it by this page's nonce.
  window.__webpack_nonce__ = document.querySelector('meta[name="graphiql-style-nonce"]').content;

  var config = JSON.parse(document.getElementById("graphiql-config").textContent);

  // The endpoint is the page's own URL, so a path prefix added by a proxy is kept.
  var httpUrl = window.location.href.split(/[?#]/)[0];
  var wsUrl = new URL(httpUrl);
  wsUrl.protocol = wsUrl.protocol === "https:" ? "wss:" : "ws:";

  // Subscriptions go over WebSocket (graphql-transport-ws) to the same endpoint. A
  // browser cannot set headers on the upgrade request, so the Headers tab travels in
  // the connection_init payload; one lazy client per set of headers (it connects only
  // when a subscription runs).
  var wsClients = new Map();
  function wsClientFor(headers) {
    var params = headers || {};
    var key = JSON.stringify(params);
    var client = wsClients.get(key);
    if (client === undefined) {
      client = graphqlWs.createClient({ url: wsUrl.toString(), lazy: true, connectionParams: params });
      wsClients.set(key, client);
    }
    return client;
  }

  function fetcher(params, options) {
    var headers = options ? options.headers : undefined;
    return GraphiQL.createFetcher({ url: httpUrl, wsClient: wsClientFor(headers) })(params, options);
  }

  var defaultHeaders = config.defaultHeaders || undefined;
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      plugins: [GraphiQLPluginExplorer.explorerPlugin()],
      defaultQuery: config.defaultQuery,
      defaultHeaders: defaultHeaders,
      defaultTabs: [{ query: config.defaultQuery, headers: defaultHeaders }],
      defaultEditorToolsVisibility: defaultHeaders ? "headers" : false,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
    })
  );
})();
