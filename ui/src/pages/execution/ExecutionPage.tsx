// Placeholder until this page is built.
export default function ExecutionPage() {
  return <div>Not built yet.</div>;
}
