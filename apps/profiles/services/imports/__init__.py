"""Importing profiles from files (`manage.py import_profiles`, issue 14).

- readers: the file (CSV, JSON Lines, a JSON array; gzip; standard input) as rows, with a cap
  on line and field sizes; bad rows come out with their reason;
- mapping: `--mapping`, an object template over each row (`row@Column`);
- fields: which profile fields may be set, and each value typed as its field needs;
- matching: which stored profile each row is about (by id, or by identifier fields, merging
  profiles that hold one person's identifiers);
- writing: one batch in one transaction, inserts and updates of what changed, the
  `profile_changed` hook for each changed profile;
- errors: the error file; service: `profiles_import`, the loop over batches.
"""
