const express = require("express");
const { requireApiKey } = require("./middleware/auth");
const orders = require("./routes/orders");
const admin = require("./routes/admin");

const app = express();
app.use(express.json());
app.use("/admin", admin);
app.use("/v1", requireApiKey, orders);

module.exports = { app };
