"""HTTP plumbing every domain shares: routing kinds, problems, paging, body bases, HTTP semantics."""
