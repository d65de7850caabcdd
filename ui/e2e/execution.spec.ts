// One execution's page: a failure found at a glance (graph, panel, timeline, log), a
// retry from a chosen step after its preview, an approval answered, pause / resume /
// cancel, a sub-workflow's link, a running execution updating live, and a 10,000-item
// fan-out: rendered, its items list scrolled, and streamed live, with the figures
// (first paint, interactive, frame times) printed.
import type { Page } from "@playwright/test";
import { test, expect, shot } from "./fixtures";

const node = (page: Page, task: string) => page.locator(`.react-flow__node [data-task="${task}"]`);
const panel = (page: Page, task: string) => page.getByRole("complementary", { name: `Task ${task}` });

test("a failed execution shows what failed, where and why", async ({ page, server }) => {
  await server.workflow(`name: xp-fail
tasks:
  fetch: {type: set, with: {rows: 3}}
  call:
    needs: fetch
    type: http
    with: {url: "${server.service}/fail?rows=\${ $tasks.fetch.output.rows }"}
  after: {type: set, needs: call, with: done}
  maybe: {type: set, needs: fetch, if: "\${ false }", with: 1}
`);
  const id = await server.execute("xp-fail");
  await server.until(id, ["failed"]);
  await page.goto(`/executions/${id}`);

  await expect(page.locator(".xp-title .status")).toHaveText("failed");
  await expect(page.getByRole("alert", { name: "Execution error" })).toContainText("http_5xx");
  // The whole plan, coloured: the failing task red with its error, the one after it
  // skipped because of it, the one whose condition was false skipped with that reason.
  await expect(node(page, "call")).toHaveAttribute("data-status", "failed");
  await expect(node(page, "call")).toContainText("http_5xx");
  await expect(node(page, "fetch")).toHaveAttribute("data-status", "succeeded");
  await expect(node(page, "after")).toHaveAttribute("data-status", "skipped");
  await expect(node(page, "after")).toContainText("a dependency failed");
  await expect(node(page, "maybe")).toContainText("its condition is false");
  // The panel opens on the failing task, with its error and class, and its attempt.
  const p = panel(page, "call");
  await expect(p).toBeVisible();
  await expect(page).toHaveURL(/task=call/);
  await expect(p.getByRole("alert", { name: "Task error" })).toContainText("http_5xx");
  await expect(p.getByRole("alert", { name: "Task error" })).toContainText("HTTP 500");
  await expect(p.getByRole("table", { name: "Attempts" })).toContainText("failed");
  await expect(p.getByRole("log", { name: "Events of call" })).toContainText("call: attempt 1 failed");
  // Its inputs as the attempt saw them: the URL it called, evaluated.
  await expect(p).toContainText("with (evaluated)");
  await expect(p).toContainText(`${server.service}/fail?rows=3`);
  // The timeline has a row per task, the log every event.
  await expect(page.locator('[data-row="t:call"]')).toBeVisible();
  await expect(page.locator('[data-row="t:call"] .xp-seg.run')).toHaveCount(1);
  await expect(page.getByRole("log", { name: "Events", exact: true })).toContainText("execution_failed");
  await shot(page, "execution-failed");

  // The timeline zooms (buttons, Ctrl + wheel) and fits again.
  const content = page.getByTestId("timeline").locator("> div");
  const fitWidth = (await content.boundingBox())!.width;
  await page.getByRole("button", { name: "Zoom the timeline in" }).click();
  await expect(page.locator(".xp-zoom")).toHaveText("×2");
  expect((await content.boundingBox())!.width).toBeGreaterThan(fitWidth * 1.5);
  await page.getByTestId("timeline").hover();
  await page.keyboard.down("Control");
  await page.mouse.wheel(0, -100);
  await page.keyboard.up("Control");
  await expect(page.locator(".xp-zoom")).toHaveText("×2.50");
  await page.getByRole("button", { name: "Fit the timeline" }).click();
  await expect(page.locator(".xp-zoom")).toHaveText("×1");

  // Another task, from the graph: the panel follows.
  await node(page, "after").click();
  await expect(panel(page, "after")).toContainText("a dependency failed");
  // Nothing to pause or cancel once it has ended; retry is possible.
  await expect(page.getByRole("button", { name: "Pause" })).toBeDisabled();
  await expect(page.getByRole("button", { name: "Cancel…" })).toBeDisabled();
  await expect(page.getByRole("button", { name: "Retry…" })).toBeEnabled();
});

