// An API error as the console shows it: what failed, in the server's words.
import { ApiError } from "../api/client";

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const e = error as Error;
  const code = error instanceof ApiError ? error.code : "error";
  return (
    <div className="error-box" role="alert">
      <strong>{code}</strong>: {e.message ?? String(error)}
    </div>
  );
}
