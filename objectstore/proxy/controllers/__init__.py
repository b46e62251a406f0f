"""The proxy's controllers: one class per path shape (account, container, object),
with a method per HTTP verb; ``base`` holds what they share, ``cors`` the CORS rules."""
