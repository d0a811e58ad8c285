// The policy playground (/portal/playground) on the --dev server, whose
// sample model (examples/scenarios) is active from the start:
//   - signed out, it explains itself and links to sign-in with next=;
//   - a request built in the form that the sample policies allow
//     (view_account by the account's owner) is allowed, with owner-views
//     named and highlighted in the policy viewer; one they deny (someone
//     else's account) is denied;
//   - the form and the JSON editor stay in step both ways;
//   - a step-up deny (change_payout) says in words what would allow it;
//   - a draft without owner-views denies what the active set allows, and
//     a draft that does not compile says so;
//   - a saved test case is listed, re-runs (pass against the active set,
//     fail against the draft) and downloads in `latchkey policy test`
//     format;
//   - a 403 (not an administrator) and a 409 (no policy set) are
//     explained;
//   - axe-core passes with a result shown, also on a phone; no script
//     errors.

import { readFile } from "node:fs/promises";

export const name = "playground";


// Presses Decide (against the active policies or the draft) and waits for
// the answer to replace the previous one.
async function decide(page, draft = false) {
  const before = await page.locator("#pg-result").innerHTML();
  await page.getByRole("button", { name: draft ? "Decide against the draft" : "Decide", exact: true }).click();
  await page.waitForFunction((b) => {
    const r = document.getElementById("pg-result");
    return r.getAttribute("aria-busy") === "false" && r.innerHTML !== b;
  }, before);
}

async function verdict(page) {
  return (await page.locator("#pg-verdict").textContent()).trim();
}

