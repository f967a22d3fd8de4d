DROP TABLE imaging_forgotten;
DROP TABLE imaging_connections;
