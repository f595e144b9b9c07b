import Appeals
import Foundation
import GRDB
import Testing
import TestSupport

@Suite("send stopped by a signal", .serialized)
struct StopTests {
    /// A server that takes a second to answer each of the first six messages, then answers at once: a signal
    /// sent once it has received two finds the run with a message on each connection.
    static func slowServer() throws -> SMTPTestServer {
        try SMTPTestServer(["--fault", "slow", "--delay", "1", "--fault-count", "6"])
    }

    /// A database with 2,095 letters queued for `server`.
    static func prepare(_ cli: CLIRunner, server: SMTPTestServer) throws -> AppDatabase {
        try cli.prepareExample()
        try #require(try cli.run("supporter", "import", try cli.writeSupporters(400), "--campaign", CLIRunner.slug).code == 0)
        try cli.writeConfig(url: server.url)
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        return try AppDatabase(path: cli.path("appeals.sqlite"))
    }

    /// Waits until the server has received at least `count` messages.
    static func waitForMessages(_ server: SMTPTestServer, atLeast count: Int) throws {
        let deadline = Date().addingTimeInterval(30)
        while try server.received().count < count && Date() < deadline { usleep(20_000) }
    }

    static func counts(_ database: AppDatabase) throws -> [String: Int] {
        try database.writer.read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT status, COUNT(*) FROM letter GROUP BY status").map { ($0[0], $0[1]) })
        }
    }

    @Test("SIGINT or SIGTERM: messages on the wire finish and are recorded, the rest stay queued, exit 130/143; the next run reports no possible duplicate",
          arguments: [SIGINT, SIGTERM])
    func gracefulStop(signal: Int32) throws {
        let server = try Self.slowServer()
        let cli = try CLIRunner()
        let database = try Self.prepare(cli, server: server)

        let running = try cli.start(["send"])
        try Self.waitForMessages(server, atLeast: 2)
        kill(running.process.processIdentifier, signal)
        let stopped = try running.finish()

        #expect(!stopped.signaled)
        #expect(stopped.code == 128 + signal)
        #expect(stopped.stdout.hasPrefix("sent "), "summary printed: \(stopped.stdout)")
        #expect(stopped.stderr.contains("interrupted by \(signal == SIGINT ? "SIGINT" : "SIGTERM")"))
        let afterStop = try Self.counts(database)
        #expect(afterStop["sending"] == nil, "left sending: \(afterStop)")
        // Every message the server received is recorded as sent, and nothing else is.
        let receivedAtStop = try server.received().count
        #expect(afterStop["sent"] == receivedAtStop)
        // The two messages on the wire when the signal came were finished, not abandoned.
        #expect(receivedAtStop >= 4)
        #expect((afterStop["queued"] ?? 0) == 2095 - receivedAtStop)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cli.path("appeals.sqlite.runs")).filter { $0.hasSuffix(".journal") }.isEmpty)

        let rest = try cli.run("send", "--json")
        #expect(rest.code == 0)
        let summary = try JSONSerialization.jsonObject(with: Data(rest.stdout.utf8)) as? [String: Any]
        #expect(summary?["possibleDuplicates"] as? Int == 0)
        #expect(summary?["sent"] as? Int == 2095 - receivedAtStop)
        var received: [String: Int] = [:]
        for message in try server.received() {
            if let id = CrashTests.messageID(message.data) { received[id, default: 0] += 1 }
        }
        #expect(received.count == 2095)
        #expect(received.values.allSatisfy { $0 == 1 }, "delivered twice: \(received.filter { $0.value > 1 }.count)")
    }

    @Test("a second SIGINT ends send at once, as a crash: the next run loses nothing and reports what was on the wire")
    func secondSignalAborts() throws {
        let server = try Self.slowServer()
        let cli = try CLIRunner()
        let database = try Self.prepare(cli, server: server)

        let running = try cli.start(["send"])
        try Self.waitForMessages(server, atLeast: 2)
        kill(running.process.processIdentifier, SIGINT)
        usleep(200_000)
        kill(running.process.processIdentifier, SIGINT)
        let aborted = try running.finish()
        #expect(aborted.signaled && aborted.code == SIGINT, "ended by: \(aborted.code), signaled \(aborted.signaled) \(aborted.stderr)")

        let rest = try cli.run("send", "--json")
        #expect(rest.code == 0)
        let summary = try JSONSerialization.jsonObject(with: Data(rest.stdout.utf8)) as? [String: Any]
        let reported = try #require(summary?["possibleDuplicates"] as? Int)
        #expect(reported <= 2 * 2)
        var received: [String: Int] = [:]
        for message in try server.received() {
            if let id = CrashTests.messageID(message.data) { received[id, default: 0] += 1 }
        }
        #expect(received.count == 2095)
        let flagged = Set(try database.writer.read { db in try String.fetchAll(db, sql: "SELECT message_id FROM letter WHERE possible_duplicate") })
        #expect(Set(received.filter { $0.value > 1 }.keys).isSubset(of: flagged))
        #expect(try Self.counts(database) == ["sent": 2095])
    }
}
