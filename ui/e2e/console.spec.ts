// The shell and the executions list: logging in with a token, deep links, the
// list updating live and its filters.
import { test, expect, shot } from "./fixtures";

test("a user without a token is asked for one, and a wrong token is refused", async ({ browser, server }) => {
  const page = await browser.newPage({ baseURL: server.url });
  await page.goto("/executions");
  await expect(page.getByRole("form", { name: "Log in" })).toBeVisible();
  await page.getByLabel("Token").fill("hm_wrong");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert")).toContainText("invalid API token");
  await shot(page, "login");
  await page.getByLabel("Token").fill(server.token);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("heading", { name: "Executions" })).toBeVisible();
  // The token stays for the tab: a reload does not ask again.
  await page.reload();
  await expect(page.getByRole("heading", { name: "Executions" })).toBeVisible();
  await page.close();
});

test("the executions list shows a new execution live and filters by status", async ({ page, server }) => {
  await server.workflow(`name: e2e-list
tasks:
  wait: {type: sleep, with: {duration: 1s}}
`);
  await server.workflow(`name: e2e-list-fail
tasks:
  call: {type: http, with: {url: "${server.service}/fail"}}
`);
  await page.goto("/executions");
  await expect(page.getByRole("heading", { name: "Executions" })).toBeVisible();
  const ok = await server.execute("e2e-list");
  const bad = await server.execute("e2e-list-fail");
  // Live: no reload; the rows arrive over the WebSocket.
  const okRow = page.locator(`tr[data-id="${ok}"]`);
  await expect(okRow).toBeVisible();
  await expect(okRow.locator(".status")).toHaveText("succeeded", { timeout: 20_000 });
  const badRow = page.locator(`tr[data-id="${bad}"]`);
  await expect(badRow.locator(".status")).toHaveText("failed", { timeout: 20_000 });
  await shot(page, "executions");

  await page.locator("label.chip", { hasText: "failed" }).click();
  await expect(page).toHaveURL(/status=failed/);
  await expect(badRow).toBeVisible();
  await expect(okRow).toHaveCount(0);
  // The filtered view is a link.
  await page.reload();
  await expect(badRow).toBeVisible();
  await expect(okRow).toHaveCount(0);
});

test("a deep link to a page works on reload, and an unknown page says so", async ({ page }) => {
  await page.goto("/workflows");
  await expect(page.locator("nav a.active")).toHaveText("Workflows");
  await page.goto("/no/such/page");
  await expect(page.getByRole("heading", { name: "Not found" })).toBeVisible();
});

test("the list says who or what started each execution, and finds executions by origin and by input text", async ({ page, server }) => {
  await server.workflow(`name: e2e-origin
inputs: {type: object, properties: {who: {type: string}}}
tasks:
  hi: {type: set, with: "\${ $inputs.who }"}
`);
  const ada = await server.execute("e2e-origin", { who: "ada-lovelace" });
  const bob = await server.execute("e2e-origin", { who: "bob" });
  await server.until(ada, ["succeeded"]);
  const retried = await server.api("POST", `/api/executions/${ada}/retry`, { from: "hi" });
  await server.until(retried.execution_id, ["succeeded"]);

  await page.goto("/executions?workflow=e2e-origin");
  const row = (id: string) => page.locator(`tr[data-id="${id}"]`);
  // Started through the API with the token named `e2e`.
  await expect(row(bob)).toContainText("api · e2e");
  await expect(row(retried.execution_id)).toContainText(`retry of ${ada.slice(0, 8)}`);
  await shot(page, "executions-origins");

  await page.getByLabel("Inputs contain").fill("lovelace");
  await expect(row(ada)).toBeVisible();
  await expect(row(bob)).toHaveCount(0);
  await page.getByLabel("Inputs contain").fill("");

  await page.locator(".origin-filter label.chip", { hasText: "retry" }).click();
  await expect(page).toHaveURL(/origin=retry/);
  await expect(row(retried.execution_id)).toBeVisible();
  await expect(row(bob)).toHaveCount(0);
});
