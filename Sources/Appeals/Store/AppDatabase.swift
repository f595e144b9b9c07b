import Foundation
import GRDB

/// The campaign store: a SQLite file in WAL mode whose schema keeps the product's invariants.
///
/// Each public write is one transaction. Constraints live in the schema, so that even a bug in this
/// module cannot store a second letter for the same supporter and target.
public struct AppDatabase: Sendable {
    public let writer: any DatabaseWriter
    public let path: String

    /// Opens (creating with mode 0600 if needed) and migrates the database at `path`.
    /// - Throws: ``AppealsError/storage(_:)`` when the file cannot be created, opened or migrated.
    public init(path: String) throws(AppealsError) {
        self.path = path
        do {
            if !FileManager.default.fileExists(atPath: path) {
                let fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0o600)
                guard fd >= 0 else {
                    // A folder that does not exist is a mistake in the path given, not a failing machine.
                    if errno == ENOENT || errno == ENOTDIR { throw AppealsError.notFound("cannot create database \(path): its folder does not exist") }
                    throw AppealsError.storage("cannot create database \(path): \(String(cString: strerror(errno)))")
                }
                close(fd)
            }
            var configuration = Configuration()
            configuration.foreignKeysEnabled = true
            configuration.busyMode = .timeout(30)
            // Erased personal data must not linger in free pages of the file.
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA secure_delete = ON") }
            writer = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(writer)
        } catch let error as AppealsError {
            throw error
        } catch {
            throw .storage("cannot open database \(path): \(Self.describe(error))")
        }
    }

    /// Runs `body` in one write transaction, turning database failures into ``AppealsError/storage(_:)``.
    func write<T>(_ body: (Database) throws -> T) throws(AppealsError) -> T {
        try storageFailure("cannot write to database") { try writer.write { db in try body(db) } }
    }

    func read<T>(_ body: (Database) throws -> T) throws(AppealsError) -> T {
        try storageFailure("cannot read database") { try writer.read { db in try body(db) } }
    }

    /// Runs `body`, turning database failures into ``AppealsError/storage(_:)`` that say what was being done.
    func storageFailure<T>(_ doing: String = "cannot write to database", _ body: () throws -> T) throws(AppealsError) -> T {
        do {
            return try body()
        } catch let error as AppealsError {
            throw error
        } catch {
            throw .storage("\(doing) \(path): \(Self.describe(error))")
        }
    }

    static func describe(_ error: any Error) -> String {
        guard let error = error as? DatabaseError else { return "\(error)" }
        let message = error.message ?? "\(error.resultCode)"
        // SQLite reports a full disk under the write-ahead log or its index as a plain I/O error.
        switch error.resultCode.primaryResultCode {
        case .SQLITE_FULL, .SQLITE_IOERR:
            return message + " (is the disk full? nothing was half-written: free space and run the command again)"
        case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM:
            return message + " (is the file or its folder read-only? nothing was changed)"
        default:
            return message
        }
    }
}
