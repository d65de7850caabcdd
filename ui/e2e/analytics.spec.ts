// The analytics page: for a window and a workflow of its own (the server is shared
// with the other spec files), the page shows the numbers the API gives for the same
// window (counts, success rate, durations, the top error class and message, the
// slowest task), an example execution opens, the window and workflow are a link,
// the server's resources are read every 10 s, and a failing query says so.
import type { Page } from "@playwright/test";
import { test, expect, shot } from "./fixtures";
import { formatDuration } from "../src/lib/time";
import { formatPercent, formatPerMinute } from "../src/pages/analytics/format";

const unique = () => `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
const card = (page: Page, id: string) => page.locator(`[data-card="${id}"] .an-card-value`);
const panel = (page: Page, id: string) => page.locator(`[data-panel="${id}"]`);

/** A workflow that sleeps 300 ms then calls `url` (an input): `/ok` succeeds, `/fail` fails with `http_5xx`. */
async function mixed(server: { workflow(yaml: string): Promise<unknown> }, name: string) {
  await server.workflow(`name: ${name}
inputs: {type: object, properties: {url: {type: string}}, required: [url]}
tasks:
  nap: {type: sleep, with: {duration: 300ms}}
  call: {type: http, needs: nap, with: {url: "\${ $inputs.url }"}}
`);
}

test("the page shows the API's numbers for a workflow's window, and an example opens its execution", async ({ page, server }) => {
  const name = `an-mix-${unique()}`;
  await mixed(server, name);
  const since = new Date(Date.now() - 2000).toISOString();
  const ids: string[] = [];
  for (const path of ["ok", "fail", "ok", "fail", "ok"]) ids.push(await server.execute(name, { url: `${server.service}/${path}` }));
  for (const id of ids) await server.until(id, ["succeeded", "failed"]);
  const until = new Date(Date.now() + 1000).toISOString();
  // The window has passed when the page reads it, so its answers do not change.
  await new Promise((ok) => setTimeout(ok, 1100));

  const q = `since=${encodeURIComponent(since)}&until=${encodeURIComponent(until)}&workflow=${name}`;
  const summary = await server.api("GET", `/api/analytics/summary?${q}`);
  const errors = await server.api("GET", `/api/analytics/errors?${q}`);
  const tasks = await server.api("GET", `/api/analytics/durations?by=task&${q}`);
  const series = await server.api("GET", `/api/analytics/timeseries?${q}`);
  expect(summary.executions).toMatchObject({ total: 5, succeeded: 3, failed: 2 });
  expect(errors.by_class[0].class).toBe("http_5xx");
  expect(tasks.groups[0].task).toBe("nap");

  await page.goto(`/analytics?window=custom&${q}`);
  await expect(page.getByRole("heading", { name: "Analytics" })).toBeVisible();
  await expect(page.locator('select[name="workflow"]')).toHaveValue(name);
  await expect(page.getByRole("button", { name: "Custom" })).toHaveAttribute("aria-pressed", "true");

  // The cards: the API's counts, rate and durations.
  await expect(card(page, "total")).toHaveText(String(summary.executions.total));
  await expect(card(page, "success")).toHaveText(formatPercent(summary.success_rate));
  await expect(card(page, "success")).toHaveText("60%");
  await expect(card(page, "failed")).toHaveText(String(summary.executions.failed));
  for (const k of ["p50", "p95", "p99", "max"]) {
    await expect(page.locator(`[data-card="durations"] [data-pct="${k}"]`)).toContainText(formatDuration(summary.durations[`${k}_ms`]));
  }
  await expect(page.locator('[data-card="throughput"]')).toContainText(`${formatPerMinute(summary.throughput.ended_per_minute)} / min`);

  // The chart: a bar per bucket, holding every execution, the failures among them.
  const bars = page.locator(".an-bar");
  await expect(bars).toHaveCount(series.buckets.length);
  const totals = await bars.evaluateAll((gs) => gs.map((g) => Number(g.getAttribute("data-total"))));
  expect(totals.reduce((a, b) => a + b, 0)).toBe(5);
  await expect(page.locator('.an-bar rect[data-status="failed"]')).not.toHaveCount(0);
  const failedInBars = await page.locator(".an-bar title").evaluateAll((ts) =>
    ts.reduce((n, t) => n + Number(t.textContent?.match(/failed (\d+)/)?.[1] ?? 0), 0),
  );
  expect(failedInBars).toBe(2);
  await expect(page.locator(".an-legend [data-status=failed]")).toContainText("failed 2");

  // What fails most: the top class, the top message (grouped), and by task.
  const byClass = page.getByRole("table", { name: "Failures by class" });
  await expect(byClass.locator("tbody tr").first()).toContainText("http_5xx");
  await expect(byClass.locator("tbody tr").first().locator("td").nth(1)).toHaveText(String(errors.by_class[0].executions));
  const top = page.getByRole("table", { name: "Top error messages" }).locator("tbody tr").first();
  await expect(top).toContainText(errors.messages[0].pattern);
  await expect(top.locator("td").first()).toHaveText(String(errors.messages[0].count));
  await expect(page.getByRole("table", { name: "Failures by task" }).locator("tbody tr").first()).toContainText("call");
  const byWorkflow = page.getByRole("table", { name: "Failures by workflow" }).locator(`tr[data-workflow="${name}"]`);
  await expect(byWorkflow).toContainText("2 / 5");
  await expect(byWorkflow).toContainText(formatPercent(errors.by_workflow[0].failure_rate));

  // What is slow: the slowest task first, with its p95.
  const slowest = page.getByRole("table", { name: "Slowest tasks" }).locator("tbody tr").first();
  await expect(slowest).toHaveAttribute("data-task", tasks.groups[0].task);
  await expect(slowest.locator('[data-col="p95"]')).toHaveText(formatDuration(tasks.groups[0].p95_ms));
  await expect(slowest.locator('[data-col="attempts"]')).toHaveText(String(tasks.groups[0].attempts));
  await expect(page.getByRole("table", { name: "Slowest workflows" }).locator(`tr[data-workflow="${name}"] a`).first()).toHaveAttribute(
    "href",
    `/workflows/${name}`,
  );

  // The resources panel has read once.
  await expect(page.locator('[data-resource="database"] .an-tile-value')).toHaveText(/^\d+(\.\d+)? (B|KiB|MiB|GiB)$/);
  await page.locator(".an-bar[data-total]:not([data-total='0'])").first().hover();
  await expect(page.getByRole("tooltip")).toContainText("total");
  await shot(page, "analytics");

  // The example of the top message is a failed execution of this workflow.
  await top.getByRole("link").click();
  await expect(page).toHaveURL(new RegExp(`/executions/${errors.messages[0].example_execution}`));
  await expect(page.locator(".xp-title .status")).toHaveText("failed");
  await page.goBack();

  // The failed count opens the executions list, filtered to them.
  await card(page, "failed").getByRole("link").click();
  await expect(page).toHaveURL(new RegExp(`/executions\\?status=failed&workflow=${name}`));
  await expect(page.locator("tr[data-id]")).toHaveCount(2);
  await expect(page.locator('tr[data-id] .status')).toHaveText(["failed", "failed"]);
});

test("over all workflows, a retried task shows its attempts, and 'only' narrows the page to one workflow", async ({ page, server }) => {
  const flaky = `an-flaky-${unique()}`;
  await server.workflow(`name: ${flaky}
