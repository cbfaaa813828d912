"""Schemathesis hooks for tests/schemathesis/run.sh (loaded through SCHEMATHESIS_HOOKS).

The order API refuses an order dated more than 1 hour ahead or more than the date horizon
back (400 days by default) with a 422 (CONTRACT §3): rules of the clock, which no JSON
Schema can state. Schemathesis draws any schema-valid date-time, so each well-formed
order_date it draws is moved to yesterday, and every other part of the order stays as
drawn. A date that is not a well-formed date-time is left alone: it is what a negative
case is testing, and must still be refused.
"""

import datetime

import schemathesis

YESTERDAY = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)).strftime(
    "%Y-%m-%dT%H:%M:%SZ"
)


def _well_formed(text):
    try:
        datetime.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return True


def _dated_yesterday(order):
    if isinstance(order, dict) and isinstance(order.get("order_date"), str):
        if _well_formed(order["order_date"]):
            order["order_date"] = YESTERDAY
    return order


@schemathesis.hook
def map_body(ctx, body):
    if ctx.operation.path != "/api/orders":
        return body
    if isinstance(body, list):
        return [_dated_yesterday(order) for order in body]
    return _dated_yesterday(body)
