import { describe, expect, it } from "vitest";
import { filterVariables, insertVariable, upstreamOf, variablesAt, wordAt } from "./variables";
import type { Definition } from "./model";

const def: Definition = {
  name: "w",
  inputs: { type: "object", properties: { city: { type: "string" }, days: { type: "integer" } } },
  params: { region: "eu" },
  tasks: {
    a: { type: "set" },
    b: { needs: ["a"], type: "set" },
    c: { needs: "b", type: "http", for_each: "${ $inputs.days }" },
    d: { needs: ["c"], type: "set" },
    e: { type: "set" },
  },
};

describe("variablesAt", () => {
  it("offers the upstream tasks transitively, no downstream or unrelated ones", () => {
    expect(upstreamOf(def, "c")).toEqual(["a", "b"]);
    const v = variablesAt(def, "c");
    expect(v).toContain("$tasks.a.output");
    expect(v).toContain("$tasks.b.output");
    expect(v).not.toContain("$tasks.c.output");
    expect(v).not.toContain("$tasks.d.output");
    expect(v).not.toContain("$tasks.e.output");
  });
  it("offers inputs, params, secrets, execution, and item/index in a fan-out", () => {
    const v = variablesAt(def, "c");
    expect(v).toEqual(expect.arrayContaining(["$inputs.city", "$inputs.days", "$params.region", "$secrets.", "$execution.id", "$item", "$index"]));
    const a = variablesAt(def, "a");
    expect(a).not.toContain("$item");
    expect(a.filter((x) => x.startsWith("$tasks."))).toEqual([]);
  });
  it("has no params without them, and survives a cycle", () => {
    const cyc: Definition = { tasks: { x: { needs: "y" }, y: { needs: "x" } } };
    expect(variablesAt(cyc, "x")).toEqual(["$inputs", "$tasks.y.output", "$secrets.", "$execution.id"]);
  });
  it("offers every task at workflow level (outputs)", () => {
    expect(variablesAt(def, null).filter((x) => x.startsWith("$tasks."))).toHaveLength(5);
  });
});

describe("completion helpers", () => {
  it("finds the word typed and filters", () => {
    expect(wordAt("x ${ $inp", 9)).toEqual({ start: 5, word: "$inp" });
    expect(wordAt("plain", 5)).toBeNull();
    expect(filterVariables(["$inputs.city", "$tasks.a.output"], "$in")).toEqual(["$inputs.city"]);
  });
  it("inserts, wrapping in ${ } outside an expression", () => {
    expect(insertVariable("http://x/$", 9, 10, "$inputs.city")).toEqual({ text: "http://x/${ $inputs.city }", caret: 24 });
    expect(insertVariable("${ $in }", 3, 6, "$inputs.city")).toEqual({ text: "${ $inputs.city }", caret: 15 });
  });
});
