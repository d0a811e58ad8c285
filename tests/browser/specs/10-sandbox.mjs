// Sandbox credentials in a real browser: a signed-in developer registers a
// confidential client, sees its secret once, finds it in the flow runner,
// and deletes it; a bad redirect URI is refused with a visible reason.

export const name = "sandbox";

export async function run({ portal, newPage, axeCheck, signIn, noErrors, assert }) {
  const page = await newPage();
  await signIn(page, "alice", "alice-sandbox-password", `${portal}/sandbox`);
  assert.ok(page.url().endsWith("/portal/sandbox"), `back on the sandbox page: ${page.url()}`);

  // Refused: a script scheme as redirect URI.
  await page.getByLabel("Name").fill("Bad app");
  await page.getByLabel(/Redirect URIs/).fill("javascript:alert(1)");
  await page.getByRole("button", { name: "Register" }).click();
  const alert = page.getByRole("alert");
  await alert.waitFor();
  assert.match(await alert.textContent(), /scheme can never be a redirect target/);
  // That refusal is a 400, which the browser logs; expected here.
  page.errors.length = 0;

  // Registered: a confidential client with a redirect URI and two scopes.
  await page.getByLabel("Name").fill("Browser-made service");
  await page.getByLabel(/Confidential/).check();
  await page.getByLabel(/Redirect URIs/).fill("https://app.example.com/callback");
  await page.getByLabel("orders:read").check();
  await page.getByRole("button", { name: "Register" }).click();
  const status = page.getByRole("status");
  await status.waitFor();
  const clientId = (await page.locator("#new-client-id").textContent()).trim();
  assert.match(clientId, /^sbx-/);
  const secret = await page.getByLabel(/Client secret/).inputValue();
  assert.ok(secret.length >= 40, "a secret is shown");
  await axeCheck(page, "sandbox-created");

  // Shown once: a reload no longer has it.
  await page.goto(`${portal}/sandbox`);
  assert.ok(!(await page.content()).includes(secret), "the secret is not shown again");
  assert.ok((await page.content()).includes(clientId));

  // The flow runner offers it.
  await page.goto(`${portal}/flows?client_id=${encodeURIComponent(clientId)}`);
  assert.ok((await page.content()).includes(clientId), "the flow runner lists the new client");

  // Deleted.
  await page.goto(`${portal}/sandbox`);
  await page.getByRole("button", { name: `Delete ${clientId}` }).click();
  await page.getByRole("status").waitFor();
  assert.equal(await page.getByRole("button", { name: `Delete ${clientId}` }).count(), 0, "gone from the list");
  noErrors(page);
}
