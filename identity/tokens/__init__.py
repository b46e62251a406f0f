"""Tokens: the Fernet key repository, the payload format and the token provider."""
