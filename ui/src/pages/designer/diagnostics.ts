// Where the server's diagnostics belong: under a dotted path (`tasks.fetch.timeout`),
// as SchemaForm errors by JSON pointer (`tasks.fetch.with.url` → `/url`), and the
// offset of a line in the YAML text (to select it).
import type { FieldErrors } from "../workflows/schema";
import type { Diagnostic } from "./api";

/** The diagnostics under `prefix` (a dotted path), by the rest of their path. */
export function under(diags: Diagnostic[], prefix: string): Diagnostic[] {
  return diags.filter((d) => d.path === prefix || d.path.startsWith(`${prefix}.`));
}

/** Diagnostics of `tasks.x.with…` as SchemaForm errors, by JSON pointer. */
export function withErrors(diags: Diagnostic[], prefix: string): FieldErrors {
  const out: FieldErrors = {};
  for (const d of under(diags, prefix)) {
    const rest = d.path.slice(prefix.length).replace(/^\./, "");
    // "missing required parameter `url`" is about the url field.
    const missing = /missing required parameter `([^`]+)`/.exec(d.message);
    const pointer = rest ? `/${rest.split(".").join("/")}` : missing ? `/${missing[1]}` : "";
    (out[pointer] ??= []).push(d.message);
  }
  return out;
}

/** The range of characters of line `line` (1-based) of `text`. */
export function lineRange(text: string, line: number): [number, number] {
  let start = 0;
  for (let i = 1; i < line; i++) {
    const nl = text.indexOf("\n", start);
    if (nl < 0) return [text.length, text.length];
    start = nl + 1;
  }
  const end = text.indexOf("\n", start);
  return [start, end < 0 ? text.length : end];
}
