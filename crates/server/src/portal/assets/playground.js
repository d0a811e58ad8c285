// The policy playground (/portal/playground): ask the live decision engine
// an AuthZEN question and see its answer explained, try a draft of the
// policies without publishing it, replay recent decisions against the
// draft, and keep questions as test cases for `latchkey policy test`.
//
// The backend (crates/server/src/portal/playground.rs):
//   GET  {portal}/api/playground           the active schema, policies, the
//                                          schema's outline, policy_info
//   POST {portal}/api/playground/evaluate  {request, policies?} → decision
//   POST {portal}/api/playground/replay    {policies} → decisions that change
// Explanations reveal policy, so the backend answers only portal
// administrators (everyone signed in on a --dev server).
//
// The request builder has two views, a form generated from the schema's
// outline and a raw JSON editor. They are kept in step as you type: a valid
// change in one is written into the other, so switching views shows the
// same request. Deciding reads the view that is showing.

import { config, api, escapeHtml } from "./portal.js";

const cfg = config();
const $ = (id) => document.getElementById(id);

// The subject type under which a caller passes an access token (its JWT in
// `id`) instead of naming the subject (docs/authorization.md).
const TOKEN_SUBJECT = "access_token";

// localStorage keys. Cases and the draft stay in this browser only.
const CASES_KEY = "latchkey.playground.cases.v1";
const DRAFT_KEY = "latchkey.playground.draft.v1";

// What the page knows: the overview from the server, the last decision
// shown, and the saved test cases (with their latest results, in memory).
const state = {
  overview: null,
  last: null, // { request, decision, against, response }
  cases: [],
  results: new Map(), // case id → { decision, against, error? }
};

// ---------------------------------------------------------------------
// Small DOM helpers. Text always goes in as text (never as HTML), so no
// value from a request, a policy or the server can inject markup.

// el("p", { class: "hint" }, "text", child…): attributes; `on…` keys add
// listeners; null/undefined/false children and attributes are skipped.
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

const code = (text) => el("code", {}, text);

// ✓/✗ plus words: a decision is never told by colour alone.
function verdict(allow) {
  return allow ? "✓ Allowed" : "✗ Denied";
}
function shortVerdict(allow) {
  return allow ? "✓ allow" : "✗ deny";
}

// `User::"alice"`, as Cedar writes an entity. A token subject is shortened.
function entityText(e) {
  if (!e || typeof e !== "object") return "?";
  const id = typeof e.id === "string" ? e.id : String(e.id);
  if (e.type === TOKEN_SUBJECT) return `${TOKEN_SUBJECT} ${id.length > 16 ? id.slice(0, 12) + "…" : id}`;
  return `${e.type}::${JSON.stringify(id)}`;
}

// "User::"alice" view_account Account::"acc-1"": a request in one line.
function requestSummary(r) {
  return `${entityText(r.subject)} ${r.action?.name ?? "?"} ${entityText(r.resource)}`;
}

// Seconds in words: 300 → "5 minutes", 90 → "90 seconds", 7200 → "2 hours".
function durationWords(secs) {
  const s = Math.max(0, Math.round(Number(secs)));
  const unit = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (s % 86400 === 0 && s >= 86400) return unit(s / 86400, "day");
  if (s % 3600 === 0 && s >= 3600) return unit(s / 3600, "hour");
  if (s % 60 === 0 && s >= 60) return unit(s / 60, "minute");
  return unit(s, "second");
}

// The error text of a failed API call: the server's error_description if
// it sent one.
function apiError(res) {
  return res.json?.error_description || res.json?.error || `the server answered HTTP ${res.status}`;
}

// ---------------------------------------------------------------------
// Why the playground may not be usable: signed out, not an administrator,
// no active policy set. The message replaces the app.

function signInUrl() {
  return `${cfg.portal}/signin?next=${encodeURIComponent(location.pathname)}`;
}

function gate(html) {
  $("pg-gate").innerHTML = html;
  $("pg-app").hidden = true;
}

const SIGNED_OUT = () =>
  `<div class="notice"><p><strong>Sign in to use the playground.</strong> It evaluates requests with explanations, which reveal the policies, so it is only for signed-in developers (on a production server, only for portal administrators).</p>
   <p><a class="button" href="${escapeHtml(signInUrl())}">Sign in</a></p></div>`;

const NOT_ADMIN = (detail) =>
  `<div class="notice"><p><strong>The playground is for portal administrators.</strong> Its explanations show which policies decided and why, which reveals the policies themselves, so on this server only the users listed in <code>[portal] admins</code> of the server's configuration may use it. Ask an administrator to add your username, or try it on a development server (<code>latchkey serve --dev</code>), where every signed-in developer may.</p>
   ${detail ? `<p class="hint">The server said: ${escapeHtml(detail)}</p>` : ""}</div>`;

const NO_POLICIES = () =>
  `<div class="notice"><p><strong>No policy set is active yet</strong>, so there is nothing to evaluate. Publish one first, with <code>latchkey policy put --schema schema.cedarschema policies.cedar</code> or <code>PUT /admin/v1/policies</code>; the <a href="${escapeHtml(cfg.portal)}/docs/policies">policies guide</a> explains how.</p></div>`;

