// Time to interactive of the console's pages on a filled server (scripts/bench-ui.sh):
// from navigation start to the first rows of the executions list (100,000 stored), and
// to the graph with statuses of a 10,000-item fan-out; medians of RUNS loads each,
// with the API call behind the list timed alone as the baseline.
import { test } from "@playwright/test";

const url = process.env.HARMONIA_BENCH_URL!;
const token = process.env.HARMONIA_BENCH_TOKEN!;
const fanout = process.env.HARMONIA_BENCH_FANOUT!;
const runs = Number(process.env.RUNS ?? 5);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

test("console time to interactive", async ({ browser }) => {
  const context = await browser.newContext({ baseURL: url });
  await context.addInitScript((t) => sessionStorage.setItem("harmonia.token", t), token);
  const page = await context.newPage();
  // Warm the asset cache once, as a returning user has it.
  await page.goto("/executions");
  await page.waitForSelector("tr[data-id]");

  const list: number[] = [];
  const api: number[] = [];
  for (let i = 0; i < runs; i++) {
    await page.goto("/executions");
    await page.waitForSelector("tr[data-id]");
    list.push(await page.evaluate(() => performance.now()));
    api.push(
      await page.evaluate(async (t) => {
        const s = performance.now();
        await (await fetch("/api/executions?limit=50", { headers: { Authorization: `Bearer ${t}` } })).json();
        return performance.now() - s;
      }, token),
    );
  }
  const failed: number[] = [];
  for (let i = 0; i < runs; i++) {
    await page.goto("/executions?status=failed");
    await page.waitForSelector("tr[data-status=failed]");
    failed.push(await page.evaluate(() => performance.now()));
  }
  const fan: number[] = [];
  for (let i = 0; i < runs; i++) {
    await page.goto(`/executions/${fanout}`);
    await page.waitForSelector(".react-flow__node", { timeout: 60_000 });
    await page.waitForFunction(() => document.body.innerText.includes("10,000"), null, { timeout: 60_000 });
    fan.push(await page.evaluate(() => performance.now()));
  }
  const f = (x: number) => `${Math.round(x)} ms`;
  console.log(`executions list, ${process.env.HARMONIA_BENCH_N ?? "?"} stored: interactive ${f(median(list))} (runs: ${list.map(Math.round).join(", ")})`);
  console.log(`  its API call alone (GET /api/executions?limit=50): ${f(median(api))}`);
  console.log(`executions list filtered to failed: interactive ${f(median(failed))}`);
  console.log(`10,000-item fan-out execution: interactive ${f(median(fan))} (runs: ${fan.map(Math.round).join(", ")})`);
  await context.close();
});
