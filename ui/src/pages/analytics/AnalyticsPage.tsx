// Placeholder until this page is built.
export default function AnalyticsPage() {
  return <div>Not built yet.</div>;
}
