// Fills a running server with executions through its API, as users would: N runs of
// a one-task workflow (one in 50 fails), a 10,000-item fan-out, and waits for all to
// end. Usage: node bench/seed.mjs URL TOKEN N
const [url, token, n = "100000"] = process.argv.slice(2);
const total = Number(n);
const headers = { Authorization: `Bearer ${token}` };

async function call(method, path, body, type = "application/json") {
  const res = await fetch(url + path, {
    method,
    headers: body === undefined ? headers : { ...headers, "Content-Type": type },
    body: body === undefined ? undefined : type === "application/json" ? JSON.stringify(body) : body,
  });
  const text = await res.text();
  if (!res.ok && res.status !== 409) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

await call("POST", "/api/workflows", `name: bench-one
inputs: {type: object, properties: {n: {type: integer}, fail: {type: boolean}}}
tasks:
  work: {type: transform, with: {input: "\${ $inputs }", expr: 'if .fail then error("seeded failure") else . end'}}
`, "application/yaml");
await call("POST", "/api/workflows", `name: bench-fanout
tasks:
  fan: {type: set, for_each: "\${ [range(0; 10000)] }", with: {i: "\${ $item }"}}
`, "application/yaml");

const started = Date.now();
let next = 0;
let last = null;
async function worker() {
  while (next < total) {
    const i = next++;
    const r = await call("POST", "/api/workflows/bench-one/execute", { inputs: { n: i, fail: i % 50 === 0 } });
    last = r.execution_id;
  }
}
await Promise.all(Array.from({ length: 32 }, worker));
const fan = (await call("POST", "/api/workflows/bench-fanout/execute", { inputs: {} })).execution_id;
for (;;) {
  const open = await call("GET", "/api/executions?status=pending,running&limit=1");
  if (open.executions.length === 0) break;
  await new Promise((ok) => setTimeout(ok, 500));
}
console.log(JSON.stringify({ seeded: total, seconds: (Date.now() - started) / 1000, last, fanout: fan }));
