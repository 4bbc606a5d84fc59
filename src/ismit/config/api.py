"""The JSON API under /api/v1: one router per app, mounted here."""

from ninja import NinjaAPI

from ismit.accounts.api import router as accounts_router
from ismit.refdata.api import router as refdata_router
from ismit.trades.api import router as trades_router

api = NinjaAPI(title="ISMIT API", version="1", urls_namespace="api")
api.add_router("/", accounts_router)
api.add_router("/refdata", refdata_router)
api.add_router("/trades", trades_router)
