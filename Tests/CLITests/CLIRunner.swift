import Foundation
import Testing
import TestSupport

/// Runs the built `appeal-cli` in a fresh working folder of its own.
final class CLIRunner {
    struct Result {
        var code: Int32
        var stdout: String
        var stderr: String
        /// The process was ended by a signal; `code` is the signal's number.
        var signaled = false
    }

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let exampleCampaign = packageRoot.appendingPathComponent("templates/observatory-urgent-appeal").path
    static let fixtures = Fixtures.folder
    static let slug = "azerbaijan-rufat-safarov"

    /// The executable beside this test binary (SwiftPM builds every product into one folder).
    static let executable: URL = {
        let testBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var folder = testBinary.deletingLastPathComponent()
        while folder.path != "/" && !folder.lastPathComponent.hasSuffix("debug") && !folder.lastPathComponent.hasSuffix("release") {
            folder = folder.deletingLastPathComponent()
        }
        let beside = folder.appendingPathComponent("appeal-cli")
        return FileManager.default.isExecutableFile(atPath: beside.path) ? beside : packageRoot.appendingPathComponent(".build/debug/appeal-cli")
    }()

    let folder: URL
    /// On `.postgres`, every command is given `--db` with a new database of the tests' PostgreSQL server.
    let store: StoreKind
    let database: String?

    init(store: StoreKind = .sqlite) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("appeal-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        self.store = store
        if store == .postgres {
            let server = try PostgresInstance.shared()
            let name = "cli_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            try server.createDatabase(name)
            database = server.url(name)
        } else {
            database = nil
        }
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    @discardableResult
    func run(_ arguments: String...) throws -> Result {
        try run(arguments)
    }

    func run(_ arguments: [String], environment: [String: String] = [:], standardOutput: String? = nil) throws -> Result {
        try start(arguments, environment: environment, standardOutput: standardOutput).finish()
    }

    /// A command started and not yet waited for.
    struct Running {
        let process: Process
        let outFile: URL
        let errFile: URL

        func finish() throws -> Result {
            process.waitUntilExit()
            defer {
                try? FileManager.default.removeItem(at: outFile)
                try? FileManager.default.removeItem(at: errFile)
            }
            return Result(code: process.terminationStatus, stdout: try String(contentsOf: outFile, encoding: .utf8),
                          stderr: try String(contentsOf: errFile, encoding: .utf8), signaled: process.terminationReason == .uncaughtSignal)
        }
    }

    /// - Parameter standardOutput: a file to write standard output to (such as `/dev/full`) instead of the one read back.
    func start(_ arguments: [String], environment extra: [String: String] = [:], standardOutput: String? = nil) throws -> Running {
        let arguments = if let database, !arguments.contains("--db") { ["--db", database] + arguments } else { arguments }
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
        process.currentDirectoryURL = folder
        var environment = ProcessInfo.processInfo.environment
        environment["LANG"] = "C.UTF-8"
        environment["APPEAL_SMTP_PASSWORD"] = nil
        environment.merge(extra) { _, new in new }
        process.environment = environment
        // Output goes to files: no pipe can fill up and block the command.
        let outFile = folder.appendingPathComponent(".stdout-\(UUID().uuidString)"), errFile = folder.appendingPathComponent(".stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: outFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errFile.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: standardOutput.map(URL.init(fileURLWithPath:)) ?? outFile)
        process.standardError = try FileHandle(forWritingTo: errFile)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return Running(process: process, outFile: outFile, errFile: errFile)
    }

    /// Everything the database holds, as bytes to search: the SQLite file and its log as they are on disk, or
    /// PostgreSQL's rows as `pg_dump` writes them.
    func databaseBytes() throws -> Data {
        guard let database else {
            return ["appeals.sqlite", "appeals.sqlite-wal"].reduce(into: Data()) { data, name in
                data += FileManager.default.contents(atPath: path(name)) ?? Data()
            }
        }
        let bin = try #require(try FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql").sorted().last)
        let dump = Process()
        dump.executableURL = URL(fileURLWithPath: "/usr/lib/postgresql/\(bin)/bin/pg_dump")
        dump.arguments = ["--data-only", database]
        let output = path("dump.sql")
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        dump.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        try dump.run()
        dump.waitUntilExit()
        try #require(dump.terminationStatus == 0)
        defer { try? FileManager.default.removeItem(atPath: output) }
        return try Data(contentsOf: URL(fileURLWithPath: output))
    }

    /// A database holding the example campaign and its sample supporters.
    func prepareExample() throws {
        try #require(try run("init").code == 0)
        let campaign = Self.exampleCampaign
        try #require(try run("campaign", "create", campaign).code == 0)
        try #require(try run("supporter", "import", Self.exampleCampaign + "/supporters.sample.csv", "--campaign", Self.slug).code == 0)
    }

    /// A supporters CSV of `count` people in `country`, written into the working folder.
    func writeSupporters(_ count: Int, country: String = "FR", name: String = "supporters.csv") throws -> String {
        var text = "name,email,country,city,language\n"
        for index in 0..<count {
            text += "Supporter \(index) Çelik,supporter\(index)@example.net,\(country),Lyon,\(index % 2 == 0 ? "en" : "fr")\n"
        }
        try text.write(toFile: path(name), atomically: true, encoding: .utf8)
        return path(name)
    }

    /// Writes `appeal.json` in the working folder: the config every later command picks up.
    func writeConfig(url: String, extra: String = "", database: String = "appeals.sqlite", perSecond: Int = 0, copyToSupporter: Bool = false) throws {
        try """
            { "database": "\(database)",
              "smtp": { "url": "\(url)", "security": "none", "timeoutSeconds": 5, "connections": 2 \(extra) },
              "sender": { "copyToSupporter": \(copyToSupporter) },
              "limits": { "messagesPerSecond": \(perSecond) } }
            """.write(toFile: path("appeal.json"), atomically: true, encoding: .utf8)
    }

    /// Runs a bash pipeline in the working folder (`$APPEAL` is the executable), as a user's shell would.
    /// - Returns: the exit status of the pipeline's first command.
    func pipeline(_ script: String) throws -> Int32 {
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/bash")
        shell.arguments = ["-c", script + "; exit ${PIPESTATUS[0]}"]
        var appeal = Self.executable.path
        if let database {
            // On PostgreSQL, the pipeline's commands get --db too.
            appeal = path(".appeal-on-postgres")
            try "#!/bin/sh\nexec '\(Self.executable.path)' --db '\(database)' \"$@\"\n".write(toFile: appeal, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: appeal)
        }
        shell.environment = ProcessInfo.processInfo.environment.merging(["APPEAL": appeal]) { _, new in new }
        shell.currentDirectoryURL = folder
        try shell.run()
        shell.waitUntilExit()
        return shell.terminationStatus
    }

    /// A database with the example campaign, its letters queued and sent through a server that refuses the
    /// president's address: one letter failed, the president's target disabled, its other letters held.
    func sendRefusingThePresident() throws -> SMTPTestServer {
        let server = try SMTPTestServer(["--reject-rcpt", "president@"])
        try prepareExample()
        try writeConfig(url: server.url)
        try #require(try run("queue", "--campaign", Self.slug).code == 0)
        try #require(try run("send").code == 3)
        return server
    }

    /// Waits until `condition` holds, checking every 20 ms for at most `seconds`.
    func waitUntil(seconds: Double = 20, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(20_000)
        }
        return try condition()
    }

    func statusJSON() throws -> [String: Any] {
        let result = try run("status", "--campaign", Self.slug, "--json")
        try #require(result.code == 0, "\(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }
}
