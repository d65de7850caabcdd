// The workflow pages and the triggers page: executing a workflow from the form its
// `inputs` schema generates (the client's checks, then the server's, each at its
// field), the versions and their diff (live when a version is stored), the list with
// each workflow's success rate and last run, and triggers paused, resumed, and a
// webhook's deliveries replayed.
import { test, expect, shot } from "./fixtures";

test("a workflow runs from its generated inputs form, checked by the client and by the server", async ({ page, server }) => {
  await server.workflow(`name: e2e-form
description: Greets a city, through the local service.
inputs:
  type: object
  required: [city]
  properties:
    city: {type: string, description: "Where to send it"}
    count: {type: integer, minimum: 1, maximum: 10, default: 3}
    mode: {type: string, enum: [fast, slow], default: fast}
    tags: {type: array, items: {type: string}}
    notify: {type: boolean}
    user: {type: string, not: {const: root}}
tasks:
  call:
    type: http
    with: {url: "${server.service}/slow?ms=300"}
  done:
    needs: call
    type: set
    with: "\${ $inputs.city }"
`);
  await page.goto("/workflows/e2e-form");
  await expect(page.getByRole("heading", { name: "e2e-form" })).toBeVisible();
  await page.getByRole("button", { name: "Execute…" }).click();
  const form = page.getByRole("form", { name: "Execute" });
  await expect(form).toBeVisible();
  await expect(page).toHaveURL(/execute=1/);

  // Defaults are prefilled; the required field is marked.
  const field = (path: string) => form.locator(`[data-path="${path}"]`);
  await expect(field("/count").locator("input")).toHaveValue("3");
  await expect(field("/mode").locator("select")).toHaveValue("0");
  await expect(field("/mode").locator("select option:checked")).toHaveText("fast");
  await expect(field("/city").locator(".sf-required")).toBeVisible();
  await expect(field("/count").locator(".sf-required")).toHaveCount(0);

  // A missing required field and an out-of-range number: refused before sending.
  await page.getByLabel("count").fill("42");
  await form.getByRole("button", { name: "Execute", exact: true }).click();
  await expect(field("/city").locator(".sf-errors")).toHaveText("required");
  await expect(field("/count").locator(".sf-errors")).toHaveText("must be at most 10");
  await expect(page.getByLabel("count")).toHaveAttribute("aria-invalid", "true");
  await expect(form.getByRole("status")).toContainText("Fix the 2 problems");
  await shot(page, "execute-form");
  await expect(page).toHaveURL(/\/workflows\/e2e-form/);
  const none = await server.api("GET", "/api/executions?workflow=e2e-form");
  expect(none.executions).toHaveLength(0);

  // Messages follow the edits once shown.
  await page.getByLabel("count").fill("4");
  await expect(field("/count").locator(".sf-errors")).toHaveCount(0);
  await page.getByLabel("city").fill("Oslo");
  await expect(field("/city").locator(".sf-errors")).toHaveCount(0);

  // A list of scalars: add two rows, remove one.
  await form.getByRole("button", { name: "Add tags" }).click();
  await form.getByRole("button", { name: "Add tags" }).click();
  await field("/tags/0").locator("input").fill("north");
  await field("/tags/1").locator("input").fill("drop me");
  await form.getByRole("button", { name: "Remove tags 2" }).click();
  await expect(field("/tags/1")).toHaveCount(0);
  await page.getByLabel("notify").check();

  // What only the server checks (`not`) comes back at the field it names.
  await page.getByLabel("user").fill("root");
  await form.getByRole("button", { name: "Execute", exact: true }).click();
  await expect(field("/user").locator(".sf-errors")).toContainText("is not allowed");
  await expect(form.getByRole("alert")).toContainText("The server refused the inputs (1 problem)");
  // Editing the field clears what the server said about it.
  await page.getByLabel("user").fill("alice");
  await expect(field("/user").locator(".sf-errors")).toHaveCount(0);

  await form.getByRole("button", { name: "Execute", exact: true }).click();
  await expect(page).toHaveURL(/\/executions\/[0-9a-f-]{36}$/);
  const id = page.url().split("/executions/")[1];
  const done = await server.until(id, ["succeeded", "failed"]);
  expect(done.status).toBe("succeeded");
  expect(done.inputs).toEqual({ city: "Oslo", count: 4, mode: "fast", tags: ["north"], notify: true, user: "alice" });
});

