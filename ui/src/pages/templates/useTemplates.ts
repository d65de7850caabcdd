// Every template's latest version, following the cursor (pages of 500), read once
// per mount and again on `reload()`.
import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../../api/client";
import type { TemplateList, TemplateSummary } from "./types";

export async function loadAllTemplates(): Promise<TemplateSummary[]> {
  const out: TemplateSummary[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 50; i++) {
    const page = await api.get<TemplateList>("/api/templates", { limit: 500, cursor });
    out.push(...page.templates);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return out;
}

export function useTemplates(): { templates: TemplateSummary[] | null; error: unknown; reload: () => void } {
  const [templates, setTemplates] = useState<TemplateSummary[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const generation = useRef(0);
  const reload = useCallback(() => {
    const mine = ++generation.current;
    loadAllTemplates()
      .then((all) => {
        if (mine !== generation.current) return;
        setTemplates(all);
        setError(null);
      })
      .catch((e) => mine === generation.current && setError(e));
  }, []);
  useEffect(() => {
    reload();
    return () => {
      generation.current++;
    };
  }, [reload]);
  return { templates, error, reload };
}
