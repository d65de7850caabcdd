// Tests of the schema logic behind SchemaForm: kinds, defaults, coercion, validation,
// and errors (the client's and the server's) mapped to the fields that show them.
import { describe, expect, it } from "vitest";
import type { JsonSchema } from "../../api/types";
import {
  deepEqual,
  childPath,
  defaults,
  errorsByField,
  fieldFor,
  fieldKind,
  getAt,
  parseJsonText,
  parseNumberText,
  parsePointer,
  serverProblems,
  stillStanding,
  typeHint,
  validate,
  withKey,
} from "./schema";

const demo: JsonSchema = {
  type: "object",
  required: ["city", "count"],
  properties: {
    city: { type: "string", minLength: 2, pattern: "^[A-Z]" },
    count: { type: "integer", minimum: 1, maximum: 10, default: 3 },
    mode: { type: "string", enum: ["fast", "slow"], default: "fast" },
    tags: { type: "array", items: { type: "string" } },
    when: { type: "string", format: "date-time" },
    opts: {
      type: "object",
      required: ["deep"],
      properties: { deep: { type: "boolean" }, n: { type: "number", maximum: 5 } },
    },
    list: { type: "array", items: { type: "object", required: ["k"], properties: { k: { type: "string" } } } },
    free: { type: "object" },
  },
};

describe("pointers", () => {
  it("escape and read keys", () => {
    expect(childPath("", "a/b~c")).toBe("/a~1b~0c");
    expect(parsePointer("/a~1b~0c/0")).toEqual(["a/b~c", "0"]);
    expect(parsePointer("")).toEqual([]);
    expect(getAt({ a: [{ b: 1 }] }, "/a/0/b")).toBe(1);
    expect(getAt({ a: 1 }, "/a/b")).toBeUndefined();
    expect(getAt({ "we ird": 2 }, childPath("", "we ird"))).toBe(2);
  });
});

describe("fieldKind", () => {
  it("picks a widget per schema", () => {
    const p = demo.properties!;
    expect(fieldKind(p.city)).toBe("string");
    expect(fieldKind(p.count)).toBe("integer");
    expect(fieldKind(p.mode)).toBe("enum");
    expect(fieldKind(p.tags)).toBe("array");
    expect(fieldKind(p.opts)).toBe("object");
    expect(fieldKind(p.list)).toBe("json");
    expect(fieldKind(p.free)).toBe("json");
    expect(fieldKind({ type: ["string", "null"] })).toBe("string");
    expect(fieldKind({ type: ["string", "number"] })).toBe("json");
    expect(fieldKind({})).toBe("json");
    expect(fieldKind({ properties: { a: { type: "string" } } })).toBe("object");
  });
});

describe("defaults", () => {
  it("prefills defaults and leaves optional groups without any out", () => {
    expect(defaults(demo)).toEqual({ count: 3, mode: "fast" });
  });
  it("fills required groups and starts required checkboxes false", () => {
    const s: JsonSchema = { type: "object", required: ["o"], properties: { o: { type: "object", required: ["b"], properties: { b: { type: "boolean" } } } } };
    expect(defaults(s)).toEqual({ o: { b: false } });
  });
  it("copies a default, so editing the value never edits the schema", () => {
    const s: JsonSchema = { type: "object", properties: { l: { type: "array", items: { type: "string" }, default: ["a"] } } };
    const v = defaults(s) as { l: string[] };
    v.l.push("b");
    expect(s.properties!.l.default).toEqual(["a"]);
  });
  it("gives an empty object for a free-form root", () => {
    expect(defaults({ type: "object" })).toEqual({});
  });
});

describe("coercion", () => {
  it("reads number text", () => {
    expect(parseNumberText("")).toBeUndefined();
    expect(parseNumberText(" 42 ")).toBe(42);
    expect(parseNumberText("-1.5e2")).toBe(-150);
    expect(parseNumberText("12abc")).toBe("12abc");
    expect(parseNumberText("0x10")).toBe("0x10");
  });
  it("reads JSON text", () => {
    expect(parseJsonText('{"a": 1}')).toEqual({ ok: true, value: { a: 1 } });
    expect(parseJsonText("  ")).toEqual({ ok: true, value: undefined });
    expect(parseJsonText("{a}").ok).toBe(false);
  });
  it("sets and removes keys", () => {
    expect(withKey({ a: 1 }, "b", 2)).toEqual({ a: 1, b: 2 });
    expect(withKey({ a: 1 }, "a", undefined)).toEqual({});
  });
});

