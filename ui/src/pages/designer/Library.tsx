// The task library: the server's task types, each draggable onto the canvas (or added
// with its "+" button) as a task of the block chosen above them (`tasks`, or a handler
// block); a type the server cannot run is greyed, with the reason.
import type { TaskType } from "./api";
import { DRAG_TYPE } from "./Canvas";
import { BLOCKS, type Block } from "./model";

const BLOCK_LABELS: Record<Block, string> = {
  tasks: "tasks",
  on_failure: "on_failure (when it fails)",
  on_success: "on_success (when it succeeds)",
  finally: "finally (in any case)",
};

export interface LibraryProps {
  types: TaskType[] | null;
  onAdd: (type: string) => void;
  block: Block;
  onBlock: (b: Block) => void;
}

export function Library({ types, onAdd, block, onBlock }: LibraryProps) {
  return (
    <aside className="dz-library" aria-label="Task library">
      <h2>Task types</h2>
      <label className="dz-block-pick" title="Handlers run once every task has ended, by the execution's outcome">
        Add to{" "}
        <select name="add-to" value={block} onChange={(e) => onBlock(e.target.value as Block)}>
          {BLOCKS.map((b) => (
            <option key={b} value={b}>
              {BLOCK_LABELS[b]}
            </option>
          ))}
        </select>
      </label>
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
