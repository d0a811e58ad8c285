// The JWT decoder and verifier (/portal/jwt): a real access token passes
// every check; a tampered one fails at "signature", named on the page; a
// wrong audience fails at "aud"; the token is sent nowhere until the
// revocation/session button, which (signed in) reports it active; keys
// pasted as PEM or JWKS work for every algorithm the server signs with.

import crypto from "node:crypto";

export const name = "jwt";

// Waits until the checks for what is typed now have run (the page marks
// the list aria-busy from the input until the results are in).
async function settled(page) {
  await page.waitForSelector('#steps[aria-busy="false"]', { timeout: 5000 });
}

// The steps as the page shows them: { check: status }.
async function steps(page) {
  await settled(page);
  return page.$$eval("#steps li", (lis) => Object.fromEntries(lis.map((li) => [li.dataset.check, li.dataset.status])));
}

// Asserts that the step `check` ended with `status`.
async function expectStep(page, check, status, message) {
  const all = await steps(page);
  if (all[check] !== status) {
    const text = await page.locator(`#steps li[data-check="${check}"]`).textContent().catch(() => "(no such step)");
    throw new Error(`${message ? `${message}: ` : ""}step ${check} is ${all[check]}, expected ${status}: ${text}`);
  }
}

// Waits for the live key set to have been fetched.
async function waitJwks(page) {
  await page.waitForFunction(() => /\d+ keys?:/.test(document.getElementById("jwks-status").textContent));
}

const b64url = (x) => Buffer.from(x).toString("base64url");

// A token signed here, in Node, with a fresh key of the given algorithm;
// returns the token and the public JWK (with kid and alg).
function nodeToken(alg, claims, typ = "at+jwt") {
  const kid = `test-${alg}`;
  const header = b64url(JSON.stringify({ alg, kid, typ }));
  const payload = b64url(JSON.stringify(claims));
  const input = Buffer.from(`${header}.${payload}`);
  let pair;
  let sig;
  if (alg === "ES256") {
    pair = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
    sig = crypto.sign("sha256", input, { key: pair.privateKey, dsaEncoding: "ieee-p1363" });
  } else if (alg === "RS256") {
    pair = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
    sig = crypto.sign("sha256", input, pair.privateKey);
  } else if (alg === "PS256") {
    pair = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
    sig = crypto.sign("sha256", input, { key: pair.privateKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  } else {
    pair = crypto.generateKeyPairSync("ed25519");
    sig = crypto.sign(null, input, pair.privateKey);
  }
  const jwk = { ...pair.publicKey.export({ format: "jwk" }), kid, alg };
  const pem = pair.publicKey.export({ type: "spki", format: "pem" });
  return { token: `${header}.${payload}.${b64url(sig)}`, jwk, pem };
}

// The token with its payload re-encoded after a change: still well formed,
// no longer what was signed.
function tamper(token) {
  const [h, p, s] = token.split(".");
  const claims = JSON.parse(Buffer.from(p, "base64url").toString());
  claims.scope = `${claims.scope} orders:write`;
  return `${h}.${b64url(JSON.stringify(claims))}.${s}`;
}

// The token with one character of its payload changed, chosen so that the
// payload still decodes to a JSON object.
function oneCharChanged(token) {
  const [h, p, s] = token.split(".");
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (let i = Math.floor(p.length / 2); i < p.length - 1; i++) {
    for (const c of alphabet) {
      if (c === p[i]) continue;
      const changed = p.slice(0, i) + c + p.slice(i + 1);
      try {
        const json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(changed, "base64url")));
        if (json && typeof json === "object") return `${h}.${changed}.${s}`;
      } catch { /* try the next */ }
    }
  }
  throw new Error("no one-character change keeps the payload JSON");
}

