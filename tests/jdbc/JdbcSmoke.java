import java.math.BigDecimal;
import java.sql.*;

/**
 * JDBC smoke test: connect, prepared INSERT with several types, prepared
 * SELECT, an error with its SQLSTATE, DatabaseMetaData.getColumns. Prints one line per result; the Go
 * test (tests/clients_test.go) compares the output.
 * Usage: java -cp postgresql.jar:. JdbcSmoke jdbc:postgresql://host:port/db
 */
public class JdbcSmoke {
    public static void main(String[] args) throws Exception {
        try (Connection c = DriverManager.getConnection(args[0], "weir", "")) {
            DatabaseMetaData md = c.getMetaData();
            System.out.println("connected " + md.getDatabaseProductName() + " " + md.getDatabaseMajorVersion());
            try (Statement st = c.createStatement()) {
                st.execute("CREATE TABLE jdbc_t (id BIGINT PRIMARY KEY, name VARCHAR(40), amount NUMERIC(10,2), at TIMESTAMP, ok BOOLEAN)");
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO jdbc_t (id, name, amount, at, ok) VALUES (?, ?, ?, ?, ?)")) {
                // more than prepareThreshold (5) executions: the driver switches to a named server-side statement
                for (long i = 1; i <= 8; i++) {
                    ps.setLong(1, i);
                    ps.setString(2, "name-" + i);
                    ps.setBigDecimal(3, new BigDecimal(i + ".25"));
                    ps.setTimestamp(4, Timestamp.valueOf("2024-03-0" + (i % 9 + 1) + " 12:34:56.5"));
                    ps.setBoolean(5, i % 2 == 0);
                    System.out.println("insert " + ps.executeUpdate());
                }
                ps.setLong(1, 9);
                ps.setNull(2, Types.VARCHAR);
                ps.setNull(3, Types.NUMERIC);
                ps.setNull(4, Types.TIMESTAMP);
                ps.setNull(5, Types.BOOLEAN);
                System.out.println("insert " + ps.executeUpdate());
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT id, name, amount, at, ok FROM jdbc_t WHERE id >= ? AND id <= ? ORDER BY id")) {
                for (int round = 0; round < 6; round++) {
                    ps.setLong(1, 2);
                    ps.setLong(2, round == 5 ? 9 : 3);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            if (round < 5 && round > 0) continue;
                            System.out.println("row " + rs.getLong(1) + " " + rs.getString(2) + " " + rs.getBigDecimal(3)
                                + " " + rs.getTimestamp(4) + " " + rs.getObject(5));
                        }
                    }
                }
            }
            try (Statement st = c.createStatement()) {
                st.executeQuery("SELECT * FROM no_such_table");
            } catch (SQLException e) {
                System.out.println("error " + e.getSQLState());
            }
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*), sum(amount) FROM jdbc_t")) {
                rs.next();
                System.out.println("total " + rs.getLong(1) + " " + rs.getBigDecimal(2));
            }
            // the driver's catalog query numbers columns with row_number() OVER
            try (ResultSet rs = md.getColumns(null, "public", "jdbc_t", "%")) {
                while (rs.next()) {
                    System.out.println("column " + rs.getInt("ORDINAL_POSITION") + " " + rs.getString("COLUMN_NAME") + " " + rs.getString("TYPE_NAME"));
                }
            }
        }
    }
}
