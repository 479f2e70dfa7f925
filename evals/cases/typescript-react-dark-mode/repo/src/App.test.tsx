import { describe, expect, it } from "vitest";
import { light } from "./theme/colors";

describe("theme", () => {
  it("has a light palette", () => {
    expect(light.background).toBe("#ffffff");
  });
});
