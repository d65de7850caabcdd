// Performance marks for the page's milestones (header painted, graph painted, ready to
// use), each set once per document, after the frame that shows it has been painted;
// `interactive` also waits for the main thread to be idle. The end-to-end test reads
// them with `performance.getEntriesByName`.
const pending = new Set<string>();

export function markOnce(name: string, idle = false): void {
  if (typeof performance === "undefined" || pending.has(name) || performance.getEntriesByName(name).length) return;
  pending.add(name);
  requestAnimationFrame(() => {
    // The frame is painted once the task after this callback runs.
    setTimeout(() => {
      if (!idle || typeof requestIdleCallback === "undefined") performance.mark(name);
      else requestIdleCallback(() => performance.mark(name), { timeout: 2000 });
    }, 0);
  });
}
