// The dashboard in real headless Chromium (Debian's package, driven by playwright-core):
// against a `dev` instance with known data, pick states in turn, check the rows shown
// equal the API's, check the empty state, measure state switches, save a screenshot.
// Then a first `dev --demo-history` start: the demo banner, the per-1,000-adults column,
// the note on today's orders; its screenshot (output/dashboard-demo.png, 1280×900) is the
// README's docs/img/dashboard.png. Both runs check the data-health panel (the books,
// GET /api/ledger); its picture (output/dashboard-health.png) is docs/img/dashboard-health.png.
//
// Run: node --test tests/browser/dashboard.test.mjs (after `cargo build --release`);
// PIZZA_BIN names the binary, CHROMIUM the browser (default /usr/bin/chromium).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { tmpdir, homedir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const targetDir = process.env.CARGO_TARGET_DIR || join(homedir(), ".cache/pizza-pipeline/target");
const BIN = process.env.PIZZA_BIN || join(targetDir, "release/pizza-pipeline");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const OUTPUT = join(here, "output");

const CUSTOMERS = [
  [1, "TX"], [2, "TX"], [3, "TX"], [4, "CA"], [5, "CA"], [6, "WY"],
];
// TX: pepperoni 6 units, cheese 3, veggie 1, supreme 1 (4th, not shown); CA: meat lover 2.
const ORDERS = [
  [1, 1, "pepperoni", 4, 40.0], [2, 2, "pepperoni", 2, 21.5], [3, 1, "cheese", 3, 33.33],
  [4, 3, "veggie", 1, 12.0], [5, 3, "supreme", 1, 11.0], [6, 4, "meat lover", 2, 35.5],
];

function startDev(dataDir, args = ["--summary-schedule", "off"]) {
  // The test's orders carry fixed dates: no date horizon, so they stay acceptable as the
  // calendar moves on.
  const env = { ...process.env, PIZZA_LOG: process.env.PIZZA_LOG || "warn", PIZZA_ORDER_HORIZON_DAYS: "36500" };
  delete env.PIZZA_DEMO_HISTORY;
  const child = spawn(BIN, ["dev", "--data-dir", dataDir, "--listen", "127.0.0.1:0", ...args], {
    stdio: ["ignore", "pipe", "inherit"],
    env,
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("dev did not start within 120 s")), 120_000);
    createInterface({ input: child.stdout }).on("line", (line) => {
      const m = line.match(/^pizza-pipeline dev listening on (http:\/\/\S+)$/);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    });
    child.on("exit", (code) => reject(new Error(`dev exited early with ${code}`)));
  });
}

