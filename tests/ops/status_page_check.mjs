// Drives headless Chromium through a node's status page (used by status_page_test.sh):
// the page renders the node's id, its active view (one row per peer, as /status lists them),
// its passive view and the rate chart; a neighbour's link opens that neighbour's own page.
// Usage: node status_page_check.mjs PLAYWRIGHT_DIR CHROMIUM URL USER_DATA_DIR
import { createRequire } from "node:module";

const [playwrightDir, chromiumPath, url, userDataDir] = process.argv.slice(2);
const require = createRequire(playwrightDir + "/");
const { chromium } = require("playwright-core");

let failures = 0;
const ok = (m) => console.log("ok   - " + m);
const fail = (m) => { console.log("FAIL - " + m); failures++; };

const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: chromiumPath,
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"],
});
try {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url, { timeout: 10000 });
  const status = await (await page.request.get(url + "status")).json();

  await page.waitForFunction(
      (n) => document.querySelectorAll("#active tbody tr").length === n && n > 0, status.active.length,
      { timeout: 10000 });
  const title = await page.textContent("#title");
  title.includes(status.id) ? ok(`title names the node: ${title}`) : fail(`title "${title}" lacks ${status.id}`);
  const rows = await page.$$eval("#active tbody tr", (trs) => trs.map((tr) => tr.getAttribute("data-peer")));
  const expected = status.active.map((p) => p.id);
  JSON.stringify(rows.slice().sort()) === JSON.stringify(expected.slice().sort())
      ? ok(`active view rendered: ${rows.join(", ")}`)
      : fail(`active rows ${rows} differ from /status ${expected}`);
  const passiveCount = Number(await page.textContent("#passive-count"));
  passiveCount === status.passive.length ? ok(`passive view count ${passiveCount}`)
                                         : fail(`passive count ${passiveCount}, /status has ${status.passive.length}`);
  // Two polls (2 s apart) give the chart its first segment: one polyline per series.
  await page.waitForFunction(() => document.querySelectorAll("#chart polyline").length === 3, null, { timeout: 10000 });
  ok("the rate chart draws its three series");
  errors.length === 0 ? ok("no script errors") : fail("script errors: " + errors.join("; "));

  // Walk to a neighbour through its link.
  const link = await page.$("#active tbody tr a.peer-link");
  if (!link) {
    fail("no neighbour link on the page");
  } else {
    const peer = await link.evaluate((a) => a.closest("tr").getAttribute("data-peer"));
    await Promise.all([page.waitForNavigation({ timeout: 10000 }), link.click()]);
    await page.waitForFunction((id) => document.getElementById("title").textContent.includes(id), peer,
                               { timeout: 10000 });
    ok(`the neighbour link opened ${peer}'s own page (${page.url()})`);
    await page.waitForFunction(() => document.querySelectorAll("#active tbody tr").length > 0, null,
                               { timeout: 10000 });
    ok("the neighbour's page lists its own active view");
  }
} catch (e) {
  fail(String(e));
} finally {
  await context.close();
}
process.exit(failures === 0 ? 0 : 1);
