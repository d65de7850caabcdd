// Placeholder until this page is built.
export default function WorkflowsPage() {
  return <div>Not built yet.</div>;
}
