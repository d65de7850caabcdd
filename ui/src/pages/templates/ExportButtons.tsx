// Export templates as a file: the export document (`GET /api/templates/export`) read
// with the token, put in a Blob, and saved through a download link (clicked at once,
// and left on the page to save it again).
import { useEffect, useState } from "react";
import { ErrorBox } from "../../components/ErrorBox";
import { exportText } from "./http";
import { exportFileName } from "./logic";

interface Made {
  url: string;
  file: string;
  bytes: number;
}

/** Saves `text` as `file`: a Blob link, clicked. Returns the link's URL (revoke it when done). */
export function saveText(text: string, file: string, type: string): string {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = file;
  document.body.appendChild(a);
  a.click();
  a.remove();
  return url;
}

function sizeText(n: number): string {
  return n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} kB`;
}

/** Buttons exporting `names` (empty: every template) as YAML or JSON. */
export function ExportButtons({ names, label = "Export" }: { names: string[]; label?: string }) {
  const [made, setMade] = useState<Made | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => () => {
    if (made) URL.revokeObjectURL(made.url);
  }, [made]);
  const run = async (format: "yaml" | "json") => {
    setBusy(true);
    setError(null);
    try {
      const text = await exportText(names, format);
      const file = exportFileName(names, format);
      const url = saveText(text, file, format === "json" ? "application/json" : "application/yaml");
      setMade({ url, file, bytes: new Blob([text]).size });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="tpl-export">
      <button type="button" onClick={() => run("yaml")} disabled={busy}>
        {label} YAML
      </button>
      <button type="button" onClick={() => run("json")} disabled={busy}>
        {label} JSON
      </button>
      {made && (
        <a href={made.url} download={made.file} className="tpl-export-link">
          {made.file} <span className="muted">({sizeText(made.bytes)})</span>
        </a>
      )}
      <ErrorBox error={error} />
    </span>
  );
}