test("a retry from a chosen step, after reading its preview, succeeds", async ({ page, server }) => {
  const key = `k${Date.now()}`;
  await server.workflow(`name: xp-flaky
tasks:
  load: {type: set, with: [1, 2]}
  shape: {type: set, needs: load, with: "\${ $tasks.load.output | length }"}
  call:
    needs: shape
    type: http
    with: {url: "${server.service}/flaky?key=${key}&fail=1"}
  report: {type: set, needs: call, with: "\${ $tasks.call.output.status }"}
`);
  const id = await server.execute("xp-flaky");
  await server.until(id, ["failed"]);
  await page.goto(`/executions/${id}`);
  await expect(node(page, "call")).toHaveAttribute("data-status", "failed");

  await page.getByRole("button", { name: "Retry…" }).click();
  const dialog = page.getByRole("dialog", { name: "Retry this execution" });
  // From its failure first: the failed task and what follows run again.
  await expect(dialog.getByTestId("rerun")).toHaveText(/call\s*report/);
  await expect(dialog.getByTestId("reused")).toHaveText(/load\s*shape/);
  // From a chosen step: that step and everything downstream.
  await dialog.getByLabel("From").selectOption("shape");
  await expect(dialog.getByTestId("rerun")).toHaveText(/shape\s*call\s*report/);
  await expect(dialog.getByTestId("reused")).toHaveText("load");
  await expect(dialog.getByLabel("Retry preview")).toContainText("version 1");
  await shot(page, "execution-retry-preview");

  await dialog.getByRole("button", { name: "Start retry" }).click();
  await expect(page).not.toHaveURL(new RegExp(id));
  const retried = page.url().match(/executions\/([0-9a-f-]{36})/)?.[1];
  expect(retried).toBeTruthy();
  await expect(page.locator(".xp-title .status")).toHaveText("succeeded", { timeout: 20_000 });
  await expect(page.locator(".xp-facts")).toContainText("Retry of");
  await expect(node(page, "call")).toHaveAttribute("data-status", "succeeded");
  await expect(node(page, "load")).toContainText("reused");
  await expect(page.locator('[data-row="t:load"]')).toContainText("reused");
  const after = await server.api("GET", `/api/executions/${retried}`);
  expect(after.retry_of).toBe(id);
  expect(after.status).toBe("succeeded");
  await shot(page, "execution-retried");
});

