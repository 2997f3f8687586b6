// The demo in a real browser: headless Chromium (Debian's) driven by
// playwright-core. Two users log in through the form, post the
// XSRF-protected status form, chat both ways over WebSocket (and once
// over the long-polling fallback), and one uploads a 50 MiB file whose
// size and SHA-256 are then checked on disk. Prints TAP lines without the
// plan: t/browser/run.sh adds it.
//
// usage: node demo.cjs BASE_URL UPLOAD_DIR WORK_DIR SCREENSHOT_DIR
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const { chromium } = require(process.env.PLAYWRIGHT_CORE || "playwright-core");

const [base, uploadDir, workDir, shotDir] = process.argv.slice(2);
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
// a closed network, and root: no sandbox, no background fetches
const flags = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
  "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
];
const LONG = 120000; // generous: a loaded machine is slow, never wrong

let n = 0;
function ok(cond, name, diag) {
  n++;
  console.log(`${cond ? "ok" : "not ok"} ${n} - ${name}`);
  if (!cond && diag !== undefined)
    for (const line of String(diag).split("\n").slice(0, 15))
      console.log("# " + line);
  return cond;
}

async function check(name, fn) {
  try {
    const r = await fn();
    return ok(r !== false, name);
  } catch (e) {
    return ok(false, name, e && e.stack ? e.stack : e);
  }
}

async function user(name) {
  const dir = fs.mkdtempSync(path.join(workDir, "profile-"));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: chromiumPath, headless: true, args: flags,
    viewport: { width: 1100, height: 760 },
  });
  ctx.setDefaultTimeout(LONG);
  const page = ctx.pages()[0] || (await ctx.newPage());
  page.on("pageerror", (e) => console.log(`# ${name}: page error: ${e}`));
  return { ctx, page, name };
}

async function login(u) {
  await u.page.goto(base + "/");
  const url = new URL(u.page.url());
  if (url.pathname !== "/login" || url.searchParams.get("next") !== "/")
    throw new Error("not sent to the login page: " + u.page.url());
  await u.page.fill("#login-name", u.name);
  await Promise.all([u.page.waitForURL(base + "/"),
                     u.page.click("#login-form button")]);
  const who = await u.page.textContent("#current-user");
  if (who !== u.name)
    throw new Error("logged in as " + who);
}

async function say(u, text) {
  await u.page.fill("#message", text);
  await u.page.press("#message", "Enter");
}

async function sees(u, text) {
  await u.page.locator("#inbox .message .body", { hasText: text })
      .first().waitFor();
}

function sha256File(file) {
  return new Promise((resolve, reject) => {
    const h = crypto.createHash("sha256");
    fs.createReadStream(file).on("data", (d) => h.update(d))
        .on("end", () => resolve(h.digest("hex"))).on("error", reject);
  });
}

async function main() {
  let alice, bob;
  try {
    alice = await user("alice");
    bob = await user("bob");
  } catch (e) {
    ok(false, "Chromium starts", e);
    return;
  }
  await check("alice logs in through the form", () => login(alice));
  await check("bob logs in through the form", () => login(bob));

  await check("the XSRF-protected status form is posted", async () => {
    const p = alice.page;
    await p.goto(base + "/profile");
    await p.fill("#status-input", "testing <gust> in Chromium");
    await Promise.all([p.waitForNavigation(), p.click("#status-form button")]);
    const s = await p.textContent("#my-status");
    if (s !== "testing <gust> in Chromium")
      throw new Error("status shows " + JSON.stringify(s));
  });
  await check("the same form without its token gets 403", async () => {
    const status = await alice.page.evaluate(async () => {
      const r = await fetch("/profile", {
        method: "POST", body: new URLSearchParams({ status: "forged" }) });
      return r.status;
    });
    if (status !== 403)
      throw new Error("status " + status);
  });

  await check("both chat pages connect over WebSocket", async () => {
    await alice.page.goto(base + "/");
    await bob.page.goto(base + "/");
    for (const u of [alice, bob])
      await u.page.waitForSelector("body[data-transport=websocket]");
  });
  await check("alice's message reaches bob", async () => {
    await say(alice, "hello bob, from alice");
    await sees(bob, "hello bob, from alice");
    await sees(alice, "hello bob, from alice");
  });
  await check("bob's answer reaches alice", async () => {
    await say(bob, "hi alice <3");
    await sees(alice, "hi alice <3");
  });
  await check("both messages were carried by WebSocket", async () => {
    for (const u of [alice, bob]) {
      const t = await u.page.evaluate(() => document.body.dataset.transport);
      if (t !== "websocket")
        throw new Error(u.name + " used " + t);
    }
  });
  await check("the chat page screenshot is saved", async () => {
    fs.mkdirSync(shotDir, { recursive: true });
    await alice.page.screenshot({ path: path.join(shotDir, "demo.png") });
  });
  await check("the long-polling fallback works (?transport=poll)", async () => {
    await bob.page.goto(base + "/?transport=poll");
    await bob.page.waitForSelector("body[data-transport=poll]");
    await say(alice, "are you polling, bob?");
    await sees(bob, "are you polling, bob?");
    await say(bob, "yes, by long poll");
    await sees(alice, "yes, by long poll");
  });

  // a 50 MiB upload through the page
  const file = path.join(workDir, "big-upload.bin");
  const size = 50 * 1024 * 1024;
  {
    const fd = fs.openSync(file, "w");
    const block = crypto.randomBytes(1024 * 1024);
    for (let i = 0; i < 50; i++) {
      block.writeUInt32LE(i, 0);
      fs.writeSync(fd, block);
    }
    fs.closeSync(fd);
  }
  const want = await sha256File(file);
  await check("a 50 MiB file is uploaded through the page", async () => {
    const p = alice.page;
    await p.goto(base + "/upload");
    await p.setInputFiles("#file", file);
    await p.click("#upload-form button");
    await p.waitForSelector("body[data-uploaded]", { timeout: 300000 });
  });
  await check("the progress bar reached 100%", async () => {
    const [value, text] = await alice.page.evaluate(() => [
      document.getElementById("progress").value,
      document.getElementById("progress-text").textContent]);
    if (value !== 100 || text !== "100%")
      throw new Error(`progress ${value} / ${text}`);
  });
  await check("the listing shows the file with its SHA-256", async () => {
    const row = alice.page.locator("#files tr", { hasText: "big-upload.bin" });
    await row.first().waitFor();
    const text = await row.first().textContent();
    if (!text.includes(want) || !text.includes(String(size)))
      throw new Error("row: " + text);
  });
  await check("on disk: same size and SHA-256", async () => {
    const stored = path.join(uploadDir, "big-upload.bin");
    const st = fs.statSync(stored);
    if (st.size !== size)
      throw new Error("size " + st.size);
    const got = await sha256File(stored);
    if (got !== want)
      throw new Error("sha256 " + got + " != " + want);
  });
  await check("the upload page screenshot is saved", () =>
    alice.page.screenshot({ path: path.join(shotDir, "demo-upload.png"),
                            fullPage: true }));
  fs.unlinkSync(file);

  await alice.ctx.close();
  await bob.ctx.close();
}

main().catch((e) => ok(false, "browser test crashed", e.stack || e))
    .finally(() => process.exit(0));
