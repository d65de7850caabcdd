// The definition as YAML text, both ways. Parsing: the `yaml` package (YAML 1.2), a
// parse error with its line. Emitting: when there is a previous text, its Document is
// edited in place to match the new definition (so comments, key order and the styles
// of untouched values survive canvas edits); otherwise fresh block-style YAML, with
// flow style for short lists of scalars and double quotes on strings YAML (or a
// reader) could misread: `${ }` expressions, yes/no/on/off, numbers, `: `, a leading
// indicator.
import { Document, isMap, isNode, isScalar, isSeq, parseDocument, visit, type Node, Scalar, YAMLSeq, YAMLMap } from "yaml";
import type { Definition } from "./model";
import { deepEqual } from "../workflows/schema";

export type Parsed = { ok: true; def: Definition } | { ok: false; error: string; line: number | null };

/** Parses YAML (or JSON) text into a definition. */
export function parseDefinition(text: string): Parsed {
  const doc = parseDocument(text);
  const err = doc.errors[0];
  if (err) {
    const line = err.linePos?.[0]?.line ?? null;
    return { ok: false, error: err.message.split("\n")[0], line };
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return { ok: true, def: {} };
  if (typeof value !== "object" || Array.isArray(value)) return { ok: false, error: "a workflow is a mapping (name:, tasks:, …)", line: 1 };
  return { ok: true, def: value as Definition };
}

const RISKY_WORDS = /^(y|n|yes|no|on|off|true|false|null|~)$/i;
const NUMBERISH = /^[-+]?(\.?\d|\.inf|\.nan)|^0[xo]/i;

/** Whether a string is quoted when emitted fresh. */
export function needsQuotes(s: string): boolean {
  return (
    s === "" ||
    s.includes("${") ||
    RISKY_WORDS.test(s) ||
    NUMBERISH.test(s) ||
    s.includes(": ") ||
    s.endsWith(":") ||
    s.includes(" #") ||
    /^[\s]|[\s]$/.test(s) ||
    /^[*&!%@`'"|>{}[\],#?:-]/.test(s)
  );
}

const SHORT_LIST = 60;

/** A fresh node for a value, styled as described above. */
function styled(doc: Document, value: unknown): Node {
  const node = doc.createNode(value) as Node;
  visit(node, {
    Seq(_, seq) {
      const items = seq.items;
      const scalars = items.every((i) => isScalar(i) && !(typeof i.value === "string" && i.value.includes("\n")));
      const len = items.reduce<number>((n, i) => n + String(isScalar(i) ? i.value : "").length + 2, 0);
      if (scalars && len <= SHORT_LIST) seq.flow = true;
    },
    Scalar(_, s) {
      if (typeof s.value !== "string") return;
      // Not a block literal when only whitespace: the yaml package writes ` \n` as
      // `|+` with no indentation indicator, which reads back as `\n`.
      if (s.value.includes("\n") && /\S/.test(s.value)) s.type = Scalar.BLOCK_LITERAL;
      else if (s.value.includes("\n")) s.type = Scalar.QUOTE_DOUBLE;
      else if (needsQuotes(s.value)) s.type = Scalar.QUOTE_DOUBLE;
    },
  });
  return node;
}

function keyOf(k: unknown): string {
  return isScalar(k) ? String(k.value) : String(k);
}

function plainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function sameScalar(a: unknown, b: unknown): boolean {
  return a === b || (typeof a === "number" && typeof b === "number" && Number.isNaN(a) && Number.isNaN(b));
}

/** `node` edited to stand for `value`, or a fresh node when its kind changed. */
function sync(doc: Document, node: unknown, value: unknown): Node {
  // An empty collection that gains items is written afresh (`{}` would stay flow style).
  if ((isMap(node) || isSeq(node)) && node.items.length === 0) {
    const fresh = styled(doc, value);
    (fresh as Scalar).commentBefore = node.commentBefore;
    (fresh as Scalar).comment = node.comment;
    return fresh;
  }
  if (isMap(node) && plainObject(value)) {
    syncMap(doc, node, value);
    return node;
  }
  if (isSeq(node) && Array.isArray(value)) {
    syncSeq(doc, node, value);
    return node;
  }
  if (isScalar(node) && (value === null || typeof value !== "object")) {
    if (sameScalar(node.value, value)) return node;
    const fresh = styled(doc, value) as Scalar;
    fresh.comment = node.comment;
    fresh.commentBefore = node.commentBefore;
    return fresh;
  }
  const fresh = styled(doc, value);
  // Its comments, the end-of-line one too (`needs: a # why` becoming a list keeps it).
  if (isNode(node)) {
    (fresh as Scalar).commentBefore = node.commentBefore;
    (fresh as Scalar).comment = node.comment;
  }
  return fresh;
}

function syncMap(doc: Document, map: YAMLMap, value: Record<string, unknown>): void {
  const wanted = Object.keys(value);
  const present = map.items.map((p) => keyOf(p.key));
  // Own keys only: a task named `constructor` or `toString` is not on every object.
  const removed = present.filter((k) => !Object.hasOwn(value, k));
  const added = wanted.filter((k) => !present.includes(k));
  // One key gone and one new: a rename, kept in place (with its comments).
  if (removed.length === 1 && added.length === 1) {
    const pair = map.items.find((p) => keyOf(p.key) === removed[0])!;
    if (isScalar(pair.key)) pair.key.value = added[0];
    else pair.key = doc.createNode(added[0]);
    added.length = 0;
    removed.length = 0;
  }
  map.items = map.items.filter((p) => !removed.includes(keyOf(p.key)));
  for (const pair of map.items) {
    const k = keyOf(pair.key);
    pair.value = sync(doc, pair.value, value[k]);
  }
  for (const k of added) {
    const pair = doc.createPair(k, null) as never;
    // A task's new `needs` goes before its `type`, as the docs write it.
    const at = k === "needs" ? map.items.findIndex((p) => keyOf(p.key) === "type") : -1;
    if (at >= 0) map.items.splice(at, 0, pair);
    else map.items.push(pair);
  }
  for (const pair of map.items) {
    const k = keyOf(pair.key);
    if (added.includes(k)) pair.value = styled(doc, value[k]);
  }
}

function syncSeq(doc: Document, seq: YAMLSeq, value: unknown[]): void {
  const items = seq.items.slice(0, value.length);
  for (let i = 0; i < value.length; i++) items[i] = i < seq.items.length ? sync(doc, seq.items[i], value[i]) : styled(doc, value[i]);
  seq.items = items;
  // A flow list grown long goes back to block style.
  if (seq.flow && items.some((x) => !isScalar(x))) seq.flow = false;
}

/** The definition as YAML: `previous` edited in place when it parses, else fresh. */
export function toYaml(def: Definition, previous?: string): string {
  if (previous !== undefined && previous.trim() !== "" && !/^\s*[{[]/.test(previous)) {
    const doc = parseDocument(previous);
    if (doc.errors.length === 0 && isMap(doc.contents)) {
      // Nothing changed: the text as it is (the yaml package does not keep the
      // spacing before end-of-line comments).
      if (deepEqual(doc.toJS(), def)) return previous;
      doc.contents = sync(doc, doc.contents, def) as typeof doc.contents;
      return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
    }
  }
  const doc = new Document();
  doc.contents = styled(doc, def) as typeof doc.contents;
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}
