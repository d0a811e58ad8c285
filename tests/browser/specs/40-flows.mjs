// The flow runner (/portal/flows), end to end against the real server:
// the quickstart's code + PKCE flow with the development sandbox's SPA
// client (through the real login and consent pages), then refresh with
// rotation, UserInfo, and with the sandbox's service client: client
// credentials, introspection (active), revocation, introspection again
// (not active). Every step must show its raw request and response.

export const name = "flows";

const TOKENS_KEY = "latchkey.flows.tokens";

export async function run({ portal, newPage, axeCheck, noErrors, assert }) {
  // A fresh context: no portal session, so the real login page appears.
  const page = await newPage();
  await page.goto(`${portal}/flows?grant=authorization_code&client_id=sandbox-spa`);
  assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "Flow runner");
  assert.equal(await page.getByRole("combobox", { name: /^Client whose/ }).inputValue(), "dev:sandbox-spa", "?client_id preselects the client");
  assert.equal(await page.getByRole("tab", { name: "Code + PKCE" }).getAttribute("aria-selected"), "true", "?grant preselects the flow");
  await axeCheck(page, "flows-start");

  // The newest result (results are listed newest first) once one more
  // has appeared than before `action`.
  const results = page.locator("#results article.exchange");
  async function step(action) {
    const before = await results.count();
    await action();
    await page.waitForFunction((n) => document.querySelectorAll("#results article.exchange").length > n, before);
    return results.first();
  }
  const tokens = () => page.evaluate((k) => JSON.parse(sessionStorage.getItem(k) || "{}"), TOKENS_KEY);

  // 1. Code + PKCE: the prepared request shows each parameter explained.
  const prepared = await step(() => page.getByRole("button", { name: "Prepare the authorization request" }).click());
  const authRequest = await prepared.locator("pre.raw-request").textContent();
  assert.match(authRequest, /^GET \/authorize\?response_type=code&client_id=sandbox-spa&/);
  for (const p of ["code_challenge=", "code_challenge_method=S256", "state=", "nonce=", "redirect_uri="]) {
    assert.ok(authRequest.includes(p), `the authorization request carries ${p}`);
  }
  assert.match(await prepared.textContent(), /SHA-256 of the code_verifier/);

  await page.getByRole("button", { name: "Continue to the authorization server" }).click();
  await page.getByLabel("Username").fill("alice");
  await page.getByLabel("Password").fill("alice-sandbox-password");
  await page.getByRole("button", { name: /sign in/i }).click();
  // sandbox-spa is not first-party: the consent page may ask.
  await page.waitForURL((u) => u.pathname.endsWith("/consent") || u.pathname.endsWith("/portal/flows"));
  if (new URL(page.url()).pathname.endsWith("/consent")) {
    await page.getByRole("button", { name: "Allow" }).click();
  }
  await page.waitForURL((u) => u.pathname.endsWith("/portal/flows"));

  // Back on the runner: state checked, code redeemed, address bar cleaned.
  const tokenResult = page.locator('#results article.exchange[data-kind="token"]').first();
  await tokenResult.waitFor();
  assert.equal(await tokenResult.getAttribute("data-status"), "200", await tokenResult.textContent());
  const tokenRequest = await tokenResult.locator("pre.raw-request").textContent();
  assert.match(tokenRequest, /^POST \/token HTTP\/1\.1/);
  assert.match(tokenRequest, /Content-Type: application\/x-www-form-urlencoded/);
  assert.match(tokenRequest, /grant_type=authorization_code/);
  assert.match(tokenRequest, /code_verifier=[A-Za-z0-9_-]{43}/);
  const tokenResponse = await tokenResult.locator("pre.raw-response").textContent();
  assert.match(tokenResponse, /^HTTP\/1\.1 200/);
  assert.match(tokenResponse, /"access_token": "ey/);
  assert.match(await tokenResult.textContent(), /Decoded access_token/);
  const callback = page.locator('#results article.exchange[data-kind="callback"]').first();
  assert.match(await callback.textContent(), /Pass: state matches/);
  const url = new URL(page.url());
  assert.ok(!url.searchParams.has("code") && !url.searchParams.has("state"), `code and state left the address bar: ${url}`);
  const first = await tokens();
  assert.ok(first.access_token && first.refresh_token && first.id_token, "access, refresh and ID tokens are held");

  // 2. Refresh: a new refresh token, different from the one sent.
  await page.getByRole("tab", { name: "Refresh" }).click();
  const refreshed = await step(() => page.getByRole("button", { name: "Refresh the tokens" }).click());
  assert.equal(await refreshed.getAttribute("data-status"), "200", await refreshed.textContent());
  assert.match(await refreshed.locator("pre.raw-request").textContent(), /grant_type=refresh_token&refresh_token=/);
  assert.match(await refreshed.textContent(), /Pass: Rotated/);
  const second = await tokens();
  assert.ok(second.refresh_token.value && second.refresh_token.value !== first.refresh_token.value, "the refresh token rotated");

  // 3. UserInfo: GET with the bearer token (hidden until revealed).
  await page.getByRole("tab", { name: "UserInfo" }).click();
  const info = await step(() => page.getByRole("button", { name: "Call UserInfo" }).click());
  assert.equal(await info.getAttribute("data-status"), "200", await info.textContent());
  const infoRequest = await info.locator("pre.raw-request").textContent();
  assert.match(infoRequest, /^GET \/userinfo HTTP\/1\.1/);
  assert.match(infoRequest, /Authorization: Bearer ‹hidden/);
  assert.ok(!infoRequest.includes(second.access_token.value), "the bearer token is hidden by default");
  await info.getByRole("button", { name: "Reveal the credentials" }).click();
  const revealed = page.locator("#results article.exchange").first();
  assert.ok((await revealed.locator("pre.raw-request").textContent()).includes(`Bearer ${second.access_token.value}`), "revealed");
  assert.match(await revealed.locator("pre.raw-response").textContent(), /"sub": "/);

  // 4. The sandbox's service client: its own token, introspected, revoked.
  await page.getByRole("combobox", { name: /^Client whose/ }).selectOption("dev:sandbox-service");
  await page.getByRole("tab", { name: "Client credentials" }).click();
  const cc = await step(() => page.getByRole("button", { name: "Get a token with client credentials" }).click());
  assert.equal(await cc.getAttribute("data-status"), "200", await cc.textContent());
  const ccRequest = await cc.locator("pre.raw-request").textContent();
  assert.match(ccRequest, /Authorization: Basic ‹hidden/);
  assert.match(ccRequest, /grant_type=client_credentials/);
  assert.match(await cc.locator("pre.raw-response").textContent(), /"access_token": "ey/);

  await page.getByRole("tab", { name: "Introspection" }).click();
  const active = await step(() => page.getByRole("button", { name: "Introspect the token" }).click());
  assert.equal(await active.getAttribute("data-status"), "200", await active.textContent());
  assert.match(await active.locator("pre.raw-request").textContent(), /^POST \/introspect HTTP\/1\.1/);
  assert.match(await active.locator("pre.raw-response").textContent(), /"active": true/);

  await page.getByRole("tab", { name: "Revocation" }).click();
  const revoked = await step(() => page.getByRole("button", { name: "Revoke the token" }).click());
  assert.equal(await revoked.getAttribute("data-status"), "200", await revoked.textContent());
  assert.match(await revoked.locator("pre.raw-request").textContent(), /^POST \/revoke HTTP\/1\.1/);

  await page.getByRole("tab", { name: "Introspection" }).click();
  const inactive = await step(() => page.getByRole("button", { name: "Introspect the token" }).click());
  assert.equal(await inactive.getAttribute("data-status"), "200", await inactive.textContent());
  assert.match(await inactive.locator("pre.raw-response").textContent(), /"active": false/);
  assert.match(await page.locator("#flow-status").textContent(), /not active/);

  await axeCheck(page, "flows-results");
  noErrors(page);

  // The same page on a phone: nothing wider than the screen.
  const phone = await newPage({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
  await phone.goto(`${portal}/flows?grant=client_credentials&client_id=sandbox-service`);
  await phone.getByRole("button", { name: "Get a token with client credentials" }).click();
  await phone.locator('#results article.exchange[data-status="200"]').first().waitFor();
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the flow runner with a result is ${overflow}px wider than a phone screen`);
  await axeCheck(phone, "flows-results-phone");
  noErrors(phone);
}
