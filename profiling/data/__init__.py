"""Data in: reading and cleaning files (ingest), the Dataset, interactions, privacy transforms and the sample store generator."""
