DROP TABLE imaging_integrations;