test("a workflow's page shows its graph, source, runs, and the diff of a new version live", async ({ page, server }) => {
  await server.workflow(`name: e2e-versions
description: First take.
tasks:
  fetch: {type: http, with: {url: "${server.service}/ok"}}
  left: {type: set, needs: fetch, with: 1}
  right: {type: set, needs: fetch, with: 2}
  join: {type: set, needs: [left, right], with: done}
`);
  const first = await server.execute("e2e-versions");
  await server.until(first, ["succeeded"]);
  await page.goto("/workflows/e2e-versions");
  await expect(page.locator(".wf-description")).toHaveText("First take.");
  await expect(page.getByTestId("workflow-graph").locator(".react-flow__node")).toHaveCount(4);
  await expect(page.getByTestId("definition").locator("pre")).toContainText("right: {type: set, needs: fetch, with: 2}");
  await expect(page.getByText("Only one version so far")).toBeVisible();
  const runRow = page.locator(`.wf-runs tr[data-id="${first}"]`);
  await expect(runRow.locator(".status")).toHaveText("succeeded");
  await expect(page.getByTestId("run-stats")).toContainText("100% succeeded of the 1 ended");

  // A second version, stored while the page is open: it shows up, with its diff.
  // (PUT: `server.workflow` POSTs, which refuses a name that exists.)
  await server.api("PUT", "/api/workflows/e2e-versions", `name: e2e-versions
description: Second take.
tasks:
  fetch: {type: http, with: {url: "${server.service}/ok"}}
  left: {type: set, needs: fetch, with: 1}
  right: {type: set, needs: fetch, with: 3}
`);
  const diff = page.getByTestId("version-diff");
  await expect(diff).toBeVisible();
  await expect(page.locator("select[name=version]")).toHaveValue("2");
  await expect(diff.locator("select[name=diff-from]")).toHaveValue("1");
  await expect(diff.locator("select[name=diff-to]")).toHaveValue("2");
  const changed = diff.locator('tr[data-path="/tasks/right/with"]');
  await expect(changed.locator(".change")).toHaveText("changed");
  await expect(changed.locator(".diff-before")).toHaveText("2");
  await expect(changed.locator(".diff-after")).toHaveText("3");
  await expect(diff.locator('tr[data-path="/tasks/join"] .change')).toHaveText("removed");
  await expect(diff.locator('tr[data-path="/description"] .diff-after')).toHaveText('"Second take."');
  await expect(page.getByTestId("workflow-graph").locator(".react-flow__node")).toHaveCount(3);
  // A run started elsewhere shows up in the recent executions, live.
  const second = await server.execute("e2e-versions");
  await expect(page.locator(`.wf-runs tr[data-id="${second}"] .status`)).toHaveText("succeeded");
  await expect(page.locator(`.wf-runs tr[data-id="${second}"]`)).toContainText("v2");
  await shot(page, "workflow");

  // The first version is still there to read, and the URL keeps the choice.
  await page.locator("select[name=version]").selectOption("1");
  await expect(page).toHaveURL(/version=1/);
  await expect(page.getByTestId("definition").locator("pre")).toContainText("join: {type: set");
  await expect(page.getByTestId("workflow-graph").locator(".react-flow__node")).toHaveCount(4);
  await page.reload();
  await expect(page.getByTestId("definition").locator("pre")).toContainText("join: {type: set");
});

test("the workflows list shows each workflow's success rate and last run, live", async ({ page, server }) => {
  await server.workflow(`name: e2e-rate-ok
description: Always works.
tasks:
  call: {type: http, with: {url: "${server.service}/ok"}}
`);
  await server.workflow(`name: e2e-rate-bad
tasks:
  call: {type: http, with: {url: "${server.service}/fail"}}
`);
  const ok = [await server.execute("e2e-rate-ok"), await server.execute("e2e-rate-ok")];
  const bad = await server.execute("e2e-rate-bad");
  for (const id of ok) await server.until(id, ["succeeded"]);
  await server.until(bad, ["failed"]);

  await page.goto("/workflows");
  const okRow = page.locator('tr[data-name="e2e-rate-ok"]');
  const badRow = page.locator('tr[data-name="e2e-rate-bad"]');
  await expect(okRow.locator(".wf-rate")).toHaveText("100% of 2");
  await expect(okRow.locator(".wf-last .status")).toHaveText("succeeded");
  await expect(okRow.locator(".wf-last a")).toHaveAttribute("href", `/executions/${ok[1]}`);
  await expect(okRow.locator(".wf-desc")).toHaveText("Always works.");
  await expect(badRow.locator(".wf-rate")).toHaveText("0% of 1");
  await expect(badRow.locator(".wf-last .status")).toHaveText("failed");

  // Live: a new workflow appears, and a run's end updates its row.
  await server.workflow(`name: e2e-rate-new
tasks:
  wait: {type: sleep, with: {duration: 300ms}}
`);
  const newRow = page.locator('tr[data-name="e2e-rate-new"]');
  await expect(newRow).toBeVisible();
  await expect(newRow.locator(".wf-rate")).toHaveText("no runs");
  const run = await server.execute("e2e-rate-new");
  await server.until(run, ["succeeded"]);
  await expect(newRow.locator(".wf-rate")).toHaveText("100% of 1");
  await expect(newRow.locator(".wf-last .status")).toHaveText("succeeded");
  await shot(page, "workflows");

  await newRow.getByRole("link", { name: "e2e-rate-new" }).click();
  await expect(page).toHaveURL(/\/workflows\/e2e-rate-new$/);
});

