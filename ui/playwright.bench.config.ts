// The console's benchmark (scripts/bench-ui.sh): the same chromium as the end-to-end
// tests, against a server the script filled, one measurement file.
import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

export default defineConfig({
  ...base,
  testDir: "bench",
  testMatch: "**/*.bench.ts",
  globalSetup: undefined,
  timeout: 300_000,
});