tasks:
  call:
    type: http
    retry: {max_attempts: 3, initial_delay: 10ms}
    with: {url: "${server.service}/flaky?key=${flaky}&fail=1"}
`);
  const id = await server.execute(flaky);
  await server.until(id, ["succeeded"]);
  const mix = `an-mix-${unique()}`;
  await mixed(server, mix);
  for (const path of ["ok", "fail", "slow?ms=700"]) await server.until(await server.execute(mix, { url: `${server.service}/${path}` }), ["succeeded", "failed"]);

  await page.goto(`/analytics?window=1h&workflow=${flaky}`);
  const row = page.getByRole("table", { name: "Slowest tasks" }).locator(`tr[data-workflow="${flaky}"][data-task="call"]`);
  await expect(row.locator('[data-col="attempts"]')).toHaveText("2 (+1 retried)");
  await expect(card(page, "success")).toHaveText("100%");

  // All workflows (the server is shared: other spec files' workflows may be there too).
  await page.locator('select[name="workflow"]').selectOption("");
  await expect(page).not.toHaveURL(/workflow=/);
  const slowWorkflows = page.locator('[data-block="slow-workflows"]');
  await expect(slowWorkflows.getByRole("table", { name: "Slowest workflows" })).toBeVisible();
  const showAll = slowWorkflows.getByRole("button", { name: /^Show all/ });
  if (await showAll.isVisible()) await showAll.click();
  const mixRow = slowWorkflows.locator(`tr[data-workflow="${mix}"]`);
  await expect(mixRow).toBeVisible();
  await page.locator(".an-bar[data-total]:not([data-total='0'])").last().hover();
  await page.screenshot({ path: "e2e/artifacts/analytics-full.png", fullPage: true });

  await mixRow.getByRole("link", { name: "only" }).click();
  await expect(page).toHaveURL(new RegExp(`window=1h&workflow=${mix}`));
  await expect(card(page, "total")).toHaveText("3");
  await expect(page.locator('select[name="workflow"]')).toHaveValue(mix);
});

test("the window and the workflow are kept in the URL, and an empty window says so", async ({ page, server }) => {
  const name = `an-empty-${unique()}`;
  await mixed(server, name);
  await page.goto("/analytics");
  await expect(page.getByRole("button", { name: "Last 24 hours" })).toHaveAttribute("aria-pressed", "true");
  await expect(card(page, "total")).toHaveText(/^[\d,]+$/);

  await page.getByRole("button", { name: "Last hour" }).click();
  await expect(page).toHaveURL(/window=1h/);
  await page.locator('select[name="workflow"]').selectOption(name);
  await expect(page).toHaveURL(new RegExp(`workflow=${name}`));
  await expect(card(page, "total")).toHaveText("0");
  await expect(card(page, "success")).toHaveText("—");
  await expect(panel(page, "timeseries")).toContainText("No executions in this window");
  await expect(panel(page, "errors")).toContainText("No failures in this window");
  await expect(panel(page, "slowest")).toContainText("Nothing ended in this window");
  await shot(page, "analytics-empty");

  // A view is a link: a reload shows the same.
  await page.reload();
  await expect(page.getByRole("button", { name: "Last hour" })).toHaveAttribute("aria-pressed", "true");
  await expect(page.locator('select[name="workflow"]')).toHaveValue(name);

  // Custom: from and to, filled with the window shown, kept in the URL.
  await page.getByRole("button", { name: "Custom" }).click();
  await expect(page).toHaveURL(/window=custom/);
  await expect(page).toHaveURL(/since=.*until=/);
  const from = page.locator('input[name="since"]');
  await expect(from).not.toHaveValue("");
  await from.fill("2026-01-02T03:04:05");
  await expect(page).toHaveURL(new RegExp(`since=${encodeURIComponent(new Date("2026-01-02T03:04:05").toISOString())}`));
  await expect(page.getByTestId("window")).toContainText("Jan 2");

  // A range that ends before it starts is refused here, before any query.
  await page.goto(`/analytics?window=custom&since=2026-12-01T10:00:00Z&until=2026-12-01T09:00:00Z`);
  await expect(page.getByRole("alert")).toContainText('"From" must be before "To"');
});

test("an edit to a time whose seconds are zero is kept, here and in the executions list", async ({ page }) => {
  // The browser gives such a time back without its seconds ("…T10:23"); the field
  // once held "…T10:23:00", so the change event right after an edit read as a second
  // edit back to the old time, and the edit never reached the URL.
  const old = new Date(2026, 0, 1, 10, 23, 0).toISOString();
  const until = new Date(2026, 0, 1, 11, 23, 0, 997).toISOString();
  await page.goto(`/analytics?window=custom&since=${old}&until=${until}`);
  const from = page.locator('input[name="since"]');
  await expect(from).toHaveValue("2026-01-01T10:23");
  await from.fill("2026-01-01T09:04:05");
  await expect(page).toHaveURL(new RegExp(`since=${encodeURIComponent(new Date(2026, 0, 1, 9, 4, 5).toISOString())}`));
  await expect(from).toHaveValue("2026-01-01T09:04:05");

  await page.goto("/executions?since=2026-01-01T10:23:00");
  const since = page.getByLabel("From");
  await expect(since).toHaveValue("2026-01-01T10:23");
  await since.fill("2026-01-01T09:04:05");
  await expect(page).toHaveURL(/since=2026-01-01T09%3A04%3A05/);
  await expect(since).toHaveValue("2026-01-01T09:04:05");
});

test("a failing query shows its error where its numbers would be; resources are read again and again", async ({ page }) => {
  await page.route("**/api/analytics/errors?*", (route) =>
    route.fulfill({
      status: 503,
      contentType: "application/json",
      body: JSON.stringify({ error: { code: "unavailable", message: "the store is busy", details: null } }),
    }),
  );
  await page.goto("/analytics?window=1h");
  await expect(panel(page, "errors").getByRole("alert")).toContainText("unavailable: the store is busy");
  // The other panels do not depend on it.
  await expect(card(page, "total")).toHaveText(/^[\d,]+$/);
  await expect(panel(page, "timeseries").getByRole("alert")).toHaveCount(0);

  // A second reading (2 s after the first) gives the CPU use between them; then one
  // every 10 s.
  const cpu = page.locator('[data-resource="cpu"] .an-tile-value');
  await expect(cpu).toHaveText(/^\d+(\.\d+)?%$/);
  const readAt = panel(page, "resources").locator(".an-head-note");
  const second = (await readAt.textContent())!;
  await page.waitForTimeout(8_000);
  await expect(readAt).toHaveText(second);
  await expect(readAt).not.toHaveText(second, { timeout: 5_000 });
  await expect(page.locator('[data-resource="rss"] .an-tile-value')).toHaveText(/^\d+(\.\d+)? (KiB|MiB|GiB)$/);
  await expect(page.locator('[data-resource="open"] .an-tile-value')).toHaveText(/^\d+$/);
  await expect(page.locator('[data-resource="queued"] .an-tile-value')).toHaveText(/^\d+$/);
});
