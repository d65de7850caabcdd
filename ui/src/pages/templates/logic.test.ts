import { describe, expect, it } from "vitest";
import {
  STARTER,
  conflictingTemplate,
  contentTypeOf,
  counted,
  diagnosticsOf,
  exportFileName,
  filterTemplates,
  graphOf,
  groupImport,
  isBuiltin,
  isTekton,
  markedLines,
  nameInText,
  offsetOf,
  parameterRows,
  parametersSummary,
  placeText,
  typeText,
  versionsText,
  workflowNameProblem,
} from "./logic";

describe("the rows of a parameters schema", () => {
  const schema = {
    type: "object",
    required: ["source_url", "retry"],
    properties: {
      source_url: { type: "string", pattern: "^https?://", not: { const: "http://x" }, description: "Where from" },
      punctuation: { type: "string", enum: [".", "!"], default: "!" },
      count: { type: "integer", minimum: 1, maximum: 10, default: 3 },
      urls: { type: "array", items: { type: "string" }, minItems: 1 },
      retry: { type: "object", title: "Retries", properties: { max: { type: "integer", default: 2 } } },
      anything: {},
    },
  };
  it("names, types, required, defaults, descriptions and constraints", () => {
    const rows = parameterRows(schema);
    expect(rows.map((r) => r.name)).toEqual(["source_url", "punctuation", "count", "urls", "retry", "retry.max", "anything"]);
    expect(rows[0]).toMatchObject({ type: "string", required: true, hasDefault: false, description: "Where from", constraints: ["pattern ^https?://", 'not "http://x"'] });
    expect(rows[1]).toMatchObject({ type: 'one of "." | "!"', required: false, hasDefault: true, default: "!" });
    expect(rows[2].constraints).toEqual(["1 to 10"]);
    expect(rows[3]).toMatchObject({ type: "list of string", constraints: ["at least 1 item"] });
    expect(rows[4]).toMatchObject({ type: "object", required: true, description: "Retries", depth: 0 });
    expect(rows[5]).toMatchObject({ depth: 1, required: false, default: 2 });
    expect(rows[6].type).toBe("any");
  });
  it("summarizes", () => {
    expect(parametersSummary(schema)).toBe("6 parameters, 2 required");
    expect(parametersSummary(null)).toBe("no parameters");
    expect(parametersSummary({ type: "object", properties: { a: { type: "string" } } })).toBe("1 parameter");
  });
  it("says types in words", () => {
    expect(typeText({ type: ["string", "null"] })).toBe("string or null");
    expect(typeText({ type: "array" })).toBe("list");
    expect(typeText({ const: 3 })).toBe("exactly 3");
  });
});

describe("the library's filters", () => {
  const list = [
    { name: "etl", description: "Extract and load", tags: ["http", "etl"], category: "data" },
    { name: "greet", description: "Say hello", tags: ["demo"], category: "examples" },
    { name: "fan", description: null, tags: ["http"], category: null },
  ];
  it("search names, descriptions and tags, ignoring case; all tags and the category must match", () => {
    expect(filterTemplates(list, { q: "HELLO", tags: [], category: "" }).map((t) => t.name)).toEqual(["greet"]);
    expect(filterTemplates(list, { q: "", tags: ["http"], category: "" }).map((t) => t.name)).toEqual(["etl", "fan"]);
    expect(filterTemplates(list, { q: "", tags: ["http", "etl"], category: "" }).map((t) => t.name)).toEqual(["etl"]);
    expect(filterTemplates(list, { q: "", tags: [], category: "data" }).map((t) => t.name)).toEqual(["etl"]);
    expect(filterTemplates(list, { q: "load extract", tags: [], category: "" }).map((t) => t.name)).toEqual(["etl"]);
  });
  it("counts tags and categories", () => {
    expect(counted(list.flatMap((t) => t.tags))).toEqual([
      { value: "http", count: 2 },
      { value: "demo", count: 1 },
      { value: "etl", count: 1 },
    ]);
    expect(counted(list.map((t) => t.category)).map((c) => c.value)).toEqual(["data", "examples"]);
  });
  it("knows the built-ins", () => {
    expect(isBuiltin("etl")).toBe(true);
    expect(isBuiltin("etl", "built in")).toBe(true);
    expect(isBuiltin("etl", "mine")).toBe(false);
    expect(isBuiltin("greet")).toBe(false);
  });
});

