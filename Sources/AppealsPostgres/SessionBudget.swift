import Appeals
import Logging
import PostgresNIO

/// How many sessions the server lets this user have at once on this database, read when a store opens: the
/// store's pool is sized within it.
struct SessionBudget: Sendable, Equatable {
    /// The most sessions at once: the smallest of the role's and the database's `CONNECTION LIMIT` and the
    /// server's `max_connections` less the slots reserved for superusers.
    let sessions: Int
    /// Which bound that is.
    let bound: Bound
    /// Whether the server knows `idle_session_timeout` (PostgreSQL 14 and later).
    let idleSessionTimeout: Bool

    enum Bound: Sendable, Equatable {
        case server(maxConnections: Int, reserved: Int)
        case role(String)
        case database(String)
        case none
    }

    /// Reads the budget of the session `connection` belongs to.
    static func read(on connection: PostgresConnection, logger: Logger) async throws -> SessionBudget {
        let rows = try await connection.rows("""
            SELECT r.rolname, r.rolsuper, r.rolconnlimit, d.datname, d.datconnlimit,
                   current_setting('max_connections')::int,
                   current_setting('superuser_reserved_connections')::int
                     + coalesce(nullif(current_setting('reserved_connections', true), '')::int, 0),
                   current_setting('server_version_num')::int
            FROM pg_roles r, pg_database d WHERE r.rolname = current_user AND d.datname = current_database()
            """, logger: logger)
        guard let row = rows.first else { return SessionBudget(sessions: .max, bound: .none, idleSessionTimeout: false) }
        let (role, superuser, roleLimit, database, databaseLimit, maxConnections, reserved, version)
            = try row.decode((String, Bool, Int, String, Int, Int, Int, Int).self)
        // Superusers are held to max_connections alone; everyone else also to the slots reserved and the limits.
        let reservedForOthers = superuser ? 0 : reserved
        var bounds = [(maxConnections - reservedForOthers, Bound.server(maxConnections: maxConnections, reserved: reservedForOthers))]
        if !superuser && roleLimit >= 0 { bounds.append((roleLimit, .role(role))) }
        if !superuser && databaseLimit >= 0 { bounds.append((databaseLimit, .database(database))) }
        let smallest = bounds.min { $0.0 < $1.0 }!
        return SessionBudget(sessions: smallest.0, bound: smallest.1, idleSessionTimeout: version >= 140000)
    }

    /// Why a command needing `least` sessions at once cannot run, and what to change.
    func refusal(needing least: Int) -> String {
        let why = switch bound {
        case .server(_, 0):
            "the server takes only \(sessions) at once (its max_connections): raise max_connections"
        case .server(let maxConnections, let reserved):
            "the server takes only \(sessions) at once of users other than superusers (max_connections \(maxConnections), less \(reserved) "
                + "reserved): raise max_connections"
        case .role(let role):
            "the role \(role) may have only \(sessions) (its CONNECTION LIMIT): raise it (ALTER ROLE \(role) CONNECTION LIMIT \(least) or more)"
        case .database(let database):
            "the database \(database) takes only \(sessions) (its CONNECTION LIMIT): raise it (ALTER DATABASE \(database) CONNECTION LIMIT "
                + "\(least) or more)"
        case .none: "the server takes only \(sessions)"
        }
        return "this command needs \(least) sessions at once, and \(why)"
    }

    /// The pool's size within this budget: `wanted`, or as many as the budget allows.
    /// - Parameter least: the connections a command holds at once at the least.
    /// - Returns: nil when even that does not fit.
    func poolSize(wanted: Int, least: Int) -> Int? {
        least <= sessions ? min(wanted, sessions) : nil
    }
}
