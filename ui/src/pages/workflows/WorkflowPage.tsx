// Placeholder until this page is built.
export default function WorkflowPage() {
  return <div>Not built yet.</div>;
}
