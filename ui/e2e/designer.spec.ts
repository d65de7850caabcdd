// The visual workflow designer: tasks dragged from the library onto the canvas,
// connected handle to handle (a cycle refused), a parameter filled through the form
// generated from the type's schema (the server's error on the node goes away), the
// workflow saved and run; then edited again: the YAML typed changes the canvas, undo
// takes it back.
import { connect, test, expect, shot } from "./fixtures";

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
  await expect(page.locator('.react-flow__edge[data-id="needs:set->http"]')).toBeAttached();
  await connect(page, "http", "transform");
  await expect(page.locator('.react-flow__edge[data-id="needs:http->transform"]')).toBeAttached();
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
  await expect(page.locator('.react-flow__edge[data-id="needs:transform->extra"]')).toBeAttached();
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
  await page.locator('.react-flow__edge[data-id="needs:transform->extra"]').click({ force: true });
  await page.keyboard.press("Delete");
  await expect(page.locator('.react-flow__edge[data-id="needs:transform->extra"]')).toHaveCount(0);
  await page.locator("body").click({ position: { x: 5, y: 5 } });
  await page.keyboard.press("Control+z");
  await expect(page.locator('.react-flow__edge[data-id="needs:transform->extra"]')).toBeAttached();
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

test("the designer edits the workflow's inputs and outputs, completes variables, and saves then runs", async ({ page, server }) => {
  await page.goto("/workflows/new");
  const yaml = page.getByLabel("YAML", { exact: true });
  const props = page.getByRole("complementary", { name: "Properties" });
  await page.locator('input[name="workflow-name"]').fill("e2e-designer-inputs");

  // An input `city` (a required string), added in the inputs editor.
  const inputs = props.getByRole("region", { name: "Inputs" });
  await inputs.getByRole("button", { name: "Add input" }).click();
  await inputs.getByLabel("Input 1 name").fill("city");
  await inputs.getByLabel("Input 1 name").press("Enter");
  await inputs.getByLabel("Input city required").check();
  await inputs.getByLabel("Input city description").fill("Where");
  // Written in place: the new `required` after `properties`.
  await expect(yaml).toHaveValue(/\ninputs:\n {2}type: object\n {2}properties:\n {4}city:\n {6}type: string\n {6}description: Where\n {2}required: \[city\]\n/);

  // `$` typed in the http url: the variables valid there; `$inputs.city` picked.
  await page.getByRole("button", { name: "Add a http task" }).click();
  await expect(props.getByRole("heading", { name: /Task http/ })).toBeVisible();
  const url = props.locator('[data-path="/url"] input');
  await url.click();
  await url.pressSequentially(`${server.service}/ok?city=$`);
  const list = props.getByRole("listbox", { name: "Variables" });
  await expect(list.getByRole("option", { name: "$inputs.city" })).toBeVisible();
  await expect(list.getByRole("option", { name: "$item" })).toHaveCount(0);
  await expect(list.getByRole("option", { name: "$execution.id" })).toBeVisible();
  await list.scrollIntoViewIfNeeded();
  await shot(page, "designer-completions");
  await expect(list.getByRole("option").first()).toHaveAttribute("aria-selected", "true");
  await url.press("ArrowDown");
  await expect(list.getByRole("option").nth(1)).toHaveAttribute("aria-selected", "true");
  await url.press("ArrowUp");
  await expect(list.getByRole("option").first()).toHaveAttribute("aria-selected", "true");
  await url.press("Escape");
  await expect(list).toHaveCount(0);
  await url.press("Backspace");
  await url.pressSequentially("$in");
  await expect(list.getByRole("option")).toHaveCount(1);
  await url.press("Enter");
  await expect(list).toHaveCount(0);
  await expect(url).toHaveValue(`${server.service}/ok?city=\${ $inputs.city }`);
  await expect(yaml).toHaveValue(/\n {6}url: "http:\/\/[^"]+\/ok\?city=\$\{ \$inputs\.city \}"\n/);
  await expect(page.locator(".dz-status")).toHaveText("Valid");

  // An output, its value completed from the tasks (any task, at workflow level).
  await page.getByTestId("designer-canvas").click({ position: { x: 300, y: 420 } });
  const outputs = props.getByRole("region", { name: "Outputs" });
  await outputs.getByRole("button", { name: "Add output" }).click();
  await outputs.getByLabel("Output 1 name").fill("status");
  await outputs.getByLabel("Output 1 name").press("Enter");
  const value = outputs.getByLabel("Output status value");
  await value.pressSequentially("$ta");
  await outputs.getByRole("option", { name: "$tasks.http.output" }).click();
  await value.pressSequentially(".status");
  await expect(yaml).toHaveValue(/\noutputs:\n {2}status: "\$\{ \$tasks\.http\.output\.status \}"\n/);
  await expect(page.locator(".dz-status")).toHaveText("Valid");
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, "designer-inputs");

  // Saved and run: the workflow's page, its inputs form open with the `city` field.
  await page.getByRole("button", { name: "Save & run…" }).click();
  await expect(page).toHaveURL(/\/workflows\/e2e-designer-inputs\?execute=1$/);
  const form = page.getByRole("form", { name: "Execute" });
  await expect(form).toBeVisible();
  await form.getByLabel("city").fill("Oslo");
  await form.getByRole("button", { name: "Execute", exact: true }).click();
  const stored = await server.api("GET", "/api/workflows/e2e-designer-inputs");
  expect(stored.definition.inputs.required).toEqual(["city"]);
  expect(Object.keys(stored.definition.outputs)).toEqual(["status"]);
});

