// The app shell: the navigation bar, and the login gate. The server tells whether a
// token is needed (a 401 on any request); the token a user enters is checked against
// the server before it is kept, in session storage (gone when the tab closes).
import { useEffect, useState, type ReactNode } from "react";
import { NavLink } from "react-router";
import { ApiError, api, getToken, onUnauthorized, setToken } from "./api/client";

type Gate = "checking" | "open" | "login";

export function Shell({ children }: { children: ReactNode }) {
  const [gate, setGate] = useState<Gate>("checking");
  const [reason, setReason] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    api
      .get("/api/workflows", { limit: 1 })
      .then(() => live && setGate("open"))
      .catch((e) => {
        if (!live) return;
        if (e instanceof ApiError && e.status === 401) {
          setReason(getToken() ? "Your token is no longer valid." : null);
          setGate("login");
        } else setGate("open");
      });
    const off = onUnauthorized(() => {
      setReason("The server asked for a token.");
      setGate("login");
    });
    return () => {
      live = false;
      off();
    };
  }, []);

  if (gate === "checking") return <div className="loading">Connecting…</div>;
  if (gate === "login")
    return (
      <Login
        reason={reason}
        onDone={() => {
          setReason(null);
          setGate("open");
        }}
      />
    );
  return (
    <div className="shell">
      <nav className="topbar">
        <span className="brand">Harmonia</span>
        <NavLink to="/executions">Executions</NavLink>
        <NavLink to="/workflows">Workflows</NavLink>
        <NavLink to="/templates">Templates</NavLink>
        <NavLink to="/triggers">Triggers</NavLink>
        <NavLink to="/analytics">Analytics</NavLink>
        <span className="spacer" />
        <a href="/docs" target="_blank" rel="noreferrer">
          API
        </a>
        {getToken() && (
          <button
            className="link"
            onClick={() => {
              setToken(null);
              setGate("login");
            }}
          >
            Log out
          </button>
        )}
      </nav>
      <main className="page">{children}</main>
    </div>
  );
}

function Login({ reason, onDone }: { reason: string | null; onDone: () => void }) {
  const [token, setValue] = useState("");
  const [error, setError] = useState<string | null>(reason);
  const [busy, setBusy] = useState(false);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setToken(token.trim());
    try {
      await api.get("/api/workflows", { limit: 1 });
      onDone();
    } catch (err) {
      setToken(null);
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="login">
      <form onSubmit={submit} aria-label="Log in">
        <h1>Harmonia</h1>
        <p>This server needs an API token.</p>
        <label>
          Token
          <input
            name="token"
            type="password"
            autoComplete="off"
            autoFocus
            value={token}
            onChange={(e) => setValue(e.target.value)}
            placeholder="hm_…"
          />
        </label>
        {error && (
          <div className="error-box" role="alert">
            {error}
          </div>
        )}
        <button type="submit" disabled={busy || !token.trim()}>
          Log in
        </button>
        <p className="hint">
          Create one with <code>harmonia token create --role operator --name NAME</code>.
        </p>
      </form>
    </div>
  );
}
