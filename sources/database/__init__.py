"""What the SQL sources share: table lists, value conversion, document ids, advanced rules,
TLS contexts and incremental cursors."""
