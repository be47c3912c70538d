"""Routing and queues (M5): rules that route new incidents, department queues, claims,
assignment and the board's figures.
"""
