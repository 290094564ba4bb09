DROP TABLE alerts;
DROP TABLE slo_measurements;
DROP TABLE system_metrics_daily;
DROP TABLE system_metrics;
