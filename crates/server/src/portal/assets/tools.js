// Utilities (/portal/tools): PKCE, hashes, at_hash/c_hash, a JSON
// formatter and state/nonce values. Everything runs in this page; nothing
// is sent anywhere.

import { escapeHtml } from "./portal.js";

const $ = (id) => document.getElementById(id);
const encoder = new TextEncoder();

// ---------------------------------------------------------------------
// Encodings and hashing.

function b64url(bytes) {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// WebCrypto exists only in secure contexts (https, localhost).
const subtle = globalThis.crypto?.subtle;
const NO_SUBTLE = "This browser offers WebCrypto (which hashes here) only on https:// pages and on localhost: open the portal over https.";

async function digest(name, bytes) {
  return new Uint8Array(await subtle.digest(name, bytes));
}

function randomBytes(n) {
  return crypto.getRandomValues(new Uint8Array(n));
}

// A message in a status region: `kind` is pass, fail or warn (portal.css).
function say(id, kind, html) {
  const el = $(id);
  el.innerHTML = html ? `<p class="${kind}">${html}</p>` : "";
}

// Describes a character for a message: visible ones quoted, others named.
function describeChar(c) {
  const names = { " ": "a space", "\t": "a tab", "\n": "a line break", "\r": "a carriage return", "\u00a0": "a no-break space" };
  if (names[c]) return names[c];
  const code = c.codePointAt(0);
  return code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0xfeff
    ? `U+${code.toString(16).toUpperCase().padStart(4, "0")}`
    : `"${c}"`;
}

// ---------------------------------------------------------------------
// PKCE (RFC 7636).

// Why `v` is not a valid code_verifier, or null when it is (§4.1:
// 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~").
function verifierProblem(v) {
  const chars = [...v];
  const bad = chars.findIndex((c) => !/[A-Za-z0-9._~-]/.test(c));
  if (bad >= 0) {
    const c = chars[bad];
    let why = `Character ${bad + 1} is ${describeChar(c)}, which RFC 7636 §4.1 does not allow: only A–Z a–z 0–9 - . _ ~.`;
    if (c === "+" || c === "/" || c === "=") why += " Looks like base64: use base64url without padding (+ → -, / → _, no =).";
    else if (/\s/.test(c)) why += " Copied with surrounding spaces or a line break?";
    return why;
  }
  if (chars.length < 43) return `Too short: ${chars.length} character${chars.length === 1 ? "" : "s"}; RFC 7636 §4.1 needs 43 to 128 (32 random bytes, base64url, make 43).`;
  if (chars.length > 128) return `Too long: ${chars.length} characters; RFC 7636 §4.1 allows at most 128.`;
  return null;
}

async function updatePkce() {
  const v = $("pkce-verifier").value;
  const challenge = $("pkce-challenge");
  if (!v) {
    challenge.value = "";
    say("pkce-message", "hint", "Generate a verifier or paste one.");
    return;
  }
  const problem = verifierProblem(v);
  if (problem) {
    challenge.value = "";
    say("pkce-message", "fail", `Not a valid code_verifier. ${escapeHtml(problem)}`);
    return;
  }
  if (!subtle) {
    say("pkce-message", "fail", escapeHtml(NO_SUBTLE));
    return;
  }
  // The verifier is ASCII (checked above): its bytes are its characters.
  const value = b64url(await digest("SHA-256", encoder.encode(v)));
  if ($("pkce-verifier").value !== v) return; // changed meanwhile
  challenge.value = value;
  say("pkce-message", "pass", `Valid code_verifier: ${v.length} characters. The challenge below is BASE64URL(SHA-256(verifier)); send it with code_challenge_method=S256.`);
}

function generateVerifier() {
  // 32 random bytes: 256 bits, 43 characters (RFC 7636 §4.1's advice).
  $("pkce-verifier").value = b64url(randomBytes(32));
  updatePkce();
}

// ---------------------------------------------------------------------
// Hashes of text.

const HASHES = ["SHA-256", "SHA-384", "SHA-512"];

async function updateHashes() {
  const text = $("hash-input").value;
  const out = $("hash-out");
  if (!subtle) {
    out.innerHTML = `<tr><td colspan="3">${escapeHtml(NO_SUBTLE)}</td></tr>`;
    return;
  }
  const bytes = encoder.encode(text);
  const rows = [];
  for (const name of HASHES) {
    const d = await digest(name, bytes);
    rows.push(`<tr data-hash="${name}"><th scope="row">${name}</th><td><code class="hex">${hex(d)}</code></td><td><code class="b64url">${b64url(d)}</code></td></tr>`);
  }
  if ($("hash-input").value === text) out.innerHTML = rows.join("");
}

// ---------------------------------------------------------------------
// at_hash / c_hash (OpenID Connect Core §3.1.3.6, §3.3.2.11), as the
// server computes them (crates/crypto/src/digest.rs token_half_hash):
// SHA-512 for EdDSA, SHA-256 for the others; the left half, base64url.

async function tokenHalfHash(alg, token) {
  const full = await digest(alg === "EdDSA" ? "SHA-512" : "SHA-256", encoder.encode(token));
  return b64url(full.slice(0, full.length / 2));
}

async function updateHalfHash() {
  const token = $("half-token").value.trim();
  const alg = $("half-alg").value;
  const expected = $("half-expected").value.trim();
  const value = $("half-value");
  if (!token) {
    value.value = "";
    say("half-message", "hint", "Paste the access token or code the ID token was issued with.");
    return;
  }
  const nonAscii = [...token].findIndex((c) => c.codePointAt(0) > 0x7e || c.codePointAt(0) < 0x21);
  if (nonAscii >= 0) {
    value.value = "";
    say("half-message", "fail", `Character ${nonAscii + 1} is ${escapeHtml(describeChar([...token][nonAscii]))}: tokens and codes are printable ASCII without spaces. Copied with something extra?`);
    return;
  }
  if (!subtle) {
    say("half-message", "fail", escapeHtml(NO_SUBTLE));
    return;
  }
  const computed = await tokenHalfHash(alg, token);
  if ($("half-token").value.trim() !== token || $("half-alg").value !== alg) return;
  value.value = computed;
  const hash = alg === "EdDSA" ? "SHA-512" : "SHA-256";
  if (!expected) {
    say("half-message", "hint", `Left half of ${hash}: ${computed.length} characters.`);
  } else if (expected === computed) {
    say("half-message", "pass", "Matches the ID token's value.");
  } else {
    const other = await tokenHalfHash(alg === "EdDSA" ? "ES256" : "EdDSA", token);
    const hint = expected === other
      ? ` It matches the value for ${alg === "EdDSA" ? "SHA-256 (ES256, RS256, PS256)" : "SHA-512 (EdDSA)"}: is the alg right?`
      : " The ID token was issued with another token or code, or the value was computed from something else.";
    say("half-message", "fail", `Does not match: the ID token has ${escapeHtml(expected)}, the token gives ${escapeHtml(computed)}.${escapeHtml(hint)}`);
  }
}

// ---------------------------------------------------------------------
// JSON: a small parser that keeps numbers and strings exactly as written
// (JSON.parse would round large integers) and says where and why the
// input is not JSON (browsers differ in what JSON.parse reports).

class JsonError extends Error {
  constructor(message, offset) {
    super(message);
    this.offset = offset;
  }
}

// Parses `text` into nodes: { raw } for strings, numbers and literals,
// { entries: [[key, node]] } for objects, { items: [node] } for arrays.
// Also returns warnings (duplicate keys).
function parseJson(text) {
  let i = 0;
  const warnings = [];
  const fail = (message, at = i) => { throw new JsonError(message, at); };
  const ws = () => { while (i < text.length && " \t\n\r".includes(text[i])) i++; };
  const end = () => i >= text.length;

  function value(depth) {
    if (depth > 500) fail("nested more than 500 levels deep");
    ws();
    if (end()) fail("unexpected end of input: a value is missing");
    const c = text[i];
    if (c === "{") return object(depth);
    if (c === "[") return array(depth);
    if (c === '"') return { raw: string() };
    if (c === "-" || (c >= "0" && c <= "9")) return { raw: number() };
    for (const lit of ["true", "false", "null"]) {
      if (text.startsWith(lit, i)) { i += lit.length; return { raw: lit }; }
    }
    if (c === "'") fail("strings are in double quotes in JSON, not single quotes");
    if (c === "/") fail("comments are not allowed in JSON");
    if (/[A-Za-z_$]/.test(c)) {
      const word = /[A-Za-z_$][\w$]*/y;
      word.lastIndex = i;
      fail(`unexpected word "${word.exec(text)[0]}": a JSON value is a string in double quotes, a number, an object, an array, true, false or null`);
    }
    fail(`unexpected ${describeChar(c)}: expected a value`);
  }

  function object(depth) {
    i++; // {
    const entries = [];
    const seen = new Set();
    ws();
    if (text[i] === "}") { i++; return { entries }; }
    for (;;) {
      ws();
      if (text[i] !== '"') {
        if (end()) fail("unexpected end of input: the object is not closed (missing })");
        if (text[i] === "'") fail("property names are in double quotes in JSON, not single quotes");
        fail("expected a property name in double quotes");
      }
      const keyAt = i;
      const key = string();
      if (seen.has(key)) warnings.push({ message: `the property ${key} appears more than once (most readers keep only the last)`, offset: keyAt });
      seen.add(key);
      ws();
      if (text[i] !== ":") fail(end() ? "unexpected end of input: expected : after the property name" : "expected : after the property name");
      i++;
      entries.push([key, value(depth + 1)]);
      ws();
      if (text[i] === ",") {
        const comma = i;
        i++;
        ws();
        if (text[i] === "}") fail("trailing comma: JSON allows no comma before }", comma);
        continue;
      }
      if (text[i] === "}") { i++; return { entries }; }
      fail(end() ? "unexpected end of input: the object is not closed (missing })" : "expected , or } after a property's value");
    }
  }

  function array(depth) {
    i++; // [
    const items = [];
    ws();
    if (text[i] === "]") { i++; return { items }; }
    for (;;) {
      items.push(value(depth + 1));
      ws();
      if (text[i] === ",") {
        const comma = i;
        i++;
        ws();
        if (text[i] === "]") fail("trailing comma: JSON allows no comma before ]", comma);
        continue;
      }
      if (text[i] === "]") { i++; return { items }; }
      fail(end() ? "unexpected end of input: the array is not closed (missing ])" : "expected , or ] after an array item");
    }
  }

  function string() {
    const start = i;
    i++; // "
    for (;;) {
      if (end()) fail("unterminated string: the closing \" is missing", start);
      const c = text[i];
      if (c === '"') { i++; return text.slice(start, i); }
      if (c === "\\") {
        const e = text[i + 1];
        if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else if (e === "u") fail("\\u must be followed by four hex digits");
        else fail(`invalid escape \\${e ?? ""}: JSON has \\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX`);
        continue;
      }
      if (c < " ") fail(c === "\n" ? "line break inside a string: write it as \\n (or the closing \" is missing)" : `${describeChar(c)} inside a string: escape it`);
      i++;
    }
  }

  function number() {
    const re = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) fail(text[i + 1] === undefined ? "unexpected end of input: a number is cut short" : "a minus sign must be followed by a digit");
    const after = text[i + m[0].length];
    if (m[1] === "0" && after >= "0" && after <= "9" && !m[2] && !m[3]) fail("numbers may not start with 0 (leading zeros are not JSON)");
    if (after === ".") fail("a digit must follow the decimal point", i + m[0].length);
    if (after === "e" || after === "E") fail("an exponent needs digits", i + m[0].length);
    i += m[0].length;
    return m[0];
  }

  const root = value(0);
  ws();
  if (!end()) fail(`unexpected ${describeChar(text[i])} after the end of the JSON value`);
  return { root, warnings };
}

