// Completions of expression variables in text fields: typing `$` in a field inside
// (one that `accept`s) shows the variables valid there under it; arrows move, Enter
// or a click inserts (wrapped in `${ }` outside an expression), Escape closes. The
// fields stay whatever they are (controlled React inputs): the text is set through the
// native setter and an `input` event, so their own onChange sees it.
import { useRef, useState, type ReactNode } from "react";
import { filterVariables, insertVariable, wordAt } from "./variables";

type Field = HTMLInputElement | HTMLTextAreaElement;

interface Open {
  el: Field;
  start: number;
  caret: number;
  options: string[];
  active: number;
  top: number;
  left: number;
  width: number;
}

function isField(t: EventTarget | null): t is Field {
  const el = t as HTMLElement | null;
  if (!el) return false;
  if (el.tagName === "TEXTAREA") return true;
  return el.tagName === "INPUT" && ["text", "url", "search", ""].includes((el as HTMLInputElement).type);
}

function caretOf(el: Field): number {
  try {
    return el.selectionStart ?? el.value.length;
  } catch {
    return el.value.length;
  }
}

function setValue(el: Field, text: string, caret: number) {
  const proto = el.tagName === "TEXTAREA" ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
  Object.getOwnPropertyDescriptor(proto, "value")!.set!.call(el, text);
  el.dispatchEvent(new Event("input", { bubbles: true }));
  try {
    el.setSelectionRange(caret, caret);
  } catch {
    // type=url has no selection
  }
}

export function Completions({ vars, accept, children }: { vars: string[]; accept?: (el: Field) => boolean; children: ReactNode }) {
  const [open, setOpen] = useState<Open | null>(null);
  const box = useRef<HTMLDivElement>(null);

  const update = (el: Field) => {
    const caret = caretOf(el);
    const w = wordAt(el.value, caret);
    // `${` is the start of an expression, not a variable.
    if (!w || el.value[w.start + 1] === "{") return setOpen(null);
    const options = filterVariables(vars, w.word);
    if (!options.length) return setOpen(null);
    const outer = box.current!.getBoundingClientRect();
    const r = el.getBoundingClientRect();
    setOpen({ el, start: w.start, caret, options, active: 0, top: r.bottom - outer.top, left: r.left - outer.left, width: r.width });
  };

  const pick = (o: Open, value: string) => {
    const next = insertVariable(o.el.value, o.start, o.caret, value);
    setOpen(null);
    setValue(o.el, next.text, next.caret);
    o.el.focus();
  };

  return (
    <div
      className="dz-completions-host"
      ref={box}
      // Bubbling, not capture: a state update between React's capture and bubble
      // dispatches would restore the controlled field's old value (a key lost).
      onInput={(e) => {
        if (isField(e.target) && (!accept || accept(e.target))) update(e.target);
      }}
      onKeyDownCapture={(e) => {
        if (!open || e.target !== open.el) return;
        if (e.key === "ArrowDown" || e.key === "ArrowUp") {
          const d = e.key === "ArrowDown" ? 1 : -1;
          setOpen({ ...open, active: (open.active + d + open.options.length) % open.options.length });
        } else if (e.key === "Enter" || e.key === "Tab") {
          pick(open, open.options[open.active]);
        } else if (e.key === "Escape") {
          setOpen(null);
        } else return;
        e.preventDefault();
        e.stopPropagation();
      }}
      onBlurCapture={(e) => {
        if (open && e.target === open.el) setOpen(null);
      }}
    >
      {children}
      {open && (
        <ul className="dz-completions" role="listbox" aria-label="Variables" style={{ top: open.top, left: open.left, minWidth: open.width }}>
          {open.options.map((v, i) => (
            <li
              key={v}
              role="option"
              aria-selected={i === open.active}
              className={i === open.active ? "dz-completion-active" : undefined}
              onMouseDown={(e) => {
                e.preventDefault();
                pick(open, v);
              }}
            >
              {v}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
