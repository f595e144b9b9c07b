import Appeals
import AppealsPostgres
import ArgumentParser
import Foundation

/// `--config` and `--db`, shared by every command.
struct GlobalOptions: ParsableArguments {
    @Option(help: "Config file (default: ./appeal.json if present, else built-in defaults).")
    var config: String?

    @Option(help: "Database file, or a postgres:// URL; overrides the config's `database`.")
    var db: String?

    @Flag(help: "Log send's steps and replies to standard error (never a password or a letter's text).")
    var verbose = false

    func loadConfig() throws -> AppConfig {
        try reporting { () throws(AppealsError) in try AppConfig.resolve(path: config, database: db) }
    }

    /// Opens the database the config names.
    /// - Parameter create: only `init` creates a database; every other command refuses to run without one, so
    ///   that a mistyped path or a cron job in the wrong folder is told, not given an empty database.
    /// - Parameter storageExit: the exit code when the database cannot be opened (75 for a job retried later).
    func openDatabase(create: Bool = false, storageExit: Int32 = 1) throws -> AppDatabase {
        let config = try loadConfig()
        return try reporting(storageExit: storageExit) { () throws(AppealsError) in
            if config.usesPostgres {
                // Not the URL itself: a password put in it by mistake would be printed.
                throw .conflict("db copy copies from a SQLite file, and the config's database is PostgreSQL: name the file with --db FILE")
            }
            if !create && !FileManager.default.fileExists(atPath: config.database) {
                // A mistyped postgres:// URL is taken for a path: it may hold a password, which is not printed.
                if config.database.contains("@") || config.database.lowercased().contains("postgres") {
                    throw .notFound("no database file by the name the config or --db gives (not printed: it looks like a mistyped URL, which may hold a password); a PostgreSQL URL starts with postgres://")
                }
                let path = URL(fileURLWithPath: config.database).standardizedFileURL.path
                throw .notFound("no database at \(path): create it with `appeal-cli init` (with the same --config or --db), or name the right one")
            }
            return try AppDatabase(path: config.database)
        }
    }
}

extension GlobalOptions {
    /// Runs a command's work on the store the config names: `sqlite` on the file, `postgres` on PostgreSQL.
    func onStore<T: Sendable>(sqlite: (AppDatabase) throws(AppealsError) -> T,
                              postgres: (PostgresStore) async throws(AppealsError) -> T) async throws -> T {
        let config = try loadConfig()
        if config.usesPostgres { return try await withPostgres(config, postgres) }
        let database = try openDatabase()
        return try reporting { () throws(AppealsError) in try sqlite(database) }
    }

    /// Connects to the PostgreSQL database the config names, runs `body` with it, and disconnects; the
    /// password comes from the variable `databasePasswordEnv` names.
    func withPostgres<T: Sendable>(_ config: AppConfig, create: Bool = false, storageExit: Int32 = 1, connections: Int = 3, leastConnections: Int = 1,
                                   _ body: (PostgresStore) async throws(AppealsError) -> T) async throws -> T {
        let location = try reporting { () throws(AppealsError) in
            try PostgresLocation(url: config.database, field: db != nil ? InputLocation(file: "--db") : InputLocation(file: self.config ?? "appeal.json", field: "database"))
        }
        let password = ProcessInfo.processInfo.environment[config.databasePasswordEnv]
        PostgresStore.tellWaits { printWarning($0) }
        return try await reporting(storageExit: storageExit) { () async throws(AppealsError) in
            try await PostgresStore.withStore(location, password: password, create: create, connections: connections,
                                              leastConnections: leastConnections, body)
        }
    }
}

extension GlobalOptions {
    /// Runs work whose store calls block (bounces) on a thread of its own, on the store the config names.
    func onBounceStore<T: Sendable>(_ config: AppConfig, storageExit: Int32 = 1,
                                    _ body: @escaping @Sendable (any BounceStore) throws(AppealsError) -> T) async throws -> T {
        if config.usesPostgres {
            return try await withPostgres(config, storageExit: storageExit) { store throws(AppealsError) in
                try await ThreadExecutor.run(name: "appeal-bounces") { () throws(AppealsError) in try body(PostgresDeliveryStore(store)) }
            }
        }
        let database = try openDatabase(storageExit: storageExit)
        return try await reporting(storageExit: storageExit) { () async throws(AppealsError) in
            try await ThreadExecutor.run(name: "appeal-bounces") { () throws(AppealsError) in try body(database) }
        }
    }
}

/// Runs `body`, printing an ``AppealsError`` for a person and exiting 2 for bad input, 1 otherwise; a database
/// that cannot be written exits `storageExit` (75, EX_TEMPFAIL, for a job a cron or a mail system retries).
func reporting<T>(storageExit: Int32 = 1, _ body: () throws(AppealsError) -> T) throws -> T {
    do {
        return try body()
    } catch {
        printError(error.description)
        if case .storage = error { throw ExitCode(storageExit) }
        throw ExitCode(error.isUserError ? 2 : 1)
    }
}

func reporting<T>(storageExit: Int32 = 1, _ body: () async throws(AppealsError) -> T) async throws -> T {
    do {
        return try await body()
    } catch {
        printError(error.description)
        if case .storage = error { throw ExitCode(storageExit) }
        throw ExitCode(error.isUserError ? 2 : 1)
    }
}

func printError(_ message: String) {
    writeStandardError("error: \(message)\n")
}

func printWarning(_ message: String) {
    writeStandardError("\(message)\n")
}

/// `1 letter`, `2 letters`.
func plural(_ count: Int, _ singular: String, _ pluralForm: String? = nil) -> String {
    "\(count) \(count == 1 ? singular : pluralForm ?? singular + "s")"
}
