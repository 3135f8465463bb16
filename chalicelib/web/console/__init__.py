"""The operator's console (docs/console.md): server-rendered pages (Jinja2, autoescaped) with
htmx for the small dynamic parts, every asset served by the function itself."""
