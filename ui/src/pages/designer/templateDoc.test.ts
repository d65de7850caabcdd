import { describe, expect, it } from "vitest";
import { rowsToSchema, schemaToRows } from "./inputsSchema";
import { addTask } from "./model";
import { emptyTemplate, parameterNames, parseTags, setTemplateField, templateNodeOfPath, withWorkflow, workflowDiagnostics, workflowOf } from "./templateDoc";
import { variablesAt } from "./variables";
import { parseDefinition, toYaml } from "./yamlText";

const TEXT = `# a template
name: greet
parameters:
  type: object
  required: [who]
  properties:
    who: {type: string, minLength: 1} # kept
workflow:
  tasks:
    hello:
      type: set
      with: {message: "hi"}
`;

describe("the workflow part of a template", () => {
  it("gets and sets it, keeping the rest of the template and its comments", () => {
    const parsed = parseDefinition(TEXT);
    if (!parsed.ok) throw new Error(parsed.error);
    const doc = parsed.def;
    const wf = workflowOf(doc);
    expect(Object.keys(wf.tasks ?? {})).toEqual(["hello"]);
    expect(wf.params).toEqual({ who: null });
    expect(variablesAt(wf, "hello")).toContain("$params.who");
    const next = withWorkflow(doc, addTask(wf, "set").def);
    expect(next.name).toBe("greet");
    expect((next.workflow as { params?: unknown }).params).toBeUndefined();
    expect(Object.keys((next.workflow as { tasks: object }).tasks)).toEqual(["hello", "set"]);
    const text = toYaml(next, TEXT);
    expect(text).toContain("# a template");
    expect(text).toContain("# kept");
    expect(text).toContain("  tasks:\n    hello:");
    expect(text).toMatch(/\n {4}set:\n {6}type: set/);
  });

  it("edits the parameters schema as rows, keeping keywords the table does not edit", () => {
    const parsed = parseDefinition(TEXT);
    if (!parsed.ok) throw new Error(parsed.error);
    const table = schemaToRows(parsed.def.parameters);
    expect(table.rows).toEqual([{ name: "who", type: "string", required: true, default: "", description: "", enum: "", extra: { minLength: 1 } }]);
    const rows = [...table.rows, { name: "n", type: "integer", required: false, default: "3", description: "", enum: "", extra: {} }];
    const doc = setTemplateField(parsed.def, "parameters", rowsToSchema({ rows, rest: table.rest }));
    expect(doc.parameters).toEqual({ type: "object", required: ["who"], properties: { who: { type: "string", minLength: 1 }, n: { type: "integer", default: 3 } } });
    expect(parameterNames(doc)).toEqual(["who", "n"]);
    expect(setTemplateField(doc, "parameters", undefined).parameters).toBeUndefined();
  });

  it("starts, tags, and maps diagnostics", () => {
    expect(workflowOf(emptyTemplate())).toEqual({ tasks: {}, params: {} });
    expect(parseTags(" a, ,b ")).toEqual(["a", "b"]);
    expect(setTemplateField({ tags: ["a"] }, "tags", [])).toEqual({});
    expect(templateNodeOfPath("workflow.tasks.fetch.with.url")).toBe("fetch");
    expect(templateNodeOfPath("parameters.properties.x")).toBeNull();
    expect(templateNodeOfPath("workflow.on_failure.alert.with")).toBe("alert");
    expect(workflowDiagnostics([{ severity: "error", path: "workflow.tasks.a.with", message: "m" }, { severity: "error", path: "name", message: "n" }])).toEqual([
      { severity: "error", path: "tasks.a.with", message: "m" },
    ]);
  });
});
