"""The refund desk of a web shop: customers ask for refunds on their orders, agents decide."""
