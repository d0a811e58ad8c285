// The JWT decoder and verifier (/portal/jwt). Everything happens in this
// page: the token is decoded and its signature checked with WebCrypto
// here; the only request that carries the token is the explicit
// "Check revocation and session" button (POST {portal}/api/token-state).
//
// The steps and their words follow the CLI's explainer
// (crates/resource/src/explain.rs, `latchkey jwt verify`): parse, claims,
// alg, kid, signature, typ, iss, aud, exp, nbf, iat, scope; then, on
// request, revocation and session. Every step that can run does, so one
// look shows everything wrong with a token.

import { config, api, escapeHtml } from "./portal.js";

const cfg = config();
const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------
// The server's clock: the page carries the server's time at render; the
// time elapsed since (a monotonic clock) is added, so a wrong clock on
// this machine does not change the result.

// The page's first byte arrived just after the server rendered it: that
// moment (on the page's monotonic clock) is the one server_time names.
const navigation = performance.getEntriesByType?.("navigation")?.[0];
const loadedAt = navigation?.responseStart > 0 ? navigation.responseStart : performance.now();
const serverTimeAtLoad = Number(cfg.server_time) || Math.floor(Date.now() / 1000);
// Positive: this browser's clock is ahead of the server's. server_time is
// whole seconds, so a skew of a second is noise.
const browserSkew = Math.round((performance.timeOrigin + loadedAt) / 1000 - serverTimeAtLoad);
const leeway = Number(cfg.leeway) || 0;

function serverNow() {
  return Math.floor(serverTimeAtLoad + (performance.now() - loadedAt) / 1000);
}

// A duration for people, as the CLI writes it: "42 s", "5 min", "3 h", "2 d".
function duration(secs) {
  const s = Math.max(0, Math.round(secs));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.floor(s / 60)} min`;
  if (s < 172800) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86400)} d`;
}

// "in 4 min" or "3 h ago", relative to `now`.
function relative(t, now) {
  return t >= now ? `in ${duration(t - now)}` : `${duration(now - t)} ago`;
}

// A NumericDate as an ISO date (UTC), or a note when it is not one.
function isoDate(t) {
  const d = new Date(t * 1000);
  return Number.isFinite(t) && !Number.isNaN(d.getTime()) ? d.toISOString().replace(".000Z", "Z") : "not a valid date";
}

function clockTime(ms) {
  return new Date(ms).toISOString().slice(11, 19) + " UTC";
}

