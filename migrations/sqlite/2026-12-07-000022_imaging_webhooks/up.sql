-- Report deliveries of the imaging provider's webhook (SPEC §6.2) already processed, by
-- their `webhook-id`: a redelivery is answered 200 and changes nothing. Written in the
-- transaction that attaches the report. Webhook ids are the provider's, deployment-wide.
CREATE TABLE imaging_webhooks (
    webhook_id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites (id),
    referral_id TEXT NOT NULL REFERENCES imaging_referrals (id),
    received_at TIMESTAMP NOT NULL
);
CREATE INDEX imaging_webhooks_referral ON imaging_webhooks (referral_id);
