"""HTTP entry points: Chalice blueprints. A handler parses, calls one service and renders."""
