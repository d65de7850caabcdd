// A modal dialog: a titled box over the page; Escape or the backdrop closes it.
import { useEffect, useId, type ReactNode } from "react";

export function Dialog({ title, onClose, children, wide }: { title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const titleId = useId();
  useEffect(() => {
    const key = (e: KeyboardEvent) => e.key === "Escape" && onClose();
    window.addEventListener("keydown", key);
    return () => window.removeEventListener("keydown", key);
  }, [onClose]);
  return (
    <div className="xp-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className={wide ? "xp-dialog wide" : "xp-dialog"} role="dialog" aria-modal="true" aria-labelledby={titleId}>
        <div className="xp-dialog-head">
          <h2 id={titleId}>{title}</h2>
          <button className="link" aria-label="Close" onClick={onClose}>
            ✕
          </button>
        </div>
        {children}
      </div>
    </div>
  );
}
