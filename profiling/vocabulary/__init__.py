"""The ground floor every wing may use: canonical names (schema), plain-word labels (glossary), number, date and currency formats."""
