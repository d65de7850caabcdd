// Template mode's own fields, shown when no task is selected: the template's name,
// description, tags, category, and its parameters schema (the inputs table of the
// workflow mode, keywords it does not edit kept).
import { useState } from "react";
import type { Diagnostic } from "./api";
import { under } from "./diagnostics";
import type { Definition } from "./model";
import { parseTags, setTemplateField } from "./templateDoc";
import { SchemaTable } from "./WorkflowPanel";

export interface TemplatePanelProps {
  doc: Definition;
  diagnostics: Diagnostic[];
  onChange: (doc: Definition, tag: string) => void;
}

const str = (v: unknown) => (typeof v === "string" ? v : "");

function Errors({ list }: { list: Diagnostic[] }) {
  if (!list.length) return null;
  return (
    <ul className="sf-errors dz-field-errors">
      {list.map((d, i) => (
        <li key={i}>{d.message}</li>
      ))}
    </ul>
  );
}

/** The tags as `a, b`: the text kept as typed while it means the same tags. */
function TagsField({ tags, onChange }: { tags: string[]; onChange: (tags: string[]) => void }) {
  const [text, setText] = useState(tags.join(", "));
  if (parseTags(text).join("\u0000") !== tags.join("\u0000")) setText(tags.join(", "));
  return (
    <input
      type="text"
      name="template-tags"
      aria-label="Template tags"
      placeholder="a, b"
      value={text}
      onChange={(e) => {
        setText(e.target.value);
        onChange(parseTags(e.target.value));
      }}
    />
  );
}

export function TemplatePanel({ doc, diagnostics, onChange }: TemplatePanelProps) {
  const set = (key: string) => (value: unknown) => onChange(setTemplateField(doc, key, value), key);
  const tags = Array.isArray(doc.tags) ? doc.tags.filter((t): t is string => typeof t === "string") : [];
  const field = (key: string, label: string) => (
    <label className="dz-row">
      <span className="dz-row-label">{label}</span>
      <input type="text" name={`template-${key}`} aria-label={`Template ${key}`} value={str(doc[key])} onChange={(e) => set(key)(e.target.value)} />
      <Errors list={under(diagnostics, key)} />
    </label>
  );
  return (
    <section className="dz-template-panel" aria-label="Template">
      {field("name", "Template name")}
      {field("description", "Description")}
      <label className="dz-row">
        <span className="dz-row-label">Tags</span>
        <TagsField tags={tags} onChange={set("tags")} />
        <Errors list={under(diagnostics, "tags")} />
      </label>
      {field("category", "Category")}
      <SchemaTable noun="Parameter" schema={doc.parameters} diagnostics={under(diagnostics, "parameters")} onChange={set("parameters")} />
    </section>
  );
}