describe("validate", () => {
  it("accepts a good value", () => {
    expect(validate(demo, { city: "Oslo", count: 3, mode: "fast", tags: ["a"], opts: { deep: true, n: 2 } })).toEqual({});
  });
  it("reports required fields at the field", () => {
    expect(validate(demo, { count: 3 })).toEqual({ "/city": ["required"] });
    expect(validate(demo, { city: "Oslo", count: 1, opts: {} })).toEqual({ "/opts/deep": ["required"] });
  });
  it("reports type, range, length, pattern and enum", () => {
    const e = validate(demo, { city: "x", count: 20, mode: "nope", tags: ["a", 1], opts: { deep: "y", n: 9 } });
    expect(e["/city"]).toEqual(["must be at least 2 characters", "must match the pattern ^[A-Z]"]);
    expect(e["/count"]).toEqual(["must be at most 10"]);
    expect(e["/mode"]).toEqual(['must be one of "fast", "slow"']);
    expect(e["/tags/1"]).toEqual(["must be a string"]);
    expect(e["/opts/deep"]).toEqual(["must be true or false"]);
    expect(e["/opts/n"]).toEqual(["must be at most 5"]);
  });
  it("refuses number text that is not a number, and fractions for integers", () => {
    expect(validate(demo, { city: "Oslo", count: "3x" })["/count"]).toEqual(["must be a whole number"]);
    expect(validate(demo, { city: "Oslo", count: 2.5 })["/count"]).toEqual(["must be a whole number"]);
    expect(validate(demo, { city: "Oslo", count: 0 })["/count"]).toEqual(["must be at least 1"]);
  });
  it("checks formats", () => {
    expect(validate(demo, { city: "Oslo", count: 1, when: "tomorrow" })["/when"]).toEqual([
      "must be a date-time, such as 2026-12-01T09:30:00Z",
    ]);
    expect(validate(demo, { city: "Oslo", count: 1, when: "2026-12-01T09:30:00+01:00" })).toEqual({});
  });
  it("validates inside raw JSON values too", () => {
    expect(validate(demo, { city: "Oslo", count: 1, list: [{}] })).toEqual({ "/list/0/k": ["required"] });
  });
  it("reads nullable types and additionalProperties: false", () => {
    const s: JsonSchema = { type: "object", additionalProperties: false, properties: { a: { type: ["integer", "null"] } } };
    expect(validate(s, { a: null })).toEqual({});
    expect(validate(s, { a: "1" })).toEqual({ "/a": ["must be a whole number or null"] });
    expect(validate(s, { b: 1 })).toEqual({ "": ["does not take `b`"] });
  });
  it("ignores a pattern JavaScript cannot read", () => {
    expect(validate({ type: "string", pattern: "(?<" }, "x")).toEqual({});
  });
});

describe("errors to fields", () => {
  it("finds the field a pointer falls in", () => {
    expect(fieldFor(demo, "/city")).toBe("/city");
    expect(fieldFor(demo, "/tags/3")).toBe("/tags/3");
    expect(fieldFor(demo, "/opts/n")).toBe("/opts/n");
    expect(fieldFor(demo, "/list/0/k")).toBe("/list");
    expect(fieldFor(demo, "/free/x")).toBe("/free");
    expect(fieldFor(demo, "/unknown")).toBe("");
    expect(fieldFor({ type: "object" }, "/a")).toBe("");
  });
  it("keeps the place of a problem below its field", () => {
    expect(errorsByField(demo, { "/list/0/k": ["required"], "/city": ["a", "a"] })).toEqual({
      "/list": ["/0/k: required"],
      "/city": ["a"],
    });
  });
  it("maps the server's details (the shape of a 422 invalid_inputs)", () => {
    // As `POST /api/workflows/{name}/execute` answers them.
    const details = [
      { path: "", keyword: "required", message: "missing required input `city`" },
      { path: "/count", keyword: "maximum", message: "expected at most 10, found the number 20" },
      { path: "/opts", keyword: "required", message: "missing required input `deep`" },
      { path: "/list/0", keyword: "required", message: "missing required input `k`" },
      { path: "/extra", keyword: "additionalProperties", message: "no input `extra`" },
    ];
    const problems = serverProblems(details);
    expect(problems[0]).toEqual({ path: "/city", keyword: "required", message: "required" });
    expect(errorsByField(demo, problems)).toEqual({
      "/city": ["required"],
      "/count": ["expected at most 10, found the number 20"],
      "/opts/deep": ["required"],
      "/list": ["/0/k: required"],
      "": ["/extra: no input `extra`"],
    });
    expect(serverProblems(null)).toEqual([]);
    expect(serverProblems([{ nope: 1 }, "x"])).toEqual([]);
  });
  it("drops the server's problems about values edited since", () => {
    const problems = serverProblems([
      { path: "", keyword: "required", message: "missing required input `city`" },
      { path: "/count", keyword: "maximum", message: "too big" },
    ]);
    const sent = { count: 20 };
    expect(stillStanding(problems, sent, { count: 20 })).toHaveLength(2);
    expect(stillStanding(problems, sent, { count: 20, city: "Oslo" })).toEqual([problems[1]]);
    expect(stillStanding(problems, sent, { count: 2 })).toEqual([problems[0]]);
  });
});

describe("typeHint", () => {
  it("names the type and range", () => {
    expect(typeHint(demo.properties!.count)).toBe("integer, 1 to 10");
    expect(typeHint(demo.properties!.tags)).toBe("list of string");
    expect(typeHint(demo.properties!.when)).toBe("string, date-time");
    expect(typeHint(demo.properties!.free)).toBe("object, JSON");
  });
});

describe("deepEqual", () => {
  it("holds NaN equal to itself and compares own keys only", () => {
    expect(deepEqual({ x: [Number.NaN] }, { x: [Number.NaN] })).toBe(true);
    expect(deepEqual({ constructor: 1 }, { other: 1 })).toBe(false);
    expect(deepEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(deepEqual([1, 2], [1, 2, 3])).toBe(false);
  });
});