describe("the graph of a template's workflow", () => {
  it("has a node per task and an edge per need", () => {
    const g = graphOf("t", {
      tasks: {
        a: { type: "http" },
        b: { type: "set", needs: "a", if: "${ true }" },
        c: { type: "set", needs: ["a", "b", "ghost"], join: "any", for_each: "${ [1] }", concurrency: 2 },
      },
    });
    expect(g.nodes.map((n) => [n.id, n.needs])).toEqual([
      ["a", []],
      ["b", ["a"]],
      ["c", ["a", "b"]],
    ]);
    expect(g.edges).toEqual([
      { from: "a", to: "b", join: "all" },
      { from: "a", to: "c", join: "any" },
      { from: "b", to: "c", join: "any" },
    ]);
    expect(g.nodes[2]).toMatchObject({ concurrency: 2, on_error: "fail" });
    expect(graphOf("t", undefined).nodes).toEqual([]);
  });
});

describe("diagnostics", () => {
  it("are read from details, by place", () => {
    const d = diagnosticsOf([
      { severity: "error", path: "b", message: "second", line: 8, column: 3 },
      { severity: "error", path: "a", message: "first", line: 6, column: 34 },
      "junk",
    ]);
    expect(d.map((x) => x.message)).toEqual(["first", "second"]);
    expect(placeText(d[0])).toBe("6:34");
    expect(placeText({ line: 0, column: 0 })).toBe("—");
    expect(diagnosticsOf(null)).toEqual([]);
  });
  it("point at an offset of the text", () => {
    const text = "ab\ncdé f\n\nlast";
    expect(offsetOf(text, 1, 1)).toBe(0);
    expect(offsetOf(text, 2, 4)).toBe(6);
    expect(text[offsetOf(text, 2, 5)]).toBe("f");
    expect(offsetOf(text, 4, 99)).toBe(text.length);
    expect(offsetOf(text, 9, 1)).toBe(text.length);
  });
  it("mark lines with their worst severity", () => {
    const m = markedLines([
      { line: 2, severity: "warning" },
      { line: 2, severity: "error" },
      { line: 5, severity: "warning" },
      { line: 0, severity: "error" },
    ]);
    expect([...m]).toEqual([
      [2, "error"],
      [5, "warning"],
    ]);
  });
});

describe("texts", () => {
  it("say their content type, Tekton files and the name", () => {
    expect(contentTypeOf(' {"name": "a"}')).toBe("application/json");
    expect(contentTypeOf("{a: 1}")).toBe("application/yaml");
    expect(contentTypeOf("name: a")).toBe("application/yaml");
    expect(isTekton('{"name": "X", "workflow_definition": {"tasks": []}}')).toBe(true);
    expect(isTekton("name: x")).toBe(false);
    expect(nameInText(STARTER)).toBe("my-template");
    expect(nameInText('# c\nname: "quoted" # note\n')).toBe("quoted");
    expect(nameInText('{"name": "j"}')).toBe("j");
    expect(nameInText("  name: nested")).toBe(null);
  });
  it("check workflow names", () => {
    expect(workflowNameProblem("")).toBe(null);
    expect(workflowNameProblem("greet-ada_2")).toBe(null);
    expect(workflowNameProblem("Bad Name")).toContain("lowercase");
    expect(workflowNameProblem("-x")).toContain("starting");
    expect(workflowNameProblem("a".repeat(129))).toBe("at most 128 characters");
  });
});

describe("import reports and export names", () => {
  it("group an import by template", () => {
    const rows = groupImport({
      created: [
        { name: "greet", version: 3 },
        { name: "greet", version: 2 },
      ],
      unchanged: [
        { name: "etl", version: 1 },
        { name: "greet", version: 1 },
      ],
    });
    expect(rows).toEqual([
      { name: "etl", created: [], unchanged: [1] },
      { name: "greet", created: [2, 3], unchanged: [1] },
    ]);
  });
  it("say versions briefly", () => {
    expect(versionsText([])).toBe("—");
    expect(versionsText([1])).toBe("v1");
    expect(versionsText([1, 2])).toBe("v1 and v2");
    expect(versionsText([1, 2, 3, 4, 7])).toBe("v1–v4 and v7");
  });
  it("find the template a conflict names", () => {
    expect(conflictingTemplate("template `greet`: the document's version at position 1 differs")).toBe("greet");
    expect(conflictingTemplate("something else")).toBe(null);
  });
  it("name downloads", () => {
    const now = new Date(2026, 10, 30, 20, 47);
    expect(exportFileName(["greet"], "yaml", now)).toBe("template-greet.yaml");
    expect(exportFileName(["a", "b"], "json", now)).toBe("templates-a-b.json");
    expect(exportFileName([], "yaml", now)).toBe("templates-2026-11-30-2047.yaml");
    expect(exportFileName(["a", "b", "c", "d"], "yaml", now)).toBe("templates-4-2026-11-30-2047.yaml");
  });
});