test("the designer's triggers editor edits the main fields, keeping the others", async ({ page, server }) => {
  await server.workflow(`name: e2e-designer-triggers
inputs:
  type: object
  properties:
    day: {type: string}
triggers:
  - schedule:
      cron: "0 30 6 * * MON-FRI"
      overlap: skip
      inputs: {day: "\${ $trigger.scheduled_at }"}
tasks:
  report: {type: set, with: "\${ $inputs.day }"}
`);
  await page.goto("/workflows/e2e-designer-triggers/edit");
  const yaml = page.getByLabel("YAML", { exact: true });
  const triggers = page.getByRole("complementary", { name: "Properties" }).getByRole("region", { name: "Triggers" });
  await expect(triggers.getByLabel("Trigger 1 cron")).toHaveValue("0 30 6 * * MON-FRI");
  await triggers.getByLabel("Trigger 1 timezone").fill("Europe/Paris");
  await expect(yaml).toHaveValue(/cron: "0 30 6 \* \* MON-FRI"\n {6}overlap: skip\n {6}inputs: \{ ?day: "\$\{ \$trigger\.scheduled_at \}" ?\}\n {6}timezone: Europe\/Paris\n/);

  await triggers.getByLabel("New trigger kind").selectOption("event");
  await triggers.getByRole("button", { name: "Add trigger" }).click();
  await triggers.getByLabel("Trigger 2 type").fill("order.paid");
  await triggers.getByLabel("Trigger 2 source").fill("shop");
  await expect(yaml).toHaveValue(/\n {2}- event:\n {6}type: order\.paid\n {6}source: shop\n/);
  await expect(page.locator(".dz-status")).toHaveText("Valid");
  await shot(page, "designer-triggers");

  await triggers.getByRole("button", { name: "Remove trigger 1" }).click();
  await expect(yaml).not.toHaveValue(/schedule:/);
  await expect(triggers.getByLabel("Trigger 1 type")).toHaveValue("order.paid");
});

test("a template designed on the canvas: its parameters, a task reading them, saved and instantiated", async ({ page, server }) => {
  await page.goto("/templates/_new/design");
  await expect(page.getByRole("heading", { name: "New template" })).toBeVisible();
  const yaml = page.getByLabel("YAML", { exact: true });
  const props = page.getByRole("complementary", { name: "Properties" });
  await props.getByLabel("Template name").fill("e2e-designed");

  // A parameter `who`: a required string.
  const params = props.getByRole("region", { name: "Parameters" });
  await params.getByRole("button", { name: "Add parameter" }).click();
  await params.getByLabel("Parameter 1 name").fill("who");
  await params.getByLabel("Parameter 1 name").press("Enter");
  await params.getByLabel("Parameter who required").check();
  await expect(yaml).toHaveValue(/\nparameters:\n {2}type: object\n {2}properties:\n {4}who:\n {6}type: string\n {2}required: \[who\]\n/);

  // A set task, its `with` completed from the parameters.
  await page.locator('.dz-type[data-type="set"]').dragTo(page.getByTestId("designer-canvas"), { targetPosition: { x: 200, y: 160 } });
  const node = page.locator('.react-flow__node[data-id="set"]');
  await expect(node).toBeVisible();
  await expect(props.getByRole("heading", { name: /Task set/ })).toBeVisible();
  const withField = props.locator(".dz-with").locator("input, textarea").first();
  // Its `with` is any JSON: a string, the variable picked between the quotes.
  await withField.fill('"');
  await withField.press("End");
  await withField.pressSequentially("$");
  const list = props.getByRole("listbox", { name: "Variables" });
  await list.getByRole("option", { name: "$params.who" }).click();
  await withField.press("End");
  await withField.pressSequentially('"');
  await expect(yaml).toHaveValue(/\nworkflow:\n {2}tasks:\n {4}set:\n {6}type: set\n {6}with: "?\$\{ \$params\.who \}"?\n/);
  await expect(page.locator(".dz-status")).toHaveText("Valid");
  await shot(page, "designer-template");

  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page).toHaveURL(/\/templates\/e2e-designed$/);
  const stored = await server.api("GET", "/api/templates/e2e-designed");
  expect(stored.template.parameters).toEqual({ type: "object", properties: { who: { type: "string" } }, required: ["who"] });
  expect(stored.template.workflow.tasks.set).toEqual({ type: "set", with: "${ $params.who }" });
  // Designed again from its page: the stored text, its task on the canvas.
  await page.getByRole("link", { name: "Design", exact: true }).click();
  await expect(page).toHaveURL(/\/templates\/e2e-designed\/design$/);
  await expect(page.getByRole("heading", { name: "Design template e2e-designed" })).toBeVisible();
  await expect(page.locator('.react-flow__node[data-id="set"]')).toBeVisible();
  await expect(yaml).toHaveValue(/with: "\$\{ \$params\.who \}"/);
  await expect(page.locator(".dz-status")).toHaveText("Valid");

  const made = await server.api("POST", "/api/templates/e2e-designed/instantiate", { params: { who: "ada" }, name: "e2e-designed-ada" });
  expect(JSON.stringify(made)).toContain("e2e-designed-ada");
  const wf = await server.api("GET", "/api/workflows/e2e-designed-ada");
  expect(wf.definition.tasks.set.with).toBe("${ $params.who }");
});
