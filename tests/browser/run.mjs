// Runs the portal's browser tests in headless Chromium.
//
//   node run.mjs BASE_URL [--only NAME[,NAME]] [--screenshots DIR]
//
// BASE_URL is a running `latchkey serve --dev` (its issuer). Each spec in
// specs/ exports `name` and `run(ctx)`; every page a spec visits gets an
// axe-core accessibility check (WCAG 2.1 A and AA rules). With
// --screenshots, each checked page is also saved as DIR/<label>.png, which
// is how the docs' screenshots are made. Exit code 0: all passed.

import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import path from "node:path";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const base = (args.find((a) => !a.startsWith("--") && !args[args.indexOf(a) - 1]?.startsWith("--")) || "").replace(/\/$/, "");
if (!base) {
  console.error("usage: node run.mjs BASE_URL [--only NAME] [--screenshots DIR]");
  process.exit(1);
}
const flag = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const only = flag("--only")?.split(",");
const shots = flag("--screenshots");
if (shots) mkdirSync(shots, { recursive: true });

const executablePath = process.env.CHROMIUM || ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(existsSync);
if (!executablePath) {
  console.error("no Chromium found (apt-get install -y chromium, or set CHROMIUM)");
  process.exit(1);
}
const axeSource = readFileSync(path.join(here, "node_modules/axe-core/axe.min.js"), "utf8");

const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
const portal = `${base}/portal`;

// A fresh browser context (own cookies) with a page that fails the test on
// any console error or uncaught exception.
async function newPage(options = {}) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, ...options });
  const page = await context.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(`uncaught: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") page.errors.push(`console: ${m.text()} (${m.location()?.url || "?"})`); });
  // Names the failing URL, which the console message above does not.
  page.on("response", (r) => { if (r.status() >= 400 && !page.expected?.(r)) page.errors.push(`http ${r.status()} ${r.url()}`); });
  return page;
}

// axe-core on the current page: any violation fails, with its rule, impact
// and the offending elements.
async function axeCheck(page, label) {
  // Through the DevTools protocol, not a <script> tag: the portal's CSP
  // (rightly) refuses inline scripts, and the test must not weaken it.
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] } }));
  const violations = result.violations.map((v) =>
    `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join("\n    ")}`);
  if (shots && label) await page.screenshot({ path: path.join(shots, `${label}.png`), fullPage: true });
  assert.deepEqual(violations, [], `accessibility violations on ${label || page.url()}:\n  ${violations.join("\n  ")}`);
}

// Signs in to the portal as a sandbox user through the real login page.
async function signIn(page, username = "alice", password = "alice-sandbox-password", next = "") {
  await page.goto(`${portal}/signin${next ? `?next=${encodeURIComponent(new URL(next, base).pathname)}` : ""}`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: /sign in/i }).click();
  await page.waitForURL((u) => u.pathname.startsWith(new URL(portal).pathname) && !u.pathname.endsWith("/callback"));
}

// An access token for the development sandbox's service client (client
// credentials), for specs that need a real token. The secret comes from
// LATCHKEY_DEV_SERVICE_SECRET (the harness reads it from the server's
// dev-credentials.json).
async function serviceToken(scope = "orders:read") {
  const secret = process.env.LATCHKEY_DEV_SERVICE_SECRET;
  assert.ok(secret, "LATCHKEY_DEV_SERVICE_SECRET is not set");
  const res = await fetch(`${base}/token`, {
    method: "POST",
    headers: { "Authorization": "Basic " + Buffer.from(`sandbox-service:${secret}`).toString("base64"),
               "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials", scope, resource: "https://api.example.com" }),
  });
  assert.equal(res.status, 200, `token endpoint answered ${res.status}`);
  return (await res.json()).access_token;
}

function noErrors(page) {
  assert.deepEqual(page.errors, [], `errors in the page ${page.url()}`);
}

const ctx = { browser, base, portal, newPage, axeCheck, signIn, noErrors, serviceToken, assert, screenshots: shots };

const files = (await readdir(path.join(here, "specs"))).filter((f) => f.endsWith(".mjs")).sort();
let failed = 0;
for (const file of files) {
  const spec = await import(pathToFileURL(path.join(here, "specs", file)).href);
  if (only && !only.includes(spec.name)) continue;
  const started = Date.now();
  try {
    await spec.run(ctx);
    console.log(`ok   ${spec.name} (${Date.now() - started} ms)`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${spec.name}: ${e.stack || e}`);
  }
}
await browser.close();
console.log(failed ? `${failed} spec(s) failed` : "all specs passed");
process.exit(failed ? 1 : 0);
