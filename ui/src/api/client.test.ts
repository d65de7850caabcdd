import { describe, expect, it } from "vitest";
import { withQuery, wsUrl } from "./client";

describe("query strings", () => {
  it("leaves out empty values and repeats arrays", () => {
    expect(withQuery("/api/executions", { status: "failed", workflow: "", limit: 50, cursor: undefined })).toBe(
      "/api/executions?status=failed&limit=50",
    );
    expect(withQuery("/x", { tag: ["a", "b c"] })).toBe("/x?tag=a&tag=b+c");
    expect(withQuery("/x", {})).toBe("/x");
  });
});

describe("WebSocket addresses", () => {
  it("follow the page's scheme and carry the token", () => {
    sessionStorage.setItem("harmonia.token", "hm_a&b");
    const loc = { protocol: "https:", host: "h:8007" } as Location;
    expect(wsUrl("/ws/workflows", loc)).toBe("wss://h:8007/ws/workflows?token=hm_a%26b");
    sessionStorage.removeItem("harmonia.token");
    expect(wsUrl("/ws/workflows", { protocol: "http:", host: "h" } as Location)).toBe("ws://h/ws/workflows");
  });
});
