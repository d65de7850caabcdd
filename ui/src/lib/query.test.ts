import { describe, expect, it } from "vitest";
import { applied, toggled } from "./query";

describe("the query", () => {
  it("sets several keys and removes empty ones", () => {
    const p = new URLSearchParams("status=failed&workflow=w&id=01");
    expect(applied(p, { status: "failed,cancelled", workflow: "", id: null, page: undefined, q: "a b" }).toString()).toBe(
      "status=failed%2Ccancelled&q=a+b",
    );
    // The original is untouched.
    expect(p.get("workflow")).toBe("w");
  });

  it("toggles an item of a list", () => {
    expect(toggled(["a", "b"], "a")).toEqual(["b"]);
    expect(toggled(["a"], "b")).toEqual(["a", "b"]);
  });
});
