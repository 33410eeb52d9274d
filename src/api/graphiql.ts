// GraphiQL's first run: every request needs an API key, so the page asks for one before GraphiQL starts (and
// checks it), then opens GraphiQL with that key in the headers of every tab, new ones included, and a first
// query that works for the kind of key given (the platform admin's creates an account; an account's looks around).
import { renderGraphiQL } from "@graphql-yoga/render-graphiql";
import type { GraphiQLOptions } from "graphql-yoga";

export const ADMIN_FIRST_QUERY = `# Signed in with the platform admin key (ADMIN_API_KEY). It creates accounts, nothing else.
# Run this (the ▶ button or Ctrl-Enter), then "Change API key" (top right): paste the apiKey it returns.
mutation CreateAccount {
  createAccount(input: { name: "acme" }) {
    ... on CreateAccountPayload {
      apiKey
      account {
        id
        name
      }
    }
    ... on Error {
      code
      message
    }
  }
}
`;

export const ACCOUNT_FIRST_QUERY = `# Signed in with an account's API key: it acts within that account only.
# Run this (the ▶ button or Ctrl-Enter); Docs (the book icon, top left) lists every query and mutation.
query FirstLook {
  viewer {
    id
    name
  }
  regions {
    id
    name
  }
  vaults(first: 20) {
    totalCount
    edges {
      node {
        id
        name
        kind
        region {
          id
        }
      }
    }
  }
}
`;

const FORM = `
<form id="mvg-key" style="max-width:34rem;margin:12vh auto;font:16px/1.5 system-ui,sans-serif;color:#1b2240">
  <h1 style="font-size:1.5rem">Mirror Vault Gateway</h1>
  <p>Every request needs an API key. Enter the platform admin's key (<code>ADMIN_API_KEY</code>) to create an
  account, or an account's key (the <code>apiKey</code> that <code>createAccount</code> returned) for everything
  else. It is sent as <code>Authorization: Bearer &lt;key&gt;</code> and stays in this browser.</p>
  <label for="mvg-key-input">API key</label>
  <div style="display:flex;gap:.5rem;margin-top:.25rem">
    <input id="mvg-key-input" name="key" type="password" autocomplete="off" required
      style="flex:1;padding:.5rem;font:inherit;border:1px solid #888;border-radius:4px" />
    <button type="submit" style="padding:.5rem 1rem;font:inherit">Use this key</button>
  </div>
  <p id="mvg-key-message" role="alert" style="color:#b00020"></p>
</form>`;

/** The script that replaces GraphiQL's own start: ask for the key, check it, then start GraphiQL with it. */
function bootstrap(options: GraphiQLOptions & { endpoint: string }): string {
  const json = (value: unknown) => JSON.stringify(value).replace(/</g, "\\u003c");
  return `(function () {
  var options = ${json(options)};
  var queries = { admin: ${json(ADMIN_FIRST_QUERY)}, account: ${json(ACCOUNT_FIRST_QUERY)} };
  var form = ${json(FORM)};
  var STORE = "mvg:apiKey";
  var root = document.querySelector("#root");
  function headersFor(key) { return JSON.stringify({ Authorization: "Bearer " + key }, null, 2); }
  // An account key can read its viewer; the admin key is refused it (FORBIDDEN); a wrong key gets HTTP 401.
  function kindOf(key) {
    return fetch(options.endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer " + key },
      body: JSON.stringify({ query: "{ viewer { id } }" }),
    }).then(function (response) {
      if (response.status === 401) return null;
      return response.json().then(function (body) { return body.data && body.data.viewer ? "account" : "admin"; });
    });
  }
  function start(key, kind) {
    var headers = headersFor(key);
    options.headers = headers;
    options.defaultHeaders = headers;
    options.defaultQuery = queries[kind];
    // Tabs kept from an earlier visit keep their queries and take the key in use now; if they hold only first
    // queries, GraphiQL starts afresh with this key's.
    try {
      var state = JSON.parse(localStorage.getItem("graphiql:tabState") || "null");
      if (state && state.tabs) {
        var untouched = state.tabs.every(function (tab) {
          return !tab.query || tab.query === queries.admin || tab.query === queries.account;
        });
        if (untouched) localStorage.removeItem("graphiql:tabState");
        else {
          state.tabs.forEach(function (tab) { tab.headers = headers; });
          localStorage.setItem("graphiql:tabState", JSON.stringify(state));
        }
      }
      localStorage.setItem("graphiql:headers", headers);
    } catch (error) {}
    root.innerHTML = "";
    YogaGraphiQL.renderYogaGraphiQL(root, options);
    var change = document.createElement("button");
    change.id = "mvg-change-key";
    change.textContent = "Change API key";
    change.style.cssText = "position:fixed;top:.5rem;right:.75rem;z-index:1000;padding:.25rem .75rem;font:14px system-ui,sans-serif";
    change.onclick = function () { localStorage.removeItem(STORE); location.reload(); };
    document.body.appendChild(change);
  }
  function ask(message) {
    root.innerHTML = form;
    document.getElementById("mvg-key-message").textContent = message || "";
    var input = document.getElementById("mvg-key-input");
    input.focus();
    document.getElementById("mvg-key").onsubmit = function (event) {
      event.preventDefault();
      var key = input.value.trim();
      kindOf(key).then(function (kind) {
        if (!kind) return ask("The gateway refused that key (HTTP 401): check it and try again.");
        localStorage.setItem(STORE, key);
        start(key, kind);
      }, function () { ask("The gateway did not answer: try again."); });
    };
  }
  var stored = localStorage.getItem(STORE);
  if (!stored) return ask("");
  kindOf(stored).then(function (kind) {
    if (kind) return start(stored, kind);
    localStorage.removeItem(STORE);
    ask("The key saved in this browser was refused: enter a key.");
  }, function () { ask("The gateway did not answer: reload the page to try again."); });
})();
`;
}

let rendered: { options: string; html: string } | undefined;

/** GraphiQL from the installed package (no internet needed), started by the key bootstrap above; 9 MB, kept. */
export function renderGatewayGraphiQL(options: GraphiQLOptions & { endpoint?: string }): string {
  if (rendered?.options === JSON.stringify(options)) return rendered.html;
  const html = renderGraphiQL(options);
  const start = html.lastIndexOf("YogaGraphiQL.renderYogaGraphiQL(");
  const end = html.indexOf("</script>", start);
  if (start < 0 || end < 0) throw new Error("@graphql-yoga/render-graphiql changed: GraphiQL's start call not found");
  const page = `${html.slice(0, start)}${bootstrap({ ...options, endpoint: options.endpoint ?? "/graphql" })}${html.slice(end)}`;
  rendered = { options: JSON.stringify(options), html: page };
  return page;
}
