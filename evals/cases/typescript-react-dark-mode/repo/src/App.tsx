import { Header } from "./components/Header";
import { Settings } from "./components/Settings";
import { light } from "./theme/colors";

export function App() {
  return (
    <div style={{ background: light.background, color: light.text }}>
      <Header />
      <Settings />
    </div>
  );
}
