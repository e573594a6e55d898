"""Profiles: per-user features and tags, RFM and cluster segments, users and neighbours, maps, the overview figures and risk."""
