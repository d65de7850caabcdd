// Placeholder until this page is built.
export default function TriggersPage() {
  return <div>Not built yet.</div>;
}
