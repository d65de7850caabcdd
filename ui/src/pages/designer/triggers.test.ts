import { describe, expect, it } from "vitest";
import { addTrigger, getField, removeTrigger, setTriggerField, triggerRows } from "./triggers";

const list = [
  { schedule: { cron: "0 30 6 * * MON-FRI", timezone: "Europe/Paris", overlap: "skip", inputs: { day: "${ $trigger.scheduled_at }" } } },
  { webhook: { name: "gh", verify: { preset: "github", secret: "${ $secrets.GH }" }, dedup: "${ $request.body.id }" } },
  { event: { type: "order.paid", source: "shop" } },
  "odd",
];

describe("triggers", () => {
  it("reads the kind and fields of each entry", () => {
    const rows = triggerRows(list);
    expect(rows.map((r) => r.kind)).toEqual(["schedule", "webhook", "event", ""]);
    expect(getField(rows[1].body, "verify.preset")).toBe("github");
    expect(triggerRows(undefined)).toEqual([]);
  });
  it("sets a field, keeping the others and the other entries", () => {
    const next = setTriggerField(list, 1, "verify.preset", "gitlab");
    expect(next[1]).toEqual({ webhook: { name: "gh", verify: { preset: "gitlab", secret: "${ $secrets.GH }" }, dedup: "${ $request.body.id }" } });
    expect(next[0]).toBe(list[0]);
    expect(next[3]).toBe("odd");
    const tz = setTriggerField(list, 0, "timezone", "");
    expect(tz[0]).toEqual({ schedule: { cron: "0 30 6 * * MON-FRI", overlap: "skip", inputs: { day: "${ $trigger.scheduled_at }" } } });
    expect(setTriggerField(list, 3, "x", 1)).toBe(list);
  });
  it("adds and removes entries", () => {
    expect(addTrigger(undefined, "schedule")).toEqual([{ schedule: { cron: "0 0 * * *" } }]);
    expect(addTrigger(list, "event")).toHaveLength(5);
    expect(removeTrigger(list, 0)).toEqual(list.slice(1));
    expect(removeTrigger([list[0]], 0)).toBeUndefined();
  });
});
