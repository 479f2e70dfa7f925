export function Settings() {
  return (
    <section>
      <h2>Settings</h2>
      <label>
        <input type="checkbox" /> Email alerts
      </label>
    </section>
  );
}
