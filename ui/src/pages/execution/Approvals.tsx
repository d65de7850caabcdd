// What waits for a person, above everything: each task (or fan-out item) waiting for
// an approval, with its prompt and a way to its form.
import type { ExecutionDetail } from "../../api/types";

interface Waiter {
  task: string;
  item?: number;
  prompt: string;
}

export function waitingApprovals(x: ExecutionDetail, limit = 20): { list: Waiter[]; total: number } {
  const list: Waiter[] = [];
  let total = 0;
  for (const [task, t] of Object.entries(x.tasks)) {
    if (t.waiting?.for === "approval") {
      total += 1;
      if (list.length < limit) list.push({ task, prompt: t.waiting.prompt ?? "" });
    }
    t.items?.forEach((it, item) => {
      if (it.waiting?.for !== "approval") return;
      total += 1;
      if (list.length < limit) list.push({ task, item, prompt: it.waiting.prompt ?? "" });
    });
  }
  return { list, total };
}

export function Approvals({ execution, onSelect }: { execution: ExecutionDetail; onSelect: (task: string, item?: number) => void }) {
  const { list, total } = waitingApprovals(execution);
  if (!total) return null;
  return (
    <div className="xp-approvals" role="status" aria-label="Waiting for approval">
      <strong>Waiting for a person:</strong>
      {list.map((w) => (
        <span key={`${w.task}:${w.item ?? ""}`} className="xp-approval-chip">
          {w.task}
          {w.item !== undefined ? `[${w.item}]` : ""} — “{w.prompt}”{" "}
          <button className="link xp-goto" onClick={() => onSelect(w.task, w.item)}>
            answer →
          </button>
        </span>
      ))}
      {total > list.length && <span className="muted">and {total - list.length} more</span>}
    </div>
  );
}
