// The designer beyond `tasks`, from the canvas alone: a fan-out with a concurrency, a
// call with a retry policy and a fallback, a branch taken on the fallback's output, and
// an `on_failure` handler block with a dependency inside it (a handler cannot need a
// task). Saved, run: the fallback stands in, the handlers are skipped. Then the layout
// is kept across a reload, and unsaved edits hold back leaving the page.
import { connect, test, expect, shot } from "./fixtures";
import type { Page } from "@playwright/test";

async function rename(page: Page, from: string, to: string) {
  await page.locator(`.react-flow__node[data-id="${from}"]`).click();
  const name = page.getByRole("complementary", { name: "Properties" }).locator('input[name="task-name"]');
  await name.fill(to);
  await name.press("Enter");
  await expect(page.locator(`.react-flow__node[data-id="${to}"]`)).toBeVisible();
}

test("handlers, a fallback, a fan-out and a retry policy from the canvas; the layout kept; unsaved edits held", async ({ page, server }) => {
  await page.goto("/workflows/new");
  const props = page.getByRole("complementary", { name: "Properties" });
  const yaml = page.getByLabel("YAML", { exact: true });
  await page.locator('input[name="workflow-name"]').fill("e2e-recovery");

  // A fan-out of three items, two at a time.
  await page.getByRole("button", { name: "Add a set task" }).click();
  await rename(page, "set", "items");
  await props.locator('input[name="for_each"]').fill("[1, 2, 3]");
  await props.locator('input[name="concurrency"]').fill("2");

  // A call that fails, retried once, with a fallback standing in.
  await page.getByRole("button", { name: "Add a http task" }).click();
  await rename(page, "http", "call");
  await connect(page, "items", "call");
  await expect(page.locator('.react-flow__edge[data-id="needs:items->call"]')).toBeAttached();
  await props.locator('[data-path="/url"] input').fill(`${server.service}/fail`);
  await props.locator('input[name="retry.max_attempts"]').fill("2");
  await props.getByLabel("Fallback type").selectOption("set");
  await props.getByRole("button", { name: "Add fallback" }).click();
  await expect(props.getByRole("heading", { name: /Fallback of call/ })).toBeVisible();
  await expect(page.locator('.react-flow__node[data-id="call.fallback"]')).toBeVisible();
  await expect(page.locator('.react-flow__edge[data-id="fallback:call->call.fallback"]')).toBeAttached();
  // A fallback takes no needs.
  await connect(page, "items", "call.fallback");
  await expect(page.getByRole("alert").filter({ hasText: "takes no needs" })).toBeVisible();
  await page.getByRole("alert").getByRole("button", { name: "OK" }).click();

  // A branch: runs only when the fallback stood in.
  await page.getByRole("button", { name: "Add a set task" }).click();
  await rename(page, "set", "report");
  await connect(page, "call", "report");
  await props.locator('input[name="if"]').fill("${ $tasks.call.output == null }");

  // The on_failure block: two handlers, one needing the other.
  await page.getByLabel("Add to").selectOption("on_failure");
  await page.getByRole("button", { name: "Add a set task" }).click();
  await rename(page, "set", "alert");
  await expect(props.getByRole("heading", { name: /Handler alert in on_failure/ })).toBeVisible();
  await page.getByRole("button", { name: "Add a set task" }).click();
  await rename(page, "set", "page_oncall");
  await connect(page, "alert", "page_oncall");
  await expect(page.locator('.react-flow__edge[data-id="needs:alert->page_oncall"]')).toBeAttached();
  await expect(page.locator('.react-flow__edge[data-id="handler:report->alert"]')).toBeAttached();
  // A handler cannot need a task.
  await connect(page, "report", "page_oncall");
  await expect(page.getByRole("alert").filter({ hasText: "is a handler" })).toBeVisible();
  await page.getByRole("alert").getByRole("button", { name: "OK" }).click();
  await expect(page.locator(".dz-status")).toHaveText("Valid");

  const expected = `name: e2e-recovery
tasks:
  items:
    type: set
    with: null
    for_each: [1, 2, 3]
    concurrency: 2
  call:
    needs: [items]
    type: http
    with:
      url: ${server.service}/fail
    retry:
      max_attempts: 2
    fallback:
      type: set
      with: null
  report:
    needs: [call]
    type: set
    with: null
    if: "\${ $tasks.call.output == null }"
on_failure:
  alert:
    type: set
    with: null
  page_oncall:
    needs: [alert]
    type: set
    with: null
`;
  await expect(yaml).toHaveValue(expected);
  await page.locator(".react-flow__pane").click({ position: { x: 10, y: 10 } });
  await shot(page, "designer-recovery");

  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page).toHaveURL(/\/workflows\/e2e-recovery$/);
  expect((await server.api("GET", "/api/workflows/e2e-recovery")).source).toBe(expected);
  const id = await server.execute("e2e-recovery");
  const done = await server.until(id, ["succeeded", "failed"], 30_000);
  expect(done.status).toBe("succeeded");
  const tasks = (await server.api("GET", `/api/executions/${id}`)).tasks;
  expect(tasks.call.recovered_by).toBe("fallback");
  expect(tasks.call.attempts).toBe(2);
  expect(tasks.report.status).toBe("succeeded");
  expect(tasks.alert.status).toBe("skipped");

  // The layout is kept: a node moved, the page left and opened again.
  await page.goto("/workflows/e2e-recovery/edit");
  const node = page.locator('.react-flow__node[data-id="report"]');
  await expect(node).toBeVisible();
  const before = (await node.boundingBox())!;
  await page.mouse.move(before.x + 40, before.y + 15);
  await page.mouse.down();
  await page.mouse.move(before.x + 40, before.y + 135, { steps: 8 });
  await page.mouse.up();
  const moved = (await node.boundingBox())!;
  expect(moved.y - before.y).toBeGreaterThan(80);
  const rel = async () => {
    const a = (await page.locator('.react-flow__node[data-id="report"]').boundingBox())!;
    const b = (await page.locator('.react-flow__node[data-id="call"]').boundingBox())!;
    return { dx: (a.x - b.x) / b.width, dy: (a.y - b.y) / b.height };
  };
  const kept = await rel();
  await page.reload();
  await expect(page.locator('.react-flow__node[data-id="report"]')).toBeVisible();
  await expect.poll(async () => Math.abs((await rel()).dy - kept.dy), { timeout: 5_000 }).toBeLessThan(0.05);

  // Unsaved edits: leaving asks first; "Stay" stays, "Leave" leaves.
  await page.locator('.react-flow__node[data-id="report"]').click();
  await props.locator('input[name="description"]').fill("tell someone");
  await page.getByRole("navigation").getByRole("link", { name: "Workflows" }).click();
  const dialog = page.getByRole("dialog", { name: "Leave without saving?" });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText("workflow e2e-recovery");
  await shot(page, "designer-unsaved");
  await dialog.getByRole("button", { name: "Stay" }).click();
  await expect(page).toHaveURL(/\/workflows\/e2e-recovery\/edit$/);
  await expect(props.locator('input[name="description"]')).toHaveValue("tell someone");
  await page.getByRole("navigation").getByRole("link", { name: "Workflows" }).click();
  await dialog.getByRole("button", { name: "Leave" }).click();
  await expect(page).toHaveURL(/\/workflows$/);
  expect((await server.api("GET", "/api/workflows/e2e-recovery")).version).toBe(1);
});
