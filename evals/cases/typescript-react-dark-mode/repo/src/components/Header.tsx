export function Header() {
  return <header>Fleet</header>;
}
