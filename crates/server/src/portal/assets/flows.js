// The flow runner (/portal/flows): builds OAuth 2.0 / OpenID Connect
// requests in the browser, sends them to this server, and shows each raw
// exchange with every parameter and field explained.
//
// State lives in this tab only: tokens, results, the pending code flow
// (state, nonce, code_verifier) and typed secrets go to sessionStorage so
// that they survive the trip to the sign-in page and back; nothing else
// leaves the page but the requests themselves, which go to this server.

import { config } from "./portal.js";

const cfg = config();
const endpoints = cfg.endpoints || {};
const redirectUri = cfg.redirect_uri || location.origin + location.pathname;

// ---------------------------------------------------------------------------
// Storage (sessionStorage: this tab only, gone when it closes)
// ---------------------------------------------------------------------------

const KEYS = {
  tokens: "latchkey.flows.tokens",
  results: "latchkey.flows.results",
  pending: "latchkey.flows.pending",
  client: "latchkey.flows.client",
  secrets: "latchkey.flows.secrets",
  counter: "latchkey.flows.counter",
};
const MAX_RESULTS = 30;

function load(key, fallback) {
  try {
    const text = sessionStorage.getItem(key);
    return text ? JSON.parse(text) : fallback;
  } catch {
    return fallback;
  }
}

function save(key, value) {
  try {
    if (value === undefined || value === null) sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or disabled: the page still works until it is reloaded.
  }
}

// Tokens by slot: access_token, refresh_token, id_token, exchanged_token.
// Each is { value, client_id, via, at, revoked? }.
let tokens = load(KEYS.tokens, {});
// Exchange records, newest first (see `send`).
let results = load(KEYS.results, []);

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

// Creates an element: h("p", { class: "hint" }, "text", child…).
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

const $ = (id) => document.getElementById(id);
const code = (text) => h("code", {}, text);

function b64url(bytes) {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// n random bytes as base64url (32 bytes: a 43-character PKCE verifier).
function randomToken(n) {
  return b64url(crypto.getRandomValues(new Uint8Array(n)));
}

function b64urlDecode(s) {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4);
  const bin = atob(b64);
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

// Header and claims of a JWT, or null when it is not one.
function decodeJwt(token) {
  if (typeof token !== "string") return null;
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    return { header: JSON.parse(b64urlDecode(parts[0])), claims: JSON.parse(b64urlDecode(parts[1])) };
  } catch {
    return null;
  }
}

// One value, application/x-www-form-urlencoded (as RFC 6749 §2.3.1 wants
// for the Basic credentials).
function formEncode(value) {
  return new URLSearchParams([["v", value]]).toString().slice(2);
}

function shorten(value, max = 48) {
  const s = String(value);
  return s.length > max ? s.slice(0, max - 1) + "…" : s;
}

