// An approval form's JSON Schema as fields, and the fields' texts as the answer.
import { describe, expect, it } from "vitest";
import { collect, fieldsOf, initialValues } from "./formFields";

const FORM = {
  type: "object",
  required: ["ticket"],
  properties: {
    ticket: { type: "string", pattern: "^REL-[0-9]+$" },
    urgent: { type: "boolean" },
    count: { type: "integer", default: 2 },
    env: { type: "string", enum: ["prod", "staging"] },
    extra: { type: "object" },
  },
};

describe("approval form fields", () => {
  const fields = fieldsOf(FORM);
  it("reads the schema's properties as typed fields", () => {
    expect(fields.map((f) => [f.name, f.kind, f.required])).toEqual([
      ["ticket", "string", true],
      ["urgent", "boolean", false],
      ["count", "integer", false],
      ["env", "enum", false],
      ["extra", "json", false],
    ]);
    expect(fieldsOf(undefined)).toEqual([]);
  });

  it("starts from the defaults and collects typed values", () => {
    const v = initialValues(fields);
    expect(v).toEqual({ ticket: "", urgent: false, count: "2", env: "", extra: "" });
    expect(collect(fields, { ...v, ticket: "REL-1", env: '"prod"', extra: '{"a":1}' })).toEqual({
      ticket: "REL-1",
      urgent: false,
      count: 2,
      env: "prod",
      extra: { a: 1 },
    });
    expect(() => collect(fields, { ...v, extra: "{" })).toThrow("extra: not valid JSON");
  });
});
