const express = require("express");

const router = express.Router();

router.get("/orders", (req, res) => res.json([]));
router.post("/orders", (req, res) => res.status(201).json(req.body));

module.exports = router;