// Handles the answers every call can get that stop the page; true if the
// response was one of them.
function stopped(res) {
  if (res.status === 401) { gate(SIGNED_OUT()); return true; }
  if (res.status === 403) { gate(NOT_ADMIN(res.json?.error_description)); return true; }
  if (res.status === 409) { gate(NO_POLICIES()); return true; }
  return false;
}

// ---------------------------------------------------------------------
// Cedar source split into policies, for the viewer: each statement ends at
// a `;` outside parentheses, braces, brackets, strings and comments. The
// comments before a policy are kept apart (shown as its description).

function splitPolicies(src) {
  const policies = [];
  let i = 0;
  let depth = 0;
  let segStart = 0; // where the comments before the current statement start
  let bodyStart = -1; // where the statement itself starts
  while (i < src.length) {
    const c = src[i];
    if (c === "/" && src[i + 1] === "/") {
      const nl = src.indexOf("\n", i);
      i = nl < 0 ? src.length : nl + 1;
      continue;
    }
    if (/\s/.test(c)) { i += 1; continue; }
    if (bodyStart < 0) bodyStart = i;
    if (c === '"') {
      i += 1;
      while (i < src.length && src[i] !== '"') i += src[i] === "\\" ? 2 : 1;
      i += 1;
      continue;
    }
    if ("({[".includes(c)) depth += 1;
    else if (")}]".includes(c)) depth = Math.max(0, depth - 1);
    else if (c === ";" && depth === 0) {
      policies.push(policyOf(src.slice(segStart, bodyStart), src.slice(bodyStart, i + 1), policies.length));
      segStart = i + 1;
      bodyStart = -1;
    }
    i += 1;
  }
  // Text after the last `;`: comments, or a statement left unfinished.
  const rest = src.slice(segStart);
  return { policies, unfinished: bodyStart >= 0 ? rest.trim() : "", trailingComment: bodyStart < 0 ? commentText(rest) : "" };
}

const ID_ANNOTATION = /@id\s*\(\s*"((?:[^"\\]|\\.)*)"\s*\)/;

