// A console route that does not exist.
import { Link } from "react-router";

export default function NotFound() {
  return (
    <div>
      <h1>Not found</h1>
      <p>
        There is no page here. Go to the <Link to="/executions">executions</Link>.
      </p>
    </div>
  );
}
