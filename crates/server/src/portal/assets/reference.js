// The API reference: fetches this server's OpenAPI 3.1 document and shows
// it grouped by tag, one anchored article per operation (security,
// parameters, request body, responses, with $ref resolved), and a filter.
// Every node is built with createElement and text nodes, never from HTML
// strings, so nothing in the document can become markup. No dependencies.

import { config } from "./portal.js";

const METHODS = ["get", "post", "put", "patch", "delete", "options", "head"];
// Nested objects are shown as dotted rows down to this depth.
const MAX_DEPTH = 4;

// el("p", { class: "x" }, "text", child): attributes, then children
// (strings become text nodes; null, undefined and false are skipped).
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// Text with `backticks` shown as code.
function prose(text) {
  const fragment = document.createDocumentFragment();
  String(text ?? "").split("`").forEach((part, i) => {
    if (part) fragment.append(i % 2 ? el("code", {}, part) : part);
  });
  return fragment;
}

function slug(s) {
  return String(s).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

// ---- the document -------------------------------------------------------------------

function pointer(doc, ref) {
  if (typeof ref !== "string" || !ref.startsWith("#/")) return undefined;
  return ref.slice(2).split("/")
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((node, key) => (node == null ? undefined : node[key]), doc);
}

// Follows $ref (a chain of them, not forever); an unresolvable one stays.
function resolve(doc, node) {
  for (let hops = 0; node && typeof node.$ref === "string" && hops < 10; hops++) {
    const target = pointer(doc, node.$ref);
    if (!target) break;
    node = target;
  }
  return node ?? {};
}

const refName = (ref) => String(ref).split("/").pop();

function typeLabel(doc, raw) {
  if (!raw) return "any";
  if (raw.$ref) return refName(raw.$ref);
  if ("const" in raw) return JSON.stringify(raw.const);
  if (raw.enum) return raw.enum.map((v) => JSON.stringify(v)).join(" | ");
  const alternatives = raw.oneOf || raw.anyOf;
  if (alternatives) return alternatives.map((s) => typeLabel(doc, s)).join(" | ");
  const types = [].concat(raw.type ?? "any");
  let label = types.map((t) => (t === "array" && raw.items ? `array of ${typeLabel(doc, raw.items)}` : t)).join(" | ");
  if (raw.format) label += ` (${raw.format})`;
  if (raw.contentMediaType) label += ` (${raw.contentMediaType})`;
  return label;
}

// Limits and defaults, as a short note after the description.
function constraints(schema) {
  const notes = [];
  if (schema.minimum !== undefined && schema.maximum !== undefined) notes.push(`${schema.minimum} to ${schema.maximum}`);
  else if (schema.minimum !== undefined) notes.push(`at least ${schema.minimum}`);
  else if (schema.maximum !== undefined) notes.push(`at most ${schema.maximum}`);
  if (schema.minLength !== undefined) notes.push(`at least ${schema.minLength} characters`);
  if (schema.maxLength !== undefined) notes.push(`at most ${schema.maxLength} characters`);
  if (schema.maxItems !== undefined) notes.push(`at most ${schema.maxItems} items`);
  if (schema.default !== undefined) notes.push(`default ${JSON.stringify(schema.default)}`);
  return notes.join("; ");
}

// The rows of an object's properties; nested objects (and arrays of them)
// become dotted names. A $ref already being expanded is not expanded
// again, so recursive schemas end.
function propertyRows(doc, schema, prefix = "", seen = [], depth = 0, rows = []) {
  const required = new Set(schema.required || []);
  for (const [name, raw] of Object.entries(schema.properties || {})) {
    const prop = resolve(doc, raw);
    const full = prefix + name;
    rows.push({
      name: full,
      type: typeLabel(doc, raw),
      required: required.has(name),
      description: raw.description || prop.description || "",
      notes: constraints(prop),
    });
    if (depth >= MAX_DEPTH || seen.includes(raw.$ref)) continue;
    const inner = raw.$ref ? [...seen, raw.$ref] : seen;
    if (prop.properties) propertyRows(doc, prop, `${full}.`, inner, depth + 1, rows);
    const items = prop.items && resolve(doc, prop.items);
    if (items?.properties && !inner.includes(prop.items.$ref)) {
      propertyRows(doc, items, `${full}[].`, prop.items.$ref ? [...inner, prop.items.$ref] : inner, depth + 1, rows);
    }
  }
  return rows;
}

// ---- building blocks ------------------------------------------------------------------

function table(caption, headers, rows) {
  return el("table", { class: "ref-table" },
    el("caption", { class: "visually-hidden" }, caption),
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.map((cells) => el("tr", {}, cells.map((cell, i) => el("td", { "data-label": headers[i] }, cell))))));
}

