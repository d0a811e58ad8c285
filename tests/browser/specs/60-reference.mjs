// The API reference renders this server's OpenAPI description: a known
// operation with its parameters, body and responses, anchors that land on
// an operation, a filter, and no accessibility violations, on a desktop
// and on a phone.

export const name = "reference";

export async function run({ portal, newPage, axeCheck, noErrors, assert }) {
  const page = await newPage();
  await page.goto(`${portal}/reference`);
  const token = page.locator("#op-token");
  await token.waitFor();

  // POST /token: heading, form body fields, success fields, shared errors.
  assert.match(await token.getByRole("heading", { level: 3 }).innerText(), /POST\s+\/token\s+Token endpoint/);
  const body = await token.getByRole("table", { name: "Request body of POST /token" }).innerText();
  assert.match(body, /grant_type\s+required/);
  for (const field of ["code_verifier", "refresh_token", "subject_token", "client_assertion"]) {
    assert.ok(body.includes(field), `the token request lists ${field}`);
  }
  const answer = await token.getByRole("table", { name: "Response 200 of POST /token" }).innerText();
  assert.match(answer, /access_token\s+required/);
  assert.ok(await token.getByRole("link", { name: "the error format" }).count() >= 2, "errors link to the error format");
  assert.ok(await token.getByRole("link", { name: "client_secret_basic" }).isVisible(), "the security scheme is named");

  // Query parameters of the revocation feed.
  const params = await page.getByRole("table", { name: "Parameters of GET /revocations" }).innerText();
  for (const p of ["after", "limit", "reread"]) assert.ok(params.includes(p), `the feed lists ${p}`);
  assert.match(params, /query/);

  // Every operation is there, one article each, grouped under h2 tags.
  const total = await page.locator("article.ref-op").count();
  const doc = await (await page.request.get(`${portal}/openapi.json`)).json();
  const described = Object.values(doc.paths).flatMap((item) => Object.keys(item).filter((k) => k !== "servers"));
  assert.equal(total, described.length, "one article per described operation");
  assert.ok(await page.getByRole("heading", { level: 2, name: "Authorization (AuthZEN)" }).isVisible());

  // The filter: words narrow the list; nothing matching says so; clearing restores.
  const filter = page.getByLabel(/Filter operations/);
  await filter.fill("post /token");
  assert.ok(await token.isVisible(), "POST /token matches");
  assert.ok(await page.locator("#op-jwks").isHidden(), "GET /jwks does not");
  const status = page.locator("#ref-count");
  const matching = Number((await status.innerText()).match(/^(\d+) of/)?.[1]);
  assert.ok(matching >= 1 && matching < total, `some but not all operations match: ${await status.innerText()}`);
  await filter.fill("no-such-operation-anywhere");
  assert.match(await status.innerText(), /^0 of \d+ operations match/);
  assert.ok(await page.getByRole("heading", { level: 2, name: "Discovery" }).isHidden(), "empty sections hide");
  await filter.fill("");
  assert.equal(await page.locator("article.ref-op:visible").count(), total);

  // Keyboard: the filter is reachable and typing in it filters.
  await filter.focus();
  await page.keyboard.type("userinfo");
  assert.ok(await page.locator("#op-userinfo").isVisible());
  await filter.fill("");

  await axeCheck(page, "reference");
  noErrors(page);

  // A link to an operation lands on it once the description has loaded.
  const linked = await newPage();
  await linked.goto(`${portal}/reference#op-introspect`);
  await linked.locator("#op-introspect").waitFor();
  await linked.waitForFunction(() => document.activeElement?.id === "op-introspect");
  noErrors(linked);

  const phone = await newPage({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
  await phone.goto(`${portal}/reference`);
  await phone.locator("#op-token").waitFor();
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the reference is ${overflow}px wider than a phone screen`);
  await axeCheck(phone, "reference-phone");
  noErrors(phone);
}
