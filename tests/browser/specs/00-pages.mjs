// Every portal page loads without script errors and passes axe-core,
// signed out and signed in, on a desktop and on a phone-sized screen.

export const name = "pages";

const PAGES = ["", "/sandbox", "/flows", "/jwt", "/tools", "/catalogue", "/keys", "/errors", "/trace", "/playground", "/reference", "/docs/consent", "/docs/policies"];

export async function run({ portal, newPage, axeCheck, signIn, noErrors, assert }) {
  const label = (p) => (p === "" ? "start" : p.slice(1).replace(/\//g, "-"));
  const anonymous = await newPage();
  for (const p of PAGES) {
    const res = await anonymous.goto(portal + p);
    assert.equal(res.status(), 200, `${p} answered ${res.status()}`);
    await axeCheck(anonymous, `${label(p)}-signed-out`);
  }
  noErrors(anonymous);

  const page = await newPage();
  await signIn(page);
  for (const p of PAGES) {
    await page.goto(portal + p);
    await axeCheck(page, label(p));
  }
  noErrors(page);

  const phone = await newPage({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
  for (const p of PAGES) {
    await phone.goto(portal + p);
    // Nothing wider than the screen: the page must not scroll sideways.
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `${p} is ${overflow}px wider than a phone screen`);
    await axeCheck(phone, `${label(p)}-phone`);
  }
  noErrors(phone);
}
