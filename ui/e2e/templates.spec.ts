// The template pages: the library with the built-ins, searched and filtered; a
// built-in's page (parameters, graph, source); a template written in the editor (a
// broken one first: its errors with their line:column), a second version and its diff;
// instantiating it through the form generated from its parameters (the client's
// checks, then the server's, each at its field) and seeing the workflow made; a
// Tekton file converted with its report; and export, then import into the same server
// (unchanged), strictly with a difference (conflict), and into a second server
// started here (created).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test, expect, shot } from "./fixtures";

const BUILTINS = ["data-pipeline", "etl", "http-fan-out", "retry-api-call", "scheduled-report"];

const BROKEN = `name: e2e-greet
parameters:
  type: object
  additionalProperties: false
  properties:
    who: {type: string, default: 42}
workflow:
  name: nope
  tasks:
    hello: {type: set, with: "hello \${ $params.whom }"}
`;

const GREET_V1 = `name: e2e-greet
description: Greets someone, a few times.
tags: [e2e, demo]
category: e2e-examples
parameters:
  type: object
  required: [who]
  properties:
    who: {type: string, minLength: 1, not: {const: root}, description: Whom to greet}
    times: {type: integer, minimum: 1, maximum: 5, default: 2}
    loud: {type: boolean, default: false}
workflow:
  inputs:
    type: object
    properties:
      day: {type: string}
  tasks:
    hello:
      type: set
      with: {message: "hello \${ $params.who }", times: "\${ $params.times }"}
    shout:
      type: set
      needs: hello
      if: \${ $params.loud }
      with: "\${ $tasks.hello.output.message | ascii_upcase }"
    done:
      type: set
      needs: [hello, shout]
      join: all_done
      with: "\${ $inputs.day // \\"any day\\" }"
`;

/** The second version: a new default, and a task renamed. */
const GREET_V2 = GREET_V1.replace("default: 2}", "default: 3}").replace("description: Greets someone, a few times.", "description: Greets someone, three times.");

const TEKTON = JSON.stringify(
  {
    name: "E2E Release Notes",
    description: "Draft release notes and file them",
    category: "docs",
    tags: ["release"],
    workflow_definition: {
      tasks: [
        { name: "draft", component: "rhetor", action: "draft_notes", parameters: { version: "{{ version }}" }, timeout: 600 },
        { name: "file", component: "engram", dependencies: ["draft"], parameters: { content: "{{ draft.output.text | upper }}" } },
      ],
    },
    parameters: [{ name: "version", parameter_type: "string", required: true, description: "The release" }],
  },
  null,
  2,
);

test("the library lists the built-ins, searched and filtered, and a built-in's page shows its parameters, graph and source", async ({ page }) => {
  await page.goto("/templates");
  await expect(page.getByRole("link", { name: "Templates" })).toHaveClass(/active/);
  for (const name of BUILTINS) {
    const row = page.locator(`tr[data-name="${name}"]`);
    await expect(row).toBeVisible();
    await expect(row.locator(".tpl-builtin")).toHaveText("built-in");
    await expect(row.locator(".tpl-latest")).toContainText("v1");
  }
  await expect(page.locator('tr[data-name="etl"] .tpl-category')).toHaveText("data");
  await expect(page.locator('tr[data-name="etl"] .tpl-desc')).toContainText("jq program");
  await shot(page, "templates");

  // Search in descriptions; filter by category and by tag (kept in the URL).
  await page.getByLabel("Search").fill("jq program");
  await expect(page.locator("table.tpl-list tbody tr[data-name]")).toHaveCount(1);
  await expect(page.locator('tr[data-name="etl"]')).toBeVisible();
  await page.getByLabel("Search").fill("");
  await page.locator("select[name=category]").selectOption("data");
  await expect(page).toHaveURL(/category=data/);
  await expect(page.locator("table.tpl-list tbody tr[data-name]")).toHaveCount(2);
  await page.getByRole("group", { name: "Tags" }).locator("label.chip", { hasText: "pipeline" }).click();
  await expect(page).toHaveURL(/tag=pipeline/);
  await expect(page.locator("table.tpl-list tbody tr[data-name]")).toHaveCount(1);
  await expect(page.locator('tr[data-name="data-pipeline"]')).toBeVisible();
  await page.getByRole("button", { name: "Clear filters" }).click();
  await expect(page.locator("table.tpl-list tbody tr[data-name]").first()).toBeVisible();

  await page.locator('tr[data-name="etl"]').getByRole("link", { name: "etl" }).click();
  await expect(page).toHaveURL(/\/templates\/etl$/);
  await expect(page.getByRole("heading", { name: "etl", exact: true })).toBeVisible();
  await expect(page.locator(".wf-header .tpl-builtin")).toBeVisible();
  const params = page.getByTestId("parameters");
  await expect(params.locator('tr[data-param="source_url"] .tpl-param-required')).toHaveText("required");
  await expect(params.locator('tr[data-param="source_url"]')).toContainText("pattern ^https?://");
  await expect(params.locator('tr[data-param="transform"] .tpl-param-default')).toHaveText('"."');
  await expect(page.getByTestId("template-graph").locator(".react-flow__node")).toHaveCount(3);
  await expect(page.getByTestId("template-source").locator("pre")).toContainText("name: etl");
  await expect(page.getByText("Only one version so far")).toBeVisible();
});

