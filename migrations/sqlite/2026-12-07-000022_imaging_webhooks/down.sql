DROP TABLE imaging_webhooks;