function nameCell(name, required) {
  return [el("code", {}, name), required ? [" ", el("span", { class: "ref-required" }, "required")] : null];
}

function describe(description, notes) {
  return [prose(description), description && notes ? " " : null, notes ? el("span", { class: "hint" }, `(${notes})`) : null];
}

// A schema: its properties as a table, alternatives as a list, anything
// else as its type.
function schemaBlock(doc, raw, caption) {
  const schema = resolve(doc, raw);
  const name = raw?.$ref ? refName(raw.$ref) : null;
  const alternatives = schema.oneOf || schema.anyOf;
  if (alternatives) {
    return el("div", {},
      el("p", {}, "One of:"),
      el("ul", {}, alternatives.map((alt, i) => el("li", {}, schemaBlock(doc, alt, `${caption}, alternative ${i + 1}`)))));
  }
  const intro = el("p", { class: "ref-meta" },
    name ? [el("code", {}, name), schema.description ? ": " : ""] : null,
    prose(schema.description || ""));
  if (!schema.properties) {
    return el("div", {}, el("p", { class: "ref-meta" }, "Type: ", el("span", { class: "ref-type" }, typeLabel(doc, raw)),
      schema.description ? [". ", prose(schema.description)] : null));
  }
  const rows = propertyRows(doc, schema).map((r) => [
    nameCell(r.name, r.required),
    el("span", { class: "ref-type" }, r.type),
    describe(r.description, r.notes),
  ]);
  return el("div", {}, name || schema.description ? intro : null, table(caption, ["Field", "Type", "Description"], rows));
}

function schemeLabel(doc, name) {
  const s = doc.components?.securitySchemes?.[name];
  if (!s) return name;
  if (s.type === "http") return s.scheme === "basic" ? "HTTP Basic" : `Bearer ${s.bearerFormat || "credential"}`;
  if (s.type === "apiKey") return `key in the ${s.name} ${s.in === "cookie" ? "cookie" : "header"}`;
  return s.type;
}

function securityBlock(doc, requirements) {
  if (!requirements || requirements.length === 0) {
    return el("p", {}, el("strong", {}, "Authentication:"), " none.");
  }
  const block = el("div", {}, el("h4", {}, "Authentication"));
  const items = requirements.map((req) => {
    const entries = Object.entries(req);
    if (entries.length === 0) return el("li", {}, "none of these (see the description)");
    return el("li", {}, entries.map(([name, scopes], i) => [
      i ? " and " : null,
      el("a", { href: `#scheme-${slug(name)}` }, el("code", {}, name)),
      ` (${schemeLabel(doc, name)})`,
      scopes.length ? [" with scope ", scopes.map((s, j) => [j ? ", " : null, el("code", {}, s)])] : null,
    ]));
  });
  block.append(el("p", {}, requirements.length > 1 ? "Any one of:" : "Required:"), el("ul", { class: "ref-security" }, items));
  return block;
}

function parametersBlock(doc, params, label) {
  if (!params?.length) return null;
  const rows = params.map((raw) => {
    const p = resolve(doc, raw);
    return [nameCell(p.name, p.required), p.in, el("span", { class: "ref-type" }, typeLabel(doc, p.schema)),
      describe(p.description || "", constraints(resolve(doc, p.schema || {})))];
  });
  return el("div", {}, el("h4", {}, "Parameters"),
    table(`Parameters of ${label}`, ["Name", "In", "Type", "Description"], rows));
}