test("a template written in the editor is instantiated through its form, exported and imported here and elsewhere", async ({ page, server }, info) => {
  // A broken template first: every error, with its line:column, marked in the gutter.
  await page.goto("/templates");
  await page.getByRole("link", { name: "New template" }).click();
  await expect(page).toHaveURL(/\/templates\/_new$/);
  const source = page.getByLabel("Template source");
  await source.fill(BROKEN);
  await page.getByRole("button", { name: "Create" }).click();
  await expect(page.getByRole("alert")).toContainText("Refused: the definition has 3 problems");
  const diags = page.getByTestId("diagnostics").locator("li");
  await expect(diags).toHaveCount(3);
  await expect(diags.nth(0).locator(".tpl-place")).toHaveText("6:34");
  await expect(diags.nth(0)).toContainText("this default does not match");
  await expect(diags.nth(1).locator(".tpl-place")).toHaveText("8:3");
  await expect(diags.nth(2).locator(".tpl-place")).toHaveText("10:40");
  await expect(diags.nth(2)).toContainText("did you mean `$params.who`?");
  await expect(page.locator('.tpl-gutter [data-line="6"]')).toHaveClass("tpl-line-error");
  await expect(page.locator('.tpl-gutter [data-line="7"]')).not.toHaveClass("tpl-line-error");
  // The place is a way to the text: the cursor goes there.
  await shot(page, "template-editor");
  await diags.nth(1).locator(".tpl-place").click();
  await expect(source).toBeFocused();
  expect(await source.evaluate((t: HTMLTextAreaElement) => t.value.slice(t.selectionStart, t.selectionStart + 5))).toBe("name:");
  expect((await server.api("GET", "/api/templates?q=e2e-greet")).templates).toHaveLength(0);

  // Fixed: checked (nothing stored), then created.
  await source.fill(GREET_V1);
  await page.getByRole("button", { name: "Check" }).click();
  await expect(page.locator(".tpl-ok")).toHaveText("Valid: checked only, nothing is stored yet.");
  expect((await server.api("GET", "/api/templates?q=e2e-greet")).templates).toHaveLength(0);
  await page.getByLabel("Change note").fill("First take");
  await page.getByRole("button", { name: "Create" }).click();
  await expect(page.getByTestId("saved")).toContainText("Stored template e2e-greet v1.");
  const v1 = await server.api("GET", "/api/templates/e2e-greet");
  expect(v1.note).toBe("First take");
  expect(v1.parameters.required).toEqual(["who"]);

  // A second version from the editor of the template.
  await page.goto("/templates/e2e-greet/edit");
  await expect(source).toHaveValue(GREET_V1);
  await source.fill(GREET_V2);
  await page.getByLabel("Change note").fill("Three by default");
  await page.getByRole("button", { name: "Save version" }).click();
  await expect(page.getByTestId("saved")).toContainText("Stored template e2e-greet v2.");
  await page.getByRole("button", { name: "Save version" }).click();
  await expect(page.getByTestId("saved")).toContainText("is unchanged: v2 has this content already");

  // Its page: parameters, graph, source, versions and their diff.
  await page.getByTestId("saved").getByRole("link", { name: "e2e-greet" }).click();
  await expect(page).toHaveURL(/\/templates\/e2e-greet$/);
  await expect(page.locator(".tpl-description")).toHaveText("Greets someone, three times.");
  await expect(page.locator(".tpl-meta")).toContainText("e2e-examples");
  await expect(page.locator(".wf-header .tpl-builtin")).toHaveCount(0);
  const params = page.getByTestId("parameters");
  await expect(params.locator("tbody tr")).toHaveCount(3);
  await expect(params.locator('tr[data-param="who"] .tpl-param-required')).toHaveText("required");
  await expect(params.locator('tr[data-param="who"]')).toContainText("Whom to greet");
  await expect(params.locator('tr[data-param="who"]')).toContainText('at least 1 character · not "root"');
  await expect(params.locator('tr[data-param="times"] .tpl-param-type')).toHaveText("integer");
  await expect(params.locator('tr[data-param="times"] .tpl-param-default')).toHaveText("3");
  await expect(params.locator('tr[data-param="times"]')).toContainText("1 to 5");
  await expect(page.getByTestId("template-graph").locator(".react-flow__node")).toHaveCount(3);
  await expect(page.getByTestId("template-graph").locator(".react-flow__edge")).toHaveCount(3);
  const diff = page.getByTestId("template-diff");
  await expect(diff.locator("select[name=diff-from]")).toHaveValue("1");
  await expect(diff.locator("select[name=diff-to]")).toHaveValue("2");
  await expect(diff.locator('tr[data-path="/parameters/properties/times/default"] .diff-before')).toHaveText("2");
  await expect(diff.locator('tr[data-path="/parameters/properties/times/default"] .diff-after')).toHaveText("3");
  await expect(diff.locator('tr[data-path="/description"] .change')).toHaveText("changed");
  await shot(page, "template");
  await page.locator("select[name=version]").selectOption("1");
  await expect(page).toHaveURL(/version=1/);
  await expect(page.getByTestId("template-source").locator("pre")).toContainText("default: 2}");

  // Instantiate the latest through the form.
  await page.locator("select[name=version]").selectOption("2");
  await page.getByRole("button", { name: "Instantiate…" }).click();
  await expect(page).toHaveURL(/instantiate=1/);
  const form = page.getByRole("form", { name: "Instantiate" });
  const field = (path: string) => form.locator(`[data-path="${path}"]`);
  await expect(field("/times").locator("input")).toHaveValue("3");
  await expect(field("/who").locator(".sf-required")).toBeVisible();
  // Bad values, refused before sending: a missing required one, one out of range, a bad name.
  await form.getByLabel("times").fill("9");
  await form.getByLabel("Workflow name").fill("Bad Name");
  await form.getByRole("button", { name: "Instantiate", exact: true }).click();
  await expect(field("/who").locator(".sf-errors")).toHaveText("required");
  await expect(field("/times").locator(".sf-errors")).toHaveText("must be at most 5");
  await expect(form.getByLabel("times")).toHaveAttribute("aria-invalid", "true");
  await expect(form.getByTestId("workflow-name").locator(".sf-errors")).toContainText("lowercase letters");
  await expect(form.getByRole("status")).toContainText("Fix the 3 problems");
  await shot(page, "template-instantiate");
  // What only the server checks (`not`) comes back at its field.
  await form.getByLabel("times").fill("4");
  await form.getByLabel("who").fill("root");
  await form.getByLabel("Workflow name").fill("e2e-greet-ada");
  await form.getByRole("button", { name: "Instantiate", exact: true }).click();
  await expect(field("/who").locator(".sf-errors")).toContainText("is not allowed");
  await expect(form.getByRole("alert")).toContainText("The server refused the request (1 problem)");
  await form.getByLabel("who").fill("Ada");
  await expect(field("/who").locator(".sf-errors")).toHaveCount(0);
  await form.getByRole("button", { name: "Instantiate", exact: true }).click();
  const done = form.getByTestId("instantiated");
  await expect(done).toContainText("Created workflow e2e-greet-ada v1 from template e2e-greet v2.");
  const wf = await server.api("GET", "/api/workflows/e2e-greet-ada");
  expect(wf.definition.params).toEqual({ who: "Ada", times: 4, loud: false });
  expect(wf.definition.template).toEqual({ name: "e2e-greet", version: 2 });
  // Again, executed at once with an input.
  await form.getByLabel("Execute it at once").check();
  await form.getByTestId("execution-inputs").getByLabel("day").fill("Monday");
  await form.getByRole("button", { name: "Instantiate and execute" }).click();
  await expect(done).toContainText("is unchanged");
  await expect(done).toContainText("Started execution");
  const run = (await server.api("GET", "/api/executions?workflow=e2e-greet-ada")).executions[0];
  const ended = await server.until(run.id, ["succeeded", "failed"]);
  expect(ended.status).toBe("succeeded");
  expect(ended.outputs ?? ended.tasks.done.output).toBeDefined();
  expect(ended.tasks.done.output).toBe("Monday");
  await done.getByRole("link", { name: "e2e-greet-ada" }).click();
  await expect(page).toHaveURL(/\/workflows\/e2e-greet-ada$/);

  // Export it (a download from a Blob link).
  await page.goto("/templates/e2e-greet");
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export YAML" }).click()]);
  expect(download.suggestedFilename()).toBe("template-e2e-greet.yaml");
  const file = info.outputPath("template-e2e-greet.yaml");
  await download.saveAs(file);
  const exported = readFileSync(file, "utf8");
  expect(exported).toContain("format: harmonia-templates/1");
  expect(exported).toContain("note: Three by default");

  // Import it back here: unchanged.
  await page.goto("/templates/import");
  await page.getByTestId("import-file").setInputFiles(file);
  await page.getByRole("button", { name: "Import", exact: true }).click();
  const report = page.getByTestId("import-report");
  await expect(report.locator('tr[data-name="e2e-greet"]')).toHaveAttribute("data-result", "unchanged");
  await expect(report.locator('tr[data-name="e2e-greet"]')).toContainText("v1 and v2");
  await expect(report).toContainText("0 versions created, 2 unchanged");

  // A strict import of an edited copy: a conflict, and nothing written.
  const edited = info.outputPath("edited.yaml");
  writeFileSync(edited, exported.replace("Greets someone, three times.", "Greets someone, edited."));
  await page.getByTestId("import-file").setInputFiles(edited);
  await page.getByLabel(/Strict/).check();
  await page.getByRole("button", { name: "Import", exact: true }).click();
  await expect(report).toHaveAttribute("data-result", "conflict");
  await expect(report).toContainText("Conflict on e2e-greet");
  expect((await server.api("GET", "/api/templates/e2e-greet/versions")).versions).toHaveLength(2);

  // Into a second server, started here on a fresh database: created.
  const other = await startServer();
  try {
    await page.goto(`${other.url}/templates/import`);
    await page.getByTestId("import-file").setInputFiles(file);
    await page.getByRole("button", { name: "Import", exact: true }).click();
    await expect(report.locator('tr[data-name="e2e-greet"]')).toHaveAttribute("data-result", "created");
    await expect(report).toContainText("2 versions created, 0 unchanged");
    await shot(page, "template-import");
    const there = await (await fetch(`${other.url}/api/templates/e2e-greet/versions`)).json();
    expect(there.versions.map((v: { version: number; note: string }) => [v.version, v.note])).toEqual([
      [1, "First take"],
      [2, "Three by default"],
    ]);
    // The same bytes come back out of it.
    const again = await (await fetch(`${other.url}/api/templates/export?name=e2e-greet`)).text();
    expect(again).toBe(exported);
  } finally {
    await other.stop();
  }
});

