const express = require("express");

const router = express.Router();
router.get("/stats", (req, res) => res.json({ uptime: process.uptime() }));

module.exports = router;
