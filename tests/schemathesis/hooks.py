"""Schemathesis hooks for tests/schemathesis/run.sh (loaded through SCHEMATHESIS_HOOKS).

The order API refuses an order dated more than 1 hour ahead or more than the date horizon
back (400 days by default) with a 422 (CONTRACT §3): rules of the clock, which no JSON
Schema can state. Schemathesis makes any schema-valid date-time, so each well-formed
order_date it sends is moved to yesterday, and every other part of the order stays as
drawn. A date that is not a well-formed date-time is left alone: it is what a negative
case is testing, and must still be refused.

A report window ends in the years 1971 to 2199 (the `as_of` of `POST /admin/refresh`, a
422 otherwise), so a well-formed `as_of` outside them is moved to yesterday; one inside
them stays as drawn.
"""

import datetime

import schemathesis

YESTERDAY = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)).strftime(
    "%Y-%m-%dT%H:%M:%SZ"
)


def _parsed(text):
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None


def _well_formed(text):
    return _parsed(text) is not None


def _inside_report_years(text):
    try:
        return 1971 <= _parsed(text).astimezone(datetime.timezone.utc).year <= 2199
    except OverflowError:
        return False


def _dated_yesterday(order):
    if isinstance(order, dict) and isinstance(order.get("order_date"), str):
        if _well_formed(order["order_date"]):
            order["order_date"] = YESTERDAY
    return order


def _window_in_report_years(body):
    if isinstance(body, dict) and isinstance(body.get("as_of"), str):
        if _well_formed(body["as_of"]) and not _inside_report_years(body["as_of"]):
            body["as_of"] = YESTERDAY
    return body


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    # `before_call` sees every case of every phase; a `map_body` hook would miss the
    # coverage phase, whose boundary cases (2000-01-01, say) are built without drawing.
    if case.operation.path == "/admin/refresh":
        case.body = _window_in_report_years(case.body)
        return
    if case.operation.path != "/api/orders":
        return
    if isinstance(case.body, list):
        case.body = [_dated_yesterday(order) for order in case.body]
    else:
        case.body = _dated_yesterday(case.body)
