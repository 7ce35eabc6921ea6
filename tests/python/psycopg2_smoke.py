"""psycopg2 smoke test: connect, parameterized INSERT and SELECT, an error
with its SQLSTATE, a transaction. Run by tests/clients_test.go with Debian's
python3 (python3-psycopg2). Usage: psycopg2_smoke.py <dsn>"""
import decimal
import sys

import psycopg2

conn = psycopg2.connect(sys.argv[1])
cur = conn.cursor()
cur.execute("CREATE TABLE py_t (id BIGINT PRIMARY KEY, name TEXT, amount NUMERIC(10,2), ok BOOLEAN)")
cur.executemany("INSERT INTO py_t VALUES (%s, %s, %s, %s)",
                [(1, "one", decimal.Decimal("1.50"), True), (2, "it's", None, False), (3, None, decimal.Decimal("3"), None)])
conn.commit()
cur.execute("SELECT id, name, amount, ok FROM py_t WHERE id >= %s ORDER BY id", (1,))
for row in cur.fetchall():
    print("row", row)
try:
    cur.execute("SELECT * FROM no_such_table")
except psycopg2.Error as e:
    print("error", e.pgcode)
    conn.rollback()
cur.execute("INSERT INTO py_t VALUES (4, 'rolled back', 0, true)")
conn.rollback()
cur.execute("SELECT count(*), sum(amount) FROM py_t")
print("total", cur.fetchone())
conn.close()
