// Requests the JSON client (api/client.ts) does not make: a template's text sent as
// it is (YAML or JSON, with the content type that says which), and an export read
// as text. The same token and the same errors (ApiError) as every other request; a
// 401 is told to the shell by asking again through the client, which tells it.
import { ApiError, getToken, request, withQuery } from "../../api/client";
import { contentTypeOf } from "./logic";

async function raw(method: string, path: string, query: Record<string, string | boolean | string[] | undefined>, body?: string): Promise<string> {
  const headers: Record<string, string> = { Accept: "application/json, application/yaml" };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = contentTypeOf(body);
  let res: Response;
  try {
    res = await fetch(withQuery(path, query), { method, headers, body });
  } catch (e) {
    throw new ApiError(0, "network", `cannot reach the server: ${(e as Error).message}`);
  }
  const text = await res.text();
  if (!res.ok) {
    if (res.status === 401) request("/api/templates", { query: { limit: 1 } }).catch(() => {});
    let err: { code?: string; message?: string; details?: unknown } | undefined;
    try {
      err = (JSON.parse(text) as { error?: typeof err })?.error;
    } catch {
      err = undefined;
    }
    throw new ApiError(res.status, err?.code ?? `http_${res.status}`, err?.message ?? (text || res.statusText), err?.details);
  }
  return text;
}

/** Sends `text` (a template, a Tekton file, an export document) and reads the JSON answer. */
export async function sendText<T>(method: "POST" | "PUT", path: string, text: string, query: Record<string, string | boolean | undefined> = {}): Promise<T> {
  return JSON.parse(await raw(method, path, query, text)) as T;
}

/** The export document of `names` (none: every template), as text. */
export function exportText(names: string[], format: "yaml" | "json"): Promise<string> {
  return raw("GET", "/api/templates/export", { name: names, format });
}
