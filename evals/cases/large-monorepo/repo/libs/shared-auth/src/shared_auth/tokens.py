def verify(token: str) -> bool:
    return bool(token)
