// Utilities (/portal/tools): PKCE against RFC 7636 Appendix B, verifiers
// refused with a reason, hashes of known inputs, at_hash/c_hash as the
// server computes them, the JSON formatter's error position, state/nonce.

import crypto from "node:crypto";

export const name = "tools";

// RFC 7636 Appendix B: the verifier and its S256 challenge.
const RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

export async function run({ portal, newPage, axeCheck, noErrors, assert }) {
  const page = await newPage();
  await page.goto(`${portal}/tools`);

  // PKCE: a generated verifier is valid and has a challenge.
  const verifier = page.getByLabel(/code_verifier/);
  const challenge = page.getByLabel(/code_challenge/);
  await page.getByRole("button", { name: "Generate a verifier" }).click();
  await page.waitForFunction(() => document.getElementById("pkce-challenge").value.length === 43);
  const generated = await verifier.inputValue();
  assert.match(generated, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(await challenge.inputValue(), crypto.createHash("sha256").update(generated).digest("base64url"));

  // The RFC's vector.
  await verifier.fill(RFC_VERIFIER);
  await page.waitForFunction((c) => document.getElementById("pkce-challenge").value === c, RFC_CHALLENGE);
  assert.match(await page.locator("#pkce-message").textContent(), /Valid code_verifier: 43 characters/);

  // Too short, and a character outside the set: refused with the reason.
  await verifier.fill("too-short-verifier");
  await page.waitForFunction(() => /Too short/.test(document.getElementById("pkce-message").textContent));
  assert.match(await page.locator("#pkce-message").textContent(), /Too short: 18 characters; RFC 7636 §4\.1 needs 43 to 128/);
  assert.equal(await challenge.inputValue(), "", "no challenge for an invalid verifier");
  assert.equal(await page.locator("#pkce-message .fail").count(), 1);
  await verifier.fill(`${RFC_VERIFIER.slice(0, 20)}+${RFC_VERIFIER.slice(21)}`);
  await page.waitForFunction(() => /Character 21 is "\+"/.test(document.getElementById("pkce-message").textContent));
  assert.match(await page.locator("#pkce-message").textContent(), /base64url/);
  await verifier.fill("a".repeat(129));
  await page.waitForFunction(() => /Too long: 129/.test(document.getElementById("pkce-message").textContent));

  // Hashes: SHA-256 of "abc" (FIPS 180-2 example), and the others.
  await page.getByLabel(/^Text/).fill("abc");
  const row = (alg, col) => page.locator(`#hash-out tr[data-hash="${alg}"] code.${col}`);
  await page.waitForFunction(() => document.querySelector('#hash-out tr[data-hash="SHA-256"] code.hex')?.textContent.startsWith("ba7816bf"));
  assert.equal(await row("SHA-256", "hex").textContent(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert.equal(await row("SHA-256", "b64url").textContent(), crypto.createHash("sha256").update("abc").digest("base64url"));
  assert.equal(await row("SHA-384", "hex").textContent(), crypto.createHash("sha384").update("abc").digest("hex"));
  assert.equal(await row("SHA-512", "hex").textContent(), crypto.createHash("sha512").update("abc").digest("hex"));
  // UTF-8: a non-ASCII text hashes as its UTF-8 bytes.
  await page.getByLabel(/^Text/).fill("é✓");
  const utf8 = crypto.createHash("sha256").update("é✓", "utf8").digest("hex");
  await page.waitForFunction((h) => document.querySelector('#hash-out tr[data-hash="SHA-256"] code.hex')?.textContent === h, utf8);

  // at_hash: the left half of SHA-256 (ES256) or SHA-512 (EdDSA), as the
  // server's token_half_hash; the comparison says which one matched.
  const token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln";
  const half = (h) => crypto.createHash(h).update(token).digest().subarray(0, h === "sha256" ? 16 : 32).toString("base64url");
  await page.getByLabel(/^Access token/).fill(token);
  await page.waitForFunction((v) => document.getElementById("half-value").value === v, half("sha256"));
  await page.getByLabel(/alg$/).selectOption("EdDSA");
  await page.waitForFunction((v) => document.getElementById("half-value").value === v, half("sha512"));
  await page.getByLabel(/token's at_hash or c_hash/).fill(half("sha512"));
  await page.waitForFunction(() => /Matches/.test(document.getElementById("half-message").textContent));
  await page.getByLabel(/alg$/).selectOption("RS256");
  await page.waitForFunction(() => /Does not match.*SHA-512 \(EdDSA\): is the alg right/.test(document.getElementById("half-message").textContent));

  // JSON: pretty-print, minify, and an error with its line and column.
  const input = page.getByLabel(/^JSON$/);
  await input.fill('{"a":1,"big":12345678901234567890,"b":[true,null,"x"]}');
  await page.getByRole("button", { name: "Pretty-print" }).click();
  assert.equal(await page.getByLabel(/^Result/).inputValue(), '{\n  "a": 1,\n  "big": 12345678901234567890,\n  "b": [\n    true,\n    null,\n    "x"\n  ]\n}');
  await page.getByRole("button", { name: "Minify" }).click();
  assert.equal(await page.getByLabel(/^Result/).inputValue(), '{"a":1,"big":12345678901234567890,"b":[true,null,"x"]}');
  await input.fill('{\n  "a": 1,\n  "b": ,\n  "c": 3\n}');
  await page.getByRole("button", { name: "Pretty-print" }).click();
  assert.match(await page.locator("#json-message .fail").textContent(), /Invalid JSON at line 3, column 8:/);
  assert.match(await page.locator("#json-message").textContent(), /unexpected "," : expected a value|unexpected ",": expected a value/);
  assert.equal(await page.getByLabel(/^Result/).inputValue(), "");
  // A trailing comma is pointed at where it is.
  await input.fill('{\n  "a": [1, 2,],\n}');
  await page.getByRole("button", { name: "Pretty-print" }).click();
  assert.match(await page.locator("#json-message").textContent(), /line 2, column 13: trailing comma/);
  await axeCheck(page, "tools-json-error");

  // state and nonce: base64url of the chosen number of random bytes.
  await page.getByLabel(/^Length in bytes/).fill("16");
  await page.getByRole("button", { name: "Generate", exact: true }).click();
  const state = await page.getByLabel(/^state$/).inputValue();
  const nonce = await page.getByLabel(/^nonce$/).inputValue();
  assert.match(state, /^[A-Za-z0-9_-]{22}$/);
  assert.match(nonce, /^[A-Za-z0-9_-]{22}$/);
  assert.notEqual(state, nonce);
  await page.getByLabel(/^Length in bytes/).fill("8");
  await page.getByRole("button", { name: "Generate", exact: true }).click();
  assert.match(await page.locator("#random-message").textContent(), /guessable/);

  await axeCheck(page, "tools");
  noErrors(page);

  // On a phone, with a long verifier and an error shown: nothing wider
  // than the screen.
  const phone = await newPage({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
  await phone.goto(`${portal}/tools`);
  await phone.getByLabel(/code_verifier/).fill("x".repeat(128));
  await phone.getByLabel(/^Text/).fill("abc");
  await phone.getByLabel(/^JSON$/).fill('{"a": [1, 2,]}');
  await phone.getByRole("button", { name: "Pretty-print" }).click();
  await phone.waitForSelector("#json-message .fail");
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the page is ${overflow}px wider than a phone screen`);
  await axeCheck(phone, "tools-phone");
  noErrors(phone);
}
