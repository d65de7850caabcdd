// Undo/redo snapshots and the save dialog's line diff.
import { describe, expect, it } from "vitest";
import { push, redo, start, undo } from "./history";
import { lineDiff } from "./lineDiff";

const s = (text: string) => ({ def: { name: text }, text });

describe("history", () => {
  it("undoes and redoes, coalescing one field's typing", () => {
    let h = start(s("a"));
    h = push(h, s("b"), null, 1);
    h = push(h, s("c"), "f", 2);
    h = push(h, s("cd"), "f", 3);
    expect(h.past.map((x) => x.text)).toEqual(["a", "b"]);
    h = undo(h);
    expect(h.present.text).toBe("b");
    h = undo(h);
    h = undo(h);
    expect(h.present.text).toBe("a");
    h = redo(h);
    expect(h.present.text).toBe("b");
    h = push(h, s("x"), null, 9);
    expect(h.future).toEqual([]);
  });
});

describe("line diff", () => {
  it("marks added and removed lines", () => {
    expect(lineDiff("a\nb\nc", "a\nc\nd")).toEqual([
      { kind: "same", text: "a" },
      { kind: "del", text: "b" },
      { kind: "same", text: "c" },
      { kind: "add", text: "d" },
    ]);
  });
});