// Prints parsed nodes: `indent` "" minifies.
function printJson(node, indent, level = 0) {
  if (node.raw !== undefined) return node.raw;
  const inner = indent ? `\n${indent.repeat(level + 1)}` : "";
  const close = indent ? `\n${indent.repeat(level)}` : "";
  if (node.entries) {
    if (!node.entries.length) return "{}";
    const sep = indent ? ": " : ":";
    return `{${node.entries.map(([k, v]) => inner + k + sep + printJson(v, indent, level + 1)).join(",")}${close}}`;
  }
  if (!node.items.length) return "[]";
  return `[${node.items.map((v) => inner + printJson(v, indent, level + 1)).join(",")}${close}]`;
}

// Line and column (1-based) of a character offset.
function lineColumn(text, offset) {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - (before.lastIndexOf("\n") + 1) + 1;
  return { line, column };
}

function formatJson(minify) {
  const text = $("json-input").value;
  const output = $("json-output");
  if (!text.trim()) {
    output.value = "";
    say("json-message", "hint", "Paste JSON first.");
    return;
  }
  try {
    const { root, warnings } = parseJson(text);
    const sel = $("json-indent").value;
    output.value = printJson(root, minify ? "" : sel === "tab" ? "\t" : " ".repeat(Number(sel)));
    const notes = warnings.map((w) => {
      const { line, column } = lineColumn(text, w.offset);
      return `<p class="warn">Line ${line}, column ${column}: ${escapeHtml(w.message)}.</p>`;
    });
    $("json-message").innerHTML = `<p class="pass">Valid JSON, ${minify ? "minified" : "pretty-printed"}: ${output.value.length} characters.</p>${notes.join("")}`;
  } catch (e) {
    if (!(e instanceof JsonError)) throw e;
    output.value = "";
    const { line, column } = lineColumn(text, e.offset);
    // The line with a caret under the position.
    const lineText = text.split("\n")[line - 1].replace(/\r$/, "");
    const shown = lineText.length > 200 ? lineText.slice(Math.max(0, column - 100), column + 100) : lineText;
    const caretAt = lineText.length > 200 ? column - 1 - Math.max(0, column - 100) : column - 1;
    $("json-message").innerHTML =
      `<div class="error-box"><p><strong class="fail" id="json-error-position">Invalid JSON at line ${line}, column ${column}:</strong> ${escapeHtml(e.message)}.</p>` +
      `<pre aria-hidden="true">${escapeHtml(shown.replace(/\t/g, " "))}\n${" ".repeat(Math.max(0, caretAt))}^</pre></div>`;
  }
}

