// Tests of how a trigger's definition is put in words.
import { describe, expect, it } from "vitest";
import { describeTrigger } from "./spec";

describe("describeTrigger", () => {
  it("says a schedule's cron and zone, with its defaults", () => {
    expect(describeTrigger({ kind: "schedule", definition: { cron: "*/10 * * * *", timezone: "Europe/Paris" } })).toEqual({
      summary: "*/10 * * * * (Europe/Paris)",
      details: [
        ["overlap", "skip"],
        ["catchup", "last"],
      ],
    });
    expect(describeTrigger({ kind: "schedule", definition: { cron: "@daily", inputs: { a: 1 } } }).summary).toBe("@daily (UTC)");
    expect(describeTrigger({ kind: "schedule", definition: { cron: "@daily", inputs: { a: 1 } } }).details[2]).toEqual(["inputs", '{"a":1}']);
  });
  it("says a webhook's URL and how it verifies, never a secret's value", () => {
    const s = describeTrigger({
      kind: "webhook",
      definition: { name: "gh", verify: { preset: "github", secret: "${ $secrets.GH }" }, dedup: "${ $request.headers.x }" },
    });
    expect(s.summary).toBe("POST /hooks/gh");
    expect(s.details).toEqual([
      ["verify", "github"],
      ["dedup", "${ $request.headers.x }"],
    ]);
  });
  it("says an event's type, source and filter", () => {
    expect(describeTrigger({ kind: "event", definition: { type: "order.paid", source: "shop", filter: "${ true }" } }).summary).toBe(
      "order.paid from shop if ${ true }",
    );
  });
});
