import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The console is served by `harmonia serve` from the binary (built assets in
// `dist/`, embedded at compile time). `npm run dev` proxies the API and the
// WebSockets to a server on 127.0.0.1:8007.
const server = process.env.HARMONIA_URL ?? "http://127.0.0.1:8007";

export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      "/api": server,
      "/ws": { target: server.replace(/^http/, "ws"), ws: true },
    },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
  },
});
