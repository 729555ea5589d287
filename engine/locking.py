"""Serializing a read-check-write that the instance's optimistic version does not cover: a cost's
overrun check against the sums before it, a plan's status before an item goes in, a document
version's review before another starts.

On PostgreSQL the rows read with FOR UPDATE are locked until the transaction ends. SQLite ignores
FOR UPDATE, and pysqlite starts no transaction before the first write, so each read sees whatever
was committed when it ran and another writer may commit between the check and the write.
`write_lock` takes SQLite's write lock first (BEGIN IMMEDIATE, waiting out the busy timeout):
then nothing else commits until this transaction ends, so what it reads next stays true.
"""

from sqlalchemy.orm import Session


def write_lock(session: Session):
    """SQLite: hold the database's write lock from now until the transaction ends (a transaction
    that has written already holds it). PostgreSQL: nothing; lock the rows read with FOR UPDATE."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    if not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
