// A form generated from a JSON Schema, value in and value out: an object's properties
// as fields (required ones marked), strings (a select for `enum`, input types and
// placeholders from `format`), numbers, checkboxes, lists of scalars (rows added and
// removed), nested objects as groups, and raw JSON for anything else. It shows the
// messages it is given (`errors`, by JSON pointer: see `validate` and `errorsByField`
// in schema.ts) and validates nothing itself, so a caller decides when to show what.
// An emptied field is left out of the value (undefined), so `required` can catch it.
import { createContext, useCallback, useContext, useEffect, useId, useMemo, useRef, useState } from "react";
import type { JsonSchema } from "../../api/types";
import {
  FORMAT_EXAMPLES,
  childPath,
  deepEqual,
  fieldKind,
  isRequired,
  jsonText,
  numberText,
  parseJsonText,
  parseNumberText,
  typeHint,
  withKey,
  type FieldErrors,
} from "./schema";

export interface SchemaFormProps {
  schema: JsonSchema;
  value: unknown;
  onChange: (value: unknown) => void;
  /** Messages to show, by the pointer of the field (`""` for the whole form). */
  errors?: FieldErrors;
  /** Told the pointers of the raw-JSON fields whose text does not parse (their value
   * keeps the last text that did). */
  onParseErrors?: (paths: string[]) => void;
  disabled?: boolean;
  /** The label of the one field of a form whose schema is not an object of fields. */
  label?: string;
}

interface FormContext {
  id: (path: string) => string;
  errors: FieldErrors;
  reportParse: (path: string, error: string | null) => void;
}

const Ctx = createContext<FormContext>({ id: (p) => p, errors: {}, reportParse: () => {} });

export function SchemaForm({ schema, value, onChange, errors = {}, onParseErrors, disabled, label }: SchemaFormProps) {
  const base = useId();
  const parse = useRef(new Map<string, string>());
  const told = useRef(onParseErrors);
  told.current = onParseErrors;
  const reportParse = useCallback((path: string, error: string | null) => {
    const had = parse.current.has(path);
    if (error) parse.current.set(path, error);
    else parse.current.delete(path);
    if (had !== Boolean(error)) told.current?.([...parse.current.keys()]);
  }, []);
  const ctx = useMemo<FormContext>(
    () => ({ id: (path) => `sf${base.replace(/[^A-Za-z0-9]/g, "")}-${domSafe(path)}`, errors, reportParse }),
    [base, errors, reportParse],
  );
  const kind = fieldKind(schema);
  return (
    <Ctx.Provider value={ctx}>
      <fieldset className="schema-form" disabled={disabled}>
        {kind === "object" ? (
          <>
            <Errors path="" />
            <Fields schema={schema} path="" value={value} onChange={onChange} />
          </>
        ) : (
          <Field name={label ?? "Value"} schema={schema} path="" value={value} onChange={onChange} required />
        )}
      </fieldset>
    </Ctx.Provider>
  );
}

/** A pointer as an id fragment (ids must not hold spaces). */
function domSafe(path: string): string {
  return path.replace(/[^A-Za-z0-9_-]/g, (c) => `_${c.charCodeAt(0).toString(16)}`);
}

interface FieldProps {
  schema: JsonSchema;
  path: string;
  value: unknown;
  onChange: (v: unknown) => void;
}

/** The properties of an object schema, one field each. */
function Fields({ schema, path, value, onChange }: FieldProps) {
  const obj = value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  return (
    <div className="sf-fields">
      {Object.entries(schema.properties ?? {}).map(([name, child]) => (
        <Field
          key={name}
          name={name}
          schema={child}
          path={childPath(path, name)}
          value={obj[name]}
          required={isRequired(schema, name)}
          onChange={(v) => onChange(withKey(value, name, v))}
        />
      ))}
    </div>
  );
}

function Errors({ path, id }: { path: string; id?: string }) {
  const messages = useContext(Ctx).errors[path];
  if (!messages?.length) return null;
  return (
    <ul className="sf-errors" id={id}>
      {messages.map((m) => (
        <li key={m}>{m}</li>
      ))}
    </ul>
  );
}