test("a Tekton template file is converted in the editor, with its report, and created", async ({ page, server }, info) => {
  const file = info.outputPath("release-notes.json");
  writeFileSync(file, TEKTON);
  await page.goto("/templates/_new");
  await page.getByTestId("template-file").setInputFiles(file);
  const report = page.getByTestId("conversion-report");
  await expect(report).toContainText("Converted from the Tekton file release-notes.json");
  const adjusted = report.locator('li[data-kind="adjusted"]');
  await expect(adjusted.first()).toContainText("release-notes.json:2:");
  await expect(adjusted.first()).toContainText("`E2E Release Notes` is `e2e-release-notes`");
  await expect(report.locator('li[data-kind="dropped"]')).toContainText("upper");
  const source = page.getByLabel("Template source");
  await expect(source).toHaveValue(/^name: e2e-release-notes$/m);
  await expect(source).toHaveValue(/type: component/);
  await shot(page, "template-tekton");
  await page.getByRole("button", { name: "Create" }).click();
  await expect(page.getByTestId("saved")).toContainText("Stored template e2e-release-notes v1.");
  const t = await server.api("GET", "/api/templates/e2e-release-notes");
  expect(t.category).toBe("docs");
  expect(t.parameters.required).toEqual(["version"]);
  await expect(report).toBeVisible();
});

