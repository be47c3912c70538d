"""Telephony (M15): the call log, the events a telephone system reports, the webhook."""
