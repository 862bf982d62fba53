"""The point-of-sale HTTP API: a till records purchases and refunds and reads a balance.

JSON in and out under `/api/v1`, one bearer token per store (`bot.services.pos_tokens`), stable
error codes, and retries made safe by the receipt id (purchases) and the refund id (refunds).
Every change goes through `bot.services.ledger`; this package only translates HTTP to it:

- `app`: the routes, `build_pos_app` and `start_pos_api`;
- `requests`: reading and validating bodies and query strings;
- `auth`: the bearer token;
- `errors`: `ApiError`, the mapping of ledger refusals, the error middleware;
- `access_log`: one log line per request.

The reference for till developers is `docs/pos-api.md`.
"""
