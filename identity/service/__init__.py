"""The identity service layer: business rules over the identity database."""
