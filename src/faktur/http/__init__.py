"""HTTP plumbing shared by every router: exact JSON parsing, the unit of work, errors, paging."""
