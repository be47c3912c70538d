"""Who and what the desk knows: agents and departments, customers and contacts, units and
contracts, codes and event types.
"""