export async function run({ portal, newPage, axeCheck, signIn, noErrors, assert }) {
  // Signed out: an explanation and a sign-in link back to this page.
  const anonymous = await newPage();
  await anonymous.goto(`${portal}/playground`);
  const link = anonymous.getByRole("link", { name: "Sign in", exact: true }).last();
  const href = await link.getAttribute("href");
  assert.ok(href.includes("/signin?next=") && decodeURIComponent(href).includes("/portal/playground"), `sign-in link: ${href}`);
  assert.ok(await anonymous.locator("#pg-app").isHidden(), "the playground shows signed out");
  await axeCheck(anonymous, "playground-signed-out");
  noErrors(anonymous);

  const page = await newPage();
  await signIn(page);
  await page.goto(`${portal}/playground`);
  await page.locator("#pg-app").waitFor({ state: "visible" });

  // An allowed request, built in the form: alice views an account whose
  // owner (a resource property) is her id.
  await page.getByLabel("Action", { exact: true }).selectOption("view_account");
  await page.getByLabel("Principal type").selectOption("User");
  await page.getByLabel("Principal id").fill("alice");
  await page.getByLabel("Resource type").selectOption("Account");
  await page.getByLabel("Resource id").fill("acc-1");
  await page.getByLabel("Resource properties").fill('{"owner": "alice"}');
  await decide(page);
  assert.equal(await verdict(page), "✓ Allowed");
  assert.match(await page.locator("#pg-against").textContent(), /active policies, version \d+/);
  const reason = page.locator("#pg-reasons a", { hasText: "owner-views" });
  assert.equal(await reason.count(), 1, "owner-views is named as the determining policy");
  // The policy viewer marks it; following the link focuses it.
  const block = page.locator('.pg-policy[data-policy-id="owner-views"]');
  assert.ok((await block.getAttribute("class")).includes("highlight"), "owner-views is highlighted in the viewer");
  assert.equal(await block.locator("mark").textContent(), '@id("owner-views")');
  assert.equal(await page.locator(".pg-policy.highlight").count(), 1, "only the determining policy is highlighted");
  await reason.click();
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.policyId), "owner-views");
  await axeCheck(page, "playground-allowed");

  // Save it as a test case (expects allow).
  await page.getByRole("button", { name: /Save as test case/ }).click();
  assert.equal(await page.locator("#pg-case-list li").count(), 1);

  // The JSON editor shows the form's request; an edit there comes back to
  // the form. Someone else's account: denied, by default (no permit).
  await page.getByRole("tab", { name: "JSON" }).click();
  const json = JSON.parse(await page.getByLabel("Request JSON").inputValue());
  assert.deepEqual(json, {
    subject: { type: "User", id: "alice" },
    action: { name: "view_account" },
    resource: { type: "Account", id: "acc-1", properties: { owner: "alice" } },
  });
  json.resource.properties.owner = "bob";
  await page.getByLabel("Request JSON").fill(JSON.stringify(json, null, 2));
  await decide(page);
  assert.equal(await verdict(page), "✗ Denied");
  assert.match(await page.locator("#pg-reasons").textContent(), /no permit applies/);
  await page.getByRole("tab", { name: "Form" }).click();
  assert.deepEqual(JSON.parse(await page.getByLabel("Resource properties").inputValue()), { owner: "bob" });

  // A step-up deny: changing the payout of one's own account needs a
  // fresh MFA sign-in, said in words.
  await page.getByLabel("Action", { exact: true }).selectOption("change_payout");
  await page.getByLabel("Resource properties").fill('{"owner": "alice"}');
  await decide(page);
  assert.equal(await verdict(page), "✗ Denied");
  assert.equal(await page.locator("#pg-reasons a", { hasText: "sensitive-changes-need-fresh-mfa" }).count(), 1);
  assert.match(await page.locator("#pg-stepup").textContent(), /sign-in with MFA .* no older than 5 minutes would allow it/);
  await axeCheck(page, "playground-step-up");

  // A draft without owner-views: the allowed request is denied by it.
  await page.getByLabel("Action", { exact: true }).selectOption("view_account");
  await page.getByRole("tab", { name: "Draft" }).click();
  const active = await page.getByLabel("Draft policies").inputValue();
  const draft = active.replace(/@id\("owner-views"\)[^;]*;/, "");
  assert.notEqual(draft, active, "owner-views was removed from the draft");
  await page.getByLabel("Draft policies").fill(draft);
  await decide(page, true);
  assert.equal(await verdict(page), "✗ Denied");
  assert.match(await page.locator("#pg-against").textContent(), /draft/);
  // …and the same request against the active set is still allowed.
  await decide(page);
  assert.equal(await verdict(page), "✓ Allowed");

  // The saved case passes against the active policies, fails against the
  // draft.
  await page.getByRole("button", { name: "Run all", exact: true }).click();
  await page.waitForFunction(() => /pass against the active/.test(document.getElementById("pg-cases-summary").textContent));
  assert.equal(await page.locator("#pg-case-list [data-pass]").getAttribute("data-pass"), "true");
  await page.getByRole("button", { name: "Run all against the draft" }).click();
  await page.waitForFunction(() => /against the draft/.test(document.getElementById("pg-cases-summary").textContent));
  assert.equal(await page.locator("#pg-case-list [data-pass]").getAttribute("data-pass"), "false");

  // Replay recent decisions against the draft: a summary (the count
  // depends on what the audit log sampled).
  await page.getByRole("tab", { name: "Draft" }).click();
  await page.getByRole("button", { name: "Replay recent decisions against the draft" }).click();
  await page.locator("#pg-replay-summary").waitFor();
  assert.match(await page.locator("#pg-replay-summary").textContent(), /Compared \d+|No recent decisions/);

  // A draft that does not compile: said under the draft, nothing decided.
  await page.getByLabel("Draft policies").fill("permit(principal, action, resource");
  await decide(page, true);
  assert.match(await page.locator("#pg-draft-error").textContent(), /does not compile/);
  assert.equal(await page.locator("#pg-verdict").count(), 0);
  await page.getByRole("button", { name: "Reset the draft to the active policies" }).click();
  assert.equal(await page.getByLabel("Draft policies").inputValue(), active);

  // The cases download as `latchkey policy test` reads them.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Download cases.json" }).click(),
  ]);
  const cases = JSON.parse(await readFile(await download.path(), "utf8"));
  assert.deepEqual(cases, [{
    request: {
      subject: { type: "User", id: "alice" },
      action: { name: "view_account" },
      resource: { type: "Account", id: "acc-1", properties: { owner: "alice" } },
    },
    expected: true,
  }]);

  // Cases survive a reload (localStorage), and can be removed.
  await page.reload();
  await page.locator("#pg-app").waitFor({ state: "visible" });
  assert.equal(await page.locator("#pg-case-list li").count(), 1);
  await page.getByRole("button", { name: "Remove case 1" }).click();
  assert.equal(await page.locator("#pg-case-list li").count(), 0);
  noErrors(page);

  // Not an administrator (on a server without --dev) and no active policy
  // set: each explained instead of the playground. The answers are faked
  // here (the --dev server lets everyone in and has policies); the
  // browser logs the refused call, so this page's console is not checked.
  const refused = await newPage();
  await signIn(refused);
  for (const [status, words] of [[403, /for portal administrators/], [409, /No policy set is active/]]) {
    await refused.route("**/portal/api/playground", (r) => r.fulfill({
      status, contentType: "application/json", body: JSON.stringify({ error: "x", error_description: "refused" }) }));
    await refused.goto(`${portal}/playground`);
    await refused.locator("#pg-gate .notice").waitFor();
    assert.match(await refused.locator("#pg-gate").textContent(), words);
    assert.ok(await refused.locator("#pg-app").isHidden());
    await refused.unroute("**/portal/api/playground");
  }
  await axeCheck(refused, "playground-not-admin");

  // On a phone: nothing wider than the screen, with a result shown.
  const phone = await newPage({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
  await signIn(phone);
  await phone.goto(`${portal}/playground`);
  await phone.locator("#pg-app").waitFor({ state: "visible" });
  await phone.getByLabel("Action", { exact: true }).selectOption("view_account");
  await phone.getByLabel("Principal id").fill("alice");
  await phone.getByLabel("Resource id").fill("acc-1");
  await phone.getByLabel("Resource properties").fill('{"owner": "alice"}');
  await decide(phone);
  assert.equal(await verdict(phone), "✓ Allowed");
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the playground is ${overflow}px wider than a phone screen`);
  await axeCheck(phone, "playground-phone");
  noErrors(phone);
}
