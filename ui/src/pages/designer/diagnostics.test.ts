// The server's diagnostics placed at their fields, and lines of the YAML text.
import { describe, expect, it } from "vitest";
import { lineRange, under, withErrors } from "./diagnostics";

const d = (path: string, message = "bad") => ({ severity: "error", path, message });

describe("diagnostics", () => {
  it("belong under their dotted path, not a sibling's", () => {
    const all = [d("tasks.a.timeout"), d("tasks.ab.timeout"), d("tasks.a")];
    expect(under(all, "tasks.a")).toEqual([all[0], all[2]]);
  });

  it("map into the with form by pointer, a missing parameter at its field", () => {
    const all = [d("tasks.a.with.url", "not a URL"), d("tasks.a.with", "missing required parameter `expr` for a `transform` task"), d("tasks.a.with", "other"), d("tasks.b.with.x")];
    expect(withErrors(all, "tasks.a.with")).toEqual({
      "/url": ["not a URL"],
      "/expr": ["missing required parameter `expr` for a `transform` task"],
      "": ["other"],
    });
  });

  it("find a line of the text", () => {
    expect(lineRange("a\nbc\nd", 2)).toEqual([2, 4]);
    expect(lineRange("a\nbc\nd", 3)).toEqual([5, 6]);
    expect(lineRange("a", 9)).toEqual([1, 1]);
  });
});
