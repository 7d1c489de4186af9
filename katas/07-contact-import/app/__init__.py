"""The newsletter tool's backend: audiences, their contacts, and the imports that fill them."""
