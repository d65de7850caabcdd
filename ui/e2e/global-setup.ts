// Starts the one server the end-to-end tests share: `harmonia serve` (the binary in
// HARMONIA_BIN, default target/debug/harmonia) on a fresh SQLite file in a temporary
// folder, on a free port, with an admin token, and a local HTTP service the
// workflows call (`/ok`, `/slow?ms=N`, `/fail`), which also plays a language model
// (`POST /v1/chat/completions` in OpenAI's wire format, answering from a script by
// the answer's schema name: a fixed draft, a fixed diagnosis; the real small model is
// exercised by the CLI's tests). The URL and the token reach the tests
// through the environment; the returned function stops everything.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const bin = resolve(process.env.HARMONIA_BIN ?? join(__dirname, "../../target/debug/harmonia"));

function waitForListening(child: ChildProcess): Promise<string> {
  return new Promise((ok, fail) => {
    let seen = "";
    const timer = setTimeout(() => fail(new Error(`server did not start:\n${seen}`)), 30_000);
    const read = (chunk: Buffer) => {
      seen += chunk.toString();
      const m = seen.match(/listening on (http:\/\/[0-9.:]+)[^0-9.:]/);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    };
    child.stdout?.on("data", read);
    child.stderr?.on("data", read);
    child.on("exit", (code) => fail(new Error(`server exited (${code}):\n${seen}`)));
  });
}

/** The scripted model's answer, by the schema the request asks for. */
function scriptedAnswer(schema: string | undefined): unknown {
  if (schema === "workflow_draft")
    return {
      name: "Status Check",
      description: "Fetch the status and keep its state",
      tasks: [
        { name: "fetch", type: "http", needs: [], method: "GET", url: "http://127.0.0.1:9/status" },
        { name: "state", type: "transform", needs: ["fetch"], input: "${ $tasks.fetch.output.body }", expr: ".state" },
      ],
    };
  if (schema === "diagnosis")
    return {
      summary: "The call kept failing: the service answered 500.",
      cause: "The service behind `call` is down.",
      evidence: [{ seq: 1, why: "the run started here" }],
      suggestions: ["Ask the service's owners whether it is up."],
    };
  return "I do not know.";
}

export default async function globalSetup() {
  const dir = mkdtempSync(join(tmpdir(), "harmonia-e2e-"));
  const db = join(dir, "harmonia.db");
  const made = execFileSync(bin, ["token", "create", "--role", "admin", "--name", "e2e", "--db", db], {
    encoding: "utf8",
  });
  const token = made.match(/hm_[0-9a-f]{64}/)?.[0];
  if (!token) throw new Error(`no token in: ${made}`);

  const flaky = new Map<string, number>();
  const service = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === "/v1/chat/completions") {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        const request = JSON.parse(body);
        const content = JSON.stringify(scriptedAnswer(request?.response_format?.json_schema?.name));
        answer(200, {
          id: "x",
          object: "chat.completion",
          created: 0,
          model: "scripted",
          choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
          usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 },
        });
      });
      return;
    }
    if (url.pathname === "/slow") {
      setTimeout(() => answer(200, { ok: true }), Number(url.searchParams.get("ms") ?? 500));
    } else if (url.pathname === "/fail") answer(500, { error: "the service is down" });
    else if (url.pathname === "/flaky") {
      // `/flaky?key=K&fail=N`: fails (503) the first N calls for each key K, then succeeds.
      const key = url.searchParams.get("key") ?? "";
      const calls = (flaky.get(key) ?? 0) + 1;
      flaky.set(key, calls);
      if (calls <= Number(url.searchParams.get("fail") ?? 1)) answer(503, { error: `flaky: call ${calls} fails` });
      else answer(200, { ok: true, calls });
    }
    else answer(200, { ok: true, path: url.pathname });
  });
  await new Promise<void>((ok) => service.listen(0, "127.0.0.1", ok));
  const address = service.address();
  const servicePort = typeof address === "object" && address ? address.port : 0;

  const child = spawn(bin, ["serve", "--port", "0", "--db", db], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      RUST_LOG: process.env.RUST_LOG ?? "warn",
      HARMONIA_LLM_PROVIDER: "openai",
      HARMONIA_LLM_BASE_URL: `http://127.0.0.1:${servicePort}`,
      HARMONIA_LLM_MODEL: "scripted",
    },
  });
  const url = await waitForListening(child);
  process.env.HARMONIA_E2E_URL = url;
  process.env.HARMONIA_E2E_TOKEN = token;
  process.env.HARMONIA_E2E_SERVICE = `http://127.0.0.1:${servicePort}`;
  return async () => {
    child.kill("SIGTERM");
    await new Promise((ok) => setTimeout(ok, 300));
    child.kill("SIGKILL");
    service.close();
    rmSync(dir, { recursive: true, force: true });
  };
}
