DROP TABLE imaging_referrals;
