// The visual workflow designer: tasks dragged from the library onto the canvas,
// connected handle to handle (a cycle refused), a parameter filled through the form
// generated from the type's schema (the server's error on the node goes away), the
// workflow saved and run; then edited again: the YAML typed changes the canvas, undo
// takes it back.
import { test, expect, shot } from "./fixtures";
import type { Page } from "@playwright/test";

async function connect(page: Page, from: string, to: string) {
  const src = page.locator(`.react-flow__node[data-id="${from}"] .react-flow__handle.source`);
  const dst = page.locator(`.react-flow__node[data-id="${to}"] .react-flow__handle.target`);
  const a = (await src.boundingBox())!;
  const b = (await dst.boundingBox())!;
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move(a.x + 30, a.y + 20, { steps: 5 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 10 });
  await page.mouse.up();
}

test("a workflow designed on the canvas is validated, saved, run, and edited as YAML", async ({ page, server }) => {
  await page.goto("/workflows");
  await page.getByRole("button", { name: "New workflow" }).click();
  await expect(page).toHaveURL(/\/workflows\/new$/);
  await expect(page.getByRole("heading", { name: "New workflow" })).toBeVisible();
  const canvas = page.getByTestId("designer-canvas");
  const yaml = page.getByLabel("YAML", { exact: true });
  await page.locator('input[name="workflow-name"]').fill("e2e-designer");

  // Three tasks dragged from the library.
  const drops: [string, number, number][] = [
    ["set", 120, 140],
    ["http", 360, 140],
    ["transform", 600, 140],
  ];
  for (const [type, x, y] of drops) {
    await page.locator(`.dz-type[data-type="${type}"]`).dragTo(canvas, { targetPosition: { x, y } });
    await expect(page.locator(`.react-flow__node[data-id="${type}"]`)).toBeVisible();
  }
  await expect(page.locator(".dz-type-unavailable[data-type='shell']")).toContainText("disabled");

  // Connected: set → http → transform; transform → set would be a cycle.
  await connect(page, "set", "http");
  await expect(page.locator('.react-flow__edge[data-id="set->http"]')).toBeAttached();
  await connect(page, "http", "transform");
  await expect(page.locator('.react-flow__edge[data-id="http->transform"]')).toBeAttached();
  await connect(page, "transform", "set");
  await expect(page.getByRole("alert").filter({ hasText: "cycle" })).toBeVisible();
  await expect(page.locator(".react-flow__edge")).toHaveCount(2);

  // The server's error: http needs a url. Filled through the generated form, it goes.
  const http = page.locator('.react-flow__node[data-id="http"]');
  await expect(http).toHaveClass(/dz-node-invalid/);
  await expect(http.locator(".dz-node-errors")).toHaveText("1");
  await http.click();
  const props = page.getByRole("complementary", { name: "Properties" });
  await expect(props.getByRole("heading", { name: /Task http/ })).toBeVisible();
  await expect(props.locator('[data-path="/url"] .sf-errors')).toContainText("url");
  await props.locator('[data-path="/url"] input').fill(`${server.service}/ok`);
  await expect(http).not.toHaveClass(/dz-node-invalid/);

  const transform = page.locator('.react-flow__node[data-id="transform"]');
  await expect(transform).toHaveClass(/dz-node-invalid/);
  await transform.click();
  await props.locator('[data-path="/expr"] input').fill(".");
  await expect(transform).not.toHaveClass(/dz-node-invalid/);
  await expect(page.locator(".dz-status")).toHaveText("Valid");

  const expected = `name: e2e-designer
tasks:
  set:
    type: set
    with: null
  http:
    needs: [set]
    type: http
    with:
      url: ${server.service}/ok
  transform:
    needs: [http]
    type: transform
    with:
      expr: .
`;
  await expect(yaml).toHaveValue(expected);
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, "designer");

  // A problem in the list selects its task; Delete removes a task, undo brings it back.
  await page.getByRole("button", { name: "Add a sleep task" }).click();
  await expect(page.locator('.react-flow__node[data-id="sleep"]')).toHaveClass(/dz-node-invalid/);
  await canvas.click({ position: { x: 300, y: 420 } });
  await expect(props.getByRole("heading", { name: /Task sleep/ })).toHaveCount(0);
  await page.getByRole("region", { name: "Diagnostics" }).getByRole("button", { name: /tasks\.sleep/ }).click();
  await expect(props.getByRole("heading", { name: /Task sleep/ })).toBeVisible();
  await page.locator('.react-flow__node[data-id="sleep"]').click();
  await page.keyboard.press("Delete");
  await expect(page.locator('.react-flow__node[data-id="sleep"]')).toHaveCount(0);
  await expect(yaml).toHaveValue(expected);

  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page).toHaveURL(/\/workflows\/e2e-designer$/);
  const stored = await server.api("GET", "/api/workflows/e2e-designer");
  expect(stored.source).toBe(expected);
  const id = await server.execute("e2e-designer");
  await server.until(id, ["succeeded"]);

  // Edited again: the YAML typed changes the canvas; undo takes it back.
  await page.getByRole("link", { name: "Edit in designer" }).click();
  await expect(page).toHaveURL(/\/workflows\/e2e-designer\/edit$/);
  await expect(page.locator(".react-flow__node")).toHaveCount(3);
  await yaml.fill(`${expected}  extra:\n    needs: [transform]\n    type: set\n    with: 42\n`);
  await expect(page.locator('.react-flow__node[data-id="extra"]')).toBeVisible();
  await expect(page.locator('.react-flow__edge[data-id="transform->extra"]')).toBeAttached();
  // A parse error is shown; the canvas keeps the last good state.
  await yaml.fill(`${expected}  broken: [\n`);
  await expect(page.locator(".dz-parse-error")).toBeVisible();
  await expect(page.locator('.react-flow__node[data-id="extra"]')).toBeVisible();
  await page.getByRole("button", { name: "Undo" }).click();
  await expect(page.locator('.react-flow__node[data-id="extra"]')).toHaveCount(0);
  await expect(yaml).toHaveValue(expected);
  await page.getByRole("button", { name: "Redo" }).click();
  await expect(page.locator('.react-flow__node[data-id="extra"]')).toBeVisible();

  // An edge selected and deleted; then the review shows the diff.
  await page.locator('.react-flow__edge[data-id="transform->extra"]').click({ force: true });
  await page.keyboard.press("Delete");
  await expect(page.locator('.react-flow__edge[data-id="transform->extra"]')).toHaveCount(0);
  await page.locator("body").click({ position: { x: 5, y: 5 } });
  await page.keyboard.press("Control+z");
  await expect(page.locator('.react-flow__edge[data-id="transform->extra"]')).toBeAttached();
  // A node moved stays where it was put (across an edit of the definition).
  const startBox = (await page.locator('.react-flow__node[data-id="set"]').boundingBox())!;
  await page.mouse.move(startBox.x + 40, startBox.y + 15);
  await page.mouse.down();
  await page.mouse.move(startBox.x + 60, startBox.y + 135, { steps: 8 });
  await page.mouse.up();
  const moved = (await page.locator('.react-flow__node[data-id="set"]').boundingBox())!;
  expect(moved.y - startBox.y).toBeGreaterThan(80);

  // Renamed in the property editor: the needs naming it follow.
  await page.locator('.react-flow__node[data-id="set"]').click();
  const props2 = page.getByRole("complementary", { name: "Properties" });
  await props2.locator('input[name="task-name"]').fill("start");
  await props2.locator('input[name="task-name"]').press("Enter");
  await expect(page.locator('.react-flow__node[data-id="start"]')).toBeVisible();
  const renamed = (await page.locator('.react-flow__node[data-id="start"]').boundingBox())!;
  expect(Math.abs(renamed.y - moved.y)).toBeLessThan(2);
  await expect(yaml).toHaveValue(/\n {2}start:\n {4}type: set\n[\s\S]*needs: \[start\]/);

  await page.getByRole("button", { name: "Review & save…" }).click();
  await expect(page.locator(".dz-diff-add").filter({ hasText: "extra:" })).toHaveCount(1);
  await expect(page.locator(".dz-diff-del").filter({ hasText: "set:" })).toHaveCount(1);
  await shot(page, "designer-review");
  await page.getByRole("button", { name: "Save new version" }).click();
  await expect(page).toHaveURL(/\/workflows\/e2e-designer$/);
  const v2 = await server.api("GET", "/api/workflows/e2e-designer");
  expect(v2.version).toBe(2);
  expect(v2.source).toContain("  start:\n    type: set\n");
  expect(v2.source).toContain("  extra:\n    needs: [transform]\n");
});