// One statement: its id (the @id annotation; Cedar's own `policyN`
// otherwise, as the server names it), effect and text.
function policyOf(before, text, index) {
  const m = text.match(ID_ANNOTATION);
  let id = `policy${index}`;
  if (m) {
    try { id = JSON.parse(`"${m[1]}"`); } catch { id = m[1]; }
  }
  const afterAnnotations = text.replace(/^(\s*@\w+\s*\(\s*"(?:[^"\\]|\\.)*"\s*\)|\s*\/\/[^\n]*\n?)*\s*/, "");
  const effect = (afterAnnotations.match(/^(permit|forbid)\b/) || [])[1] || "";
  return { id, effect, text, description: commentText(before) };
}

// `// a comment\n// more` → "a comment more".
function commentText(s) {
  return s.split("\n").map((l) => l.trim()).filter((l) => l.startsWith("//")).map((l) => l.replace(/^\/\/\s?/, "")).join(" ").trim();
}

// ---------------------------------------------------------------------
// The policy viewer: the active policies, or the draft a decision was made
// against, one block per policy. The policies that determined the last
// decision carry the class `highlight` (and `notice`, which portal.css
// styles), a "determining" badge and their @id marked.

const viewer = { source: "", kind: "active", ids: new Map() }; // ids: policy id → element id

function showViewer(source, kind, determining = []) {
  viewer.source = source;
  viewer.kind = kind;
  viewer.ids = new Map();
  const { policies, unfinished, trailingComment } = splitPolicies(source);
  const info = new Map(kind === "active" ? state.overview.policy_info.map((p) => [p.id, p]) : []);
  const ov = state.overview;
  $("pg-viewer-label").replaceChildren(
    kind === "active"
      ? el("strong", {}, `The active policies, version ${ov.version}: ${policies.length} ${policies.length === 1 ? "policy" : "policies"}.`)
      : el("strong", {}, `The draft of your last decision (not published): ${policies.length} ${policies.length === 1 ? "policy" : "policies"}.`),
  );
  // (A wrapper is hidden: portal.css gives buttons a display, which beats `hidden`.)
  $("pg-viewer-active-box").hidden = kind === "active";

  const blocks = policies.map((p, n) => {
    const domId = `pg-policy-${n}`;
    viewer.ids.set(p.id, domId);
    const on = determining.includes(p.id);
    const i = info.get(p.id);
    const badges = [el("span", { class: "badge" }, p.effect || "?")];
    if (i?.requirement) badges.push(el("span", { class: "badge" }, `step-up: ${requirementShort(i.requirement)}`));
    if (i?.time_sensitive) badges.push(el("span", { class: "badge" }, "reads the clock"));
    if (on) badges.push(el("span", { class: "badge sandbox" }, "determining"));
    // The @id annotation is marked in a determining policy's text.
    const body = el("code");
    const m = on ? p.text.match(ID_ANNOTATION) : null;
    if (m) body.append(p.text.slice(0, m.index), el("mark", {}, m[0]), p.text.slice(m.index + m[0].length));
    else body.append(p.text);
    return el(
      "div",
      { class: on ? "pg-policy highlight notice" : "pg-policy", id: domId, tabindex: "-1", "data-policy-id": p.id, "aria-current": on ? "true" : null },
      el("p", {}, code(p.id), " ", badges.flatMap((b) => [b, " "])),
      p.description ? el("p", { class: "hint" }, p.description) : null,
      el("pre", {}, body),
    );
  });
  const tail = [];
  if (unfinished) tail.push(el("div", { class: "error-box" }, el("p", {}, "Text after the last policy, not ended by a semicolon:"), el("pre", {}, code(unfinished))));
  if (trailingComment) tail.push(el("p", { class: "hint" }, trailingComment));
  $("pg-viewer").replaceChildren(...blocks, ...tail);
}

// Brings the Viewer tab forward and one policy into view, with focus.
function revealPolicy(id) {
  const domId = viewer.ids.get(id);
  $("pg-tab-viewer").click(); // portal.js's tabs select on click
  const block = domId && $(domId);
  if (block) {
    block.scrollIntoView({ block: "nearest" });
    block.focus({ preventScroll: true });
  }
}

// ---------------------------------------------------------------------
// Step-up requirements in words.

const ACR_WORDS = {
  "urn:latchkey:acr:mfa": "MFA (two-step verification)",
};

function requirementShort(r) {
  const parts = [];
  if (r.acr_values) parts.push(`acr ${r.acr_values}`);
  if (r.max_age !== undefined) parts.push(`max_age ${r.max_age}`);
  if (r.required_verification) parts.push(`verification ${r.required_verification}`);
  return parts.join(", ");
}

// "a sign-in with MFA (two-step verification) no older than 5 minutes and
// a document verification of the user would allow it", or "" when the
// response names no requirement.
function requirementSentence(ctx) {
  const parts = [];
  const acrs = (ctx.acr_values || "").split(/\s+/).filter(Boolean);
  const hasAge = ctx.max_age !== undefined && ctx.max_age !== null;
  if (acrs.length || hasAge) {
    let signIn = "a sign-in";
    if (acrs.length) signIn += " with " + acrs.map((a) => ACR_WORDS[a] || `the authentication level ${a}`).join(" or ");
    if (hasAge) signIn += Number(ctx.max_age) === 0 ? ", made just now," : ` no older than ${durationWords(ctx.max_age)}`;
    parts.push(signIn);
  }
  if (ctx.required_verification) {
    parts.push(
      ctx.required_verification === "document"
        ? "a document verification of the user"
        : `a verification of the user at the level ${ctx.required_verification}`,
    );
  }
  if (!parts.length) return "";
  const s = parts.join(" and ").replace(/,$/, "") + " would allow it";
  return s[0].toUpperCase() + s.slice(1) + ".";
}

// ---------------------------------------------------------------------
// The request form, generated from the schema's outline.

const form = {
  action: () => $("pg-action"),
  subType: () => $("pg-sub-type"),
  subId: () => $("pg-sub-id"),
  subProps: () => $("pg-sub-props"),
  resType: () => $("pg-res-type"),
  resId: () => $("pg-res-id"),
  resProps: () => $("pg-res-props"),
  context: () => $("pg-context"),
};

function outlineOf(action) {
  return state.overview.outline.actions.find((a) => a.name === action);
}

// Fills a select with `values` (value = label, or [value, label] pairs),
// keeping `current` selected: a value not among them (from the JSON view)
// is added and marked, so nothing typed is silently lost.
function fillSelect(select, values, current, unknownNote) {
  select.replaceChildren();
  const known = [];
  for (const v of values) {
    const [value, label] = Array.isArray(v) ? v : [v, v];
    known.push(value);
    select.append(el("option", { value }, label));
  }
  if (current && !known.includes(current)) select.append(el("option", { value: current }, `${current} (${unknownNote})`));
  select.value = current && select.querySelector(`option[value="${CSS.escape(current)}"]`) ? current : known[0] ?? "";
}

// The principal and resource type lists for the selected action. A type
// the action does not apply to is kept (marked) only when `keepUnknown`
// (a request from the JSON view or a case); choosing another action in
// the form moves to a type it applies to.
function fillTypes(subType, resType, keepUnknown = true) {
  const a = outlineOf(form.action().value);
  const all = state.overview.outline.entity_types;
  const principals = a?.principals?.length ? a.principals : all;
  const resources = a?.resources?.length ? a.resources : all;
  if (!keepUnknown) {
    if (subType !== TOKEN_SUBJECT && !principals.includes(subType)) subType = undefined;
    if (!resources.includes(resType)) resType = undefined;
  }
  fillSelect(form.subType(), [...principals, [TOKEN_SUBJECT, `${TOKEN_SUBJECT} (an access token as the subject)`]], subType, "not declared for this action");
  fillSelect(form.resType(), resources, resType, "not declared for this action");
  subjectIdHint();
}

function subjectIdHint() {
  const hint = $("pg-sub-id-hint");
  if (form.subType().value === TOKEN_SUBJECT) {
    hint.replaceChildren("The access token (a JWT) itself. It must be valid, unexpired and its session live; the ", code("flows"), " page gets you one.");
    return;
  }
  hint.replaceChildren(
    "Your own user id is ",
    code(cfg.user.id),
    " (",
    el("button", { type: "button", class: "link", onclick: () => { form.subId().value = cfg.user.id; formChanged(); } }, "use it"),
    "); the stored attributes of that id apply.",
  );
}

// Parses a JSON object field of the form: `{ value }` (undefined when
// empty) or `{ error }`. Marks the field and its error message.
function objectField(textarea, errorId, name) {
  const box = $(errorId);
  const text = textarea.value.trim();
  let error = null;
  let value;
  if (text) {
    try {
      value = JSON.parse(text);
      if (value === null || typeof value !== "object" || Array.isArray(value)) error = `${name} must be a JSON object, like {"name": "value"}.`;
    } catch (e) {
      error = `${name} is not valid JSON: ${e.message}`;
    }
  }
  textarea.setAttribute("aria-invalid", String(!!error));
  box.hidden = !error;
  box.textContent = error ? `✗ ${error}` : "";
  return error ? { error } : { value: value && Object.keys(value).length ? value : undefined };
}

// The form's request, or { error, focus }.
function formRequest() {
  const request = {
    subject: { type: form.subType().value, id: form.subId().value.trim() },
    action: { name: form.action().value },
    resource: { type: form.resType().value, id: form.resId().value.trim() },
  };
  const fields = [
    [form.subProps(), "pg-sub-props-error", "Principal properties", (v) => { request.subject.properties = v; }],
    [form.resProps(), "pg-res-props-error", "Resource properties", (v) => { request.resource.properties = v; }],
    [form.context(), "pg-context-error", "Context", (v) => { request.context = v; }],
  ];
  let first = null;
  for (const [field, errorId, name, set] of fields) {
    const r = objectField(field, errorId, name);
    if (r.error) first = first || { error: r.error, focus: field };
    else if (r.value) set(r.value);
  }
  return first || { request };
}

// Writes a request into the form. Unknown actions and types are kept
// (marked) rather than dropped.
function setForm(r) {
  const actions = state.overview.outline.actions.map((a) => a.name);
  fillSelect(form.action(), actions, r.action?.name, "not in the schema");
  fillTypes(r.subject?.type, r.resource?.type);
  form.subId().value = r.subject?.id ?? "";
  form.resId().value = r.resource?.id ?? "";
  const pretty = (v) => (v === undefined || (v && typeof v === "object" && !Array.isArray(v) && !Object.keys(v).length) ? "" : JSON.stringify(v, null, 2));
  form.subProps().value = pretty(r.subject?.properties);
  form.resProps().value = pretty(r.resource?.properties);
  form.context().value = pretty(r.context);
  for (const [f, e, n] of [[form.subProps(), "pg-sub-props-error", "Principal properties"], [form.resProps(), "pg-res-props-error", "Resource properties"], [form.context(), "pg-context-error", "Context"]]) objectField(f, e, n);
}

// ---------------------------------------------------------------------
// The JSON view, and keeping the two views in step.

function jsonView() {
  return !$("pg-panel-json").hidden;
}

// What is wrong with a request's shape, or null. The server checks too;
// checking here first gives clearer words and no failed request.
function shapeProblem(r) {
  if (!r || typeof r !== "object" || Array.isArray(r)) return "the request must be a JSON object";
  for (const part of ["subject", "resource"]) {
    const e = r[part];
    if (!e || typeof e !== "object" || Array.isArray(e)) return `${part} must be an object with "type" and "id"`;
    if (typeof e.type !== "string" || !e.type) return `${part}.type is missing`;
    if (typeof e.id !== "string" || !e.id) return `${part}.id is missing`;
    if (e.properties !== undefined && (e.properties === null || typeof e.properties !== "object" || Array.isArray(e.properties))) return `${part}.properties must be an object`;
  }
  if (!r.action || typeof r.action !== "object" || typeof r.action.name !== "string" || !r.action.name) return 'action must be an object with a "name"';
  if (r.context !== undefined && (r.context === null || typeof r.context !== "object" || Array.isArray(r.context))) return "context must be an object";
  return null;
}

function setJsonStatus(text, bad) {
  const s = $("pg-json-status");
  s.textContent = text;
  s.className = bad ? "fail" : "hint";
  $("pg-json").setAttribute("aria-invalid", String(!!bad));
}

// Form → JSON, on every change in the form.
function formChanged() {
  const r = formRequest();
  if (r.error) return; // the field shows its error; the JSON keeps the last good request
  $("pg-json").value = JSON.stringify(r.request, null, 2);
  setJsonStatus("In step with the form.", false);
}

// JSON → form, on every change in the JSON editor, whenever it parses.
function jsonChanged() {
  let r;
  try {
    r = JSON.parse($("pg-json").value);
  } catch (e) {
    setJsonStatus(`✗ Not valid JSON: ${e.message}. The form keeps the last valid request.`, true);
    return;
  }
  if (!r || typeof r !== "object" || Array.isArray(r)) {
    setJsonStatus("✗ The request must be a JSON object. The form keeps the last valid request.", true);
    return;
  }
  setForm(r);
  const extra = Object.keys(r).filter((k) => !["subject", "action", "resource", "context"].includes(k));
  const problem = shapeProblem(r);
  if (problem) setJsonStatus(`✗ Incomplete: ${problem}.`, true);
  else if (extra.length) setJsonStatus(`In step with the form. Ignored here: ${extra.join(", ")}.`, false);
  else setJsonStatus("In step with the form.", false);
}

// The request of the view that is showing, or { error, focus }.
function currentRequest() {
  if (jsonView()) {
    let r;
    try {
      r = JSON.parse($("pg-json").value);
    } catch (e) {
      return { error: `The request is not valid JSON: ${e.message}`, focus: $("pg-json") };
    }
    const problem = shapeProblem(r);
    if (problem) return { error: `The request is incomplete: ${problem}.`, focus: $("pg-json") };
    const { subject, action, resource, context } = r;
    return { request: context === undefined ? { subject, action, resource } : { subject, action, resource, context } };
  }
  const r = formRequest();
  if (r.error) return r;
  const problem = shapeProblem(r.request);
  if (problem) {
    const focus = problem.startsWith("subject.id") ? form.subId() : problem.startsWith("resource.id") ? form.resId() : form.action();
    return { error: `The request is incomplete: ${problem}.`, focus };
  }
  return r;
}

// ---------------------------------------------------------------------
// Deciding, and showing the decision.

// One sentence for screen readers (the polite live region #pg-announce).
// Cleared first, so the same sentence twice is read twice.
function announce(text) {
  const a = $("pg-announce");
  a.textContent = "";
  setTimeout(() => { a.textContent = text; }, 50);
}

function busy(on) {
  $("pg-result").setAttribute("aria-busy", String(on));
  for (const id of ["pg-decide", "pg-decide-draft"]) $(id).disabled = on;
}

function requestError(message, focus) {
  const box = $("pg-request-error");
  box.hidden = !message;
  box.textContent = message ? `✗ ${message}` : "";
  if (focus) focus.focus();
}

async function decide(useDraft) {
  requestError("");
  const { request, error, focus } = currentRequest();
  if (error) { requestError(error, focus); return; }
  const draft = $("pg-draft").value;
  if (useDraft && !draft.trim()) {
    requestError("The draft is empty: write policies in the Draft tab, or reset it to the active ones.");
    return;
  }
  busy(true);
  let res;
  try {
    res = await api("POST", "/playground/evaluate", useDraft ? { request, policies: draft } : { request });
  } catch (e) {
    busy(false);
    showResultError(`The server could not be reached: ${e.message}`);
    return;
  }
  busy(false);
  if (stopped(res)) return;
  if (!res.ok || !res.json) { showResultError(apiError(res)); return; }
  if (res.json.compile_error !== undefined) {
    showCompileError(res.json.compile_error);
    showResultError("The draft does not compile, so nothing was decided. The error is shown under the draft.", true);
    return;
  }
  if (useDraft) showCompileError(null);
  showResult(request, res.json, useDraft ? draft : null);
}

function showResultError(message, draftLink) {
  state.last = null;
  announce(message);
  $("pg-save-box").hidden = true;
  $("pg-result").replaceChildren(
    el("div", { class: "error-box" }, el("p", {}, `✗ ${message}`),
      draftLink ? el("p", {}, el("button", { type: "button", class: "link", onclick: () => { $("pg-tab-draft").click(); $("pg-draft").focus(); } }, "Go to the draft")) : null),
  );
}

// A reason as a link to its policy in the viewer (or words for the
// reasons that are not policies).
function reasonItem(id, effects) {
  if (id === "capability") return el("li", {}, "a capability: an explicit, expiring grant of this action on this resource to this subject");
  const effect = effects.get(id);
  return el(
    "li",
    {},
    el("a", { href: `#${viewer.ids.get(id) || "pg-viewer"}`, "data-policy": id, onclick: (e) => { e.preventDefault(); revealPolicy(id); } }, code(id)),
    effect ? ` (${effect})` : "",
  );
}

function showResult(request, response, draft) {
  const allow = response.decision === true;
  const ctx = response.context || {};
  const reasons = Array.isArray(ctx.reasons) ? ctx.reasons : [];
  const errors = Array.isArray(ctx.errors) ? ctx.errors : [];
  const against = response.against === "draft" ? "draft" : "active";
  state.last = { request, decision: allow, against, response };

  // The viewer shows the set the decision was made against, its
  // determining policies highlighted.
  showViewer(against === "draft" ? draft : state.overview.policies, against, reasons);
  const effects = new Map(splitPolicies(viewer.source).policies.map((p) => [p.id, p.effect]));

  const parts = [];
  parts.push(
    el("div", { class: allow ? "notice" : "error-box" },
      el("h3", { id: "pg-verdict", class: allow ? "pass" : "fail", "data-decision": allow ? "allow" : "deny" }, verdict(allow)),
      el("p", {}, code(requestSummary(request))),
      el("p", { class: "hint", id: "pg-against" },
        against === "draft"
          ? "Decided against your draft (not published)."
          : `Decided against the active policies${ctx.policy_version !== undefined ? `, version ${ctx.policy_version}` : ""}.`,
        ctx.cached ? " The answer came from the decision cache." : ""),
    ),
  );

  parts.push(el("h4", {}, "Determining policies"));
  if (reasons.length) {
    parts.push(el("ul", { id: "pg-reasons" }, reasons.map((r) => reasonItem(r, effects))));
    const forbids = reasons.filter((r) => effects.get(r) === "forbid");
    if (!allow && forbids.length) parts.push(el("p", { class: "hint" }, "A forbid that applies overrides every permit."));
  } else {
    parts.push(el("p", { id: "pg-reasons" },
      allow ? "None named." : "None: no permit applies to this request, and Cedar denies what no policy permits."));
  }

  if (!allow) {
    const sentence = requirementSentence(ctx);
    if (sentence) {
      parts.push(el("h4", {}, "What would allow it"));
      parts.push(el("p", { id: "pg-stepup" }, el("strong", {}, sentence)));
      const how = [];
      if (ctx.acr_values || ctx.max_age !== undefined) {
        const q = [ctx.acr_values ? `acr_values=${ctx.acr_values}` : null, ctx.max_age !== undefined ? `max_age=${ctx.max_age}` : null].filter(Boolean).join("&");
        how.push(el("li", {}, "A client asks for that sign-in by sending the user to ", code(`/authorize?…&${q}`), " (an RFC 9470 step-up). To try it here, use an access token from such a sign-in as the subject (principal type ", code(TOKEN_SUBJECT), "): a subject named by id carries no sign-in."));
      }
      if (ctx.required_verification) {
        how.push(el("li", {}, "The user's ", code("verification_level"), " must become ", code(ctx.required_verification), ", set by a verification provider's identity signal", cfg.dev ? " (in the sandbox, at /sandbox/verify)" : "", "."));
      }
      how.push(el("li", {}, "This lifts only the forbids that asked for it; a permit must still apply."));
      parts.push(el("ul", { class: "hint" }, how));
    }
  }

  if (errors.length) {
    parts.push(el("h4", {}, "Errors"));
    parts.push(el("ul", { id: "pg-errors" }, errors.map((e) => el("li", { class: "fail" }, `✗ ${e}`))));
    parts.push(el("p", { class: "hint" }, "A policy that fails to evaluate is skipped, except a forbid, which denies. Guard optional attributes with has."));
  }

  parts.push(el("details", {}, el("summary", {}, "The response as the server sent it"), el("pre", {}, code(JSON.stringify(response, null, 2)))));
  $("pg-result").replaceChildren(...parts);
  announce(`${allow ? "Allowed" : "Denied"}${against === "draft" ? " by the draft" : ""}.`
    + (reasons.length ? ` Determining: ${reasons.join(", ")}.` : allow ? "" : " No permit applies.")
    + (!allow && requirementSentence(ctx) ? ` ${requirementSentence(ctx)}` : "")
    + (errors.length ? ` ${errors.length} evaluation ${errors.length === 1 ? "error" : "errors"}.` : ""));

  $("pg-save-box").hidden = false;
  $("pg-save-case").textContent = `Save as test case (expects ${allow ? "allow" : "deny"})`;
  $("pg-save-status").textContent = "";
}

// ---------------------------------------------------------------------
// The draft: prefilled with the active policies, kept in this browser
// while it differs from them (for the same active version).

function draftChanged() {
  const text = $("pg-draft").value;
  const same = text === state.overview.policies;
  $("pg-draft-status").textContent = same
    ? "The draft is the same as the active policies."
    : `The draft differs from the active policies (version ${state.overview.version}); it is kept in this browser, never published from here.`;
  try {
    if (same) localStorage.removeItem(DRAFT_KEY);
    else localStorage.setItem(DRAFT_KEY, JSON.stringify({ version: state.overview.version, text }));
  } catch { /* storage full or disabled: the draft lives in the page only */ }
}

function restoreDraft() {
  let saved = null;
  try { saved = JSON.parse(localStorage.getItem(DRAFT_KEY) || "null"); } catch { saved = null; }
  const restored = saved && saved.version === state.overview.version && typeof saved.text === "string";
  $("pg-draft").value = restored ? saved.text : state.overview.policies;
  draftChanged();
}

function showCompileError(message) {
  const box = $("pg-draft-error");
  if (message === null || message === undefined) { box.replaceChildren(); return; }
  box.replaceChildren(el("div", { class: "error-box" },
    el("p", {}, el("strong", {}, "✗ The draft does not compile"), " (checked against the active schema):"),
    el("pre", {}, code(String(message)))));
}

async function replay() {
  const draft = $("pg-draft").value;
  const out = $("pg-replay-result");
  if (!draft.trim()) {
    out.replaceChildren(el("p", { class: "fail" }, "✗ The draft is empty."));
    return;
  }
  const button = $("pg-replay");
  button.disabled = true;
  out.setAttribute("aria-busy", "true");
  out.replaceChildren(el("p", { class: "hint" }, "Replaying…"));
  let res;
  try {
    res = await api("POST", "/playground/replay", { policies: draft });
  } catch (e) {
    res = { ok: false, status: 0, json: { error_description: `the server could not be reached: ${e.message}` } };
  }
  button.disabled = false;
  out.setAttribute("aria-busy", "false");
  if (stopped(res)) return;
  if (!res.ok || !res.json) {
    out.replaceChildren(el("p", { class: "fail" }, `✗ ${apiError(res)}`));
    announce(`The replay failed: ${apiError(res)}`);
    return;
  }
  if (res.json.compile_error !== undefined) {
    showCompileError(res.json.compile_error);
    out.replaceChildren(el("p", { class: "fail" }, "✗ The draft does not compile; nothing was replayed."));
    announce("The draft does not compile; nothing was replayed. The error is shown under the draft.");
    return;
  }
  showCompileError(null);
  const { compared = 0, changed = [] } = res.json;
  const summary = el("p", { id: "pg-replay-summary" }, el("strong", {},
    compared === 0
      ? "No recent decisions were sampled, so there is nothing to compare."
      : `Compared ${compared} recent ${compared === 1 ? "decision" : "decisions"}: ${changed.length === 0 ? "the draft would change none of them." : `the draft would change ${changed.length}.`}`));
  announce(summary.textContent);
  if (!changed.length) { out.replaceChildren(summary); return; }
  const rows = changed.map((c) => el("tr", {},
    el("td", {}, code(c.subject)),
    el("td", {}, code(c.action)),
    el("td", {}, code(c.resource)),
    el("td", {}, c.recorded === true || c.recorded === false ? shortVerdict(c.recorded) : "—"),
    el("td", {}, `${shortVerdict(c.active)} → ${shortVerdict(c.draft)}`),
    el("td", {}, (c.draft_context?.reasons || []).length ? c.draft_context.reasons.flatMap((r) => [code(r), " "]) : "none"),
  ));
  // Focusable, so a keyboard can scroll it sideways on a narrow screen.
  out.replaceChildren(summary, el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Decisions the draft would change" }, el("table", {},
    el("caption", { class: "visually-hidden" }, "Recent decisions the draft would change"),
    el("thead", {}, el("tr", {}, ["Subject", "Action", "Resource", "Recorded", "Active → draft", "Draft's reasons"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows))));
}

// ---------------------------------------------------------------------
// Test cases: {request, expected} as `latchkey policy test` reads them,
// plus a local id to tell them apart.

function loadCases() {
  try {
    const list = JSON.parse(localStorage.getItem(CASES_KEY) || "[]");
    state.cases = Array.isArray(list) ? list.filter((c) => c && typeof c === "object" && c.request && typeof c.expected === "boolean") : [];
  } catch {
    state.cases = [];
  }
  for (const c of state.cases) if (!c.id) c.id = newCaseId();
}

function storeCases() {
  try { localStorage.setItem(CASES_KEY, JSON.stringify(state.cases)); } catch { /* the list lives in the page only */ }
}

let caseCounter = 0;
function newCaseId() {
  caseCounter += 1;
  return `${Date.now().toString(36)}-${caseCounter}`;
}

function saveCase() {
  if (!state.last) return;
  const c = { id: newCaseId(), request: state.last.request, expected: state.last.decision };
  state.cases.push(c);
  state.results.set(c.id, { decision: state.last.decision, against: state.last.against });
  storeCases();
  renderCases();
  $("pg-save-status").textContent = `Saved as case ${state.cases.length} (expects ${c.expected ? "allow" : "deny"}).`
    + (c.request.subject?.type === TOKEN_SUBJECT
      ? " Its subject is an access token: the case stops passing here when the token expires, and latchkey policy test cannot verify tokens."
      : "");
}

// "✓ pass: allowed, as expected" for a case's latest run.
function caseResult(c) {
  const r = state.results.get(c.id);
  if (!r) return el("span", { class: "hint" }, "Not run yet.");
  if (r.error) return el("span", { class: "fail" }, `✗ could not run: ${r.error}`);
  const pass = r.decision === c.expected;
  const where = r.against === "draft" ? "the draft" : "the active policies";
  return el("span", { class: pass ? "pass" : "fail", "data-pass": String(pass) },
    pass ? `✓ pass: ${r.decision ? "allowed" : "denied"}, as expected (${where})` : `✗ fail: ${r.decision ? "allowed" : "denied"}, expected ${c.expected ? "allow" : "deny"} (${where})`);
}

function renderCases() {
  const box = $("pg-cases");
  if (!state.cases.length) {
    box.replaceChildren(el("p", { class: "hint" }, "No test cases yet: decide a request, then Save as test case."));
  } else {
    box.replaceChildren(el("ol", { class: "steps", id: "pg-case-list" }, state.cases.map((c, i) => {
      const n = i + 1;
      const selectId = `pg-case-expected-${c.id}`;
      return el("li", { "data-case": c.id },
        el("p", {}, el("strong", {}, `Case ${n}: `), code(requestSummary(c.request))),
        el("label", { for: selectId }, `Expected decision of case ${n}`),
        el("select", { id: selectId, onchange: (e) => { c.expected = e.target.value === "allow"; storeCases(); renderCases(); } },
          el("option", { value: "allow", selected: c.expected }, "allow"),
          el("option", { value: "deny", selected: !c.expected }, "deny")),
        el("p", { class: "pg-case-result" }, caseResult(c)),
        el("button", { type: "button", class: "secondary", onclick: () => runCases([c], false) }, `Run case ${n}`), " ",
        el("button", { type: "button", class: "secondary", onclick: () => loadCase(c) }, `Load case ${n} into the request`), " ",
        el("button", { type: "button", class: "danger", onclick: () => removeCase(c, n) }, `Remove case ${n}`));
    })));
  }
  const none = !state.cases.length;
  for (const id of ["pg-cases-run", "pg-cases-run-draft", "pg-cases-download"]) $(id).disabled = none;
}

function loadCase(c) {
  setForm(c.request);
  formChanged();
  if (jsonView()) $("pg-json").value = JSON.stringify(c.request, null, 2);
  $("pg-request-heading").scrollIntoView();
  (jsonView() ? $("pg-json") : form.action()).focus();
}

function removeCase(c, n) {
  state.cases = state.cases.filter((x) => x !== c);
  state.results.delete(c.id);
  storeCases();
  renderCases();
  $("pg-cases-summary").textContent = `Case ${n} removed.`;
  ($("pg-case-list")?.querySelector("select") || $("pg-cases-heading")).focus();
}

// Runs cases one after the other (the server decides each as it would a
// PEP's request), then says how many pass.
async function runCases(cases, useDraft) {
  const draft = $("pg-draft").value;
  const summary = $("pg-cases-summary");
  if (useDraft && !draft.trim()) { summary.textContent = "✗ The draft is empty."; return; }
  summary.textContent = `Running ${cases.length} ${cases.length === 1 ? "case" : "cases"}…`;
  let passed = 0;
  for (const c of cases) {
    let res;
    try {
      res = await api("POST", "/playground/evaluate", useDraft ? { request: c.request, policies: draft } : { request: c.request });
    } catch (e) {
      res = { ok: false, status: 0, json: { error_description: e.message } };
    }
    if (stopped(res)) return;
    if (!res.ok || !res.json) state.results.set(c.id, { error: apiError(res) });
    else if (res.json.compile_error !== undefined) {
      showCompileError(res.json.compile_error);
      summary.textContent = "✗ The draft does not compile; the error is shown under the draft.";
      return;
    } else {
      state.results.set(c.id, { decision: res.json.decision === true, against: res.json.against });
      if ((res.json.decision === true) === c.expected) passed += 1;
    }
  }
  renderCases();
  const where = useDraft ? "the draft" : "the active policies";
  summary.textContent = cases.length === 1
    ? `Case ${state.cases.indexOf(cases[0]) + 1}: ${passed ? "✓ pass" : "✗ fail"} against ${where}.`
    : `${passed} of ${cases.length} cases pass against ${where}${passed === cases.length ? " ✓" : " ✗"}.`;
}

// cases.json for `latchkey policy test --cases cases.json`.
function downloadCases() {
  const file = JSON.stringify(state.cases.map((c) => ({ request: c.request, expected: c.expected })), null, 2) + "\n";
  const url = URL.createObjectURL(new Blob([file], { type: "application/json" }));
  const a = el("a", { href: url, download: "cases.json", hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  $("pg-cases-summary").textContent = `Downloaded cases.json (${state.cases.length} ${state.cases.length === 1 ? "case" : "cases"}).`;
}

// ---------------------------------------------------------------------
// Start: the overview, then the form, views, draft and cases.

function ctrlEnter(handler) {
  return (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); handler(); }
  };
}

function wire() {
  const f = $("pg-request-form");
  f.addEventListener("submit", (e) => { e.preventDefault(); decide(false); });
  f.addEventListener("keydown", ctrlEnter(() => decide(false)));
  $("pg-decide-draft").addEventListener("click", () => decide(true));

  form.action().addEventListener("change", () => { fillTypes(form.subType().value, form.resType().value, false); formChanged(); });
  form.subType().addEventListener("change", () => { subjectIdHint(); formChanged(); });
  for (const field of [form.resType(), form.subId(), form.resId(), form.subProps(), form.resProps(), form.context()]) {
    field.addEventListener("input", formChanged);
    field.addEventListener("change", formChanged);
  }
  $("pg-json").addEventListener("input", jsonChanged);

  $("pg-draft").addEventListener("input", draftChanged);
  $("pg-draft").addEventListener("keydown", ctrlEnter(() => decide(true)));
  $("pg-draft-reset").addEventListener("click", () => {
    $("pg-draft").value = state.overview.policies;
    draftChanged();
    showCompileError(null);
    $("pg-draft").focus();
  });
  $("pg-replay").addEventListener("click", replay);
  $("pg-viewer-active").addEventListener("click", () => { showViewer(state.overview.policies, "active"); $("pg-viewer-label").focus(); });

  $("pg-save-case").addEventListener("click", saveCase);
  $("pg-cases-run").addEventListener("click", () => runCases(state.cases, false));
  $("pg-cases-run-draft").addEventListener("click", () => runCases(state.cases, true));
  $("pg-cases-download").addEventListener("click", downloadCases);
}

async function start() {
  if (!cfg.user) { gate(SIGNED_OUT()); return; }
  // When the page says so, no call is made only to be refused (a 403 is
  // logged in the browser's console).
  if (cfg.playground_allowed === false) { gate(NOT_ADMIN()); return; }
  let res;
  try {
    res = await api("GET", "/playground");
  } catch (e) {
    gate(`<p class="error-box">✗ The server could not be reached: ${escapeHtml(e.message)}</p>`);
    return;
  }
  if (stopped(res)) return;
  if (!res.ok || !res.json?.outline) {
    gate(`<p class="error-box">✗ The playground could not load: ${escapeHtml(apiError(res))}</p>`);
    return;
  }
  state.overview = res.json;

  // The first action, with the signed-in user as the subject.
  const first = state.overview.outline.actions[0];
  setForm({
    subject: { type: first?.principals?.[0] ?? "", id: cfg.user.id },
    action: { name: first?.name ?? "" },
    resource: { type: first?.resources?.[0] ?? "", id: "" },
  });
  formChanged();
  $("pg-schema").textContent = state.overview.schema;
  showViewer(state.overview.policies, "active");
  restoreDraft();
  loadCases();
  renderCases();
  wire();

  $("pg-gate").replaceChildren();
  $("pg-app").hidden = false;
}

start();