function Field({ name, required, ...p }: FieldProps & { name: string; required: boolean }) {
  const ctx = useContext(Ctx);
  const kind = fieldKind(p.schema);
  const id = ctx.id(p.path);
  const title = typeof p.schema.title === "string" ? p.schema.title : name;
  if (kind === "object") {
    const obj = p.value;
    return (
      <fieldset className="sf-group" data-path={p.path}>
        <legend>
          {title}
          {required && <Required />}
        </legend>
        {p.schema.description && <div className="sf-desc">{p.schema.description}</div>}
        <Errors path={p.path} />
        <Fields
          {...p}
          value={obj}
          onChange={(v) => {
            // An optional group emptied is left out, like an emptied field.
            const empty = v !== null && typeof v === "object" && Object.keys(v).length === 0;
            p.onChange(empty && !required ? undefined : v);
          }}
        />
      </fieldset>
    );
  }
  const invalid = Boolean(ctx.errors[p.path]?.length);
  return (
    <div className={`sf-field sf-${kind}`} data-path={p.path}>
      <div className="sf-head">
        <label htmlFor={id} id={`${id}-label`}>
          {title}
        </label>
        {required && <Required />}
        <span className="sf-type">{typeHint(p.schema)}</span>
      </div>
      {kind === "array" ? (
        <ArrayField {...p} name={title} required={required} labelledBy={`${id}-label`} />
      ) : (
        <Input {...p} kind={kind} id={id} required={required} invalid={invalid} />
      )}
      {p.schema.description && <div className="sf-desc">{p.schema.description}</div>}
      <Errors path={p.path} id={`${id}-errors`} />
    </div>
  );
}

function Required() {
  return (
    <span className="sf-required" title="required" aria-hidden="true">
      *
    </span>
  );
}

interface InputProps extends FieldProps {
  kind: string;
  id: string;
  required: boolean;
  invalid: boolean;
  /** In a list row: an emptied text stays "" (the row is there). */
  inRow?: boolean;
}

/** One scalar (or raw JSON) input. */
function Input(p: InputProps) {
  const aria = {
    id: p.id,
    "aria-invalid": p.invalid || undefined,
    "aria-describedby": p.invalid ? `${p.id}-errors` : undefined,
    "aria-required": p.required || undefined,
  };
  switch (p.kind) {
    case "enum":
      return <EnumInput {...p} aria={aria} />;
    case "boolean":
      return (
        <input
          type="checkbox"
          {...aria}
          checked={p.value === true}
          onChange={(e) => p.onChange(e.target.checked)}
        />
      );
    case "number":
    case "integer":
      return <NumberInput {...p} aria={aria} />;
    case "string": {
      const format = typeof p.schema.format === "string" ? p.schema.format : "";
      const type = format === "date" ? "date" : format === "email" ? "email" : format === "uri" ? "url" : "text";
      const long = typeof p.schema.maxLength === "number" && p.schema.maxLength > 200;
      const text = typeof p.value === "string" ? p.value : p.value === undefined || p.value === null ? "" : String(p.value);
      const change = (t: string) => p.onChange(t === "" && !p.inRow ? undefined : t);
      return long ? (
        <textarea {...aria} rows={3} value={text} onChange={(e) => change(e.target.value)} />
      ) : (
        <input
          type={type}
          {...aria}
          value={text}
          placeholder={FORMAT_EXAMPLES[format] ?? (typeof p.schema.default === "string" ? p.schema.default : "")}
          onChange={(e) => change(e.target.value)}
        />
      );
    }
    default:
      return <JsonInput {...p} aria={aria} />;
  }
}

type Aria = Record<string, string | boolean | undefined>;

function EnumInput(p: InputProps & { aria: Aria }) {
  const options = (p.schema.enum ?? []) as unknown[];
  const index = options.findIndex((o) => deepEqual(o, p.value));
  return (
    <select {...p.aria} value={index < 0 ? "" : String(index)} onChange={(e) => p.onChange(e.target.value === "" ? undefined : options[Number(e.target.value)])}>
      {(index < 0 || !p.required) && <option value="">—</option>}
      {options.map((o, i) => (
        <option key={i} value={String(i)}>
          {typeof o === "string" ? o : JSON.stringify(o)}
        </option>
      ))}
    </select>
  );
}

/** Text kept beside a value: what was typed stays as typed while it stands for the
 * same value, and follows the value when it changes from outside. */
