// The task library: the server's task types, each draggable onto the canvas (or added
// with its "+" button); a type the server cannot run is greyed, with the reason.
import type { TaskType } from "./api";
import { DRAG_TYPE } from "./Canvas";

export function Library({ types, onAdd }: { types: TaskType[] | null; onAdd: (type: string) => void }) {
  return (
    <aside className="dz-library" aria-label="Task library">
      <h2>Task types</h2>
      {!types && <div className="muted">Loading…</div>}
      <ul>
        {types?.map((t) => (
          <li
            key={t.name}
            className={`dz-type${t.unavailable ? " dz-type-unavailable" : ""}`}
            data-type={t.name}
            draggable
            title={t.unavailable ?? t.description}
            onDragStart={(e) => {
              e.dataTransfer.setData(DRAG_TYPE, t.name);
              e.dataTransfer.effectAllowed = "copy";
            }}
          >
            <div className="dz-type-head">
              <span className="dz-type-name">{t.name}</span>
              <button type="button" className="dz-add" aria-label={`Add a ${t.name} task`} onClick={() => onAdd(t.name)}>
                +
              </button>
            </div>
            <div className="dz-type-desc">{t.description}</div>
            {t.unavailable && <div className="dz-type-why">{t.unavailable}</div>}
          </li>
        ))}
      </ul>
    </aside>
  );
}