test("a task waiting for approval shows its prompt and form, and approving finishes it", async ({ page, server }) => {
  await server.workflow(`name: xp-approval
tasks:
  build: {type: set, with: "1.4.0"}
  sign_off:
    needs: build
    type: approval
    with:
      prompt: "Ship \${ $tasks.build.output }?"
      form:
        type: object
        required: [ticket]
        properties:
          ticket: {type: string, pattern: "^REL-[0-9]+$"}
          urgent: {type: boolean}
  ship:
    needs: sign_off
    type: set
    with: "shipped under \${ $tasks.sign_off.output.inputs.ticket }"
outputs:
  result: \${ $tasks.ship.output }
`);
  const id = await server.execute("xp-approval");
  const end = Date.now() + 10_000;
  for (;;) {
    const x = await server.api("GET", `/api/executions/${id}`);
    if (x.tasks.sign_off?.waiting) break;
    if (Date.now() > end) throw new Error("the approval never waited");
    await new Promise((ok) => setTimeout(ok, 100));
  }
  await page.goto(`/executions/${id}`);
  await expect(page.getByRole("status", { name: "Waiting for approval" })).toContainText("Ship 1.4.0?");
  await expect(node(page, "sign_off")).toContainText("waits for an approval");
  const form = page.getByRole("form", { name: "Approval of sign_off" });
  await expect(form).toContainText("Ship 1.4.0?");
  await form.getByRole("textbox", { name: /ticket/ }).fill("nope");
  await form.getByRole("checkbox", { name: "urgent" }).check();
  await shot(page, "execution-approval");
  // The server checks the form: a wrong answer is refused and said.
  await form.getByRole("button", { name: "Approve" }).click();
  await expect(form.getByRole("alert")).toContainText("^REL-[0-9]+$");
  await form.getByRole("textbox", { name: /ticket/ }).fill("REL-7");
  await form.getByRole("button", { name: "Approve" }).click();
  // The wait ends: the form gives way to the answer.
  await expect(panel(page, "sign_off")).toContainText("approved by e2e");
  await expect(form).toHaveCount(0);
  await expect(page.locator(".xp-title .status")).toHaveText("succeeded");
  await expect(node(page, "ship")).toHaveAttribute("data-status", "succeeded");
  await expect(page.getByRole("status", { name: "Waiting for approval" })).toHaveCount(0);
  const x = await server.api("GET", `/api/executions/${id}`);
  expect(x.outputs.result).toBe("shipped under REL-7");
  expect(x.tasks.sign_off.output.inputs).toEqual({ ticket: "REL-7", urgent: true });
});

test("the items of a fan-out of approvals are answered one by one", async ({ page, server }) => {
  await server.workflow(`name: xp-approvals
tasks:
  ok:
    type: approval
    for_each: [eu, us]
    with:
      prompt: "Deploy to \${ $item }?"
      form: {type: object, properties: {env: {type: string, enum: [prod, staging]}}}
`);
  const id = await server.execute("xp-approvals");
  await page.goto(`/executions/${id}`);
  const banner = page.getByRole("status", { name: "Waiting for approval" });
  await expect(banner).toContainText("ok[1]");
  // It opens on the first item that waits, with its own prompt and `$item`.
  await expect(page).toHaveURL(/task=ok&item=0/);
  const first = page.getByRole("form", { name: "Approval of ok[0]" });
  await expect(first).toContainText("Deploy to eu?");
  await first.getByRole("combobox").selectOption("prod");
  await first.getByRole("button", { name: "Approve" }).click();
  await expect(panel(page, "ok")).toContainText("approved by e2e");
  await expect(banner).not.toContainText("ok[0]");
  await banner.getByRole("button", { name: "answer →" }).click();
  const second = page.getByRole("form", { name: "Approval of ok[1]" });
  await expect(second).toContainText("Deploy to us?");
  await second.getByRole("button", { name: "Reject" }).click();
  await expect(page.locator(".xp-title .status")).toHaveText("failed");
  await expect(node(page, "ok").getByTestId("fanout-counts")).toHaveText("1 ✓ 1 ✗");
  const x = await server.api("GET", `/api/executions/${id}`);
  expect(x.tasks.ok.items[0].output).toMatchObject({ decision: "approved", inputs: { env: "prod" } });
  expect(x.tasks.ok.items[1].error.class).toBe("rejected");
});

test("a running execution updates live: graph, timeline, log and header", async ({ page, server }) => {
  await server.workflow(`name: xp-live
tasks:
  first: {type: sleep, with: {duration: 1500ms}}
  second:
    needs: first
    type: http
    with: {url: "${server.service}/slow?ms=1500"}
  third: {type: set, needs: second, with: done}
`);
  const id = await server.execute("xp-live");
  await page.goto(`/executions/${id}`);
  await expect(page.locator(".xp-title .status")).toHaveText("running");
  await expect(page.locator(".xp-live")).toBeVisible();
  await expect(node(page, "first")).toHaveAttribute("data-status", "running");
  await expect(node(page, "first")).toContainText("sleeps");
  await expect(node(page, "third")).toHaveAttribute("data-status", "pending");
  const d1 = await page.getByTestId("duration").textContent();
  await expect(node(page, "second")).toHaveAttribute("data-status", "running", { timeout: 10_000 });
  await expect(page.locator('[data-row="t:first"] .xp-seg.wait')).toHaveCount(1);
  await shot(page, "execution-live");
  // The header's clock ticks every second while the execution runs: a page that loaded
  // late may not have ticked yet by now, so wait for the tick rather than read once.
  await expect(page.getByTestId("duration")).not.toHaveText(d1 ?? "", { timeout: 5_000 });
  await expect(page.locator(".xp-title .status")).toHaveText("succeeded", { timeout: 15_000 });
  await expect(node(page, "third")).toHaveAttribute("data-status", "succeeded");
  await expect(page.getByRole("log", { name: "Events", exact: true })).toContainText("execution_succeeded");
  await expect(page.locator(".xp-live")).toHaveCount(0);
  // Everything arrived over the WebSocket: the page read the log once.
});

