import Foundation
import Testing
import TestSupport

/// Servers that bound their sessions: how many a user may have at once, how long one may stay idle.
@Suite("PostgreSQL servers that bound their sessions", .serialized)
struct PostgresServerLimitsTests {
    @Test("a role's CONNECTION LIMIT: commands keep within it, senders take turns, and one that cannot fit says so at once")
    func roleConnectionLimit() throws {
        let server = try PostgresInstance.shared()
        let role = try server.createRole(connections: 2)
        defer { server.drop(role: role) }
        let cli = try CLIRunner()
        try cli.writeConfig(url: "file://outbox", database: server.url(role: role))
        try cli.prepareExample()

        // queue holds its turn on one session and writes on the other.
        let queue = try cli.run("queue", "--campaign", CLIRunner.slug)
        #expect(queue.code == 0 && queue.stdout.hasPrefix("queued 95 letters"), "\(queue.stdout) \(queue.stderr)")
        // Another client holds one of the two sessions for a few seconds: queue says it waits, then goes on.
        let other = Thread { _ = try? server.query("SELECT pg_sleep(12)", database: role, user: role) }
        other.start()
        #expect(cli.waitUntil { (try? server.query("SELECT count(*) FROM pg_stat_activity WHERE usename = '\(role)'")) == ["1"] })
        let waited = try cli.run("queue", "--campaign", CLIRunner.slug)
        #expect(waited.code == 0 && waited.stderr.contains("waiting up to 60 seconds for a session: the server says \"too many connections for role"),
                "\(waited.stdout) \(waited.stderr)")

        // One session: enough for send and status, which take turns on it; too few for queue, which says so at once.
        _ = try server.query("ALTER ROLE \(role) CONNECTION LIMIT 1")
        let refused = try cli.run("queue", "--campaign", CLIRunner.slug)
        #expect(refused.code == 1 && refused.stderr.contains("this command needs 2 sessions at once, and the role \(role) may have only 1 (its CONNECTION LIMIT)")
                && refused.stderr.contains("ALTER ROLE \(role) CONNECTION LIMIT 2 or more"), "\(refused.stdout) \(refused.stderr)")
        let alone = try cli.run("send")
        #expect(alone.code == 0 && alone.stdout.hasPrefix("sent 95,"), "\(alone.stdout) \(alone.stderr)")

        // Two senders sharing two sessions take turns: neither holds one while it waits for another.
        _ = try server.query("ALTER ROLE \(role) CONNECTION LIMIT 2")
        try #require(try cli.run("supporter", "import", try cli.writeSupporters(300), "--campaign", CLIRunner.slug).code == 0)
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        let senders = try [cli.start(["send"]), cli.start(["send"])]
        let results = try senders.map { try $0.finish() }
        // Each normally has one session; one that started too late to have any before the other had both may
        // only wait its minute (and say so), having claimed nothing.
        #expect(results.contains { $0.code == 0 }, "\(results.map { $0.stdout + $0.stderr })")
        #expect(results.allSatisfy { $0.code == 0 || ($0.code == 1 && $0.stderr.contains("gave no connection within 60 seconds")) },
                "\(results.map { $0.stdout + $0.stderr })")
        let sent = results.compactMap { $0.stdout.firstMatch(of: /^sent (\d+),/).flatMap { Int($0.1) } }
        #expect(sent.reduce(0, +) == 1_500, "\(results.map(\.stdout))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: cli.path("outbox")).count == 1_595)
        let status = try cli.run("status", "--campaign", CLIRunner.slug)
        #expect(status.code == 0 && status.stdout.contains("0 queued, 0 sending, 1595 sent"), "\(status.stdout) \(status.stderr)")
    }

    @Test("send --watch on a server that ends sessions idle as long as its poll interval keeps running and sends what comes")
    func watchOnServerEndingIdleSessions() throws {
        let server = try PostgresInstance.shared()
        let role = try server.createRole(connections: -1)
        defer { server.drop(role: role) }
        _ = try server.query("ALTER DATABASE \(role) SET idle_session_timeout = '1s'")
        let cli = try CLIRunner()
        try cli.writeConfig(url: "file://outbox", database: server.url(role: role))
        try cli.prepareExample()

        let watching = try cli.start(["send", "--watch", "--poll-seconds", "1"])
        // Several polls, each after its connections sat idle as long as the server allows.
        Thread.sleep(forTimeInterval: 8)
        #expect(watching.process.isRunning)
        #expect(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        let sent = cli.waitUntil(seconds: 30) { ((try? FileManager.default.contentsOfDirectory(atPath: cli.path("outbox")))?.count ?? 0) == 95 }
        #expect(sent)
        Thread.sleep(forTimeInterval: 4)
        #expect(watching.process.isRunning)
        kill(watching.process.processIdentifier, SIGINT)
        let result = try watching.finish()
        #expect(result.code == 0, "\(result.stdout) \(result.stderr)")
        #expect(try server.query("SELECT count(*) FROM letter WHERE status = 'sent'", database: role) == ["95"])
    }

    @Test("export to a reader that stalls longer than appeal lets a transaction sit idle (20 s): every line arrives")
    func exportToStallingReader() throws {
        let cli = try CLIRunner(store: .postgres)
        try cli.prepareExample()
        try #require(try cli.run("supporter", "import", try cli.writeSupporters(4_000), "--campaign", CLIRunner.slug).code == 0)
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        // The pipe fills at once and export waits on it, its cursor's transaction open, for 25 seconds.
        let status = try cli.pipeline("\"$APPEAL\" export --campaign \(CLIRunner.slug) 2>err.txt | (sleep 25; wc -l > lines.txt)")
        #expect(status == 0, "\((try? String(contentsOfFile: cli.path("err.txt"), encoding: .utf8)) ?? "")")
        // 20,095 letters and the header.
        #expect(try String(contentsOfFile: cli.path("lines.txt"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == "20096")
    }
}
