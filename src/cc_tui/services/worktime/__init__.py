"""Working time: the calendar arithmetic (pure) and calendars as data."""