test("pause, resume and cancel with a reason, each when the status allows it", async ({ page, server }) => {
  await server.workflow(`name: xp-control
tasks:
  nap: {type: sleep, with: {duration: 60s}}
  after: {type: set, needs: nap, with: 1}
`);
  const id = await server.execute("xp-control");
  await page.goto(`/executions/${id}`);
  await expect(page.locator(".xp-title .status")).toHaveText("running");
  await expect(page.getByRole("button", { name: "Retry…" })).toBeDisabled();
  await expect(page.getByRole("button", { name: "Resume" })).toBeDisabled();
  await page.getByRole("button", { name: "Pause" }).click();
  await expect(page.locator(".xp-title .status")).toHaveText("paused");
  await expect(page.getByRole("button", { name: "Pause" })).toBeDisabled();
  await page.getByRole("button", { name: "Resume" }).click();
  await expect(page.locator(".xp-title .status")).toHaveText("running");
  await page.getByRole("button", { name: "Cancel…" }).click();
  const dialog = page.getByRole("dialog", { name: "Cancel this execution" });
  await dialog.getByLabel(/Reason/).fill("wrong inputs");
  await dialog.getByRole("button", { name: "Cancel execution" }).click();
  await expect(page.locator(".xp-title .status")).toHaveText("cancelled");
  await expect(node(page, "nap")).toHaveAttribute("data-status", "cancelled");
  await expect(page.getByRole("log", { name: "Events", exact: true })).toContainText("cancelling: wrong inputs");
  await expect(page.locator(".xp-pause")).toHaveCount(1);
});

test("a sub-workflow task links to its child, and the child back to its parent", async ({ page, server }) => {
  await server.workflow(`name: xp-child
tasks:
  work: {type: set, with: 42}
outputs:
  answer: \${ $tasks.work.output }
`);
  await server.workflow(`name: xp-parent
tasks:
  delegate: {type: workflow, with: {workflow: xp-child}}
`);
  const id = await server.execute("xp-parent");
  await server.until(id, ["succeeded"]);
  await page.goto(`/executions/${id}`);
  const link = node(page, "delegate").getByRole("link", { name: /sub-workflow/ });
  await expect(link).toBeVisible();
  await link.click();
  await expect(page.locator(".xp-title h1")).toContainText("xp-child");
  await expect(page.locator(".xp-facts")).toContainText("Sub-workflow of");
  await page.locator(".xp-facts").getByRole("link").first().click();
  await expect(page.locator(".xp-title h1")).toContainText("xp-parent");
  await expect(page).toHaveURL(/task=delegate/);
});

interface Figures {
  header: number;
  graph: number;
  interactive: number;
  fcp: number;
}

async function marks(page: Page): Promise<Figures> {
  await page.waitForFunction(() => performance.getEntriesByName("xp:interactive").length > 0, null, { timeout: 30_000 });
  return page.evaluate(() => {
    const at = (n: string) => Math.round(performance.getEntriesByName(n)[0]?.startTime ?? -1);
    return { header: at("xp:header"), graph: at("xp:graph"), interactive: at("xp:interactive"), fcp: at("first-contentful-paint") };
  });
}

