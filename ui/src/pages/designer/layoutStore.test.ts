import { describe, expect, it } from "vitest";
import { layoutKey, loadLayout, saveLayout } from "./layoutStore";

function memory(): Storage {
  const m = new Map<string, string>();
  return {
    getItem: (k) => m.get(k) ?? null,
    setItem: (k, v) => void m.set(k, v),
    removeItem: (k) => void m.delete(k),
    clear: () => m.clear(),
    key: () => null,
    get length() {
      return m.size;
    },
  };
}

describe("the kept layout", () => {
  it("keeps the positions of the nodes that exist, per document", () => {
    const s = memory();
    const k = layoutKey(false, "w");
    expect(layoutKey(true, "w")).not.toBe(k);
    expect(layoutKey(false, null)).toBeNull();
    saveLayout(k, { a: { x: 1.4, y: 2 }, gone: { x: 5, y: 5 }, __proto__: { x: 3, y: 4 } } as never, ["a", "__proto__", "b"], s);
    expect(loadLayout(k, s)).toEqual({ a: { x: 1, y: 2 } });
    expect(loadLayout(layoutKey(false, "other"), s)).toEqual({});
  });

  it("reads only finite numbers, and survives what is not JSON", () => {
    const s = memory();
    s.setItem("k", JSON.stringify({ a: { x: "1", y: 2 }, b: { x: 1, y: null }, c: { x: 3, y: 4 }, __proto__: { x: 1, y: 1 } }));
    expect(loadLayout("k", s)).toEqual({ c: { x: 3, y: 4 } });
    s.setItem("k", "{not json");
    expect(loadLayout("k", s)).toEqual({});
    s.setItem("k", "[1,2]");
    expect(loadLayout("k", s)).toEqual({});
  });

  it("loses only the layout when storage refuses it", () => {
    const full = { setItem: () => { throw new Error("QuotaExceededError"); } };
    expect(() => saveLayout("k", { a: { x: 1, y: 1 } }, ["a"], full)).not.toThrow();
  });
});
