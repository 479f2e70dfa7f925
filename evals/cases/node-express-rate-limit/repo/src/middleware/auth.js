function requireApiKey(req, res, next) {
  const key = req.get("X-Api-Key");
  if (!key) {
    return res.status(401).json({ error: "missing API key" });
  }
  req.apiKey = key;
  return next();
}

module.exports = { requireApiKey };