function bodyBlock(doc, raw, label) {
  if (!raw) return null;
  const body = resolve(doc, raw);
  return el("div", {}, el("h4", {}, "Request body"),
    body.description ? el("p", {}, prose(body.description)) : null,
    Object.entries(body.content || {}).map(([media, content]) => [
      el("p", {}, "Content type ", el("code", {}, media), body.required ? "" : " (optional)"),
      content.schema ? schemaBlock(doc, content.schema, `Request body of ${label}`) : null,
    ]));
}

// Success answers show their fields; errors share one format (shown once,
// at the end of the page) and are named with a link to it.
function responsesBlock(doc, responses, label) {
  const items = Object.entries(responses || {}).map(([status, raw]) => {
    const r = resolve(doc, raw);
    const headers = Object.keys(r.headers || {});
    const bodies = Object.entries(r.content || {}).map(([media, content]) => {
      const schema = content.schema;
      const isError = schema?.$ref === "#/components/schemas/Error";
      if (isError || Number(status) >= 400 || !schema) {
        return el("p", { class: "ref-meta" }, "Body ", el("code", {}, media), schema ? ": " : null,
          isError ? el("a", { href: "#error-format" }, "the error format") : schema ? el("span", { class: "ref-type" }, typeLabel(doc, schema)) : null);
      }
      return [el("p", { class: "ref-meta" }, "Body ", el("code", {}, media)), schemaBlock(doc, schema, `Response ${status} of ${label}`)];
    });
    return el("li", {},
      el("p", {}, el("span", { class: `status status-${String(status)[0]}` }, status), " ", prose(r.description || "")),
      headers.length ? el("p", { class: "ref-meta" }, "Headers: ", headers.map((h, i) => [i ? ", " : null, el("code", {}, h)])) : null,
      bodies);
  });
  return el("div", {}, el("h4", {}, "Responses"), el("ul", { class: "ref-responses" }, items));
}

function operationArticle(doc, path, item, method, op) {
  const verb = method.toUpperCase();
  const label = `${verb} ${path}`;
  // The operationId as it is (anchors read like the document), made safe.
  const id = `op-${(op.operationId || slug(`${method} ${path}`)).replace(/[^A-Za-z0-9_-]/g, "-")}`;
  const server = (item.servers || doc.servers || [])[0]?.url || "";
  const article = el("article", { class: "ref-op", id, tabindex: "-1", "aria-labelledby": `${id}-title` },
    el("h3", { id: `${id}-title` },
      el("span", { class: `method method-${method}` }, verb), " ",
      el("code", { class: "path" }, path), " ",
      el("span", { class: "summary" }, op.summary || "")),
    el("p", { class: "ref-meta" },
      el("code", {}, `${verb} ${server}${path}`),
      item.servers ? " (at the root of the host, not under the issuer)" : null,
      " · ", el("a", { href: `#${id}`, "aria-label": `Link to ${label}` }, "link")),
    op.description ? el("p", {}, prose(op.description)) : null,
    securityBlock(doc, op.security ?? doc.security),
    parametersBlock(doc, [...(item.parameters || []), ...(op.parameters || [])], label),
    bodyBlock(doc, op.requestBody, label),
    responsesBlock(doc, op.responses, label));
  const words = [verb, path, op.operationId, op.summary, op.description, ...(op.tags || []),
    ...(op.parameters || []).map((p) => resolve(doc, p).name)];
  return { article, text: words.filter(Boolean).join(" ").toLowerCase() };
}

// ---- the page -------------------------------------------------------------------------

