import Foundation

/// A private Postfix instance (Tests/Servers/postfix_instance.sh): its smtpd on 127.0.0.1, relaying everything
/// to one test server, and delivering mail for `bounceDomain` (the bounces it writes itself among it) into a
/// Maildir. Needs root and Debian's postfix package (`scripts/setup --tests`).
public final class PostfixInstance: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public let folder: String
    public let port: Int
    public var maildir: String { folder + "/Maildir" }
    public var url: String { "smtp://127.0.0.1:\(port)" }
    private var running = true

    public init(folder: String, relayPort: Int, bounceDomain: String) throws {
        guard getuid() == 0 else { throw Failure(description: "a private Postfix instance needs root") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/postfix") else {
            throw Failure(description: "Postfix is not installed: run scripts/setup --tests")
        }
        self.folder = folder
        port = try freePort()
        let result = try Self.script(["start", folder, "\(port)", "\(relayPort)", bounceDomain])
        guard result.status == 0 else { throw Failure(description: "Postfix did not start: \(result.output)") }
    }

    deinit { stop() }

    /// Stops every process of the instance and waits for them.
    public func stop() {
        guard running else { return }
        running = false
        _ = try? Self.script(["stop", folder])
    }

    /// The files delivered to `Maildir/new`.
    public func newMessages() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: maildir + "/new")) ?? []).sorted()
    }

    /// What Postfix logged.
    public var log: String { (try? String(contentsOfFile: folder + "/maillog", encoding: .utf8)) ?? "" }

    private static func script(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [Fixtures.servers.appendingPathComponent("postfix_instance.sh").path] + arguments
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("postfix-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }
}
