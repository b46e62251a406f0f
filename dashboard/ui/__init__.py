"""Building blocks every panel uses: tables, forms, formatting."""
