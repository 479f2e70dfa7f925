const request = require("supertest");
const { app } = require("../src/app");

test("lists orders with a key", async () => {
  const res = await request(app).get("/v1/orders").set("X-Api-Key", "k1");
  expect(res.status).toBe(200);
});