export async function run({ base, portal, newPage, axeCheck, signIn, noErrors, serviceToken, assert }) {
  const token = await serviceToken("orders:read");

  // Signed out: decode and verify a real token. Record every request to
  // prove the token stays in the page.
  const page = await newPage();
  const sent = [];
  page.on("request", (r) => { if ((r.url() + (r.postData() || "")).includes(token.split(".")[2])) sent.push(r.url()); });
  await page.goto(`${portal}/jwt`);
  await waitJwks(page);
  await page.getByLabel(/^Audience/).fill("https://api.example.com");
  await page.getByLabel(/^Required scopes/).fill("orders:read");
  await page.getByLabel(/^Token/).fill(token);
  await expectStep(page, "scope", "pass");
  await expectStep(page, "signature", "pass");
  const valid = await steps(page);
  assert.deepEqual(Object.keys(valid), ["parse", "claims", "alg", "kid", "signature", "typ", "iss", "aud", "exp", "nbf", "iat", "scope"]);
  for (const [check, status] of Object.entries(valid)) {
    // A client-credentials token has no nbf: the only step skipped.
    assert.equal(status, check === "nbf" ? "skipped" : "pass", `step ${check} is ${status}`);
  }
  assert.match(await page.locator("#summary").textContent(), /Valid/);
  assert.match(await page.locator("#claims-json").textContent(), /"client_id": "sandbox-service"/);
  assert.match(await page.locator("#times").textContent(), /in \d+ (s|min)/);
  assert.match(await page.locator("#steps li[data-check=kid]").textContent(), /fetched .* ago/);

  // The signed-out revocation check asks to sign in and sends nothing.
  await page.getByRole("button", { name: /Check revocation and session/ }).click();
  await expectStep(page, "revocation", "skipped");
  assert.match(await page.locator("#steps li[data-check=revocation]").textContent(), /sign in to check/);
  assert.deepEqual(sent, [], "the token was sent somewhere");

  // Tampered: the signature step fails, and the page names it.
  await page.getByLabel(/^Token/).fill(tamper(token));
  await expectStep(page, "signature", "fail");
  const failing = page.locator("#steps .fail", { hasText: "signature" });
  assert.equal(await failing.count(), 1, "no element names the failing signature step");
  assert.match(await page.locator("#summary").textContent(), /Not valid: failed signature\./);
  const tampered = await steps(page);
  assert.equal(tampered.exp, "pass", "the other checks still run");
  await axeCheck(page, "jwt-tampered");

  // One character of the payload changed (one that keeps it JSON).
  await page.getByLabel(/^Token/).fill(oneCharChanged(token));
  await expectStep(page, "parse", "pass");
  await expectStep(page, "signature", "fail");

  // A character changed inside the signature: still the signature step.
  const [h, p, s] = token.split(".");
  const flipped = `${h}.${p}.${s.slice(0, 10)}${s[10] === "A" ? "B" : "A"}${s.slice(11)}`;
  await page.getByLabel(/^Token/).fill(flipped);
  await expectStep(page, "signature", "fail");

  // Wrong audience: aud fails, the signature is fine.
  await page.getByLabel(/^Token/).fill(token);
  await page.getByLabel(/^Audience/).fill("https://other.example.com");
  await expectStep(page, "aud", "fail");
  const wrongAud = await steps(page);
  assert.equal(wrongAud.signature, "pass");
  assert.match(await page.locator("#steps li[data-check=aud]").textContent(), /Fix: request the token for this API/);

  assert.deepEqual(sent, [], "the token was sent somewhere");

  // Garbage: the parse step fails with a hint.
  await page.getByLabel(/^Token/).fill("not-a-token");
  await expectStep(page, "parse", "fail");
  noErrors(page);

  // Pasted keys: a PEM (no kid: the kid step is skipped) and JWKS, for each
  // algorithm the server may sign with. Tokens signed here, in Node.
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: "https://other-issuer.example", sub: "u", aud: "https://api.example.com", exp: now + 600, iat: now - 5, jti: "j", client_id: "c", scope: "a" };
  const keysPage = await newPage();
  await keysPage.goto(`${portal}/jwt`);
  await keysPage.getByLabel(/A key I paste/).check();
  await keysPage.getByLabel(/^Issuer/).fill("https://other-issuer.example");
  for (const alg of ["ES256", "RS256", "PS256", "EdDSA"]) {
    const made = nodeToken(alg, claims);
    await keysPage.getByLabel(/^Public key/).fill(JSON.stringify({ keys: [made.jwk] }));
    await keysPage.getByLabel(/^Token/).fill(made.token);
    await expectStep(keysPage, "signature", "pass", alg);
    await expectStep(keysPage, "kid", "pass", alg);
    await keysPage.getByLabel(/^Token/).fill(tamper(made.token));
    await expectStep(keysPage, "signature", "fail");
    await keysPage.getByLabel(/^Public key/).fill(made.pem);
    await keysPage.getByLabel(/^Token/).fill(made.token);
    await expectStep(keysPage, "signature", "pass", alg);
    await expectStep(keysPage, "kid", "skipped", `${alg}, a PEM has no kid`);
  }
  // An ID token (typ JWT, no client_id) is not an access token: typ and
  // claims fail until "This is an ID token" is ticked.
  const idClaims = { iss: "https://other-issuer.example", sub: "u", aud: "my-app", exp: now + 600, iat: now - 5, nonce: "n" };
  const idt = nodeToken("ES256", idClaims, "JWT");
  await keysPage.getByLabel(/^Public key/).fill(JSON.stringify(idt.jwk));
  await keysPage.getByLabel(/^Token/).fill(idt.token);
  await expectStep(keysPage, "typ", "fail");
  assert.equal((await steps(keysPage)).claims, "fail");
  await keysPage.getByLabel(/This is an ID token/).check();
  await expectStep(keysPage, "typ", "pass");
  assert.equal((await steps(keysPage)).claims, "pass");
  await keysPage.getByLabel(/This is an ID token/).uncheck();

  // The wrong kind of key for the token's alg: algorithm confusion refused.
  const es = nodeToken("ES256", claims);
  const rsa = nodeToken("RS256", claims);
  await keysPage.getByLabel(/^Public key/).fill(rsa.pem);
  await keysPage.getByLabel(/^Token/).fill(es.token);
  await expectStep(keysPage, "signature", "fail");
  // An HMAC token is refused at alg, whatever its signature.
  const hs = `${b64url(JSON.stringify({ alg: "HS256", kid: "x", typ: "at+jwt" }))}.${b64url(JSON.stringify(claims))}.${b64url("sig")}`;
  await keysPage.getByLabel(/^Token/).fill(hs);
  await expectStep(keysPage, "alg", "fail");
  assert.match(await keysPage.locator("#steps li[data-check=alg]").textContent(), /HMAC/);
  noErrors(keysPage);

  // Signed in: the revocation and session check reports the token active.
  const signedIn = await newPage();
  await signIn(signedIn, undefined, undefined, `${portal}/jwt`);
  await signedIn.goto(`${portal}/jwt`);
  await waitJwks(signedIn);
  await signedIn.getByLabel(/^Audience/).fill("https://api.example.com");
  await signedIn.getByLabel(/^Token/).fill(token);
  await expectStep(signedIn, "signature", "pass");
  await signedIn.getByRole("button", { name: /Check revocation and session/ }).click();
  await expectStep(signedIn, "revocation", "pass");
  assert.match(await signedIn.locator("#steps li[data-check=revocation]").textContent(), /not revoked.*active/);
  // Client credentials: no session behind the token.
  assert.equal((await steps(signedIn)).session, "skipped");
  await axeCheck(signedIn, "jwt-verified");

  // Revoked (RFC 7009, by its client): the same button now says so.
  const revoke = await fetch(`${base}/revoke`, {
    method: "POST",
    headers: { "Authorization": "Basic " + Buffer.from(`sandbox-service:${process.env.LATCHKEY_DEV_SERVICE_SECRET}`).toString("base64"),
               "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token, token_type_hint: "access_token" }),
  });
  assert.equal(revoke.status, 200, `revocation answered ${revoke.status}`);
  await signedIn.getByRole("button", { name: /Check revocation and session/ }).click();
  await expectStep(signedIn, "revocation", "fail");
  assert.match(await signedIn.locator("#steps li[data-check=revocation]").textContent(), /revoked/);
  noErrors(signedIn);

  // On a phone: nothing wider than the screen with results shown.
  const phone = await newPage({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
  await phone.goto(`${portal}/jwt`);
  await waitJwks(phone);
  await phone.getByLabel(/^Token/).fill(token);
  await expectStep(phone, "signature", "pass");
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the page is ${overflow}px wider than a phone screen`);
  await axeCheck(phone, "jwt-phone-results");
  noErrors(phone);
}
