import Appeals
import Foundation
import Logging
import NIOSSL
import PostgresNIO
import Synchronization

/// The campaign store on PostgreSQL: a pool of connections to one database, migrated on opening.
public struct PostgresStore: Sendable {
    public let location: PostgresLocation
    let client: PostgresClient
    /// For probing the server alone when the pool waits for a connection (see ``ConnectionWatch``).
    let password: String?
    let logger: Logger

    /// Connects, runs `body` with the migrated store, and closes every connection, however `body` ends.
    /// - Parameter password: the value of the variable `databasePasswordEnv` names, if set.
    /// - Throws: ``AppealsError/storage(_:)`` when the server cannot be reached or the schema migrated, or lets
    ///   this user have fewer sessions at once than the command needs; whatever `body` throws.
    /// - Parameters:
    ///   - create: whether a database without appeal's tables is given them (`db copy`); otherwise it is refused,
    ///     unchanged.
    ///   - connections: connections at most (3 for a command; a sender adds one per SMTP connection and one more
    ///     for its notes, `serve` more for its pages).
    ///   - leastConnections: connections the command holds at once at the least (`queue`: its turn, and its
    ///     writes); no use of the store holds one connection while it waits for another beyond these.
    ///
    /// The pool stays within the sessions the server lets this user have at once (see ``SessionBudget``).
    public static func withStore<T: Sendable>(_ location: PostgresLocation, password: String?, create: Bool = false, connections: Int = 3,
                                              leastConnections: Int = 1,
                                              logger: Logger = quietLogger,
                                              _ body: (PostgresStore) async throws(AppealsError) -> T) async throws(AppealsError) -> T {
        do {
            let budget = try await readBudget(location, password: password, logger: logger)
            guard let size = budget.poolSize(wanted: max(3, connections), least: leastConnections) else {
                throw AppealsError.storage("PostgreSQL \(location): \(budget.refusal(needing: leastConnections))")
            }
            var configuration = configuration(location, password: password, budget: budget)
            configuration.options.maximumConnections = size
            // Once the server has refused the pool a new connection (other processes hold the sessions its user may
            // have), postgres-nio 1.33's pool hands a request only a connection that comes back from a use, not one
            // idle in it, until a new one opens: an idle connection's keep-alive query is what gives it back. Every
            // second, not every 30, so that processes sharing too few sessions take turns rather than crawl (every
            // quarter second cost a sender about a tenth of its speed).
            configuration.options.keepAliveBehavior = .init(frequency: .seconds(1))
            let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await client.run() }
                defer { group.cancelAll() }
                let store = PostgresStore(location: location, client: client, password: password, logger: logger)
                if !create {
                    let found = try await store.leased { connection in
                        try await connection.rows("SELECT to_regclass('appeal_migration') IS NOT NULL", logger: logger)
                    }
                    if try found.first?.decode(Bool.self) != true {
                        throw AppealsError.notFound("\(location) holds no appeal data: give it appeal's tables with appeal-cli init, or move a campaign there with appeal-cli db copy --to URL")
                    }
                }
                try await store.migrate()
                return try await body(store)
            }
        } catch {
            throw appealsError(error, location)
        }
    }

    /// Has `body` told, once per server and process, when a command starts waiting for a connection because the
    /// server is out of them (other processes of the user hold all it allows), with the server's words.
    public static func tellWaits(_ body: @escaping @Sendable (String) -> Void) {
        ConnectionWatch.shared.tellWaits(body)
    }

    /// Failures are reported by the commands, once, in their own words: the driver's log is for `--verbose`.
    public static var quietLogger: Logger {
        var logger = Logger(label: "appeal.postgres")
        logger.logLevel = .critical
        return logger
    }

    /// The TLS settings of `location`'s `sslmode`: nil for `disable`.
    static func tlsConfiguration(_ location: PostgresLocation) -> TLSConfiguration? {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch location.tls {
        case .disable: return nil
        case .prefer, .require: tls.certificateVerification = .none
        case .verifyFull: if let file = location.rootCertificate { tls.trustRoots = .file(file) }
        }
        return tls
    }

    static func configuration(_ location: PostgresLocation, password: String?, budget: SessionBudget) -> PostgresClient.Configuration {
        let mode: PostgresClient.Configuration.TLS = switch (location.tls, tlsConfiguration(location)) {
        case (.prefer, let tls?): .prefer(tls)
        case (_, let tls?): .require(tls)
        case (_, nil): .disable
        }
        var configuration = PostgresClient.Configuration(host: location.host, port: location.port, username: location.user,
                                                         password: password, database: location.database, tls: mode)
        configuration.options.connectTimeout = .seconds(10)
        // Times are read and written in UTC, whatever the server's own zone.
        // A transaction left open by a process that stopped (SIGSTOP, a host cut off) would hold its locks, the
        // claims' turn among them, for every sender: the server ends it after 20 seconds.
        configuration.options.additionalStartupParameters = [("TimeZone", "UTC"), ("application_name", "appeal"),
                                                             ("idle_in_transaction_session_timeout", "20s")]
        // The pool closes the connections it no longer needs itself (after a minute idle); a server's
        // idle_session_timeout would end a session just as the pool hands it to a use, and the command with it.
        if budget.idleSessionTimeout { configuration.options.additionalStartupParameters.append(("idle_session_timeout", "0")) }
        return configuration
    }

    /// Connects once, alone: a server that is down, a wrong password or a missing database is told at once and
    /// in the server's words (the pool would keep trying for a minute).
    static func probe(_ location: PostgresLocation, password: String?, logger: Logger) async throws {
        try await connect(location, password: password, logger: logger).close()
    }

    /// Connects once, alone, as ``probe(_:password:logger:)`` does, and reads the sessions this user may have.
    static func readBudget(_ location: PostgresLocation, password: String?, logger: Logger) async throws -> SessionBudget {
        let connection = try await connect(location, password: password, logger: logger)
        do {
            let budget = try await SessionBudget.read(on: connection, logger: logger)
            try await connection.close()
            return budget
        } catch {
            try? await connection.close()
            throw error
        }
    }

    private static func connect(_ location: PostgresLocation, password: String?, logger: Logger) async throws -> PostgresConnection {
        let tls: PostgresConnection.Configuration.TLS = switch (location.tls, tlsConfiguration(location)) {
        case (.prefer, let tls?): .prefer(try NIOSSLContext(configuration: tls))
        case (_, let tls?): .require(try NIOSSLContext(configuration: tls))
        case (_, nil): .disable
        }
        var configuration = PostgresConnection.Configuration(host: location.host, port: location.port, username: location.user,
                                                             password: password, database: location.database, tls: tls)
        configuration.options.connectTimeout = .seconds(10)
        return try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
    }

    /// Runs `body` in one transaction; a failure rolls everything back.
    /// - Throws: ``AppealsError/storage(_:)`` also when the connection is lost under `body` or none comes within
    ///   ``answerSeconds`` (see ``ConnectionWatch``).
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws(AppealsError) -> T {
        do {
            return try await leased { connection in
                try await connection.withTransaction(logger: logger) { connection in try await body(connection) }
            }
        } catch {
            throw Self.appealsError(error, location)
        }
    }

    /// Leases a connection for `body`, which gives it up when the connection is lost under it or none comes within
    /// ``answerSeconds``, rather than waiting for ever (see ``ConnectionWatch``).
    func leased<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let (location, password, logger) = (location, password, logger)
        return try await ConnectionWatch.shared.run(location, leaseLimit: .seconds(Self.answerSeconds), probe: { () throws(AppealsError) -> String? in
            do {
                try await Self.probe(location, password: password, logger: logger)
                return nil
            } catch let error as PSQLError where error.serverInfo?[.sqlState]?.hasPrefix("53") == true {
                // The server answered, out of connections (or memory) for now: the uses wait, up to the lease limit.
                return error.serverInfo?[.message] ?? "out of connections"
            } catch {
                throw Self.appealsError(error, location)
            }
        }) { leased in
            try await client.withConnection { connection in
                leased(connection)
                return try await body(connection)
            }
        }
    }

    /// An error of the server or the connection as this module reports it; ours pass through, also from
    /// inside a transaction.
    static func appealsError(_ error: any Error, _ location: PostgresLocation) -> AppealsError {
        if let error = error as? AppealsError { return error }
        if let error = error as? PostgresTransactionError, let inner = error.closureError as? AppealsError { return inner }
        return .storage("PostgreSQL \(location): \(describe(error))")
    }

    /// What went wrong, in the server's words when it said something.
    static func describe(_ error: any Error) -> String {
        if let error = error as? PostgresTransactionError {
            return describe(error.closureError ?? error.beginError ?? error.commitError ?? error.rollbackError ?? error)
        }
        if let error = error as? AppealsError { return error.description }
        if "\(type(of: error))" == "ConnectionPoolError", "\(error)".contains("CircuitBreaker") {
            // The pool gave up opening connections (it tries for a minute).
            return "no connection could be opened for a minute (is the server running, on that host and port? is it out of connections: "
                + "max_connections, or this user's connection limit? does it accept this user from here?)"
        }
        if let error = error as? PSQLError, error.code == .authMechanismRequiresPassword {
            return "the server asks for a password, and none is set: put it in the environment variable the config's databasePasswordEnv names (APPEAL_DATABASE_PASSWORD unless set)"
        }
        if let error = error as? PSQLError, error.code == .sslUnsupported {
            return "the server does not offer TLS, which this sslmode asks for"
        }
        if let error = error as? PSQLError, error.code == .serverClosedConnection || error.code == .clientClosedConnection {
            // The server's last words, when it said why (a restart, or its session ended by an administrator).
            let reason = (error.underlying as? PSQLError)?.serverInfo?[.message].map { ": \($0)" } ?? ""
            return "the connection was lost\(reason); what it had not committed was rolled back"
        }
        if let error = error as? PSQLError, let underlying = error.underlying as? NIOConnectionError,
           let failure = underlying.connectionErrors.first {
            // The socket's own words ("Connection refused"), not the whole chain of wrappers.
            let reason = (failure.error as? IOError).map { String(cString: strerror($0.errnoCode)) } ?? "\(failure.error)"
            return "cannot connect to \(underlying.host):\(underlying.port): \(reason) (is the server running, on that host and port?)"
        }
        if let error = error as? PSQLError, let underlying = error.underlying as? IOError {
            // The socket's own words; a connection reset or broken under a session is a connection lost.
            let reason = String(cString: strerror(underlying.errnoCode))
            return [ECONNRESET, EPIPE, ETIMEDOUT].contains(underlying.errnoCode)
                ? "the connection was lost: \(reason); what it had not committed was rolled back" : "cannot connect: \(reason)"
        }
        if let error = error as? PSQLError, error.code == .connectionError || error.serverInfo == nil, let underlying = error.underlying {
            // A PSQLError's description hides its cause; its reflection tells it.
            return "cannot connect: \(underlying is PSQLError ? String(reflecting: underlying) : "\(underlying)")"
        }
        if let error = error as? PSQLError, error.serverInfo?[.sqlState] == "57P03", let message = error.serverInfo?[.message] {
            // Refused at connection: the server is starting, stopping or recovering.
            return "the server takes no connections now: \(message)"
        }
        if let error = error as? PSQLError, let state = error.serverInfo?[.sqlState], state.hasPrefix("57P") || state.hasPrefix("08"),
           let message = error.serverInfo?[.message] {
            // The server ended the session (a restart, an administrator) or the connection failed.
            return "the connection was lost: \(message); what it had not committed was rolled back"
        }
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                let detail = error.serverInfo?[.detail].map { " (\($0))" } ?? ""
                return message + detail
            }
            return "\(error.code)" + (error.underlying.map { ": \(String(reflecting: $0))" } ?? "")
        }
        return "\(error)"
    }

    /// Applies the migrations this database has not had, each in its own transaction; concurrent openers wait
    /// for each other on an advisory lock.
    func migrate() async throws(AppealsError) {
        for migration in PostgresSchema.migrations {
            try await transaction { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(4242001)", logger: logger)
                try await connection.query("""
                    CREATE TABLE IF NOT EXISTS appeal_migration (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
                    """, logger: logger)
                if try await !connection.rows("SELECT 1 FROM appeal_migration WHERE name = \(migration.name)", logger: logger).isEmpty { return }
                for statement in Self.statements(migration.sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO appeal_migration (name) VALUES (\(migration.name))", logger: logger)
            }
        }
    }

    /// The statements of a migration: one query may hold only one.
    static func statements(_ sql: String) -> [String] {
        sql.components(separatedBy: ";\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.split(separator: "\n").allSatisfy { $0.trimmingCharacters(in: .whitespaces).hasPrefix("--") } }
    }
}

extension PostgresStore {
    /// The longest a call waits for the server: a server out of connections, or a lock held by a stopped sender,
    /// stops the run with a message rather than leaving it waiting for ever.
    static let answerSeconds = 60

    /// Runs `body` on the concurrency pool and waits for it on this thread, which must be one of the delivery
    /// engine's or a reader's own threads, never one of the pool's.
    func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws(AppealsError) -> T) throws(AppealsError) -> T {
        let result = Mutex<Result<T, AppealsError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let task = Task(executorPreference: globalConcurrentExecutor) {
            let outcome: Result<T, AppealsError>
            do throws(AppealsError) {
                outcome = .success(try await body())
            } catch {
                outcome = .failure(error)
            }
            result.withLock { $0 = outcome }
            done.signal()
        }
        if done.wait(timeout: .now() + .seconds(Self.answerSeconds)) == .timedOut {
            task.cancel()
            if let refusal = ConnectionWatch.shared.refusal(location) {
                throw .storage("\(location) gave no connection within \(Self.answerSeconds) seconds (\(refusal))")
            }
            throw .storage("\(location) did not answer within \(Self.answerSeconds) seconds (a statement waited that long for the server, "
                           + "or for a lock another session holds; or no connection came: max_connections and each role's connection limit "
                           + "bound appeal's processes)")
        }
        return try result.withLock { $0! }.get()
    }
}

