"""Records: reading documents and their files under the access policy; export."""
