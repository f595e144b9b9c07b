import Appeals
import Foundation
import GRDB
import Testing
import TestSupport

@Suite("send stopped by a signal", .serialized)
struct StopTests {
    /// A server that takes a second to answer each of the first six messages, then answers at once: a signal
    /// sent once it has received two finds the run with a message on each connection.
    static func slowServer(delay: Int = 1) throws -> SMTPTestServer {
        try SMTPTestServer(["--fault", "slow", "--delay", "\(delay)", "--fault-count", "6"])
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

    /// `send` started (with `arguments`) on 2,095 letters for the slow server, once two messages are in.
    static func sendingSlowly(_ arguments: [String] = [], delay: Int = 1) throws
        -> (server: SMTPTestServer, cli: CLIRunner, database: AppDatabase, running: CLIRunner.Running) {
        let server = try slowServer(delay: delay)
        let cli = try CLIRunner()
        let database = try prepare(cli, server: server)
        let running = try cli.start(["send"] + arguments)
        try waitForMessages(server, atLeast: 2)
        // The server holds each message a second: 300 ms on, both sessions have their next one on the wire.
        usleep(300_000)
        return (server, cli, database, running)
    }

    static func counts(_ database: AppDatabase) throws -> [String: Int] {
        try database.writer.read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT status, COUNT(*) FROM letter GROUP BY status").map { ($0[0], $0[1]) })
        }
    }

    @Test("SIGINT or SIGTERM: messages on the wire finish and are recorded, the rest stay queued, exit 130/143; the next run reports no possible duplicate",
          arguments: [SIGINT, SIGTERM])
    func gracefulStop(signal: Int32) throws {
        let (server, cli, database, running) = try Self.sendingSlowly()
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
        let received = try CrashTests.receivedMessageIDs(server)
        #expect(received.count == 2095)
        #expect(received.values.allSatisfy { $0 == 1 }, "delivered twice: \(received.filter { $0.value > 1 }.count)")
    }

    @Test("a stop does not wait for rate-limit slots of letters it will not send: 256 built letters at 2 a second would take two minutes")
    func stopSkipsRateLimit() throws {
        let server = try SMTPTestServer()
        let cli = try CLIRunner()
        let database = try Self.prepare(cli, server: server)
        try cli.writeConfig(url: server.url, perSecond: 2)
        let running = try cli.start(["send"])
        try Self.waitForMessages(server, atLeast: 2)
        kill(running.process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(20)
        while running.process.isRunning && Date() < deadline { usleep(50_000) }
        #expect(!running.process.isRunning, "still draining 20 s after SIGTERM")
        if running.process.isRunning { kill(running.process.processIdentifier, SIGKILL) }
        let stopped = try running.finish()
        #expect(stopped.code == 143)
        #expect(try Self.counts(database)["sending"] == nil)
        #expect(stopped.stdout.contains("the next run (this one was interrupted)"))
    }

    @Test("the same signal twice at once (as `timeout` sends it, to the process and its group) is one request: a clean stop")
    func repeatedSignalIsOne() throws {
        let (server, cli, database, running) = try Self.sendingSlowly()
        kill(running.process.processIdentifier, SIGTERM)
        usleep(5_000)
        kill(running.process.processIdentifier, SIGTERM)
        let stopped = try withExtendedLifetime(cli) { try running.finish() }
        #expect(!stopped.signaled && stopped.code == 143, "\(stopped.code) \(stopped.stderr)")
        #expect(stopped.stdout.hasPrefix("sent "))
        #expect(try Self.counts(database)["sending"] == nil)
        #expect(try Self.counts(database)["sent"] == (try server.received().count))
    }

    @Test("a second SIGINT ends send at once, as a crash: the next run loses nothing and reports what was on the wire")
    func secondSignalAborts() throws {
        // Messages that take four seconds each: the run is still finishing them when the second signal comes.
        let (server, cli, database, running) = try Self.sendingSlowly(delay: 4)
        kill(running.process.processIdentifier, SIGINT)
        usleep(1_500_000)
        kill(running.process.processIdentifier, SIGINT)
        let aborted = try running.finish()
        #expect(aborted.signaled && aborted.code == SIGINT, "ended by: \(aborted.code), signaled \(aborted.signaled) \(aborted.stderr)")

        let rest = try cli.run("send", "--json")
        #expect(rest.code == 0)
        let summary = try JSONSerialization.jsonObject(with: Data(rest.stdout.utf8)) as? [String: Any]
        let reported = try #require(summary?["possibleDuplicates"] as? Int)
        #expect(reported <= 2 * 2)
        let received = try CrashTests.receivedMessageIDs(server)
        #expect(received.count == 2095)
        let flagged = Set(try database.writer.read { db in try String.fetchAll(db, sql: "SELECT message_id FROM letter WHERE possible_duplicate") })
        #expect(Set(received.filter { $0.value > 1 }.keys).isSubset(of: flagged))
        #expect(try Self.counts(database) == ["sent": 2095])
    }
}

@Suite("send --watch", .serialized)
struct WatchTests {
    /// Message-IDs the server received, with how many times each.
    static func received(_ server: SMTPTestServer) throws -> [String: Int] {
        let received = try CrashTests.receivedMessageIDs(server)
        return received
    }

