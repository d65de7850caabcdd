// The assistant in the console (the server's model is the scripted one of
// global-setup): "Describe…" in the designer puts a validated draft on the canvas;
// "Diagnose…" on a failed execution shows the diagnosis and its patch as a diff, and
// "Apply and retry" stores a new version and opens the retry.
import { test, expect, shot } from "./fixtures";

test("a described workflow lands on the canvas, validated", async ({ page }) => {
  await page.goto("/workflows/new");
  await page.getByRole("button", { name: "Describe…" }).click();
  const dialog = page.getByRole("dialog", { name: "Describe the workflow" });
  await dialog.locator('textarea[name="description"]').fill("Fetch the status and keep its state");
  await dialog.getByRole("button", { name: "Draft it" }).click();
  await expect(dialog.getByTestId("draft")).toContainText("Valid after 1 draft by scripted");
  await shot(page, "assist-describe");
  await dialog.getByRole("button", { name: "Put it on the canvas" }).click();
  await expect(page.locator('.react-flow__node[data-id="fetch"]')).toBeVisible();
  await expect(page.locator('.react-flow__edge[data-id="needs:fetch->state"]')).toBeAttached();
  await expect(page.locator('input[name="workflow-name"]')).toHaveValue("status-check");
  await expect(page.locator(".dz-status")).toHaveText("Valid");
  // An edit like any other: undo takes it back.
  await page.getByRole("button", { name: "Undo" }).click();
  await expect(page.locator('.react-flow__node[data-id="fetch"]')).toHaveCount(0);
});

test("a failed execution is diagnosed, and its patch applied and retried", async ({ page, server }) => {
  await server.workflow(`name: e2e-diagnose
tasks:
  call:
    type: http
    with: {url: "${server.service}/fail"}
`);
  const id = await server.execute("e2e-diagnose");
  await server.until(id, ["failed"]);
  await page.goto(`/executions/${id}`);
  await page.getByRole("button", { name: "Diagnose…" }).click();
  const dialog = page.getByRole("dialog", { name: "Diagnosis" });
  const d = dialog.getByTestId("diagnosis");
  await expect(d).toContainText("The call kept failing");
  await expect(d).toContainText("event #1");
  await expect(d).toContainText("failed: http_5xx");
  await expect(dialog.getByLabel("Patch")).toContainText("+    retry:");
  await expect(dialog.getByTestId("patch-preview")).toContainText("reruns call");
  await shot(page, "assist-diagnose");
  await dialog.getByRole("button", { name: "Apply and retry" }).click();
  await expect(page).not.toHaveURL(new RegExp(`/executions/${id}$`));
  await expect(page).toHaveURL(/\/executions\/[0-9a-f-]{36}$/);
  const retry = page.url().split("/").pop()!;
  expect(retry).not.toBe(id);
  const x = await server.api("GET", `/api/executions/${retry}`);
  expect(x.version).toBe(2);
  const wf = await server.api("GET", "/api/workflows/e2e-diagnose");
  expect(wf.source).toContain("retry:");
});