test("the triggers page lists a schedule and a webhook, pauses and resumes, and replays a delivery", async ({ page, server }) => {
  await server.workflow(`name: e2e-trig
inputs:
  type: object
  required: [ref]
  properties:
    ref: {type: string}
triggers:
  - schedule:
      cron: "0 30 6 * * MON-FRI"
      timezone: Europe/Paris
      inputs: {ref: nightly}
  - webhook:
      name: e2e-hook
      verify: {preset: none}
      inputs: {ref: "\${ $request.body.ref }"}
tasks:
  build: {type: set, with: "\${ $inputs.ref }"}
`);
  const hook = (body: unknown) =>
    fetch(`${server.url}/hooks/e2e-hook`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  expect((await hook({ ref: "main" })).status).toBe(202);
  expect((await hook({ nope: 1 })).status).toBe(422);

  await page.goto("/triggers?workflow=e2e-trig");
  const schedule = page.locator('tr[data-id="e2e-trig.0"]');
  const webhook = page.locator('tr[data-id="e2e-trig.1"]');
  await expect(schedule.locator(".kind")).toHaveText("schedule");
  await expect(schedule.locator(".tr-summary")).toHaveText("0 30 6 * * MON-FRI (Europe/Paris)");
  await expect(schedule.locator(".tr-fires li")).toHaveCount(3);
  await expect(schedule.locator(".state")).toHaveText("active");
  await expect(webhook.locator(".kind")).toHaveText("webhook");
  await expect(webhook.locator(".tr-summary")).toHaveText("POST /hooks/e2e-hook");
  await expect(webhook.locator(".tr-next")).toHaveText("—");

  // Pause the schedule: the page and the API agree; then resume it.
  await schedule.getByRole("button", { name: "Pause" }).click();
  await expect(schedule.locator(".state")).toHaveText("paused");
  await expect(schedule.locator(".tr-next")).toHaveText("none while paused");
  expect((await server.api("GET", "/api/triggers/e2e-trig.0")).paused).toBe(true);
  await schedule.getByRole("button", { name: "Resume" }).click();
  await expect(schedule.locator(".state")).toHaveText("active");
  expect((await server.api("GET", "/api/triggers/e2e-trig.0")).paused).toBe(false);

  // Pause the webhook: a delivery is then refused, and listed as such.
  await webhook.getByRole("button", { name: "Pause" }).click();
  await expect(webhook.locator(".state")).toHaveText("paused");
  expect((await server.api("GET", "/api/triggers/e2e-trig.1")).paused).toBe(true);
  expect((await hook({ ref: "late" })).status).toBe(409);
  await webhook.getByRole("button", { name: "Resume" }).click();
  await expect(webhook.locator(".state")).toHaveText("active");

  // The webhook's deliveries: newest first, with verdicts, executions and reasons.
  await webhook.getByRole("button", { name: "Deliveries" }).click();
  const deliveries = page.locator('tr[data-for="e2e-trig.1"] table.deliveries tbody tr');
  await expect(deliveries).toHaveCount(3);
  await expect(deliveries.nth(0).locator(".verdict")).toHaveText("paused");
  await expect(deliveries.nth(1).locator(".verdict")).toHaveText("invalid");
  await expect(deliveries.nth(1).locator(".tr-reason")).toContainText("/ref");
  await expect(deliveries.nth(2).locator(".verdict")).toHaveText("started");
  const started = (await server.api("GET", "/api/triggers/e2e-trig.1/deliveries")).deliveries.find(
    (d: { verdict: string }) => d.verdict === "started",
  );
  await expect(deliveries.nth(2).locator("a")).toHaveAttribute("href", `/executions/${started.execution_id}`);

  // Replay the delivery that arrived while paused: it starts a run now.
  await deliveries.nth(0).getByRole("button", { name: "Replay" }).click();
  await expect(deliveries.nth(1).locator(".tr-outcome")).toContainText("started");
  await expect(deliveries).toHaveCount(4);
  await expect(deliveries.nth(0).locator(".verdict")).toHaveText("started");
  const after = (await server.api("GET", "/api/triggers/e2e-trig.1/deliveries")).deliveries;
  expect(after[0].replay_of).toBe(after[1].id);
  const replayed = await server.until(after[0].execution_id, ["succeeded"]);
  expect(replayed.inputs).toEqual({ ref: "late" });
  // Replaying the invalid one fails again, and says why.
  await deliveries.nth(2).getByRole("button", { name: "Replay" }).click();
  await expect(deliveries.nth(3).locator(".tr-outcome")).toContainText("invalid_inputs");
  await shot(page, "triggers");
});