    static func waitUntil(_ condition: () throws -> Bool) throws -> Bool {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if try condition() { return true }
            usleep(50_000)
        }
        return false
    }

    @Test("sends what is due, then letters queued by another process and retries as they come due; SIGTERM ends it cleanly with exit 0")
    func watches() throws {
        // The first three messages get 451: deferred, due again a second later.
        let server = try SMTPTestServer(["--fault", "451-data", "--fault-count", "3"])
        let cli = try CLIRunner()
        try cli.prepareExample()
        try cli.writeConfig(url: server.url, extra: "", perSecond: 0)
        var config = try String(contentsOfFile: cli.path("appeal.json"), encoding: .utf8)
        config = config.replacingOccurrences(of: "\"messagesPerSecond\": 0", with: "\"messagesPerSecond\": 0, \"retryBaseSeconds\": 1, \"retryMaxSeconds\": 2")
        try config.write(toFile: cli.path("appeal.json"), atomically: true, encoding: .utf8)
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        let database = try AppDatabase(path: cli.path("appeals.sqlite"))

        let watching = try cli.start(["send", "--watch", "--poll-seconds", "1"])
        // The 95 letters due at the start, the three deferred ones included once their retry comes due.
        #expect(try Self.waitUntil { try CrashTests.receivedMessageIDs(server).count == 95 })
        // Another process queues more letters while the service runs: they go out within a poll or two.
        try #require(try cli.run("supporter", "import", try cli.writeSupporters(20), "--campaign", CLIRunner.slug).code == 0)
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        #expect(try Self.waitUntil { try CrashTests.receivedMessageIDs(server).count == 195 })
        #expect(watching.process.isRunning)

        kill(watching.process.processIdentifier, SIGTERM)
        let stopped = try watching.finish()
        #expect(stopped.code == 0 && !stopped.signaled, "\(stopped.code): \(stopped.stderr)")
        #expect(stopped.stderr.contains("send --watch started"))
        #expect(stopped.stderr.contains("letter not sent"), "deferrals are logged with their reply")
        #expect(stopped.stderr.contains("451"))
        #expect(stopped.stderr.contains("send --watch stopped"))
        let received = try CrashTests.receivedMessageIDs(server)
        #expect(received.count == 195 && received.values.allSatisfy { $0 == 1 })
        let statuses = try database.writer.read { db in try String.fetchAll(db, sql: "SELECT status FROM letter") }
        #expect(statuses.count == 195 && statuses.allSatisfy { $0 == "sent" })
        #expect(try FileManager.default.contentsOfDirectory(atPath: cli.path("appeals.sqlite.runs")).filter { !$0.hasPrefix("queue") }.isEmpty)
    }

    @Test("SIGTERM while letters are on the wire: they finish and are recorded, the rest stay queued, exit 0")
    func stopsMidRun() throws {
        let (server, cli, database, watching) = try StopTests.sendingSlowly(["--watch"])
        kill(watching.process.processIdentifier, SIGTERM)
        // The working folder (and the command's output in it) lives as long as `cli`.
        let stopped = try withExtendedLifetime(cli) { try watching.finish() }
        #expect(stopped.code == 0 && !stopped.signaled, "\(stopped.code): \(stopped.stderr)")
        let counts = try StopTests.counts(database)
        #expect(counts["sending"] == nil)
        #expect(counts["sent"] == (try server.received().count))
        #expect(counts["sent", default: 0] >= 4)
    }

    @Test("--watch refuses options that make no sense for a service; --poll-seconds needs --watch")
    func refusesOneShotOptions() throws {
        let cli = try CLIRunner()
        for extra in [["--dry-run"], ["--limit", "3"], ["--json"], ["--poll-seconds", "0"]] {
            let result = try cli.run(["send", "--watch"] + extra)
            #expect(result.code == 2, "\(extra): \(result.stderr)")
        }
        let alone = try cli.run("send", "--poll-seconds", "5")
        #expect(alone.code == 2 && alone.stderr.contains("--poll-seconds goes with --watch"))
    }
}
