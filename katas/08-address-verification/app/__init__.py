"""The delivery platform's address book: customers' delivery addresses, checked with an outside geocoder."""
