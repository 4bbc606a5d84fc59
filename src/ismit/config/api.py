"""The JSON API under /api/v1: one router per app, mounted here.

OpenAPI document: /api/v1/openapi.json; interactive documentation: /api/v1/docs (swagger-ui served from
django-ninja's own static files, so it works offline).
"""

from django.conf import settings
from ninja import Swagger

from ismit.accounts.api import AUTH
from ismit.accounts.api import router as accounts_router
from ismit.compliance.api import router as compliance_router
from ismit.customs.api import router as customs_router
from ismit.documents.api import router as documents_router
from ismit.finance.api import router as finance_router
from ismit.lib.api import ProblemAPI, install_problem_handlers
from ismit.logistics.api import router as logistics_router
from ismit.marketplace.api import router as marketplace_router
from ismit.marketplace.catalogue_api import router as catalogue_router
from ismit.refdata.api import router as refdata_router
from ismit.tracking.api import router as tracking_router
from ismit.trades.api import router as trades_router
from ismit.trades.bulk_api import router as bulk_router
from ismit.trades.grants_api import router as grants_router

DESCRIPTION = """
The JSON API of ISMIT: everything the pages do, for programs.

**Authentication.** Create a personal access token with `POST /api/v1/auth/tokens` (e-mail and password;
the token is shown once) and send it as `Authorization: Bearer <token>`. Browser pages may instead use
their signed-in session; unsafe methods then need the CSRF token in the `X-CSRFToken` header.

**Organisation.** A new object is made for the organisation named in the payload (`organisation`), else in
the `X-ISMIT-Organisation: <id>` header, else for your first organisation where you may make changes.

**Errors** are RFC 9457 `application/problem+json` documents with `type`, `title`, `status`, `detail`,
`instance`, and for 422 `errors: [{"field": "items[0].hs_code", "message": "…"}]`, in the language of the
`Accept-Language` header. An object you may not see answers **404**, as if it did not exist; an object you
may see but not change (a read-only member, an action reserved to owners or operators) answers **403**.

**Lists** are pages: `{count, next, previous, results}`; `?page=`, `?page_size=` (at most 200).
Decimals are JSON strings; dates and times are ISO 8601.
"""

api = ProblemAPI(
    title="ISMIT API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=AUTH,
    docs=Swagger(settings={"validatorUrl": None}),  # no call to validator.swagger.io: works offline
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_problem_handlers(api)

api.add_router("/", accounts_router)
api.add_router("/refdata", refdata_router)
api.add_router("/trades/imports", bulk_router)
api.add_router("/", grants_router)  # absolute paths: /trades/{trade_id}/grants…
api.add_router("/trades", trades_router)
api.add_router("/", compliance_router)
api.add_router("/", documents_router)
api.add_router("/", customs_router)
api.add_router("/", finance_router)
api.add_router("/", marketplace_router)
api.add_router("/", catalogue_router)
api.add_router("/", logistics_router)
api.add_router("/", tracking_router)

if settings.BENCH_ENDPOINTS:  # `make bench` only: the baseline endpoint that API figures are compared to
    from ismit.config.bench import router as bench_router

    api.add_router("/bench", bench_router)
