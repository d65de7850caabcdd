// What every end-to-end test gets: `server` (the URL, the token, the local service
// the workflows call, and an authenticated API client for setting up state) and a
// `page` already logged in (the token put in session storage before the console
// loads). `shot(page, name)` saves a screenshot to e2e/artifacts/; `connect(page, a,
// b)` draws a connection on the designer's canvas.
import { test as base, expect, type Page } from "@playwright/test";

export interface Server {
  url: string;
  token: string;
  service: string;
  api<T = any>(method: string, path: string, body?: unknown): Promise<T>;
  /** Stores a workflow from YAML text (a new version if it exists). */
  workflow(yaml: string): Promise<any>;
  /** Starts `name` on `inputs`; returns the execution id. */
  execute(name: string, inputs?: Record<string, unknown>): Promise<string>;
  /** Waits until execution `id` has one of `statuses`; returns it. */
  until(id: string, statuses: string[], timeoutMs?: number): Promise<any>;
}

function server(): Server {
  const url = process.env.HARMONIA_E2E_URL!;
  const token = process.env.HARMONIA_E2E_TOKEN!;
  const service = process.env.HARMONIA_E2E_SERVICE!;
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(url + path, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "Content-Type": typeof body === "string" ? "application/yaml" : "application/json" }),
      },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  return {
    url,
    token,
    service,
    api,
    workflow: async (yaml) => {
      try {
        return await api("POST", "/api/workflows", yaml);
      } catch (e) {
        const name = yaml.match(/^name:\s*(\S+)/m)?.[1];
        if (!name || !String(e).includes(" 409 ")) throw e;
        return api("PUT", `/api/workflows/${name}`, yaml);
      }
    },
    execute: async (name, inputs = {}) => (await api("POST", `/api/workflows/${name}/execute`, { inputs })).execution_id,
    until: async (id, statuses, timeoutMs = 20_000) => {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const x = await api("GET", `/api/executions/${id}`);
        if (statuses.includes(x.status)) return x;
        if (Date.now() > end) throw new Error(`execution ${id} is ${x.status}, not ${statuses.join("|")}`);
        await new Promise((ok) => setTimeout(ok, 100));
      }
    },
  };
}

/** Draws a connection on the designer's canvas from task `from`'s right handle to
 *  task `to`'s left handle (which makes `to` need `from`). */
export async function connect(page: Page, from: string, to: string) {
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

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `e2e/artifacts/${name}.png`, fullPage: false });
}

export const test = base.extend<{ server: Server }>({
  server: async ({}, use) => {
    await use(server());
  },
  baseURL: async ({}, use) => {
    await use(process.env.HARMONIA_E2E_URL);
  },
  page: async ({ page }, use) => {
    const token = process.env.HARMONIA_E2E_TOKEN!;
    await page.addInitScript((t) => sessionStorage.setItem("harmonia.token", t), token);
    await use(page);
  },
});

export { expect };
