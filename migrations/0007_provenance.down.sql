DROP TABLE git_commits;
DROP TABLE provenance_records;