/** A second `harmonia serve` on a fresh database (no tokens: open), on a free port. */
async function startServer(): Promise<{ url: string; stop: () => Promise<void> }> {
  const bin = resolve(process.env.HARMONIA_BIN ?? join(__dirname, "../../target/debug/harmonia"));
  const dir = mkdtempSync(join(tmpdir(), "harmonia-e2e-second-"));
  const child: ChildProcess = spawn(bin, ["serve", "--port", "0", "--db", join(dir, "harmonia.db")], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, RUST_LOG: "warn" },
  });
  const url = await new Promise<string>((ok, fail) => {
    let seen = "";
    const timer = setTimeout(() => fail(new Error(`the second server did not start:\n${seen}`)), 30_000);
    const read = (chunk: Buffer) => {
      seen += chunk.toString();
      // Up to the character after the URL: a chunk may end inside the port.
      const m = seen.match(/listening on (http:\/\/[0-9.:]+)[^0-9.:]/);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    };
    child.stdout?.on("data", read);
    child.stderr?.on("data", read);
    child.on("exit", (code) => fail(new Error(`the second server exited (${code}):\n${seen}`)));
  });
  return {
    url,
    stop: async () => {
      const exited = new Promise((ok) => child.once("exit", ok));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((ok) => setTimeout(ok, 3000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