async function waitUntilLanded(url) {
  for (let i = 0; i < 600; i++) {
    const text = await (await fetch(`${url}/metrics`)).text();
    if (/^pizza_order_log_backlog 0$/m.test(text)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("orders did not land");
}

function launchChromium() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
}

// The figures of the data-health panel, by label, once it has loaded.
async function healthFigures(page) {
  await page.waitForFunction(() => document.getElementById("health").getAttribute("aria-busy") === "false");
  return page.$$eval("#health-totals div", (divs) =>
    Object.fromEntries(divs.map((d) => [d.dataset.figure, d.querySelector("dd").textContent])));
}

// The page's "per 1,000 adults" figure: the exact per-adult figure times 1,000, in cents.
const per1k = (perAdult) => (Math.round(perAdult * 1e6) / 1e3).toLocaleString("en-US", { style: "currency", currency: "USD" });

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

test("the dashboard shows the API's rows, the empty state, and switches fast", async () => {
  assert.ok(existsSync(BIN), `no binary at ${BIN}: run cargo build --release first`);
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install chromium`);
  const dataDir = join(mkdtempSync(join(tmpdir(), "pizza-browser-")), "data");
  mkdirSync(dataDir);
  const csv = join(dataDir, "..", "customers.csv");
  writeFileSync(csv, "customer_id,name,address,city,state,zip_code\n" +
    CUSTOMERS.map(([id, st]) => `${id},Customer ${id},${id} Main St,Town,${st},0000${id}`).join("\n") + "\n");
  execFileSync(BIN, ["customers", "load", "--data-dir", dataDir, csv]);

  const { child, url } = await startDev(dataDir);
  const browser = await launchChromium();
  try {
    const body = ORDERS.map(([order_id, customer_id, type, qty, retail_price]) =>
      ({ order_id, customer_id, type, qty, retail_price, order_date: "2026-05-01T18:00:00Z" }));
    const posted = await fetch(`${url}/api/orders`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    assert.equal(posted.status, 202);
    await waitUntilLanded(url);
    const refreshed = await fetch(`${url}/admin/refresh`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ as_of: "2026-06-01T00:00:00Z", verify: true }) });
    assert.equal(refreshed.status, 200);

    const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    const apiCalls = [];
    page.on("request", (r) => apiCalls.push(new URL(r.url()).pathname + new URL(r.url()).search));

    await page.goto(`${url}/?state=CA`);
    const shown = async (code, name) => {
      await page.waitForFunction(([code, name]) => {
        const busy = document.getElementById("result").getAttribute("aria-busy") === "true";
        const caption = document.getElementById("report-caption").textContent;
        const table = !document.getElementById("report").hasAttribute("hidden") && caption.endsWith(` in ${name}`);
        const empty = !document.getElementById("empty").hasAttribute("hidden") &&
          document.getElementById("empty").textContent.includes(`(${code})`);
        return !busy && (table || empty);
      }, [code, name]);
    };
    const rowsOnPage = () => page.$$eval("#report tbody tr", (trs) => trs.map((tr) => ({
      rank: Number(tr.dataset.rank),
      type: tr.dataset.type,
      units: tr.querySelector(".c-units").textContent,
      gross: tr.querySelector(".c-gross").textContent,
      per1k: tr.querySelector(".c-per1k").textContent,
      percap: tr.querySelector(".c-percap").textContent,
      customers: tr.querySelector(".c-customers").textContent,
    })));
    const rowsOfApi = async (code) => (await (await fetch(`${url}/api/report?state=${code}`)).json()).map((r) => ({
      rank: r.rank,
      type: r.pizza_type,
      units: r.pizzas_sold.toLocaleString("en-US"),
      gross: r.gross_sales_usd.toLocaleString("en-US", { style: "currency", currency: "USD" }),
      per1k: per1k(r.gross_sales_per_capita_usd),
      percap: "$" + r.gross_sales_per_capita_usd.toFixed(6),
      customers: r.unique_customers.toLocaleString("en-US"),
    }));

    // The state from the URL, then two states picked in turn.
    await shown("CA", "California");
    assert.deepEqual(await rowsOnPage(), await rowsOfApi("CA"));
    for (const [code, name] of [["TX", "Texas"], ["CA", "California"]]) {
      await page.selectOption("#state", code);
      await shown(code, name);
      const rows = await rowsOnPage();
      assert.deepEqual(rows, await rowsOfApi(code), `rows of ${code}`);
      assert.ok(new URL(page.url()).searchParams.get("state") === code, "the state is kept in the URL");
    }
    assert.deepEqual((await rowsOnPage()).map((r) => r.type), ["meat lover"]);
    await page.selectOption("#state", "TX");
    await shown("TX", "Texas");
    assert.deepEqual((await rowsOnPage()).map((r) => r.type), ["pepperoni", "cheese", "veggie"]);
    assert.equal(await page.$$eval("#chart .bar", (bars) => bars.length), 3);
    // Not a demo start: no banner. The note says why orders of today are not counted yet.
    assert.ok(await page.$eval("#demo-banner", (b) => b.hasAttribute("hidden")), "no demo banner");
    assert.match(await page.textContent("#today-note"),
      /counts orders placed up to midnight at the end of May 31, 2026 \(UTC\)\. .*the next build \(the nightly timer is off here/);
    // The data-health panel: the books of the report's days balance, every order counted.
    const figures = await healthFigures(page);
    assert.match(await page.textContent("#health-verdict"), /^Every order accounted for/);
    assert.deepEqual(
      [figures["Accepted"], figures["Landed"], figures["Not landed yet"], figures["In the report"], figures["Set aside (unreadable)"]],
      ["6", "6", "0", "6", "0"]);
    assert.equal(figures["Generated (demo), not via the API"], undefined, "nothing generated here");
    assert.match(await page.textContent("#health-exclusions"),
      /Landed but not in the report: 0 with an unknown customer · 0 in a state without a population row · 0 outside the report's window\./);
    assert.match(await page.textContent("#health-oldest"), /No accepted order is waiting to land\./);
    const books = await (await fetch(`${url}/api/ledger`)).json();
    assert.equal(books.balanced, true);
    assert.equal(String(books.totals.accepted), figures["Accepted"], "the panel shows the API's books");
    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: join(OUTPUT, "dashboard-tx.png"), fullPage: true });

    // A state without sales shows the empty state, no table, no chart.
    await page.selectOption("#state", "WY");
    await shown("WY", "Wyoming");
    assert.match(await page.textContent("#empty"), /No sales in this window for Wyoming \(WY\)/);
    assert.ok(await page.$eval("#report", (t) => t.hasAttribute("hidden")));
    assert.ok(await page.$eval("#chart", (c) => c.hasAttribute("hidden")));
    await page.screenshot({ path: join(OUTPUT, "dashboard-empty.png"), fullPage: true });

    // Switching fetches /api/report only.
    const before = apiCalls.length;
    await page.selectOption("#state", "CA");
    await shown("CA", "California");
    assert.deepEqual(apiCalls.slice(before), ["/api/report?state=CA"]);

    // State switch, request to rendered table, measured in the browser.
    const cycle = [["TX", "Texas"], ["CA", "California"], ["WY", "Wyoming"]];
    const timings = [];
    for (let i = 0; i < 60; i++) {
      const [code, name] = cycle[i % cycle.length];
      const started = performance.now();
      await page.selectOption("#state", code);
      await shown(code, name);
      timings.push(performance.now() - started);
    }
    const summary = `state switch (select → rendered), ${timings.length} switches: p50 ${percentile(timings, 50).toFixed(1)} ms, p99 ${percentile(timings, 99).toFixed(1)} ms`;
    console.log(summary);
    writeFileSync(join(OUTPUT, "state-switch.txt"), summary + "\n");
    assert.deepEqual(errors, [], "no errors in the page");
  } finally {
    await browser.close();
    child.kill("SIGTERM");
  }
});

test("a first demo start: the banner, figures per 1,000 adults, and why today's orders wait", async () => {
  assert.ok(existsSync(BIN), `no binary at ${BIN}: run cargo build --release first`);
  const dataDir = join(mkdtempSync(join(tmpdir(), "pizza-browser-demo-")), "data");
  // The default nightly schedule, as `bash .ci/dev` runs it: the demo year and its report
  // are there before the address is announced.
  const { child, url } = await startDev(dataDir, ["--demo-history"]);
  const browser = await launchChromium();
  try {
    const states = await (await fetch(`${url}/api/states`)).json();
    assert.equal(states.demo.orders, 120000);
    assert.ok(states.refreshed_at, "the report is built at once");

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    await page.goto(`${url}/?state=TX`);
    await page.waitForFunction(() => !document.getElementById("report").hasAttribute("hidden") &&
      document.getElementById("result").getAttribute("aria-busy") === "false");

    // The banner says the history is generated, how much, and how it was made.
    assert.ok(await page.isVisible("#demo-banner"), "the demo banner shows");
    const banner = await page.textContent("#demo-banner");
    assert.match(banner, /^\s*Demo data\. The history is generated, not real: 120,000 orders \(\$[\d,]+\.\d\d\) from /);
    assert.match(banner, /first start \(.*dev --demo-history\)\. 5,000 demo customers, spread over the states like their adults, order about 2 times a month/);

    // Every state has its top 3; per 1,000 adults beside the exact per-adult figure.
    const rows = await page.$$eval("#report tbody tr", (trs) => trs.map((tr) => ({
      per1k: tr.querySelector(".c-per1k").textContent,
      percap: tr.querySelector(".c-percap").textContent,
    })));
    const api = await (await fetch(`${url}/api/report?state=TX`)).json();
    assert.equal(rows.length, 3);
    assert.deepEqual(rows, api.map((r) => ({ per1k: per1k(r.gross_sales_per_capita_usd), percap: "$" + r.gross_sales_per_capita_usd.toFixed(6) })));
    for (const r of rows) assert.match(r.per1k, /^\$\d+\.\d\d$/, "a readable figure of dollars and cents");
    assert.match(await page.textContent("thead"), /Per 1,000 adults/);

    // Orders of today (as `simulate` sends them) wait for the next nightly build; the
    // note says so, and counts them.
    assert.ok(await page.isVisible("#today-note"));
    assert.match(await page.textContent("#today-note"), /Orders placed later, such as today's or those from pizza-pipeline simulate, count from the next nightly build, at 02:00 UTC\.$/);
    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: join(OUTPUT, "dashboard-demo.png") });
    // The data-health panel over the demo year: generated orders are shown as such (they
    // never passed the order API), and the books balance. Its picture is the README's
    // docs/img/dashboard-health.png.
    const figures = await healthFigures(page);
    assert.match(await page.textContent("#health-verdict"), /^Every order accounted for/);
    const books = await (await fetch(`${url}/api/ledger`)).json();
    assert.equal(books.balanced, true);
    // The report's days hold (nearly) all the demo year: between 00:00 and 02:00 UTC the
    // due report still ends a day earlier.
    assert.ok(books.totals.generated > 110_000 && books.totals.generated === books.totals.landed, JSON.stringify(books.totals));
    assert.equal(books.totals.accepted, 0, "the demo year never passed the order API");
    assert.equal(figures["Generated (demo), not via the API"], books.totals.generated.toLocaleString("en-US"));
    assert.equal(figures["Landed"], books.totals.landed.toLocaleString("en-US"));
    assert.equal(figures["Accepted"], "0");
    await page.locator("#health").screenshot({ path: join(OUTPUT, "dashboard-health.png") });
    const now = new Date().toISOString();
    const posted = await fetch(`${url}/api/orders`, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify([1, 2, 3].map((i) => ({ order_id: 77_000 + i, customer_id: i, type: "cheese", qty: 1, retail_price: 12.5, order_date: now }))),
    });
    assert.equal(posted.status, 202);
    await page.reload();
    await page.waitForFunction(() => /3 orders were accepted since this report was built\./.test(document.getElementById("today-note").textContent));
    assert.deepEqual(errors, [], "no errors in the page");
  } finally {
    await browser.close();
    child.kill("SIGTERM");
  }
});