// "2026-11-27 02:27:19 UTC (in 5 min)" for a NumericDate.
function when(seconds) {
  if (typeof seconds !== "number") return "";
  const date = new Date(seconds * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  const delta = Math.round(seconds - Date.now() / 1000);
  const abs = Math.abs(delta);
  const span = abs < 90 ? `${abs} s` : abs < 5400 ? `${Math.round(abs / 60)} min` : abs < 172800 ? `${Math.round(abs / 3600)} h` : `${Math.round(abs / 86400)} days`;
  return `${date} (${delta >= 0 ? "in " + span : span + " ago"})`;
}

function safeHttpUrl(u) {
  try {
    const url = new URL(u, location.href);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

function jwtLink(token) {
  return `${cfg.portal}/jwt#token=${encodeURIComponent(token)}`;
}

// ---------------------------------------------------------------------------
// What each part means: one short sentence per parameter, header and field
// ---------------------------------------------------------------------------

const GRANT_TYPES = {
  authorization_code: "redeems an authorization code for tokens (RFC 6749 §4.1.3)",
  client_credentials: "the client asks for a token for itself, no user involved (RFC 6749 §4.4)",
  refresh_token: "trades a refresh token for new tokens (RFC 6749 §6)",
  "urn:ietf:params:oauth:grant-type:token-exchange": "trades a token for another, narrower one (RFC 8693)",
};

const PARAMS = {
  response_type: () => "asks for an authorization code (code is the only response type this server supports)",
  client_id: (v, kind) =>
    kind === "authorize" ? "which registered client is asking" : "names the client; a public client has no secret, so this is all it sends",
  client_secret: () => "the client's secret in the form body (client_secret_post); the Basic header is the default",
  redirect_uri: (v, kind) =>
    kind === "authorize"
      ? "where the server sends the user back; must be registered for the client, character for character"
      : "the same redirect URI as in the authorization request, as RFC 6749 §4.1.3 requires",
  scope: (v, kind) =>
    ({
      authorize: "what is asked for: openid for an ID token, offline_access for a refresh token, API scopes for the API",
      client_credentials: "the API permissions the client wants in this token; only scopes registered for it",
      refresh_token: "narrows the new tokens; never more than the original grant",
      exchange: "narrows the new token: within the subject token's scopes and the client's",
    })[kind] || "the requested permissions",
  state: () => "random value this page keeps and checks on return: a response without it is forged (CSRF protection)",
  nonce: () => "random value the server copies into the ID token, binding that token to this request (replay protection)",
  code_challenge: () => "base64url SHA-256 of the code_verifier (RFC 7636); the verifier itself stays here until the token request",
  code_challenge_method: () => "S256: the challenge is a SHA-256 digest (plain is refused)",
  resource: (v, kind) =>
    kind === "exchange" ? "the API the new token is for (RFC 8707); becomes its aud" : "the API the token is for (RFC 8707); becomes the access token's aud",
  prompt: () => "whether the server may or must show its pages: login re-asks the password, consent re-asks, none shows nothing",
  grant_type: (v) => GRANT_TYPES[v] || "which grant this token request uses",
  code: (v, kind) =>
    kind === "callback" ? "the one-time authorization code: short-lived, redeemable once, only by this client" : "the one-time code from the redirect; it is spent by this request",
  code_verifier: () => "proves this client started the request: its SHA-256 must equal the code_challenge sent earlier (RFC 7636)",
  refresh_token: () => "the refresh token being used; this request spends it and the answer holds its successor (rotation)",
  subject_token: () => "the token being exchanged: whose authority the new token carries",
  subject_token_type: () => "says the subject token is an access token (RFC 8693 §3)",
  audience: () => "the target service by name; here it takes an API identifier too",
  token: (v, kind) => (kind === "revoke" ? "the token to revoke" : "the token to ask about"),
  token_type_hint: () => "which kind of token this is likely to be: only orders the server's look-ups",
  iss: () => "the issuer that answered (RFC 9207): it must be the one the request went to, against mix-up attacks",
  error: () => "the error code: why the request was not granted",
  error_description: () => "a human-readable explanation for the developer",
  error_uri: () => "a page that explains this error and how to fix it",
};

const REQUEST_HEADERS = {
  host: () => "the server the request goes to",
  accept: () => "asks for a JSON answer",
  "content-type": () => "the body is a form, as the token, introspection and revocation endpoints require (RFC 6749 §3.2)",
  authorization: (v) =>
    /^basic /i.test(v)
      ? "client authentication: base64 of client_id:client_secret, each form-urlencoded first (RFC 6749 §2.3.1)"
      : "the access token, sent as a bearer token in the header (RFC 6750 §2.1), never in the URL",
};

const RESPONSE_HEADERS = {
  "content-type": "the format of the body",
  "cache-control": "no-store: responses with tokens must not be cached anywhere (RFC 6749 §5.1)",
  pragma: "no-cache, the same for old HTTP/1.0 caches",
  "www-authenticate": "how to authenticate here: the scheme and, for bearer tokens, the error (RFC 6750 §3)",
  "x-request-id": "this request's trace id: quote it when you report a problem",
  "access-control-allow-origin": "CORS: browser apps of any origin may read this answer (it needs no cookies)",
  "retry-after": "seconds to wait before trying again",
};

const FIELDS = {
  access_token: "the credential to call the API with; here a signed JWT (decoded below)",
  token_type: "Bearer: whoever holds the token can use it, so keep it secret (RFC 6750)",
  expires_in: "seconds until the access token expires",
  scope: "the scopes granted: what the token allows (may be fewer than asked for)",
  refresh_token: "gets new tokens without the user (offline_access); opaque and single use: each use returns a new one",
  id_token: "who signed in and how, for this client only: validate it (iss, aud, exp, nonce); never send it to an API",
  issued_token_type: "the kind of token the exchange issued (RFC 8693 §2.2.1)",
  active: "whether the token is valid now and the caller may know about it; false says nothing more, on purpose",
  client_id: "the client the token was issued to",
  sub: "the subject: a user's id, or client:<id> for a client's own token",
  aud: "the audience: the API (or this server) the token is for",
  iss: "the issuer that signed the token",
  exp: "when the token expires",
  iat: "when the token was issued",
  nbf: "the token is not valid before this time",
  jti: "the token's unique id: revoking an access token denies this id",
  sid: "the sign-in session behind the token: ending the session ends the token",
  auth_time: "when the user signed in",
  acr: "how strongly the user authenticated",
  amr: "the methods the user authenticated with (pwd, otp…)",
  act: "who acts on the subject's behalf, after a token exchange (RFC 8693 §4.1)",
  nonce: "the nonce from the authorization request: must equal the one this page sent",
  at_hash: "half of the access token's hash: binds the ID token to that access token",
  azp: "the authorized party: the client the ID token was issued to",
  preferred_username: "the user's username (profile scope)",
  name: "the user's full name (profile scope)",
  updated_at: "when the user's profile last changed (profile scope)",
  email: "the user's email address (email scope)",
  email_verified: "whether the address was verified (email scope)",
  error: "the error code (RFC 6749 §5.2): what kind of problem",
  error_description: "a human-readable explanation for the developer",
  error_uri: "a page explaining this error and its usual fixes",
  trace_id: "this request's id in the server's log: look it up to see the precise reason",
};
const TIME_FIELDS = new Set(["exp", "iat", "nbf", "auth_time", "updated_at"]);

// ---------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------

const USER_SCOPES = ["openid", "profile", "email", "offline_access"];
const resources = cfg.resources || [];
const apiScopes = [...new Set(resources.flatMap((r) => r.scopes || []))];

// Clients offered in the list: the developer's own sandbox clients, then
// the --dev sandbox's. Secrets are known only for the latter.
const known = [
  ...(cfg.own_clients || []).map((c) => ({
    key: "own:" + c.id, group: "own", id: c.id, name: c.name, kind: c.kind,
    scopes: c.scopes ? String(c.scopes).split(" ").filter(Boolean) : null, redirect_uris: c.redirect_uris || [],
  })),
  ...(cfg.dev_clients || []).map((c) => ({ key: "dev:" + c.id, group: "dev", id: c.id, name: c.id, kind: c.kind, secret: c.secret })),
];

const typedSecrets = () => load(KEYS.secrets, {});

function selectedEntry() {
  const key = $("client-select").value;
  return known.find((c) => c.key === key) || null;
}

// The client the next request is made as: { id, kind, secret, auth }.
function currentClient() {
  const entry = selectedEntry();
  const id = entry ? entry.id : $("client-id").value.trim();
  const kind = entry ? entry.kind : document.querySelector("input[name=client-kind]:checked").value;
  const secret = kind === "confidential" ? $("client-secret").value : "";
  const auth = kind === "confidential" ? $("client-auth").value : "none";
  return { id, kind, secret, auth, key: entry ? entry.key : "custom" };
}

function fillClientSelect() {
  const select = $("client-select");
  const groups = [
    ["own", "Your sandbox clients"],
    ["dev", "Development sandbox (--dev)"],
  ];
  for (const [group, label] of groups) {
    const list = known.filter((c) => c.group === group);
    if (!list.length) continue;
    const og = h("optgroup", { label });
    for (const c of list) {
      const name = c.name && c.name !== c.id ? `${c.name} (${c.id})` : c.id;
      og.append(h("option", { value: c.key }, `${name}: ${c.kind}`));
    }
    select.append(og);
  }
  select.append(h("option", { value: "custom" }, "Another client: type its client ID"));
}

// Puts a client into the form: a known one by key, or a typed one.
function selectClient({ key, id, kind, auth }) {
  const select = $("client-select");
  // A typed client stays typed; a bare ID (?client_id=) finds its entry.
  const entry = known.find((c) => c.key === key) || (key !== "custom" && id && known.find((c) => c.id === id));
  if (entry) {
    select.value = entry.key;
  } else {
    select.value = "custom";
    if (id) $("client-id").value = id;
    const radio = document.querySelector(`input[name=client-kind][value="${kind === "confidential" ? "confidential" : "public"}"]`);
    radio.checked = true;
  }
  if (auth === "basic" || auth === "post") $("client-auth").value = auth;
  clientChanged();
}

// Shows what fits the client chosen, sets the scope defaults, remembers
// the choice for this tab.
function clientChanged() {
  const entry = selectedEntry();
  $("client-custom").hidden = !!entry;
  const c = currentClient();
  $("client-secret-box").hidden = c.kind !== "confidential";
  // The secret: from the --dev configuration, else typed earlier in this tab.
  const secret = entry && entry.secret ? entry.secret : typedSecrets()[c.id] || "";
  if (c.kind === "confidential") $("client-secret").value = secret;
  $("client-secret").readOnly = !!(entry && entry.secret);

  const summary = $("client-summary");
  summary.replaceChildren();
  if (entry && entry.group === "own") {
    summary.append(`Your ${entry.kind} sandbox client. Scopes: `, code(entry.scopes ? entry.scopes.join(" ") : "none"), ". Redirect URIs: ",
      ...entry.redirect_uris.flatMap((u, i) => [i ? ", " : "", code(u)]), ".");
    if (entry.kind === "confidential") summary.append(" Its secret was shown once, when you created it: paste it below.");
  } else if (entry && entry.id === "sandbox-spa") {
    summary.append("The development sandbox's public client (a single-page app): code + PKCE and refresh, no secret.");
  } else if (entry && entry.id === "sandbox-service") {
    summary.append("The development sandbox's confidential client (a backend service): client credentials and token exchange, HTTP Basic; it may introspect access tokens for the sandbox API.");
  } else if (entry) {
    summary.append(`A ${entry.kind} client.`);
  } else {
    summary.append("Type the client's ID and say whether it has a secret. For the code flow, its redirect URIs must include this page.");
  }

  // Scope defaults for the client: what it may ask for.
  const scopes = entry && entry.scopes;
  $("code-scope").value = scopes
    ? scopes.filter((s) => USER_SCOPES.includes(s)).join(" ") || scopes.join(" ")
    : c.id === "sandbox-spa" ? "openid profile email offline_access" : "openid profile offline_access";
  $("cc-scope").value = scopes ? scopes.filter((s) => !USER_SCOPES.includes(s)).join(" ") : (resources[0]?.scopes || []).join(" ");

  save(KEYS.client, { key: c.key, id: c.id, kind: c.kind, auth: c.auth });
  renderTokens();
}

// ---------------------------------------------------------------------------
// Tokens held
// ---------------------------------------------------------------------------

const SLOT_LABELS = {
  access_token: "Access token",
  refresh_token: "Refresh token",
  id_token: "ID token",
  exchanged_token: "Exchanged access token",
};

function keep(slot, value, via) {
  if (!value) {
    delete tokens[slot];
    return;
  }
  tokens[slot] = { value, client_id: currentClient().id, via, at: Date.now() };
}

function saveTokens() {
  save(KEYS.tokens, tokens);
  renderTokens();
}

function renderTokens() {
  const box = $("tokens");
  const slots = Object.keys(SLOT_LABELS).filter((s) => tokens[s]);
  if (!slots.length) {
    box.replaceChildren(h("p", { class: "hint" }, "None yet."));
  } else {
    const rows = slots.map((s) => {
      const t = tokens[s];
      const jwt = decodeJwt(t.value);
      return h("tr", {},
        h("th", { scope: "row" }, SLOT_LABELS[s], t.revoked ? h("span", { class: "badge" }, " revocation sent") : null),
        h("td", {}, code(t.client_id || "?"), h("br"), h("span", { class: "hint" }, t.via)),
        h("td", {}, code(shorten(t.value, 32)),
          jwt ? [" ", h("a", { href: jwtLink(t.value) }, "Decode", h("span", { class: "visually-hidden" }, ` the ${SLOT_LABELS[s].toLowerCase()}`))] : null,
          jwt && typeof jwt.claims.exp === "number" ? [h("br"), h("span", { class: "hint" }, "expires " + when(jwt.claims.exp))] : null));
    });
    box.replaceChildren(h("div", { class: "table-wrap", tabindex: "0" }, h("table", {},
      h("caption", { class: "visually-hidden" }, "Tokens held in this tab"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Token"), h("th", { scope: "col" }, "Issued to, by"), h("th", { scope: "col" }, "Value"))),
      h("tbody", {}, rows))));
  }

  // The token choices in the forms follow what is held.
  for (const select of document.querySelectorAll(".token-select")) {
    const previous = select.value;
    const options = select.dataset.slots.split(" ").filter((s) => tokens[s]).map((s) =>
      h("option", { value: s }, `${SLOT_LABELS[s]} (${tokens[s].client_id}, ${tokens[s].via}): ${shorten(tokens[s].value, 20)}`));
    options.push(h("option", { value: "custom" }, "A token I paste"));
    select.replaceChildren(...options);
    // Keep the choice, unless it was "paste" only because nothing was held.
    const pasted = previous === "custom" && $(select.id + "-custom").value.trim();
    if (previous && previous !== "custom" && [...select.options].some((o) => o.value === previous)) select.value = previous;
    else if (pasted) select.value = "custom";
    showCustomToken(select);
  }
  const r = tokens.refresh_token;
  const held = $("refresh-held");
  held.replaceChildren();
  if (r) {
    held.append("Refresh token held: ", code(shorten(r.value, 20)), ` issued to ${r.client_id}. `);
    if (r.client_id !== currentClient().id) {
      held.append(h("strong", {}, `The client chosen above is not ${r.client_id}:`), " the server takes a refresh token from another client as stolen and ends its grant.");
    }
  } else {
    held.append("No refresh token held yet: run the code flow with offline_access first.");
  }
}

function showCustomToken(select) {
  const box = document.querySelector(`.custom-token[data-for="${select.id}"]`);
  if (box) box.hidden = select.value !== "custom";
}

// The token a form's select points at, or "" if none.
function chosenToken(selectId) {
  const select = $(selectId);
  if (select.value === "custom") return $(selectId + "-custom").value.trim().replace(/^Bearer\s+/i, "");
  return tokens[select.value]?.value || "";
}

// ---------------------------------------------------------------------------
// Sending a request and recording the exchange
// ---------------------------------------------------------------------------

function nextNumber() {
  const n = (load(KEYS.counter, 0) || 0) + 1;
  save(KEYS.counter, n);
  return n;
}

function addRecord(record) {
  results.unshift(record);
  results = results.slice(0, MAX_RESULTS);
  save(KEYS.results, results);
  $("results").prepend(renderRecord(record));
}

function status(text) {
  $("flow-status").replaceChildren(h("p", {}, text));
}

// Client authentication for the back-channel endpoints: the Basic header,
// the secret in the form, or (public client) the client_id alone.
function authenticate(client, params, headers) {
  if (client.auth === "basic") {
    headers.push(["Authorization", "Basic " + btoa(formEncode(client.id) + ":" + formEncode(client.secret))]);
  } else if (client.auth === "post") {
    params.push(["client_id", client.id], ["client_secret", client.secret]);
  } else {
    params.push(["client_id", client.id]);
  }
}

// The protocol the browser used for `url`, when Resource Timing says.
function protocolOf(url) {
  const entries = performance.getEntriesByName ? performance.getEntriesByName(url, "resource") : [];
  const p = entries.length ? entries[entries.length - 1].nextHopProtocol : "";
  if (p === "h2") return "HTTP/2";
  if (p === "h3") return "HTTP/3";
  if (p === "http/1.0") return "HTTP/1.0";
  return "HTTP/1.1";
}

// Sends one request and records it. `params` is a list of [name, value]
// (sent as a form body for POST); `headers` a list of [name, value].
// Returns the record; its `response.json` is the parsed body, if JSON.
async function send({ title, kind, method, url, headers = [], params = null, notes = [] }) {
  const request = { method, url, headers: [["Accept", "application/json"], ...headers], params, body: null };
  if (params) {
    request.headers.splice(1, 0, ["Content-Type", "application/x-www-form-urlencoded"]);
    request.body = new URLSearchParams(params).toString();
  }
  const record = { n: nextNumber(), title, kind, at: Date.now(), request, response: null, notes };
  status(`Sending ${method} ${new URL(url).pathname}…`);
  try {
    // No cookies: a client calls these endpoints with its own credentials
    // only, and so does this page.
    const res = await fetch(url, {
      method,
      headers: request.headers,
      body: request.body ?? undefined,
      credentials: "omit",
      cache: "no-store",
    });
    const text = await res.text();
    let json = null;
    if ((res.headers.get("content-type") || "").includes("json")) {
      try { json = JSON.parse(text); } catch { json = null; }
    }
    record.response = {
      status: res.status,
      statusText: res.statusText,
      protocol: protocolOf(url),
      headers: [...res.headers],
      text,
      json,
    };
  } catch (e) {
    record.response = { failed: String(e && e.message ? e.message : e) };
  }
  return record;
}

// After `send`: notes, storage, the record shown, the status announced.
function finish(record, summary) {
  addRecord(record);
  const r = record.response;
  const outcome = r.failed
    ? `failed: ${r.failed}`
    : `${r.status} ${r.statusText}${r.json && r.json.error ? `, ${r.json.error}` : ""}`;
  status(`${record.n}. ${record.title}: ${outcome}.${summary ? " " + summary : ""} Shown below.`);
}

// ---------------------------------------------------------------------------
// Rendering a record
// ---------------------------------------------------------------------------

const revealed = new Set();

function maskedHeader(name, value, reveal) {
  if (name.toLowerCase() !== "authorization" || reveal) return value;
  if (/^basic /i.test(value)) return "Basic ‹hidden: base64 of client_id:client_secret›";
  if (/^bearer /i.test(value)) return "Bearer ‹hidden: the access token›";
  return "‹hidden›";
}

function hasSecrets(request) {
  return request.headers.some(([n]) => n.toLowerCase() === "authorization") ||
    (request.params || []).some(([n]) => n === "client_secret");
}

function rawRequest(request, reveal) {
  const u = new URL(request.url);
  const lines = [`${request.method} ${u.pathname}${u.search} HTTP/1.1`, `Host: ${u.host}`];
  for (const [name, value] of request.headers) lines.push(`${name}: ${maskedHeader(name, value, reveal)}`);
  let text = lines.join("\n");
  if (request.params) {
    const body = request.params
      .map(([k, v]) => `${formEncode(k)}=${k === "client_secret" && !reveal ? "‹hidden›" : formEncode(v)}`)
      .join("&");
    text += "\n\n" + body;
  }
  return text;
}

function rawResponse(response) {
  const lines = [`${response.protocol} ${response.status} ${response.statusText}`.trim()];
  for (const [name, value] of response.headers) lines.push(`${name}: ${value}`);
  let text = lines.join("\n");
  if (response.text) text += "\n\n" + (response.json !== null ? JSON.stringify(response.json, null, 2) : response.text);
  return text;
}

function explainTable(caption, headings, rows) {
  if (!rows.length) return null;
  return h("div", { class: "table-wrap", tabindex: "0" }, h("table", {},
    h("caption", { class: "visually-hidden" }, caption),
    h("thead", {}, h("tr", {}, headings.map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows)));
}

// One row: the name, then its value (shortened: the raw text above has it
// whole) and what it means.
function row(name, value, meaning) {
  const shown = value === null || value === "" ? null : code(shorten(value, 60));
  return h("tr", {}, h("th", { scope: "row" }, name), h("td", {}, shown, shown && meaning ? h("br") : null, meaning));
}

function requestRows(record, reveal) {
  const rows = [];
  const u = new URL(record.request.url);
  rows.push(row("Host", u.host, REQUEST_HEADERS.host()));
  for (const [name, value] of record.request.headers) {
    const explain = REQUEST_HEADERS[name.toLowerCase()];
    rows.push(row(name, maskedHeader(name, value, reveal), explain ? explain(value) : ""));
  }
  // Parameters in the query (authorization request, the redirect back) or the form body.
  const params = record.request.params || [...u.searchParams];
  for (const [name, value] of params) {
    const explain = PARAMS[name];
    const shown = name === "client_secret" && !reveal ? "‹hidden›" : value;
    rows.push(row(name, shown, explain ? explain(value, record.kind) : ""));
  }
  return rows;
}

function responseRows(response) {
  const rows = [];
  for (const [name, value] of response.headers) {
    if (RESPONSE_HEADERS[name]) rows.push(row(name, value, RESPONSE_HEADERS[name]));
  }
  const json = response.json;
  if (json && typeof json === "object" && !Array.isArray(json)) {
    for (const [name, value] of Object.entries(json)) {
      const text = typeof value === "string" ? value : JSON.stringify(value);
      let meaning = FIELDS[name] || "";
      if (TIME_FIELDS.has(name) && typeof value === "number") meaning += `: ${when(value)}`;
      rows.push(row(name, text, meaning));
    }
  }
  return rows;
}

// The server's error, with its links: what it means, and the trace.
function errorBox(json) {
  const links = [];
  const uri = safeHttpUrl(json.error_uri);
  if (uri) links.push(h("a", { href: uri }, `What ${json.error} means and how to fix it`));
  if (json.trace_id) {
    links.push(h("a", { href: `${cfg.portal}/trace?id=${encodeURIComponent(json.trace_id)}` }, `What the server recorded for trace ${json.trace_id}`));
  }
  return h("div", { class: "error-box" },
    h("p", {}, h("strong", {}, json.error), json.error_description ? `: ${json.error_description}` : ""),
    links.length ? h("p", {}, links.flatMap((a, i) => (i ? [" · ", a] : [a]))) : null,
    json.trace_id ? h("p", { class: "hint" }, "The trace shows the precise reason to the client's owner and to portal administrators.") : null);
}

// Decoded JWTs found in a JSON body, each with a link to the decoder.
function decodedTokens(json) {
  if (!json || typeof json !== "object") return [];
  return ["access_token", "id_token"].filter((f) => decodeJwt(json[f])).map((f) => {
    const { header, claims } = decodeJwt(json[f]);
    const times = Object.entries(claims).filter(([k, v]) => TIME_FIELDS.has(k) && typeof v === "number").map(([k, v]) => `${k}: ${when(v)}`);
    return h("details", {},
      h("summary", {}, `Decoded ${f}`),
      h("pre", {}, code(`${JSON.stringify(header, null, 2)}\n.\n${JSON.stringify(claims, null, 2)}`)),
      times.length ? h("p", { class: "hint" }, times.join("; ")) : null,
      h("p", {}, h("a", { href: jwtLink(json[f]) }, `Check this ${f} in the JWT decoder`), h("span", { class: "hint" }, " (signature, claims, expiry; the token stays in your browser)")));
  });
}

function renderNotes(notes) {
  if (!notes || !notes.length) return null;
  return h("ul", { class: "steps" }, notes.map((n) =>
    h("li", {}, n.ok === true ? h("span", { class: "pass" }, "Pass: ") : n.ok === false ? h("span", { class: "fail" }, "Fail: ") : null, n.text)));
}

function renderRecord(record) {
  const reveal = revealed.has(record.n);
  const r = record.response;
  const headingId = `result-${record.n}`;
  const outcome = !r
    ? null
    : r.failed
      ? h("span", { class: "fail" }, "no answer")
      : h("span", { class: r.status < 400 ? "pass" : "fail" }, `${r.status} ${r.statusText}`);

  // The request side.
  const req = h("div", {},
    h("h4", {}, record.kind === "callback" ? "What came back (the redirect to this page)" : "Request, as sent"),
    h("pre", { class: "raw-request" }, code(rawRequest(record.request, reveal))),
    hasSecrets(record.request)
      ? h("button", {
          type: "button", class: "secondary", "aria-pressed": String(reveal),
          onclick: () => {
            if (reveal) revealed.delete(record.n); else revealed.add(record.n);
            const fresh = renderRecord(record);
            document.getElementById(`result-${record.n}-article`).replaceWith(fresh);
            fresh.querySelector("button[aria-pressed]").focus();
          },
        }, reveal ? "Hide the credentials" : "Reveal the credentials")
      : null,
    record.request.method !== "GET" || record.kind === "userinfo"
      ? h("p", { class: "hint" }, "The browser adds its own headers too (User-Agent, Origin, Accept-Encoding…); no cookies are sent.")
      : null,
    h("h5", {}, "What each part means"),
    explainTable("Request parts explained", ["Part", "Value and meaning"], requestRows(record, reveal)));

  // The response side.
  let res;
  if (!r) {
    res = record.kind === "authorize"
      ? h("p", {}, "The browser goes to the authorization endpoint; after sign-in (and consent) the server redirects back to ",
        code(redirectUri), " with code, state and iss (or an error).")
      : null;
  } else if (r.failed) {
    res = h("div", {}, h("h4", {}, "Response"), h("div", { class: "error-box" }, h("p", {}, `The request failed before an answer came back: ${r.failed}`)));
  } else {
    res = h("div", {},
      h("h4", {}, "Response"),
      h("pre", { class: "raw-response" }, code(rawResponse(r))),
      r.text ? null : h("p", { class: "hint" }, "The body is empty."),
      r.json && r.json.error ? errorBox(r.json) : null,
      h("h5", {}, "What each field means"),
      explainTable("Response headers and fields explained", ["Field", "Value and meaning"], responseRows(r)),
      decodedTokens(r.json));
  }
  if (record.kind === "callback" && record.error) res = h("div", {}, h("h4", {}, "The error"), errorBox(record.error));

  return h("article", {
    class: "exchange", id: `${headingId}-article`, "aria-labelledby": headingId,
    "data-kind": record.kind, "data-status": r && !r.failed ? String(r.status) : "",
  },
    h("h3", { id: headingId }, `${record.n}. ${record.title} `, outcome),
    renderNotes(record.notes),
    // Side by side when there is a response; the front-channel steps have
    // only the request.
    r || (record.kind === "callback" && record.error) ? h("div", { class: "grid2" }, req, res) : [req, res]);
}

function renderResults() {
  $("results").replaceChildren(...results.map(renderRecord));
}

// ---------------------------------------------------------------------------
// The steps
// ---------------------------------------------------------------------------

function needClient(c) {
  if (!c.id) {
    status("Choose a client first, or type its client ID.");
    $("client-select").focus();
    return false;
  }
  if (c.kind === "confidential" && !c.secret) {
    status("This confidential client needs its secret: type it in the Client secret field.");
    $("client-secret").focus();
    return false;
  }
  return true;
}

async function withBusy(form, work) {
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  $("results").setAttribute("aria-busy", "true");
  try {
    await work();
  } catch (e) {
    status(`Something went wrong in this page: ${e && e.message ? e.message : e}`);
  } finally {
    button.disabled = false;
    $("results").removeAttribute("aria-busy");
  }
}

// Code + PKCE, part 1: make the secrets, show the request, wait for "Continue".
let pendingUrl = null;
async function prepareAuthorization() {
  const c = currentClient();
  if (!needClient(c)) return;
  if (!crypto.subtle) {
    status("This browser offers no WebCrypto here (it needs HTTPS or localhost), so the page cannot compute the PKCE challenge.");
    return;
  }
  const codeVerifier = randomToken(32);
  const state = randomToken(16);
  const nonce = randomToken(16);
  const codeChallenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(codeVerifier)));
  const scope = $("code-scope").value.trim().replace(/\s+/g, " ");
  const resource = $("code-resource").value;
  const prompt = $("code-prompt").value;
  const params = [
    ["response_type", "code"],
    ["client_id", c.id],
    ["redirect_uri", redirectUri],
  ];
  if (scope) params.push(["scope", scope]);
  params.push(["state", state], ["nonce", nonce], ["code_challenge", codeChallenge], ["code_challenge_method", "S256"]);
  if (resource) params.push(["resource", resource]);
  if (prompt) params.push(["prompt", prompt]);
  const url = `${endpoints.authorization}?${new URLSearchParams(params)}`;

  // What the redirect back must match, and the verifier for the token request.
  save(KEYS.pending, {
    state, nonce, code_verifier: codeVerifier, code_challenge: codeChallenge, redirect_uri: redirectUri,
    client: { key: c.key, id: c.id, kind: c.kind, auth: c.auth }, scope, resource, at: Date.now(),
  });
  pendingUrl = url;
  const record = {
    n: nextNumber(), title: "Authorization request (the browser goes to the server)", kind: "authorize", at: Date.now(),
    request: { method: "GET", url, headers: [], params: null }, response: null,
    notes: [
      { text: `Kept in this tab for the way back: state ${state}, nonce ${nonce}, and the code_verifier ${codeVerifier} (sent only with the token request, so a stolen code is useless without it).` },
    ],
  };
  addRecord(record);
  $("code-prepared").hidden = false;
  status(`${record.n}. Authorization request prepared: read it below, then continue to the authorization server.`);
  $("code-go").focus();
}

function continueAuthorization() {
  if (!pendingUrl || !load(KEYS.pending, null)) {
    status("Prepare the authorization request first.");
    return;
  }
  location.assign(pendingUrl);
}

// Code + PKCE, part 2: this page is the redirect URI. Checks what came
// back, then redeems the code.
async function handleRedirect() {
  const query = new URLSearchParams(location.search);
  if (!query.has("code") && !query.has("error")) return;
  const arrived = location.href;
  // The code is single use and should not stay in the address bar or
  // history, nor be sent again by a reload.
  const kept = new URLSearchParams([...query].filter(([k]) => !["code", "state", "iss", "error", "error_description", "error_uri", "session_state"].includes(k)));
  history.replaceState(null, "", location.pathname + (kept.toString() ? "?" + kept : "") + location.hash);

  const pending = load(KEYS.pending, null);
  save(KEYS.pending, null); // one answer per request
  selectTab("code");
  if (pending) selectClient(pending.client);

  const notes = [];
  const record = {
    n: nextNumber(), title: "Authorization response (redirect back to this page)", kind: "callback", at: Date.now(),
    request: { method: "GET", url: arrived, headers: [], params: null }, response: null, notes,
  };
  const got = Object.fromEntries(query);
  let ok = true;
  if (!pending) {
    ok = false;
    notes.push({ ok: false, text: "No authorization request from this tab is waiting for an answer, so this one is refused: a response this page did not ask for may be an attacker's, made to sign you in to their account (login CSRF). Start the flow again from this page." });
  } else if (got.state !== pending.state) {
    ok = false;
    notes.push({ ok: false, text: `state does not match: sent ${pending.state}, got ${got.state ?? "none"}. Refused: the state is what ties the answer to the request this tab made; without a match it could be a forged redirect (CSRF, RFC 6749 §10.12). The code is not redeemed.` });
  } else {
    notes.push({ ok: true, text: "state matches the value this tab sent: the answer belongs to our request (CSRF protection)." });
  }
  if (ok) {
    if (!got.iss) {
      ok = false;
      notes.push({ ok: false, text: "No iss parameter: this server always sends one (RFC 9207), so the answer is refused." });
    } else if (got.iss !== cfg.issuer) {
      ok = false;
      notes.push({ ok: false, text: `iss is ${got.iss}, not ${cfg.issuer}: the answer came from another server (mix-up attack, RFC 9207). Refused.` });
    } else {
      notes.push({ ok: true, text: "iss is this server (RFC 9207): no mix-up with another authorization server." });
    }
  }
  if (got.error) {
    record.error = { error: got.error, error_description: got.error_description, error_uri: got.error_uri };
    notes.push({ text: `The server answered with an error instead of a code: ${got.error}. Nothing to redeem.` });
  }
  addRecord(record);
  if (!ok || got.error || !got.code) {
    status(`${record.n}. The authorization response was ${got.error ? "an error" : "refused"}: see below.`);
    return;
  }

  const c = currentClient();
  if (c.kind === "confidential" && !c.secret) {
    status("The code came back, but no secret is known for this confidential client in this tab: type the secret and run the flow again.");
    return;
  }
  const params = [
    ["grant_type", "authorization_code"],
    ["code", got.code],
    ["redirect_uri", pending.redirect_uri],
    ["code_verifier", pending.code_verifier],
  ];
  const headers = [];
  authenticate(c, params, headers);
  const result = await send({ title: "Token request: authorization_code", kind: "token", method: "POST", url: endpoints.token, headers, params });
  const json = result.response.json;
  let summary = "";
  if (json && json.access_token) {
    keep("access_token", json.access_token, "authorization_code");
    keep("refresh_token", json.refresh_token, "authorization_code");
    keep("id_token", json.id_token, "authorization_code");
    saveTokens();
    result.notes.push({ ok: true, text: "The code was redeemed with the code_verifier: tokens received and kept in this tab for the next steps." });
    if (json.id_token) {
      const idt = decodeJwt(json.id_token);
      const nonceOk = idt && idt.claims.nonce === pending.nonce;
      result.notes.push({ ok: nonceOk, text: nonceOk ? "The ID token's nonce is the one this tab sent." : "The ID token's nonce is not the one this tab sent: do not accept this ID token." });
      if (idt && idt.claims.aud !== c.id && !(Array.isArray(idt.claims.aud) && idt.claims.aud.includes(c.id))) {
        result.notes.push({ ok: false, text: `The ID token's aud is not ${c.id}.` });
      }
    }
    if (!json.refresh_token) result.notes.push({ text: "No refresh token: ask for offline_access (and the client must be allowed the refresh grant)." });
    summary = "Tokens received.";
  }
  finish(result, summary);
}

async function clientCredentials() {
  const c = currentClient();
  if (!needClient(c)) return;
  const params = [["grant_type", "client_credentials"]];
  const scope = $("cc-scope").value.trim().replace(/\s+/g, " ");
  if (scope) params.push(["scope", scope]);
  if ($("cc-resource").value) params.push(["resource", $("cc-resource").value]);
  const headers = [];
  authenticate(c, params, headers);
  const result = await send({ title: "Token request: client_credentials", kind: "client_credentials", method: "POST", url: endpoints.token, headers, params });
  const json = result.response.json;
  if (json && json.access_token) {
    keep("access_token", json.access_token, "client_credentials");
    saveTokens();
    result.notes.push({ ok: true, text: "An access token for the client itself (its sub is client:<id>). Kept as the current access token." });
  }
  finish(result, json && json.access_token ? "Access token received." : "");
}

async function refresh() {
  const c = currentClient();
  if (!needClient(c)) return;
  const held = tokens.refresh_token;
  if (!held) {
    status("No refresh token held: run the code flow with offline_access first.");
    return;
  }
  const params = [["grant_type", "refresh_token"], ["refresh_token", held.value]];
  const scope = $("refresh-scope").value.trim().replace(/\s+/g, " ");
  if (scope) params.push(["scope", scope]);
  const headers = [];
  authenticate(c, params, headers);
  const result = await send({ title: "Token request: refresh_token", kind: "refresh_token", method: "POST", url: endpoints.token, headers, params });
  const json = result.response.json;
  let summary = "";
  if (json && json.access_token) {
    keep("access_token", json.access_token, "refresh_token");
    if (json.id_token) keep("id_token", json.id_token, "refresh_token");
    if (json.refresh_token) keep("refresh_token", json.refresh_token, "refresh_token");
    saveTokens();
    if (json.refresh_token && json.refresh_token !== held.value) {
      result.notes.push({ ok: true, text: "Rotated: the new refresh token differs from the one sent. The old one is spent; presenting it again would revoke the whole grant (reuse detection, RFC 9700 §4.14)." });
      summary = "Refresh token rotated.";
    } else {
      result.notes.push({ ok: false, text: "The refresh token was not rotated." });
    }
  }
  finish(result, summary);
}

async function exchange() {
  const c = currentClient();
  if (!needClient(c)) return;
  const subject = chosenToken("exchange-token");
  if (!subject) {
    status("No subject token: get an access token first, or paste one.");
    return;
  }
  const params = [
    ["grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"],
    ["subject_token", subject],
    ["subject_token_type", "urn:ietf:params:oauth:token-type:access_token"],
  ];
  const audience = $("exchange-audience").value.trim();
  if (audience) params.push(["audience", audience]);
  if ($("exchange-resource").value) params.push(["resource", $("exchange-resource").value]);
  const scope = $("exchange-scope").value.trim().replace(/\s+/g, " ");
  if (scope) params.push(["scope", scope]);
  const headers = [];
  authenticate(c, params, headers);
  const result = await send({ title: "Token request: token exchange", kind: "exchange", method: "POST", url: endpoints.token, headers, params });
  const json = result.response.json;
  if (json && json.access_token) {
    keep("exchanged_token", json.access_token, "token exchange");
    saveTokens();
    const act = decodeJwt(json.access_token)?.claims.act;
    result.notes.push({ ok: true, text: act ? `A new token for the same subject; act says ${act.sub} acts on the subject's behalf.` : "A new token for the same subject (impersonation: no act claim)." });
  } else if (c.kind === "public") {
    result.notes.push({ text: "Only confidential clients may exchange tokens: choose one above (sandbox-service in the development sandbox)." });
  } else if (json && json.error === "invalid_grant" && /not issued for this client/.test(json.error_description || "")) {
    result.notes.push({ text: "A client may exchange only tokens meant for it: the subject token's aud must name the client, or an API it is registered to exchange tokens for (its token exchange subject audiences)." });
  }
  finish(result, json && json.access_token ? "Exchanged token received." : "");
}

async function introspect() {
  const c = currentClient();
  if (!needClient(c)) return;
  const token = chosenToken("introspect-token");
  if (!token) {
    status("No token to introspect: get one first, or paste one.");
    return;
  }
  const params = [["token", token]];
  if ($("introspect-hint").value) params.push(["token_type_hint", $("introspect-hint").value]);
  const headers = [];
  authenticate(c, params, headers);
  const result = await send({ title: "Introspection", kind: "introspect", method: "POST", url: endpoints.introspection, headers, params });
  const json = result.response.json;
  let summary = "";
  if (json && json.active === true) {
    result.notes.push({ text: "active: true: the token is valid now, and this client may know about it." });
    summary = "The token is active.";
  } else if (json && json.active === false) {
    result.notes.push({ text: "active: false: the token is invalid, expired, revoked, its session ended, or this client may not ask about it. The server does not say which, on purpose." });
    summary = "The token is not active.";
  }
  finish(result, summary);
}

async function revoke() {
  const c = currentClient();
  if (!needClient(c)) return;
  const slot = $("revoke-token").value;
  const token = chosenToken("revoke-token");
  if (!token) {
    status("No token to revoke: get one first, or paste one.");
    return;
  }
  const params = [["token", token]];
  if ($("revoke-hint").value) params.push(["token_type_hint", $("revoke-hint").value]);
  const headers = [];
  authenticate(c, params, headers);
  const result = await send({ title: "Revocation", kind: "revoke", method: "POST", url: endpoints.revocation, headers, params });
  if (result.response.status === 200) {
    result.notes.push({ text: "200 whether or not anything was revoked (RFC 7009 §2.2): only the client the token was issued to can revoke it. Introspect the token now: it should read active: false." });
    if (tokens[slot]) {
      tokens[slot].revoked = true;
      saveTokens();
    }
  }
  finish(result, result.response.status === 200 ? "Introspect the token to see the effect." : "");
}

async function userinfo() {
  const token = chosenToken("userinfo-token");
  if (!token) {
    status("No access token: run the code flow (with openid) first, or paste one.");
    return;
  }
  const result = await send({ title: "UserInfo", kind: "userinfo", method: "GET", url: endpoints.userinfo, headers: [["Authorization", "Bearer " + token]] });
  const json = result.response.json;
  if (json && json.sub) result.notes.push({ text: "Claims about the user the token was issued for; which ones depends on the token's scopes (profile, email)." });
  finish(result, json && json.sub ? `sub is ${json.sub}.` : "");
}

// ---------------------------------------------------------------------------
// Wiring
// ---------------------------------------------------------------------------

const TAB_FOR_GRANT = {
  authorization_code: "code",
  code: "code",
  client_credentials: "cc",
  refresh_token: "refresh",
  refresh: "refresh",
  token_exchange: "exchange",
  "urn:ietf:params:oauth:grant-type:token-exchange": "exchange",
  exchange: "exchange",
  introspection: "introspect",
  introspect: "introspect",
  revocation: "revoke",
  revoke: "revoke",
  userinfo: "userinfo",
};

// portal.js wires the tabs (click and arrow keys): a click selects one.
function selectTab(name) {
  const tab = $("tab-" + name);
  if (tab && tab.getAttribute("aria-selected") !== "true") tab.click();
}

function fillResourceSelects() {
  for (const select of document.querySelectorAll(".resource-select")) {
    const options = [h("option", { value: "" }, select.dataset.none || "Not sent")];
    for (const r of resources) options.push(h("option", { value: r.identifier }, r.identifier));
    select.replaceChildren(...options);
  }
  // Client credentials and exchange are for an API: the first one by default.
  if (resources.length) {
    $("cc-resource").value = resources[0].identifier;
    $("exchange-resource").value = resources[0].identifier;
  }
  const hint = $("scopes-known");
  hint.append("Scopes this server knows: ", ...[...USER_SCOPES, ...apiScopes].flatMap((s, i) => [i ? " " : "", code(s)]), ".");
}

function wire() {
  $("code-redirect").value = redirectUri;
  fillClientSelect();
  fillResourceSelects();

  // The client's fields are a form (for password managers' sake), never submitted.
  $("client-form").addEventListener("submit", (e) => e.preventDefault());
  $("client-select").addEventListener("change", () => clientChanged());
  $("client-id").addEventListener("change", () => clientChanged());
  for (const r of document.querySelectorAll("input[name=client-kind]")) r.addEventListener("change", () => clientChanged());
  $("client-auth").addEventListener("change", () => save(KEYS.client, { ...currentClient(), secret: undefined }));
  $("client-secret").addEventListener("input", () => {
    const c = currentClient();
    if (!c.id || $("client-secret").readOnly) return;
    const secrets = typedSecrets();
    if (c.secret) secrets[c.id] = c.secret; else delete secrets[c.id];
    save(KEYS.secrets, secrets);
  });
  $("client-secret-show").addEventListener("change", (e) => { $("client-secret").type = e.target.checked ? "text" : "password"; });
  $("client-secret-forget").addEventListener("click", () => {
    save(KEYS.secrets, null);
    if (!$("client-secret").readOnly) $("client-secret").value = "";
    status("The secrets typed in this tab are forgotten.");
  });

  const forms = {
    "form-code": prepareAuthorization,
    "form-cc": clientCredentials,
    "form-refresh": refresh,
    "form-exchange": exchange,
    "form-introspect": introspect,
    "form-revoke": revoke,
    "form-userinfo": userinfo,
  };
  for (const [id, run] of Object.entries(forms)) {
    const form = $(id);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      withBusy(form, run);
    });
  }
  $("code-go").addEventListener("click", continueAuthorization);
  for (const select of document.querySelectorAll(".token-select")) select.addEventListener("change", () => showCustomToken(select));
  $("tokens-clear").addEventListener("click", () => {
    tokens = {};
    results = [];
    save(KEYS.tokens, null);
    save(KEYS.results, null);
    save(KEYS.counter, null);
    renderTokens();
    renderResults();
    status("Tokens and results forgotten.");
  });

  // Which client: ?client_id=, else the one used last in this tab, else
  // the developer's first, else the sandbox's.
  const query = new URLSearchParams(location.search);
  const wanted = query.get("client_id");
  const saved = load(KEYS.client, null);
  if (wanted) selectClient({ id: wanted, key: (known.find((c) => c.id === wanted) || {}).key });
  else if (saved) selectClient(saved);
  else if (known.length) selectClient(known[0]);
  else selectClient({ key: "custom" });

  const grant = query.get("grant");
  if (grant && TAB_FOR_GRANT[grant]) selectTab(TAB_FOR_GRANT[grant]);

  renderResults();
  renderTokens();
}

wire();
handleRedirect().catch((e) => status(`Something went wrong in this page: ${e && e.message ? e.message : e}`));
