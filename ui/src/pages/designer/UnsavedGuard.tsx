// Holds the user back from losing unsaved designer edits: leaving the page inside the
// console (a link, back) asks first; closing or reloading the tab gets the browser's
// own question. `dirty` says whether there is anything to lose; `released` is set by
// a save just before it navigates away (read when the navigation happens, not when the
// page last rendered).
import { useEffect, type RefObject } from "react";
import { useBlocker } from "react-router";
import { Dialog } from "../execution/Dialog";

export function UnsavedGuard({ dirty, released, what }: { dirty: boolean; released: RefObject<boolean>; what: string }) {
  const blocker = useBlocker(({ currentLocation, nextLocation }) => dirty && !released.current && currentLocation.pathname !== nextLocation.pathname);

  useEffect(() => {
    if (!dirty) return;
    const onUnload = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = "";
    };
    window.addEventListener("beforeunload", onUnload);
    return () => window.removeEventListener("beforeunload", onUnload);
  }, [dirty]);

  if (blocker.state !== "blocked") return null;
  return (
    <Dialog title="Leave without saving?" onClose={() => blocker.reset()}>
      <p>Your changes to {what} are not saved. They are lost if you leave.</p>
      <button type="button" className="primary" autoFocus onClick={() => blocker.reset()}>
        Stay
      </button>{" "}
      <button type="button" className="danger" onClick={() => blocker.proceed()}>
        Leave
      </button>
    </Dialog>
  );
}
