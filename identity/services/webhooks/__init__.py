"""Webhooks: a platform's endpoints, the events stored for them in the transaction of the change
that causes them (the outbox), and their signed, retried delivery (docs/webhooks.md).

- `events`: the event types and the body every event has;
- `addresses`: where a webhook may be posted (the SSRF rule), checked at creation and again,
  on a fresh resolution, at every delivery;
- `endpoints`: creating, listing and deleting a platform's endpoints, and their secrets;
- `outbox`: `record_event`, what every use case calls to store an event;
- `announcements`: the events of sanctions and of the accounts they restrict, and the sweep
  that announces each sanction's expiry once;
- `signing`: the Standard Webhooks signature;
- `delivery`: claiming due deliveries, posting them, and settling the outcome;
- `status`: what `identity-admin webhooks status` reports.
"""
