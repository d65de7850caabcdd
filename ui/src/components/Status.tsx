// A status as a coloured badge. The colours are the console's one palette for
// statuses: the graph, the timeline and the lists all use `statusColor`.

export const STATUS_COLORS: Record<string, string> = {
  pending: "#8a94a6",
  queued: "#8a94a6",
  running: "#2f7de1",
  retrying: "#d08a12",
  paused: "#a06cd5",
  waiting: "#a06cd5",
  succeeded: "#2e9e5b",
  failed: "#d64545",
  cancelled: "#6b7280",
  skipped: "#b8bec9",
};

export function statusColor(status: string): string {
  return STATUS_COLORS[status] ?? "#8a94a6";
}

export function Status({ status }: { status: string }) {
  return (
    <span className={`status status-${status}`} style={{ background: statusColor(status) }}>
      {status}
    </span>
  );
}
