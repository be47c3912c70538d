"""Work orders (M10): templates, transfers of action requests, the order's lifecycle."""
