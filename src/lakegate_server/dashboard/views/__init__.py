"""Dashboard pages, one module per section; each view reads straight down:
authorize -> read (selectors) or write (services) -> render.

Every view starts with :func:`~lakegate_server.dashboard.access.authorize` (after
``login_required``). An htmx request to a page gets that page's partial (``template#partial``)
from the same view with the same context, so a partial can never skip the page's permission
check, and every page still works as a plain link without JavaScript.
"""
