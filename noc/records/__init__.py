"""Records that hold up in an audit: personal data destroyed when its retention ends (with a destruction record),
contract documents stored with their SHA-256 and verified on every read, and backups that restore every table.

``retention`` and ``documents`` work in the caller's sessions; ``backup`` reads and writes whole databases.
"""
