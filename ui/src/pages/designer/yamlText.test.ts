// The YAML text of a definition: parsing, fresh emitting (quoting, flow lists) and
// editing a hand-written text in place; round trips over the examples and the docs.
import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { addTask, connect, removeTask, renameTask, setTaskField, type Definition } from "./model";
import { needsQuotes, parseDefinition, toYaml } from "./yamlText";

const root = `${process.cwd().replace(/\/ui$/, "")}/`;

function examples(): [string, string][] {
  const dir = `${root}examples/`;
  const files: [string, string][] = readdirSync(dir)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .map((f) => [f, readFileSync(dir + f, "utf8")]);
  const docs = readFileSync(`${root}docs/writing-workflows.md`, "utf8");
  let i = 0;
  for (const m of docs.matchAll(/```yaml run\n([\s\S]*?)```/g)) files.push([`docs #${i++}`, m[1]]);
  return files;
}

function def(text: string): Definition {
  const p = parseDefinition(text);
  if (!p.ok) throw new Error(p.error);
  return p.def;
}

describe("the YAML text", () => {
  const all = examples();
  it("has real definitions to try", () => {
    expect(all.length).toBeGreaterThan(15);
  });

  it.each(all)("%s: a no-op edit keeps the text, and fresh YAML parses back the same", (_, text) => {
    const d = def(text);
    if (!text.trimStart().startsWith("{")) expect(toYaml(d, text)).toBe(text);
    const fresh = toYaml(d);
    expect(parse(fresh)).toEqual(d);
    expect(def(toYaml(structuredClone(d), fresh))).toEqual(d);
  });

  it.each(all)("%s: edits show up in the text, comments kept", (_, text) => {
    const d = def(text);
    const first = Object.keys(d.tasks ?? {})[0];
    let next = addTask(d, "http").def;
    next = setTaskField(next, "http", "with", { url: "${ $inputs.url }", method: "GET" });
    const c = connect(next, first, "http");
    if (c.ok) next = c.def;
    const r = renameTask(next, first, "renamed_first");
    if (r.ok) next = r.def;
    const out = toYaml(next, text);
    expect(def(out)).toEqual(next);
    for (const line of text.split("\n").filter((l) => /^#/.test(l))) expect(out).toContain(line);
    expect(def(toYaml(removeTask(next, "http"), out))).toEqual(removeTask(next, "http"));
  });

  it("quotes what YAML would misread, and writes short lists in flow style", () => {
    const d: Definition = {
      name: "q",
      tasks: {
        a: {
          type: "set",
          needs: ["x", "b"],
          with: { e: "${ $inputs.a }", yes: "yes", v: "1.0", c: "a: b", s: "*star", amp: "&a", bang: "!x", plain: "hello world", multi: "a\nb\n" },
        },
      },
    };
    const y = toYaml(d);
    expect(y).toContain("needs: [x, b]");
    expect(y).toContain('e: "${ $inputs.a }"');
    expect(y).toContain(`"yes": "yes"`);
    expect(y).toContain('v: "1.0"');
    expect(y).toContain('c: "a: b"');
    expect(y).toContain('s: "*star"');
    expect(y).toContain("plain: hello world");
    expect(y).toContain("multi: |\n");
    expect(parse(y)).toEqual(d);
    expect(needsQuotes("Off")).toBe(true);
    expect(needsQuotes("fetch")).toBe(false);
  });

  it("writes a new workflow's tasks in block style", () => {
    let d: Definition = { name: "demo", tasks: {} };
    let y = toYaml(d);
    expect(y).toBe("name: demo\ntasks: {}\n");
    d = addTask(d, "set", null).def;
    y = toYaml(d, y);
    expect(y).toBe("name: demo\ntasks:\n  set:\n    type: set\n    with: null\n");
  });

  it("reports a parse error with its line", () => {
    const p = parseDefinition("name: x\ntasks:\n  a: [\n");
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.line).toBeGreaterThan(0);
  });
});
