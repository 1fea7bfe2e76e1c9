"""The HTTP adapter: the FastAPI app, routes per capability, the web application's assets."""
