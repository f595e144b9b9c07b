import Foundation
import Synchronization

/// A private PostgreSQL server (Tests/Servers/postgres_instance.sh): a new cluster in a temporary folder, on a
/// free port of 127.0.0.1, run as an unprivileged user, stopped and removed when this is released. Its
/// superuser `appeal` needs no password from this machine. Needs Debian's postgresql (`scripts/setup --tests`).
public final class PostgresInstance: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public let folder: String
    public let port: Int
    private var running = true

    public init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("appeal-postgres-\(UUID().uuidString)").path
        port = try freePort()
        let result = try Self.script(["start", folder, "\(port)"])
        guard result.status == 0 else {
            try? FileManager.default.removeItem(atPath: folder)
            throw Failure(description: "PostgreSQL did not start: \(result.output)")
        }
    }

    deinit { stop() }

    private static let sharedInstance = Mutex<PostgresInstance?>(nil)

    /// One server for every test of this process that asks for it, started at the first ask and stopped when
    /// the process exits. Its tests each make their own databases (``createDatabase(_:)``).
    public static func shared() throws -> PostgresInstance {
        try sharedInstance.withLock { shared in
            if let shared { return shared }
            let instance = try PostgresInstance()
            shared = instance
            atexit { PostgresInstance.sharedInstance.withLock { $0?.stop() } }
            return instance
        }
    }

    /// The URL of database `name` (`appeal` is made at start; others with ``createDatabase(_:)``).
    public func url(_ name: String = "appeal") -> String { "postgres://appeal@127.0.0.1:\(port)/\(name)?sslmode=disable" }

    public func createDatabase(_ name: String) throws {
        _ = try query("CREATE DATABASE \(name)")
    }

    /// A new role allowed `connections` sessions at once (-1: no limit of its own) and a database of the same name
    /// that it owns; ``drop(role:)`` removes both.
    public func createRole(connections: Int) throws -> String {
        let name = "limited_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        _ = try query("CREATE ROLE \(name) LOGIN CONNECTION LIMIT \(connections)")
        try createDatabase(name)
        _ = try query("ALTER DATABASE \(name) OWNER TO \(name)")
        return name
    }

    /// The URL of `role`'s own database, as that role.
    public func url(role: String) -> String { "postgres://\(role)@127.0.0.1:\(port)/\(role)?sslmode=disable" }

    /// Removes a role made by ``createRole(connections:)`` and its database, ending their sessions.
    public func drop(role: String) {
        _ = try? query("DROP DATABASE \(role) WITH (FORCE)")
        _ = try? query("DROP ROLE \(role)")
    }

    /// Runs `sql` with psql in database `name` as `user`: the rows, each a line of fields separated by `|`.
    /// - Throws: ``Failure`` with psql's message when the statement fails.
    public func query(_ sql: String, database name: String = "appeal", user: String = "appeal") throws -> [String] {
        let result = try Self.run("/usr/bin/psql", ["--no-psqlrc", "-h", "127.0.0.1", "-p", "\(port)", "-U", user, "-d", name, "-At",
                                                    "-v", "ON_ERROR_STOP=1", "-c", sql])
        guard result.status == 0 else { throw Failure(description: result.errors) }
        return result.output.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    /// Stops the server, waits for it, and removes its folder.
    public func stop() {
        guard running else { return }
        running = false
        _ = try? Self.script(["stop", folder])
        try? FileManager.default.removeItem(atPath: folder)
    }

    private static func script(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let result = try run("/bin/bash", [Fixtures.servers.appendingPathComponent("postgres_instance.sh").path] + arguments)
        return (result.status, result.output + result.errors)
    }

    /// Runs a program to its end; its output goes through files (a pipe's end kept by a server it started would
    /// never close).
    private static func run(_ program: String, _ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        let files = ["out", "err"].map { FileManager.default.temporaryDirectory.appendingPathComponent("postgres-\(UUID().uuidString).\($0)") }
        for file in files { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
        defer { for file in files { try? FileManager.default.removeItem(at: file) } }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: files[0])
        process.standardError = try FileHandle(forWritingTo: files[1])
        try process.run()
        process.waitUntilExit()
        let texts = files.map { (try? String(contentsOf: $0, encoding: .utf8)) ?? "" }
        return (process.terminationStatus, texts[0], texts[1])
    }
}
