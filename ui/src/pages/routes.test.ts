import { describe, expect, it } from "vitest";
import { pageFor, pages } from "./routes";

describe("the page a path names", () => {
  it("follows the router's table", () => {
    expect(pageFor("/")).toBe(pages.executions);
    expect(pageFor("/executions/")).toBe(pages.executions);
    expect(pageFor("/executions/01a2-x")).toBe(pages.execution);
    expect(pageFor("/workflows")).toBe(pages.workflows);
    expect(pageFor("/workflows/city-report")).toBe(pages.workflow);
    expect(pageFor("/workflows/new")).toBe(pages.designer);
    expect(pageFor("/workflows/city-report/edit")).toBe(pages.designer);
    expect(pageFor("/triggers")).toBe(pages.triggers);
    expect(pageFor("/analytics")).toBe(pages.analytics);
    expect(pageFor("/templates")).toBe(pages.templates);
    expect(pageFor("/templates/etl")).toBe(pages.template);
    expect(pageFor("/templates/import")).toBe(pages.templateImport);
    expect(pageFor("/templates/_new")).toBe(pages.templateEditor);
    expect(pageFor("/templates/etl/edit")).toBe(pages.templateEditor);
    expect(pageFor("/templates/_new/design")).toBe(pages.designer);
    expect(pageFor("/templates/etl/design")).toBe(pages.designer);
    expect(pageFor("/executions/a/b")).toBe(pages.notFound);
  });
});