// ---------------------------------------------------------------------
// base64url (RFC 4648 §5, no padding), strict like the server's decoder.

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Decodes base64url; throws an Error saying what is wrong.
function b64urlDecode(s) {
  if (s.includes("=")) throw new Error("has = padding, which JWTs do not use");
  const bad = s.search(/[^A-Za-z0-9_-]/);
  if (bad >= 0) throw new Error(`has ${JSON.stringify(s[bad])} at position ${bad + 1}, outside base64url (A–Z a–z 0–9 - _)`);
  if (s.length % 4 === 1) throw new Error("has an impossible length for base64url: cut short or pasted twice?");
  // The last character may not carry bits beyond the data (non-canonical
  // encoding): the server refuses such tokens too.
  if (s.length % 4 !== 0) {
    const last = B64URL.indexOf(s[s.length - 1]);
    const spare = s.length % 4 === 2 ? 0x0f : 0x03;
    if (last & spare) throw new Error("ends with a character that is not a canonical base64url ending: the token was changed or cut");
  }
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (s.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

// Standard base64 with any whitespace (PEM bodies).
function b64Decode(s) {
  const bin = atob(s.replace(/\s+/g, ""));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

// ---------------------------------------------------------------------
// Steps: { check, status: "pass" | "fail" | "skipped", detail, hint? }.

const step = (check, status, detail, hint) => ({ check, status, detail, hint });

// The algorithms this page can check (the server's set; RFC 7518 names).
const SUPPORTED = ["ES256", "RS256", "PS256", "EdDSA"];
const serverAlgs = Array.isArray(cfg.algorithms) && cfg.algorithms.length ? cfg.algorithms : SUPPORTED;

// WebCrypto parameters per JWS algorithm.
const IMPORT = {
  ES256: { name: "ECDSA", namedCurve: "P-256" },
  RS256: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
  PS256: { name: "RSA-PSS", hash: "SHA-256" },
  EdDSA: { name: "Ed25519" },
};
const VERIFY = {
  ES256: { name: "ECDSA", hash: "SHA-256" },
  RS256: { name: "RSASSA-PKCS1-v1_5" },
  PS256: { name: "RSA-PSS", saltLength: 32 },
  EdDSA: { name: "Ed25519" },
};

// parse: three base64url parts, a JSON object header with an alg, a JSON
// object payload. Returns { ok, step, header?, claims?, ... }: the header
// is kept even when the payload is broken, to show what can be shown.
function parseToken(raw) {
  let token = raw.trim();
  let note = "";
  if (/^bearer\s+/i.test(token)) {
    token = token.replace(/^bearer\s+/i, "");
    note = " (the leading \"Bearer \" was ignored)";
  }
  token = token.replace(/\s+/g, "");
  const hint = "a JWT is header.payload.signature, each base64url without padding; copy the whole token";
  const parts = token.split(".");
  const out = { ok: false, token, parts };
  if (parts.length !== 3) {
    const what = parts.length === 5 ? " (5 parts: an encrypted JWE, which this page cannot read)" : ` (found ${parts.length})`;
    out.step = step("parse", "fail", `not a compact JWS: expected three base64url parts${what}`, hint);
    return out;
  }
  const names = ["header", "payload", "signature"];
  const bytes = [];
  for (let i = 0; i < 3; i++) {
    try {
      bytes.push(b64urlDecode(parts[i]));
    } catch (e) {
      out.step = step("parse", "fail", `the ${names[i]} part ${e.message}`, hint);
      if (i > 0) out.header = tryJson(bytes[0]);
      return out;
    }
  }
  out.signature = bytes[2];
  out.header = tryJson(bytes[0]);
  if (!isObject(out.header)) {
    out.step = step("parse", "fail", "the header is not valid JSON", "is this a JWT at all? The first part must decode to a JSON object");
    return out;
  }
  if (typeof out.header.alg !== "string") {
    out.step = step("parse", "fail", "the header has no alg (a string)", "every JWS header names its algorithm (RFC 7515 §4.1.1)");
    return out;
  }
  out.claims = tryJson(bytes[1]);
  if (!isObject(out.claims)) {
    out.step = step("parse", "fail", "the payload is not a JSON object", "is this a JWT at all?");
    return out;
  }
  out.ok = true;
  out.signingInput = `${parts[0]}.${parts[1]}`;
  out.step = step("parse", "pass", `three base64url parts; header and claims are JSON objects${note}`);
  return out;
}

function tryJson(bytes) {
  try { return JSON.parse(utf8.decode(bytes)); } catch { return undefined; }
}

function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

const isInt = (v) => Number.isInteger(v);
const isStr = (v) => typeof v === "string";
const isAud = (v) => isStr(v) || (Array.isArray(v) && v.every(isStr));

// claims: the claims the token's kind must carry, with the right types.
function claimsStep(claims, header, idToken) {
  const required = idToken
    ? { iss: isStr, sub: isStr, aud: isAud, exp: isInt, iat: isInt }
    : { iss: isStr, sub: isStr, aud: isAud, exp: isInt, iat: isInt, jti: isStr, client_id: isStr };
  const optional = idToken ? { nbf: isInt, auth_time: isInt } : { nbf: isInt, scope: isStr, sid: isStr, auth_time: isInt };
  const missing = Object.keys(required).filter((k) => !(k in claims));
  const mistyped = Object.entries({ ...required, ...optional }).filter(([k, ok]) => k in claims && !ok(claims[k])).map(([k]) => k);
  const names = Object.keys(required).join(", ").replace(/, ([^,]*)$/, " and $1");
  if (!missing.length && !mistyped.length) return step("claims", "pass", `${names} present`);
  const problems = [];
  if (missing.length) problems.push(`missing ${missing.join(", ")}`);
  if (mistyped.length) problems.push(`wrong type: ${mistyped.join(", ")} (times are whole seconds, the others strings)`);
  if (idToken) {
    return step("claims", "fail", `not an OpenID Connect ID token: ${problems.join("; ")}`, "an ID token carries iss, sub, aud, exp and iat (OpenID Connect Core §2)");
  }
  let hint = "an access token carries iss, sub, aud, exp, iat, jti and client_id (RFC 9068 §2.2)";
  if (!("client_id" in claims) && (header.typ === undefined || /^jwt$/i.test(header.typ) || "nonce" in claims || "azp" in claims)) {
    hint += "; if this is an ID token, tick \"This is an ID token\"";
  }
  return step("claims", "fail", `not an RFC 9068 access token: ${problems.join("; ")}`, hint);
}

// alg: from the server's allow-list; "none" and HMAC never.
function algStep(alg) {
  const accepted = `accepted: ${serverAlgs.join(", ")}`;
  if (alg === "none") {
    return step("alg", "fail", `"none" is not accepted (${accepted}): an unsigned token, anyone can write one`,
      "\"none\" and HMAC algorithms are never accepted for tokens signed with public keys: the token is forged or from another issuer");
  }
  if (/^HS/i.test(alg)) {
    return step("alg", "fail", `${JSON.stringify(alg)} is not accepted (${accepted}): HMAC needs a shared secret, and a verifier that took the public key as that secret would accept tokens anyone can forge (algorithm confusion)`,
      "\"none\" and HMAC algorithms are never accepted for tokens signed with public keys: the token is forged or from another issuer");
  }
  if (serverAlgs.includes(alg)) return step("alg", "pass", `${alg} is accepted`);
  return step("alg", "fail", `${JSON.stringify(alg)} is not accepted (${accepted})`,
    SUPPORTED.includes(alg)
      ? `this server does not sign with ${alg}: the token is from another issuer, or the server's configuration changed`
      : "\"none\" and HMAC algorithms are never accepted for tokens signed with public keys: the token is forged or from another issuer");
}

// ---------------------------------------------------------------------
// Keys. A key: { kid, alg, kty, crv, jwk | spki, label }.

const keys = {
  // The live JWKS: fetched at load and on request.
  live: { keys: [], fetchedAt: null, error: null, loading: false },
  // The pasted key(s), parsed on every change.
  pasted: { keys: [], error: null, kind: null },
};

// A JWK reduced to what WebCrypto needs (its `alg`, `use` and `key_ops`
// would otherwise constrain the import).
function keyFromJwk(jwk) {
  if (!isObject(jwk) || !isStr(jwk.kty)) throw new Error("a JWK is a JSON object with kty");
  if (jwk.d !== undefined) throw new Error("this JWK is a PRIVATE key (it has \"d\"): use its public part only, and treat the private key as leaked if it was shared");
  let clean;
  if (jwk.kty === "EC") clean = { kty: "EC", crv: jwk.crv, x: jwk.x, y: jwk.y };
  else if (jwk.kty === "RSA") clean = { kty: "RSA", n: jwk.n, e: jwk.e };
  else if (jwk.kty === "OKP") clean = { kty: "OKP", crv: jwk.crv, x: jwk.x };
  else throw new Error(`kty ${JSON.stringify(jwk.kty)} is not a public-key type (EC, RSA or OKP)`);
  for (const [k, v] of Object.entries(clean)) if (!isStr(v)) throw new Error(`the ${jwk.kty} key has no ${k}`);
  return { kid: isStr(jwk.kid) ? jwk.kid : null, alg: isStr(jwk.alg) ? jwk.alg : null, kty: jwk.kty, crv: clean.crv || null, jwk: { ...clean, ext: true } };
}

// Parses the pasted text: a PEM public key, a JWK or a JWKS.
function parsePasted(text) {
  const t = text.trim();
  if (!t) return { keys: [], error: null, kind: null };
  if (t.startsWith("-----BEGIN")) {
    const m = t.match(/^-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/);
    if (!m) return { keys: [], error: "the PEM has no matching -----END …----- line", kind: "PEM" };
    const label = m[1];
    if (/PRIVATE KEY/.test(label)) return { keys: [], error: "this is a PRIVATE key: paste the public key (openssl pkey -in key.pem -pubout), and treat the private key as leaked if it was shared", kind: "PEM" };
    if (label === "RSA PUBLIC KEY") return { keys: [], error: "a PKCS#1 RSA key: convert it to a public key (SPKI) with openssl rsa -RSAPublicKey_in -in key.pem -pubout", kind: "PEM" };
    if (label === "CERTIFICATE") return { keys: [], error: "a certificate: take its public key with openssl x509 -in cert.pem -pubkey -noout", kind: "PEM" };
    if (label !== "PUBLIC KEY") return { keys: [], error: `a PEM "${label}": paste a "PUBLIC KEY" (SPKI)`, kind: "PEM" };
    try {
      return { keys: [{ kid: null, alg: null, kty: null, crv: null, spki: b64Decode(m[2]) }], error: null, kind: "PEM" };
    } catch {
      return { keys: [], error: "the PEM body is not base64", kind: "PEM" };
    }
  }
  let json;
  try { json = JSON.parse(t); } catch (e) {
    return { keys: [], error: `not JSON (${e.message}) and not a PEM`, kind: null };
  }
  try {
    if (isObject(json) && Array.isArray(json.keys)) {
      const list = [];
      const skipped = [];
      for (const k of json.keys) {
        try { list.push(keyFromJwk(k)); } catch (e) { skipped.push(e.message); }
      }
      if (!list.length) return { keys: [], error: `no usable key in the set${skipped.length ? `: ${skipped[0]}` : ""}`, kind: "JWKS" };
      return { keys: list, error: null, kind: "JWKS", skipped };
    }
    return { keys: [keyFromJwk(json)], error: null, kind: "JWK" };
  } catch (e) {
    return { keys: [], error: e.message, kind: "JWK" };
  }
}

async function fetchJwks() {
  const live = keys.live;
  live.loading = true;
  renderKeyStatus();
  try {
    // no-store: "fetch again" must not be answered from the HTTP cache.
    const res = await fetch(cfg.endpoints.jwks, { cache: "no-store", headers: { Accept: "application/json" } });
    if (!res.ok) throw new Error(`the JWKS endpoint answered ${res.status}`);
    const json = await res.json();
    if (!isObject(json) || !Array.isArray(json.keys)) throw new Error("the answer is not a JWKS");
    live.keys = json.keys.flatMap((k) => { try { return [keyFromJwk(k)]; } catch { return []; } });
    live.error = null;
  } catch (e) {
    live.error = e.message || String(e);
  }
  live.fetchedAt = Date.now();
  live.loading = false;
  renderKeyStatus();
  schedule(0);
}

function keySource() {
  return document.querySelector("input[name=key-source]:checked")?.value === "pasted" ? "pasted" : "jwks";
}

// How old the live JWKS is, for people.
function jwksAge() {
  const at = keys.live.fetchedAt;
  return at ? `fetched ${clockTime(at)}, ${duration((Date.now() - at) / 1000)} ago` : "not fetched yet";
}

function renderKeyStatus() {
  const live = keys.live;
  const status = $("jwks-status");
  if (live.loading) {
    status.textContent = "Fetching the key set…";
  } else if (live.error) {
    status.innerHTML = `<span class="fail">The key set could not be fetched:</span> ${escapeHtml(live.error)}`;
  } else if (live.fetchedAt) {
    const list = live.keys.map((k) => `<code>${escapeHtml(k.kid ?? "(no kid)")}</code> (${escapeHtml(k.alg ?? k.kty)})`).join(", ");
    status.innerHTML = `Key set <code>${escapeHtml(cfg.endpoints.jwks)}</code> ${escapeHtml(jwksAge())}: ${live.keys.length} key${live.keys.length === 1 ? "" : "s"}: ${list}.`;
  }
  const pasted = keys.pasted;
  const ps = $("pasted-status");
  if (pasted.error) ps.innerHTML = `<span class="fail">This key cannot be used:</span> ${escapeHtml(pasted.error)}`;
  else if (pasted.keys.length) {
    const what = pasted.kind === "PEM" ? "a PEM public key (SPKI), imported for the token's alg" : `${pasted.kind === "JWKS" ? "a JWKS" : "a JWK"} with ${pasted.keys.length} key${pasted.keys.length === 1 ? "" : "s"}: ${pasted.keys.map((k) => `${k.kid ?? "(no kid)"} (${k.alg ?? k.kty})`).join(", ")}`;
    ps.innerHTML = breakable(`Read ${what}.`);
  } else ps.textContent = "Paste a key.";
}

// Whether `key` may be used for `alg`: its own alg when it names one,
// otherwise its type and curve. A PEM's type is known only on import.
function keyFits(key, alg) {
  if (key.spki) return true;
  if (key.alg) return key.alg === alg;
  switch (alg) {
    case "ES256": return key.kty === "EC" && key.crv === "P-256";
    case "RS256": case "PS256": return key.kty === "RSA";
    case "EdDSA": return key.kty === "OKP" && key.crv === "Ed25519";
    default: return false;
  }
}

// kid and signature, as the explainer does them.
async function keyAndSignature(parsed) {
  const { header } = parsed;
  const alg = header.alg;
  const kid = isStr(header.kid) ? header.kid : "";
  const source = keySource();
  const set = source === "pasted" ? keys.pasted : keys.live;
  const noKey = (why, hint) => [step("kid", "skipped", `kid ${JSON.stringify(kid)}; ${why}`, hint), step("signature", "skipped", "no key to check it with", hint)];

  if (source === "jwks" && (keys.live.loading || !keys.live.fetchedAt)) return noKey("the key set is being fetched");
  if (set.error) return noKey(source === "pasted" ? `the pasted key cannot be used: ${set.error}` : `the key set could not be fetched: ${set.error}`,
    source === "pasted" ? "paste a public key: a JWK, a JWKS or a PEM -----BEGIN PUBLIC KEY-----" : "press \"Fetch the key set again\", or paste the key");
  if (!set.keys.length) return noKey(source === "pasted" ? "no key pasted" : "the key set is empty",
    source === "pasted" ? "paste a public key: a JWK, a JWKS or a PEM -----BEGIN PUBLIC KEY-----" : undefined);

  let kidStep;
  let candidates;
  if (source === "pasted" && set.keys.length === 1 && !set.keys[0].kid) {
    // A single key without a kid (a PEM, or a bare JWK): used whatever the
    // token names.
    candidates = set.keys;
    kidStep = step("kid", "skipped", `kid ${JSON.stringify(kid)}; the pasted key has no kid, so it is used for this token`);
  } else if (!kid) {
    return [step("kid", "fail", "the header has no kid", "Latchkey's tokens always name their key"),
      step("signature", "skipped", "no key to check it with")];
  } else {
    candidates = set.keys.filter((k) => k.kid === kid);
    const where = source === "pasted" ? "the pasted keys" : `the key set (${jwksAge()})`;
    if (!candidates.length) {
      const known = set.keys.map((k) => k.kid ?? "(no kid)");
      return [step("kid", "fail", `no key with kid ${JSON.stringify(kid)} in ${where}; the set has ${JSON.stringify(known)}`,
        "a key newer than your copy of the JWKS? fetch it again; otherwise the token is from another issuer or forged"),
      step("signature", "skipped", "no key to check it with")];
    }
    kidStep = step("kid", "pass", `key ${JSON.stringify(kid)} found in ${where}`);
  }

  // The signature.
  if (alg === "none" || /^HS/i.test(alg)) return [kidStep, step("signature", "skipped", `not checked: the alg step refuses ${JSON.stringify(alg)}`)];
  if (!SUPPORTED.includes(alg)) return [kidStep, step("signature", "skipped", `not checked: this page checks ${SUPPORTED.join(", ")}, not ${JSON.stringify(alg)}`)];
  const key = candidates.find((k) => keyFits(k, alg));
  if (!key) {
    const c = candidates[0];
    return [kidStep, step("signature", "fail", `the token names algorithm ${alg} but key ${c.kid ?? "(pasted)"} is for ${c.alg ?? `${c.kty}${c.crv ? ` ${c.crv}` : ""}`}`,
      "the header names another algorithm than the key's: algorithm confusion, refuse the token")];
  }
  if (!globalThis.crypto?.subtle) {
    return [kidStep, step("signature", "skipped", "WebCrypto is not available: browsers offer it only on https:// pages and on localhost",
      "open the portal over https, or check the token with `latchkey jwt verify`")];
  }
  const sig = parsed.signature;
  if (alg === "ES256" && sig.length !== 64) {
    return [kidStep, step("signature", "fail", `an ES256 signature is 64 bytes (r and s, 32 each); this one has ${sig.length}`,
      sig.length > 64 && sig[0] === 0x30 ? "it looks DER-encoded: a JWS carries the raw r||s (RFC 7518 §3.4)" : "the token was changed after signing, or cut")];
  }
  let cryptoKey;
  try {
    cryptoKey = key.spki
      ? await crypto.subtle.importKey("spki", key.spki, IMPORT[alg], false, ["verify"])
      : await crypto.subtle.importKey("jwk", key.jwk, IMPORT[alg], false, ["verify"]);
  } catch (e) {
    if (alg === "EdDSA" && e.name === "NotSupportedError") {
      return [kidStep, step("signature", "skipped", "this browser's WebCrypto has no Ed25519, so the signature was not checked",
        "use a browser with Ed25519 in WebCrypto (Chromium, Firefox, Safari 17+), or `latchkey jwt verify`")];
    }
    return [kidStep, step("signature", "fail", `the key cannot be used for ${alg}: ${e.message || e.name}`,
      key.spki ? `the pasted key is not a ${alg === "ES256" ? "P-256 EC" : alg === "EdDSA" ? "Ed25519" : "RSA"} public key: the header names another algorithm than the key's, or it is the wrong key`
        : "the key in the set is damaged, or not for this algorithm")];
  }
  let ok;
  try {
    ok = await crypto.subtle.verify(VERIFY[alg], cryptoKey, parsed.signature, new TextEncoder().encode(parsed.signingInput));
  } catch {
    ok = false;
  }
  if (ok) return [kidStep, step("signature", "pass", `verifies with the key (${alg})`)];
  return [kidStep, step("signature", "fail", "the signature does not verify",
    "the token was changed after signing, or signed by another key with the same kid")];
}

// typ: RFC 9068 §4 for access tokens; ID tokens: JWT or none.
function typStep(header, idToken) {
  const typ = header.typ;
  if (idToken) {
    if (typ === undefined || (isStr(typ) && /^(application\/)?jwt$/i.test(typ))) {
      return step("typ", "pass", `ID token: typ ${typ === undefined ? "absent" : JSON.stringify(typ)}, accepted`);
    }
    const note = isStr(typ) && /^(application\/)?at\+jwt$/i.test(typ) ? ": an access token's type, is this really an ID token?" : "";
    return step("typ", "skipped", `${JSON.stringify(typ)}; not checked for ID tokens${note}`);
  }
  if (isStr(typ) && (typ.toLowerCase() === "at+jwt" || typ.toLowerCase() === "application/at+jwt")) return step("typ", "pass", "at+jwt");
  return step("typ", "fail", `expected at+jwt, got ${typ === undefined ? "none" : JSON.stringify(typ)}`,
    "an ID token or another JWT is not an access token (RFC 9068 §4): send the access token");
}

function issStep(claims, wanted) {
  const iss = claims.iss;
  if (!wanted) return step("iss", "skipped", `${JSON.stringify(iss)}; no issuer expected`);
  if (iss === wanted) return step("iss", "pass", `expected ${wanted}, got the same`);
  let hint = "issuers compare exactly: scheme, host, port, path and trailing slash";
  if (isStr(iss) && iss.replace(/\/$/, "") === wanted.replace(/\/$/, "")) hint = `they differ only in the trailing slash: ${hint}`;
  return step("iss", "fail", `expected ${wanted}, got ${iss === undefined ? "none" : JSON.stringify(iss)}`, hint);
}

function audStep(claims, wanted, idToken) {
  const auds = isStr(claims.aud) ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud.filter(isStr) : [];
  if (!wanted) return step("aud", "skipped", `${JSON.stringify(auds)}; no audience expected`);
  if (auds.includes(wanted)) return step("aud", "pass", `${wanted} is in ${JSON.stringify(auds)}`);
  return step("aud", "fail", `${wanted} is not in ${JSON.stringify(auds)}`,
    idToken ? "an ID token's audience is the client_id of the app it was issued to"
      : "request the token for this API: the `resource` parameter (RFC 8707) or `audience` in token exchange");
}

// exp, nbf, iat: against the server's clock, with the leeway.
function timeSteps(claims, now, idToken) {
  const out = [];
  const clock = `server clock, leeway ${leeway} s`;
  const diff = (t) => `${t - now >= 0 ? "+" : "−"}${Math.abs(t - now)} s`;
  const bad = (name) => step(name, "fail", `${name} is not a whole number of seconds: ${JSON.stringify(claims[name])}`, "times in JWTs are NumericDate: seconds since 1970 (RFC 7519 §2)");

  const exp = claims.exp;
  if (exp === undefined) out.push(step("exp", "fail", "no exp claim", idToken ? "ID tokens must expire (OpenID Connect Core §2)" : "access tokens must expire"));
  else if (!isInt(exp)) out.push(bad("exp"));
  else if (now - leeway < exp) out.push(step("exp", "pass", `expires in ${duration(exp - now)}: ${isoDate(exp)} (exp − now = ${diff(exp)}; ${clock})`));
  else out.push(step("exp", "fail", `expired ${duration(now - exp)} ago: ${isoDate(exp)} (exp − now = ${diff(exp)}; ${clock})`,
    "get a new token (refresh it); if it just expired, check this machine's clock"));

  const nbf = claims.nbf;
  if (nbf === undefined) out.push(step("nbf", "skipped", "no nbf claim"));
  else if (!isInt(nbf)) out.push(bad("nbf"));
  else if (nbf <= now + leeway) out.push(step("nbf", "pass", `already valid: ${isoDate(nbf)} (nbf − now = ${diff(nbf)}; ${clock})`));
  else out.push(step("nbf", "fail", `not valid for another ${duration(nbf - now)}: ${isoDate(nbf)} (nbf − now = ${diff(nbf)}; ${clock})`,
    "clocks differ between the issuer and this machine"));

  const iat = claims.iat;
  if (iat === undefined) out.push(step("iat", "fail", "no iat claim", idToken ? "OpenID Connect Core §2 requires iat" : "RFC 9068 §2.2 requires iat"));
  else if (!isInt(iat)) out.push(bad("iat"));
  else if (iat <= now + leeway) out.push(step("iat", "pass", `issued ${duration(now - iat)} ago: ${isoDate(iat)} (iat − now = ${diff(iat)}; ${clock})`));
  else out.push(step("iat", "fail", `issued ${duration(iat - now)} in the future: ${isoDate(iat)} (iat − now = ${diff(iat)}; ${clock})`,
    "clocks differ between the issuer and this machine"));
  return out;
}

function scopeStep(claims, required) {
  const granted = isStr(claims.scope) ? claims.scope.split(" ").filter(Boolean) : [];
  if (!required.length) return step("scope", "skipped", `${JSON.stringify(isStr(claims.scope) ? claims.scope : "")}; no scope required`);
  const missing = required.filter((s) => !granted.includes(s));
  if (!missing.length) return step("scope", "pass", required.join(" "));
  return step("scope", "fail", `missing ${missing.join(" ")} (the token has ${JSON.stringify(granted.join(" "))})`,
    "ask for the scope in the authorization or token request; the client must be allowed it");
}

// ---------------------------------------------------------------------
// Revocation and session: only on the button, and only for the token it
// was asked about.

let serverCheck = null; // { token, steps }

async function checkServerState() {
  const parsed = parseToken($("token").value);
  if (!parsed.ok) return;
  const token = parsed.token;
  const signin = `${cfg.portal}/signin?next=${encodeURIComponent(new URL(cfg.portal).pathname + "/jwt")}`;
  const signInSteps = (why) => [
    { ...step("revocation", "skipped", `${why}: sign in to check`), hintHtml: `<a href="${escapeHtml(signin)}">Sign in</a>, then paste the token again` },
    step("session", "skipped", `${why}: sign in to check`),
  ];
  if (!cfg.user) {
    serverCheck = { token, steps: signInSteps("not signed in") };
    render();
    return;
  }
  $("server-check").disabled = true;
  $("steps").setAttribute("aria-busy", "true");
  $("server-check-note").textContent = "Asking the server…";
  let steps;
  try {
    const res = await api("POST", "/token-state", { token });
    const j = res.json || {};
    if (res.status === 401) steps = signInSteps("your portal session has ended");
    else if (res.status === 403) {
      const why = j.error_description || "only the owner of the token's client (or its subject) may see its server-side state";
      steps = [step("revocation", "skipped", `not shown: ${why}`), step("session", "skipped", `not shown: ${why}`)];
    } else if (!res.ok) {
      const why = `the server answered ${res.status}${j.error_description ? `: ${j.error_description}` : ""}`;
      steps = [step("revocation", "skipped", why), step("session", "skipped", why)];
    } else if (j.revoked) {
      steps = [step("revocation", "fail", "revoked: the server no longer accepts this token (not active)",
        "revoked by a revocation request, a sign-out, or the reuse of a spent refresh token: get a new token"),
      step("session", "skipped", "not looked up: the token is revoked")];
    } else if (j.problem) {
      steps = [step("revocation", "skipped", `not looked up: the server does not accept this token (not active): ${j.problem}`, "the failed steps above say why"),
        step("session", "skipped", "not looked up: the server does not accept this token")];
    } else {
      const revocation = step("revocation", "pass", `not revoked; the server accepts the token: active${j.client_id ? ` (client ${j.client_id})` : ""}`);
      let session;
      if (j.session === "active") session = step("session", "pass", "the session the token was issued in is active");
      else if (j.session === "ended") session = step("session", "fail", "the session the token was issued in has ended (signed out): the token is no longer active",
        "sign in again and use the new token");
      else session = step("session", "skipped", "the token belongs to no session (no sid: e.g. client credentials)");
      steps = [revocation, session];
    }
  } catch (e) {
    const why = `the server could not be reached: ${e.message || e}`;
    steps = [step("revocation", "skipped", why), step("session", "skipped", why)];
  }
  $("server-check").disabled = false;
  $("server-check-note").textContent = `Checked at ${clockTime(Date.now())}.`;
  serverCheck = { token, steps };
  render();
}

// ---------------------------------------------------------------------
// Running everything and showing it.

let runId = 0;
let timer = null;

// Runs the checks after `delay` ms (typing restarts the wait). The list
// is marked busy from now until the results are in.
function schedule(delay = 250) {
  clearTimeout(timer);
  $("steps").setAttribute("aria-busy", "true");
  timer = setTimeout(render, delay);
}

function expectations() {
  return {
    issuer: $("expect-iss").value.trim(),
    audience: $("expect-aud").value.trim(),
    scopes: $("expect-scopes").value.split(/\s+/).filter(Boolean),
    idToken: $("id-token").checked,
  };
}

async function evaluate(raw, expect) {
  const parsed = parseToken(raw);
  const steps = [parsed.step];
  if (!parsed.ok) return { parsed, steps };
  const { header, claims } = parsed;
  const now = serverNow();
  steps.push(claimsStep(claims, header, expect.idToken));
  steps.push(algStep(header.alg));
  steps.push(...(await keyAndSignature(parsed)));
  steps.push(typStep(header, expect.idToken));
  steps.push(issStep(claims, expect.issuer));
  steps.push(audStep(claims, expect.audience, expect.idToken));
  steps.push(...timeSteps(claims, now, expect.idToken));
  steps.push(scopeStep(claims, expect.scopes));
  if (serverCheck && serverCheck.token === parsed.token) steps.push(...serverCheck.steps);
  return { parsed, steps, now };
}

// Escaped text in which long unbroken runs (kids, URLs, token parts) are
// set as code, which portal.css lets wrap anywhere: they would otherwise
// push a phone's screen sideways.
function breakable(text) {
  return escapeHtml(text).replace(/\S{24,}/g, (run) => `<code>${run}</code>`);
}

const MARK = { pass: "✓", fail: "✗", skipped: "–" };
const WORD = { pass: "passed", fail: "failed", skipped: "skipped" };
const CLASS = { pass: "pass", fail: "fail", skipped: "skip-step" };

// A step as a list item: the step's name with its status class (the
// element tests and people look for), what was found, and the fix.
function stepHtml(s) {
  // `hintHtml` is trusted markup built here (a sign-in link); `hint` is text.
  const hintBody = s.hintHtml ?? (s.hint ? escapeHtml(s.hint) : "");
  const hint = hintBody ? `<p class="hint">${s.status === "fail" ? "Fix" : "Note"}: ${hintBody}</p>` : "";
  return `<li data-check="${escapeHtml(s.check)}" data-status="${s.status}">` +
    `<strong class="${CLASS[s.status]}"><span aria-hidden="true">${MARK[s.status]} </span>${escapeHtml(s.check)}: ${WORD[s.status]}</strong>` +
    ` <span>${breakable(s.detail)}</span>${hint}</li>`;
}

async function render() {
  const id = ++runId;
  $("steps").setAttribute("aria-busy", "true");
  const raw = $("token").value;
  renderClock();
  if (!raw.trim()) {
    $("steps").innerHTML = "";
    setSummary("<p>Paste a token to check it.</p>");
    $("decoded").hidden = true;
    $("server-check").disabled = true;
    $("steps").setAttribute("aria-busy", "false");
    return;
  }
  const { parsed, steps, now } = await evaluate(raw, expectations());
  if (id !== runId) return; // a newer run started meanwhile
  $("steps").innerHTML = steps.map(stepHtml).join("");
  $("steps").setAttribute("aria-busy", "false");
  $("server-check").disabled = !parsed.ok;

  const failed = steps.filter((s) => s.status === "fail");
  const passed = steps.filter((s) => s.status === "pass").length;
  const skipped = steps.filter((s) => s.status === "skipped").length;
  const counts = `${passed} passed, ${failed.length} failed, ${skipped} skipped.`;
  if (failed.length) {
    setSummary(`<div class="error-box"><p><strong class="fail">Not valid: failed ${failed.map((s) => escapeHtml(s.check)).join(", ")}.</strong> ${counts}</p></div>`);
  } else {
    setSummary(`<div class="notice"><p><strong class="pass">Valid: every check that ran passed.</strong> ${counts}</p></div>`);
  }
  renderDecoded(parsed, now ?? serverNow());
}

// Replaces the live region's content only when it changes, so that screen
// readers announce each new result once.
let lastSummary = null;
function setSummary(html) {
  if (html === lastSummary) return;
  lastSummary = html;
  $("summary").innerHTML = html;
}

function renderClock() {
  const now = serverNow();
  const skew = Math.abs(browserSkew) <= 1 ? "This browser's clock agrees with the server's (to within a second)"
    : `This browser's clock is ${duration(Math.abs(browserSkew))} ${browserSkew > 0 ? "ahead of" : "behind"} the server's (skew ${browserSkew > 0 ? "+" : "−"}${Math.abs(browserSkew)} s)`;
  $("clock").textContent = `Times are checked against the server's clock: now ${isoDate(now)}, with a leeway of ${leeway} s. ${skew}.`;
}

const TIME_CLAIMS = ["iat", "nbf", "exp", "auth_time"];

function renderDecoded(parsed, now) {
  $("decoded").hidden = !parsed.header;
  if (!parsed.header) return;
  $("header-json").textContent = JSON.stringify(parsed.header, null, 2);
  $("claims-json").textContent = parsed.claims !== undefined ? JSON.stringify(parsed.claims, null, 2) : "(the payload could not be decoded)";
  const times = isObject(parsed.claims) ? TIME_CLAIMS.filter((c) => isInt(parsed.claims[c])) : [];
  $("times-box").hidden = !times.length;
  $("times").innerHTML = times.map((c) => {
    const t = parsed.claims[c];
    return `<tr><th scope="row"><code>${c}</code></th><td>${escapeHtml(isoDate(t))}</td><td>${escapeHtml(relative(t, now))}</td></tr>`;
  }).join("");
  if (parsed.signature) {
    $("signature-info").textContent = `${parsed.signature.length} bytes, base64url. It signs the first two parts, header.payload, exactly as sent: changing any character of them breaks it.`;
    $("signature-part").textContent = parsed.parts[2];
  } else {
    $("signature-info").textContent = "The signature part could not be decoded.";
    $("signature-part").textContent = parsed.parts?.[2] ?? "";
  }
}

// ---------------------------------------------------------------------
// Wiring.

function init() {
  $("expect-iss").value = cfg.issuer || "";
  const list = $("audience-suggestions");
  for (const a of cfg.audiences || []) {
    const o = document.createElement("option");
    o.value = a;
    list.append(o);
  }
  $("accepted-algs").textContent = `Accepted algorithms (this server's): ${serverAlgs.join(", ")}. "none" and HMAC (HS256…) are always refused.`;

  $("token").addEventListener("input", () => schedule());
  for (const id of ["expect-iss", "expect-aud", "expect-scopes"]) $(id).addEventListener("input", () => schedule());
  $("id-token").addEventListener("change", () => schedule(0));
  for (const r of document.querySelectorAll("input[name=key-source]")) {
    r.addEventListener("change", () => {
      const pasted = keySource() === "pasted";
      $("pasted-box").hidden = !pasted;
      $("jwks-box").hidden = pasted;
      schedule(0);
    });
  }
  $("pasted-key").addEventListener("input", () => {
    keys.pasted = parsePasted($("pasted-key").value);
    renderKeyStatus();
    schedule();
  });
  $("jwks-refresh").addEventListener("click", () => fetchJwks());
  $("server-check").addEventListener("click", () => checkServerState());
  $("server-check-note").textContent = cfg.user
    ? "Asks this server whether the token was revoked and whether its session is still active (for tokens of your own clients)."
    : "Sign in to check revocation and session.";
  // The form is checked as you type; Enter must not reload the page.
  $("jwt-form").addEventListener("submit", (e) => { e.preventDefault(); schedule(0); });

  // Other pages (the flow runner) hand a token over in the fragment, which
  // browsers never send to a server; it is cleared from the address bar.
  const handed = new URLSearchParams(location.hash.slice(1)).get("token");
  if (handed) {
    $("token").value = handed;
    history.replaceState(null, "", location.pathname + location.search);
  }

  renderClock();
  fetchJwks();
  if ($("token").value.trim()) schedule(0); // kept by the browser on reload
}

init();

