"""Legal hold from the case page: POST /web/cases/{ref}/hold (with a reason) and /release.

Same checks as the other case actions: a session, the owning team, a CSRF token.
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from bot.records.legal_hold import HoldRefused, place_hold, release_hold
from bot.web import common, forms


async def hold_action(request: web.Request) -> web.Response:
    found = await common.team_case(request)
    if isinstance(found, web.Response):
        return found
    visitor, kernel, case = found
    try:
        form = await forms.read_form(request, visitor, forms.HOLD_LIMITS)
    except forms.FormTooLarge as error:
        return await forms.form_again(request, visitor, case, error)
    if form is None:
        return common.form_expired(request)
    who = visitor.user.name or visitor.user.user_id
    verb = request.match_info["verb"]
    done = forms.RECORDED[verb][0]
    before = await kernel.work.run(forms.count_of, kernel, case.ref, done, visitor.actor.key)
    try:
        if request.match_info["verb"] == "hold":
            await kernel.work.run(
                place_hold,
                kernel,
                case.ref,
                form.get("text") or "",
                visitor.actor.key,
                who,
                actor=visitor.actor,
            )
        else:
            await kernel.work.run(
                release_hold, kernel, case.ref, visitor.actor.key, who, visitor.actor
            )
    except HoldRefused:
        pass  # nothing changed, as the page will say
    after = await kernel.work.run(forms.count_of, kernel, case.ref, done, visitor.actor.key)
    outcome = forms.done_key(verb, before, after)
    raise web.HTTPSeeOther(f"/web/cases/{case.ref}?" + urlencode({"done": outcome}))


def mount(app: web.Application) -> None:
    """Registered before the generic /web/cases/{ref}/{action} route, so it wins."""
    app.router.add_post(r"/web/cases/{ref}/{verb:hold|release}", hold_action)
