// Shared helpers for the portal's pages: the page configuration, JSON
// calls to the portal's backend, and accessible tabs. No dependencies.

export function config() {
  const el = document.getElementById("portal-config");
  return el ? JSON.parse(el.textContent) : {};
}

// Calls the portal's JSON backend. Writes carry a header a cross-site form
// cannot send, which the server requires (CSRF defence with the cookie).
export async function api(method, path, body) {
  const cfg = config();
  const init = { method, headers: { "Accept": "application/json", "X-Latchkey-Portal": "1" }, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(cfg.portal + "/api" + path, init);
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  return { status: res.status, ok: res.ok, json, text };
}

// Tabs following the WAI-ARIA pattern: arrow keys move between tabs.
function initTabs() {
  for (const list of document.querySelectorAll("[role=tablist]")) {
    const tabs = [...list.querySelectorAll("[role=tab]")];
    const select = (tab) => {
      for (const t of tabs) {
        const on = t === tab;
        t.setAttribute("aria-selected", String(on));
        t.tabIndex = on ? 0 : -1;
        const panel = document.getElementById(t.getAttribute("aria-controls"));
        if (panel) panel.hidden = !on;
      }
    };
    tabs.forEach((tab, i) => {
      tab.addEventListener("click", () => select(tab));
      tab.addEventListener("keydown", (e) => {
        const next = e.key === "ArrowRight" ? tabs[(i + 1) % tabs.length] : e.key === "ArrowLeft" ? tabs[(i - 1 + tabs.length) % tabs.length] : null;
        if (next) { e.preventDefault(); select(next); next.focus(); }
      });
    });
  }
}

// Copy buttons: <button data-copy="#id">.
function initCopy() {
  for (const b of document.querySelectorAll("[data-copy]")) {
    b.addEventListener("click", async () => {
      const target = document.querySelector(b.dataset.copy);
      if (!target) return;
      try { await navigator.clipboard.writeText(target.value ?? target.textContent); b.textContent = "Copied"; } catch { b.textContent = "Copy failed"; }
    });
  }
}

export function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

initTabs();
initCopy();
