"""The support desk's API: customers' tickets, the agents who answer them, and their replies."""
