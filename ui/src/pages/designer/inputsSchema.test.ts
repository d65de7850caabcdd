import { describe, expect, it } from "vitest";
import { newRow, rowsToSchema, schemaToRows } from "./inputsSchema";

describe("inputs schema ⇄ rows", () => {
  const schema = {
    type: "object",
    required: ["city"],
    additionalProperties: false,
    properties: {
      city: { type: "string", description: "Where", enum: ["Paris", "Oslo"], minLength: 2 },
      days: { type: "integer", default: 3, maximum: 14 },
      tags: { type: "array", items: { type: "string" }, default: ["a"] },
      any: {},
    },
  };

  it("reads rows, keeping unknown keywords aside", () => {
    const t = schemaToRows(schema);
    expect(t.rest).toEqual({ additionalProperties: false });
    expect(t.rows.map((r) => r.name)).toEqual(["city", "days", "tags", "any"]);
    expect(t.rows[0]).toEqual({ name: "city", type: "string", required: true, default: "", description: "Where", enum: "Paris, Oslo", extra: { minLength: 2 } });
    expect(t.rows[1]).toMatchObject({ type: "integer", default: "3", extra: { maximum: 14 } });
    expect(t.rows[2]).toMatchObject({ default: '["a"]', extra: { items: { type: "string" } } });
    expect(t.rows[3]).toMatchObject({ type: "", extra: {} });
  });

  it("round-trips, unknown keywords included", () => {
    expect(rowsToSchema(schemaToRows(schema))).toEqual(schema);
  });

  it("writes an edited table", () => {
    const t = schemaToRows(schema);
    t.rows[0] = { ...t.rows[0], required: false, enum: "" };
    t.rows[1] = { ...t.rows[1], required: true, default: "" };
    const out = rowsToSchema(t)!;
    expect(out.required).toEqual(["days"]);
    expect((out.properties as Record<string, unknown>).city).toEqual({ type: "string", description: "Where", minLength: 2 });
    expect((out.properties as Record<string, unknown>).days).toEqual({ type: "integer", maximum: 14 });
  });

  it("starts from nothing and ends at nothing", () => {
    const t = schemaToRows(undefined);
    expect(t.rows).toEqual([]);
    expect(rowsToSchema(t)).toBeUndefined();
    const row = { ...newRow([]), name: "city", required: true, default: "Oslo" };
    expect(rowsToSchema({ rows: [row], rest: {} })).toEqual({ type: "object", required: ["city"], properties: { city: { type: "string", default: "Oslo" } } });
    expect(newRow([row, { ...row, name: "input" }]).name).toBe("input_2");
  });

  it("keeps a non-string enum and an unusual type as they were", () => {
    const s = { type: "object", properties: { n: { type: ["string", "null"], enum: [1, 2] } } };
    const t = schemaToRows(s);
    expect(t.rows[0]).toMatchObject({ type: "", enum: "", extra: { type: ["string", "null"], enum: [1, 2] } });
    expect(rowsToSchema(t)).toEqual(s);
  });
});