function useText<T>(value: unknown, toText: (v: unknown) => string, read: (t: string) => T, same: (r: T, v: unknown) => boolean) {
  const [text, setText] = useState(() => toText(value));
  const [seen, setSeen] = useState<unknown>(value);
  if (!deepEqual(seen, value)) {
    setSeen(value);
    if (!same(read(text), value)) setText(toText(value));
  }
  return [text, setText, setSeen] as const;
}

function NumberInput(p: InputProps & { aria: Aria }) {
  const [text, setText, setSeen] = useText(p.value, numberText, parseNumberText, (r, v) => deepEqual(r, v));
  const min = typeof p.schema.minimum === "number" ? p.schema.minimum : undefined;
  const max = typeof p.schema.maximum === "number" ? p.schema.maximum : undefined;
  return (
    <input
      type="text"
      inputMode={p.kind === "integer" ? "numeric" : "decimal"}
      {...p.aria}
      value={text}
      placeholder={min !== undefined && max !== undefined ? `${min}–${max}` : ""}
      onChange={(e) => {
        setText(e.target.value);
        const v = parseNumberText(e.target.value);
        const out = v === undefined && p.inRow ? null : v;
        setSeen(out);
        p.onChange(out);
      }}
    />
  );
}

function JsonInput(p: InputProps & { aria: Aria }) {
  const { reportParse } = useContext(Ctx);
  const [text, setText, setSeen] = useText(
    p.value,
    jsonText,
    parseJsonText,
    (r, v) => r.ok && deepEqual(r.value, v),
  );
  const parsed = parseJsonText(text);
  const error = parsed.ok ? null : parsed.error;
  useEffect(() => {
    reportParse(p.path, error);
  }, [p.path, error, reportParse]);
  useEffect(() => () => reportParse(p.path, null), [p.path, reportParse]);
  return (
    <>
      <textarea
        {...p.aria}
        aria-invalid={p.invalid || Boolean(error) || undefined}
        className="mono"
        spellCheck={false}
        rows={Math.min(10, Math.max(3, text.split("\n").length))}
        value={text}
        placeholder={p.schema.type === "array" ? "[ ]" : p.schema.type === "object" ? "{ }" : "JSON"}
        onChange={(e) => {
          setText(e.target.value);
          const r = parseJsonText(e.target.value);
          if (r.ok) {
            setSeen(r.value);
            p.onChange(r.value);
          }
        }}
      />
      {error && <div className="sf-parse-error">{error}</div>}
    </>
  );
}

/** A list of scalars: a row per item, each removable, and a button to add one. */
function ArrayField(p: FieldProps & { name: string; required: boolean; labelledBy: string }) {
  const ctx = useContext(Ctx);
  const items = Array.isArray(p.value) ? p.value : [];
  const itemSchema = (p.schema.items ?? {}) as JsonSchema;
  const kind = fieldKind(itemSchema);
  const set = (next: unknown[]) => p.onChange(next.length === 0 && !p.required ? undefined : next);
  const blank = (): unknown => {
    if (itemSchema.default !== undefined) return itemSchema.default;
    if (kind === "boolean") return false;
    if (kind === "enum") return (itemSchema.enum ?? [])[0];
    if (kind === "string") return "";
    return null;
  };
  return (
    <div className="sf-list" role="group" aria-labelledby={p.labelledBy}>
      {items.map((item, i) => {
        const path = childPath(p.path, i);
        const id = ctx.id(path);
        const invalid = Boolean(ctx.errors[path]?.length);
        return (
          <div className="sf-row" key={i} data-path={path}>
            <Input
              schema={itemSchema}
              kind={kind}
              path={path}
              id={id}
              value={item}
              required
              invalid={invalid}
              inRow
              onChange={(v) => set(items.map((x, j) => (j === i ? v : x)))}
            />
            <button
              type="button"
              className="sf-remove"
              aria-label={`Remove ${p.name} ${i + 1}`}
              title="Remove"
              onClick={() => set(items.filter((_, j) => j !== i))}
            >
              ×
            </button>
            <Errors path={path} id={`${id}-errors`} />
          </div>
        );
      })}
      <button type="button" className="sf-add" onClick={() => set([...items, blank()])} aria-label={`Add ${p.name}`}>
        + Add
      </button>
    </div>
  );
}
