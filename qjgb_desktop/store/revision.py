"""The schema revisions this program knows, kept free of imports so start-up can check them cheaply."""

# Every revision in db/versions, oldest first. tests/store/test_store.py checks this against Alembic's history.
REVISIONS = ("0001_initial", "0002_progress", "0003_evidence", "0004_import_batch", "0005_template_key",
             "0006_supervision", "0007_server_mode", "0008_notice_numbers", "0009_rule_of_truth",
             "0010_server_accounts")
HEAD = REVISIONS[-1]
