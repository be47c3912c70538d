"""E-mail intake (M12): parse, classify and thread inbound mail into incidents."""