// ---------------------------------------------------------------------
// state and nonce.

function generateRandom() {
  const n = Number($("random-bytes").value);
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    say("random-message", "fail", "The length is a whole number of bytes from 1 to 1024.");
    return;
  }
  $("random-state").value = b64url(randomBytes(n));
  $("random-nonce").value = b64url(randomBytes(n));
  const chars = $("random-state").value.length;
  if (n < 16) {
    say("random-message", "warn", `${n} bytes is ${n * 8} bits: guessable; use at least 16 bytes (128 bits), better 32.`);
  } else {
    say("random-message", "pass", `Two new values of ${n} random bytes (${n * 8} bits): ${chars} characters each.`);
  }
}

// ---------------------------------------------------------------------
// Wiring.

$("pkce-generate").addEventListener("click", generateVerifier);
$("pkce-verifier").addEventListener("input", updatePkce);
$("hash-input").addEventListener("input", updateHashes);
for (const id of ["half-token", "half-alg", "half-expected"]) $(id).addEventListener("input", updateHalfHash);
$("json-pretty").addEventListener("click", () => formatJson(false));
$("json-minify").addEventListener("click", () => formatJson(true));
$("random-generate").addEventListener("click", generateRandom);
$("random-bytes").addEventListener("keydown", (e) => { if (e.key === "Enter") generateRandom(); });

// Start with fresh values and the hashes of the empty text.
generateVerifier();
updateHashes();
updateHalfHash();
generateRandom();
