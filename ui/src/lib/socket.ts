// A WebSocket that reconnects: after a drop it waits (1 s, doubling to 15 s) and
// opens again, and the caller's `onOpen` refreshes whatever the gap may have missed.
// A close with code 1000 (the server's "finished") is final.
import { useEffect, useRef } from "react";
import { wsUrl } from "../api/client";

export interface SocketHandlers {
  onMessage: (msg: any) => void;
  onOpen?: () => void;
  onFinal?: () => void;
}

export function useSocket(path: string | null, handlers: SocketHandlers): void {
  const ref = useRef(handlers);
  ref.current = handlers;
  useEffect(() => {
    if (!path) return;
    let socket: WebSocket | null = null;
    let stopped = false;
    let delay = 1000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const open = () => {
      socket = new WebSocket(wsUrl(path));
      socket.onopen = () => {
        delay = 1000;
        ref.current.onOpen?.();
      };
      socket.onmessage = (m) => {
        try {
          ref.current.onMessage(JSON.parse(String(m.data)));
        } catch {
          /* not JSON: ignore */
        }
      };
      socket.onclose = (e) => {
        if (stopped) return;
        if (e.code === 1000) {
          ref.current.onFinal?.();
          return;
        }
        timer = setTimeout(open, delay);
        delay = Math.min(delay * 2, 15000);
      };
    };
    open();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      socket?.close();
    };
  }, [path]);
}
