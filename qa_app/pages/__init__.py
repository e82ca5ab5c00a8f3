"""The review app's server-rendered pages, one module per area, on the API's selectors and services."""