function render(doc, content, toc) {
  const tags = (doc.tags || []).map((t) => ({ name: t.name, description: t.description, ops: [] }));
  const byName = new Map(tags.map((t) => [t.name, t]));
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const name = op.tags?.[0] || "Other";
      if (!byName.has(name)) {
        const extra = { name, description: "", ops: [] };
        tags.push(extra);
        byName.set(name, extra);
      }
      byName.get(name).ops.push(operationArticle(doc, path, item, method, op));
    }
  }

  const info = doc.info || {};
  content.replaceChildren(el("p", { class: "ref-meta" },
    `${info.title || "API"} ${info.version || ""} · OpenAPI ${doc.openapi} · issuer `,
    el("code", {}, doc.servers?.[0]?.url || "")));
  if (info.description) content.append(el("p", {}, prose(info.description)));

  const tocList = el("ul");
  const sections = [];
  for (const tag of tags.filter((t) => t.ops.length)) {
    const id = `tag-${slug(tag.name)}`;
    const count = el("span", { class: "hint" }, `(${tag.ops.length})`);
    const tocItem = el("li", {}, el("a", { href: `#${id}` }, tag.name), " ", count);
    tocList.append(tocItem);
    const section = el("section", { class: "ref-tag", id, "aria-labelledby": `${id}-title` },
      el("h2", { id: `${id}-title` }, tag.name),
      tag.description ? el("p", {}, prose(tag.description)) : null,
      tag.ops.map((o) => o.article));
    content.append(section);
    sections.push({ section, tocItem, count, ops: tag.ops });
  }
  tocList.append(el("li", {}, el("a", { href: "#authentication" }, "Authentication")),
    el("li", {}, el("a", { href: "#error-format" }, "Error format")));
  toc.replaceChildren(tocList);
  toc.hidden = false;
  content.append(schemesSection(doc), errorSection(doc));
  return sections;
}

function schemesSection(doc) {
  const schemes = Object.entries(doc.components?.securitySchemes || {});
  return el("section", { class: "ref-tag", id: "authentication", "aria-labelledby": "authentication-title" },
    el("h2", { id: "authentication-title" }, "Authentication"),
    schemes.map(([name, s]) => el("div", { id: `scheme-${slug(name)}` },
      el("h3", {}, el("code", {}, name), " ", el("span", { class: "summary" }, schemeLabel(doc, name))),
      el("p", {}, prose(s.description || "")))));
}

function errorSection(doc) {
  const error = doc.components?.schemas?.Error;
  return el("section", { class: "ref-tag", id: "error-format", "aria-labelledby": "error-format-title" },
    el("h2", { id: "error-format-title" }, "Error format"),
    error ? schemaBlock(doc, { $ref: "#/components/schemas/Error" }, "Fields of an error") : el("p", {}, "Not described."),
    el("p", {}, "Each code is explained in the ", el("a", { href: "errors" }, "error reference"), "."));
}

function filterer(sections, input, status) {
  const all = sections.flatMap((s) => s.ops);
  const apply = () => {
    const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const s of sections) {
      let inSection = 0;
      for (const op of s.ops) {
        const match = words.every((w) => op.text.includes(w));
        op.article.hidden = !match;
        if (match) inSection += 1;
      }
      s.section.hidden = inSection === 0;
      s.tocItem.hidden = inSection === 0;
      s.count.textContent = `(${inSection})`;
      shown += inSection;
    }
    status.textContent = words.length
      ? `${shown} of ${all.length} operations match.`
      : `${all.length} operations.`;
  };
  input.addEventListener("input", apply);
  apply();
}

// The content arrives after the browser tried to scroll to the fragment:
// go there now.
function goToFragment() {
  const id = decodeURIComponent(location.hash.slice(1));
  const target = id && document.getElementById(id);
  if (!target) return;
  target.scrollIntoView();
  if (target.classList.contains("ref-op")) target.focus({ preventScroll: true });
}

async function main() {
  const content = document.getElementById("ref-content");
  const toc = document.getElementById("ref-toc");
  const input = document.getElementById("ref-filter");
  const status = document.getElementById("ref-count");
  const url = config().openapi || "openapi.json";
  document.getElementById("ref-source")?.setAttribute("href", url);
  let doc;
  try {
    const res = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!res.ok) throw new Error(`the server answered ${res.status}`);
    doc = await res.json();
  } catch (e) {
    content.replaceChildren(el("div", { class: "error-box", role: "alert" },
      "The API description could not be loaded: ", String(e.message || e), "."));
    return;
  }
  const sections = render(doc, content, toc);
  input.disabled = false;
  filterer(sections, input, status);
  goToFragment();
}

main();
