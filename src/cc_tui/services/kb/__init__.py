"""The knowledge base (M11): versioned articles, search, suggestions and Markdown files."""