extension PostgresConnection {
    /// Every row of `query`, gathered on the connection's own event loop as they arrive.
    ///
    /// The store reads rows only this way, never by iterating the driver's row stream: postgres-nio 1.33 stops
    /// the process (a failed precondition in its row stream) when the server ends a session while a stream
    /// waits for its reader, and a stream read in another task always may. A large result is read in pages
    /// (``pages(_:size:logger:_:)``).
    func rows(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        let result: EventLoopFuture<PostgresQueryResult> = self.query(query, logger: logger)
        return try await result.get().rows
    }

    /// The rows of `query` given to `body` a page of at most `size` rows at a time, read through a cursor: for
    /// results too large to hold at once. Must run in a transaction.
    func pages(_ query: PostgresQuery, size: Int, logger: Logger, _ body: ([PostgresRow]) async throws -> Void) async throws {
        // All of it will be read: the plan for the whole result, not for its first rows. Between pages the session
        // waits for the reader (a pager, a slow pipe): the 20-second limit on an idle transaction is lifted.
        _ = try await rows("""
            SELECT set_config('cursor_tuple_fraction', '1', true), set_config('idle_in_transaction_session_timeout', '0', true)
            """, logger: logger)
        var declare = query
        declare.sql = "DECLARE appeal_pages NO SCROLL CURSOR FOR " + query.sql
        _ = try await rows(declare, logger: logger)
        // The next page is asked for before this one is handed over: the event loop reads it meanwhile.
        let fetch = { () -> EventLoopFuture<PostgresQueryResult> in
            self.query(PostgresQuery(unsafeSQL: "FETCH \(size) FROM appeal_pages"), logger: logger)
        }
        var next = fetch()
        while true {
            let page = try await next.get().rows
            let more = page.count == size
            if more { next = fetch() }
            if !page.isEmpty { try await body(page) }
            if !more { break }
        }
        _ = try await rows("CLOSE appeal_pages", logger: logger)
    }
}

extension [PostgresRow] {
    /// Each row decoded as `type` (a tuple of the columns' types).
    func decode<each Column: PostgresDecodable>(_ type: (repeat each Column).Type) throws -> [(repeat each Column)] {
        try map { try $0.decode(type) }
    }

    /// Each row's one column decoded as `type`.
    func decode<Column: PostgresDecodable>(_ type: Column.Type) throws -> [Column] {
        try map { try $0.decode(type) }
    }
}
