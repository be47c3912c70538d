"""The demo data set: a seeded generator, its word lists and articles, and a bulk loader."""
