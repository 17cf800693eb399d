"""Pure cryptography: no database, no Flask. Every primitive comes from `cryptography` or argon2-cffi."""
