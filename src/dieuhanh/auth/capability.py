"""The auth capability: accounts bound to units, sessions and tokens, who a request comes from."""

from __future__ import annotations

from dieuhanh.auth import cli, models, pages, principal, routes
from dieuhanh.core.capability import Capability
from dieuhanh.units.pages import UNIT_PAGE_CONTEXT

CAPABILITY = Capability(
    name="auth",
    package="dieuhanh.auth",
    title="Accounts, sessions and tokens",
    models=(models,),
    api_routers=(routes.public, routes.router, routes.users),
    page_routers=(pages.router,),
    nav=tuple(pages.NAV),
    contributes={UNIT_PAGE_CONTEXT: (pages.unit_members,)},
    cli=cli.users,
    resolve_principal=principal.resolve_principal,
)