/** Frame times (ms between animation frames) while `during` runs. */
async function frames<T>(page: Page, during: () => Promise<T>): Promise<{ result: T; frames: number[]; longTasks: number[] }> {
  await page.evaluate(() => {
    const w = window as unknown as { __frames: number[]; __long: number[]; __stop: boolean };
    w.__frames = [];
    w.__long = [];
    w.__stop = false;
    new PerformanceObserver((l) => l.getEntries().forEach((e) => w.__long.push(e.duration))).observe({ type: "longtask" });
    let last = performance.now();
    const tick = (t: number) => {
      w.__frames.push(t - last);
      last = t;
      if (!w.__stop) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  const result = await during();
  const out = await page.evaluate(() => {
    const w = window as unknown as { __frames: number[]; __long: number[]; __stop: boolean };
    w.__stop = true;
    return { frames: w.__frames.slice(1), longTasks: w.__long };
  });
  return { result, ...out };
}

function stats(f: number[]): string {
  const s = [...f].sort((a, b) => a - b);
  const q = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(1) : "-");
  return `${s.length} frames, median ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${q(1)} ms`;
}

test("a 10,000-item fan-out renders as one node, its items list scrolls, and the timeline folds it", async ({ page, server }) => {
  test.setTimeout(120_000);
  await server.workflow(`name: xp-big
tasks:
  prep: {type: set, with: 1}
  fan:
    needs: prep
    type: set
    for_each: \${ [range(0; 10000)] }
    with: {i: "\${ $item }"}
  after: {type: set, needs: fan, with: done}
`);
  const id = await server.execute("xp-big");
  await server.until(id, ["succeeded"], 60_000);

  const started = Date.now();
  await page.goto(`/executions/${id}`);
  const m = await marks(page);
  const wall = Date.now() - started;
  await expect(node(page, "fan").getByTestId("fanout-counts")).toHaveText("10,000 ✓");
  await expect(page.locator(".react-flow__node")).toHaveCount(3);
  // One aggregated timeline row for the fan-out, not 10,000.
  await expect(page.locator('[data-row^="i:fan:"]')).toHaveCount(0);
  await expect(page.locator('[data-row="t:fan"] .xp-density')).toHaveCount(1);

  const t0 = Date.now();
  await node(page, "fan").click();
  const list = page.getByTestId("items-list");
  await expect(list.locator('[data-item="0"]')).toBeVisible();
  const openMs = Date.now() - t0;
  await shot(page, "execution-fanout");

  // Scroll the items list to the end, in steps, measuring frames.
  const scroll = await frames(page, async () => {
    for (let i = 0; i < 40; i++) {
      await list.hover();
      await page.mouse.wheel(0, 2400);
      await page.waitForTimeout(16);
    }
    await list.evaluate((el) => (el.scrollTop = el.scrollHeight));
    await expect(list.locator('[data-item="9999"]')).toBeVisible();
  });
  expect(await list.locator('[data-item]').count()).toBeLessThan(100);
  await list.locator('[data-item="9999"]').click();
  await expect(panel(page, "fan")).toContainText("$item");
  await expect(page).toHaveURL(/item=9999/);

  // Unfolded, the timeline has a row per item, virtualized.
  await page.getByRole("button", { name: "Unfold fan" }).click();
  const tl = page.getByTestId("timeline");
  await expect(page.locator('[data-row="i:fan:0"]')).toBeVisible();
  const tlScroll = await frames(page, async () => {
    for (let i = 0; i < 30; i++) {
      await tl.hover();
      await page.mouse.wheel(0, 8000);
      await page.waitForTimeout(16);
    }
    await tl.evaluate((el) => (el.scrollTop = el.scrollHeight));
    await expect(page.locator('[data-row="i:fan:9999"]')).toBeVisible();
  });
  expect(await page.locator('[data-row^="i:fan:"]').count()).toBeLessThan(100);
  // The event log holds all 20,012 events, virtualized.
  await expect(page.locator(".xp-events")).toContainText("20,012 events");
  expect(await page.locator(".xp-log-row").count()).toBeLessThan(200);

  console.log(
    [
      `10,000-item fan-out, finished (20,012 events, loaded over REST):`,
      `  first contentful paint ${m.fcp} ms; header painted ${m.header} ms; graph with statuses ${m.graph} ms; interactive ${m.interactive} ms (from navigation start); goto→interactive ${wall} ms wall`,
      `  click fan-out node → items list shown: ${openMs} ms`,
      `  scrolling the items list to item 9,999: ${stats(scroll.frames)}; long tasks: ${scroll.longTasks.length}`,
      `  unfolded timeline scrolled to row 9,999: ${stats(tlScroll.frames)}; long tasks: ${tlScroll.longTasks.length}`,
    ].join("\n"),
  );
});

test("a 10,000-item fan-out streams live in batches and the page stays responsive", async ({ page, server }) => {
  test.setTimeout(120_000);
  await server.workflow(`name: xp-stream
tasks:
  gate: {type: sleep, with: {duration: 2500ms}}
  fan:
    needs: gate
    type: sleep
    for_each: \${ [range(0; 10000)] }
    concurrency: 500
    with: {duration: 20ms}
  after: {type: set, needs: fan, with: done}
`);
  const id = await server.execute("xp-stream");
  await page.goto(`/executions/${id}`);
  const m = await marks(page);
  await expect(node(page, "gate")).toHaveAttribute("data-status", "running");
  const clicks: number[] = [];
  const run = await frames(page, async () => {
    // While it streams, the page answers: open the fan-out's panel, then the gate's.
    await expect(node(page, "fan")).toHaveAttribute("data-status", "running", { timeout: 15_000 });
    for (const task of ["fan", "gate", "fan"]) {
      // Timed in the page: from the click to the frame that shows the task's panel.
      const took = await page.evaluate(async (name) => {
        const el = document.querySelector<HTMLElement>(`.react-flow__node [data-task="${name}"]`);
        const t = performance.now();
        el?.click();
        await new Promise<void>((ok) => {
          const check = () =>
            document.querySelector(`aside[aria-label="Task ${name}"]`) ? requestAnimationFrame(() => ok()) : requestAnimationFrame(check);
          check();
        });
        return performance.now() - t;
      }, task);
      await expect(panel(page, task)).toBeVisible();
      clicks.push(Math.round(took));
      await page.waitForTimeout(300);
    }
    await expect(page.locator(".xp-title .status")).toHaveText("succeeded", { timeout: 60_000 });
  });
  await expect(node(page, "fan").getByTestId("fanout-counts")).toHaveText("10,000 ✓");
  await expect(page.locator(".xp-events")).toContainText("30,013 events");
  const s = await page.evaluate(() => {
    type Stats = { messages: number; resyncs: number; batches: number; maxBatchMs: number; renders: number; renderMs: number; maxRenderMs: number };
    const st = (window as unknown as { __xpStore: { stats: Stats } }).__xpStore.stats;
    return { ...st };
  });
  // Events were applied in batches, not one render per event. (A server whose socket
  // falls behind sends a `resync`; the page then reads the rest of the log over REST.)
  expect(s.messages).toBeGreaterThan(1000);
  expect(s.batches).toBeLessThan(s.messages / 20);
  await shot(page, "execution-streamed");
  console.log(
    [
      `10,000-item fan-out streaming live (30,013 events over the WebSocket):`,
      `  first paint of the page: header ${m.header} ms, graph ${m.graph} ms, interactive ${m.interactive} ms`,
      `  while streaming: ${stats(run.frames)}; long tasks: ${run.longTasks.length} (max ${Math.round(Math.max(0, ...run.longTasks))} ms)`,
      `  ${s.messages} WebSocket messages (${s.resyncs} resyncs) applied in ${s.batches} batches; folding: slowest batch ${s.maxBatchMs.toFixed(1)} ms; re-render: mean ${(s.renderMs / Math.max(1, s.renders)).toFixed(1)} ms, max ${s.maxRenderMs.toFixed(1)} ms`,
      `  clicks on graph nodes while streaming → panel shown: ${clicks.join(", ")} ms`,
    ].join("\n"),
  );
});
