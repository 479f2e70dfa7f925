export interface Palette {
  background: string;
  text: string;
  accent: string;
}

export const light: Palette = { background: "#ffffff", text: "#1b1f24", accent: "#0969da" };
