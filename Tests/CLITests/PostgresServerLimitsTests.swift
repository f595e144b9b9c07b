import Foundation
import Testing
import TestSupport

/// Servers that bound their sessions: how many a user may have at once, how long one may stay idle.
@Suite("PostgreSQL servers that bound their sessions", .serialized)
struct PostgresServerLimitsTests {
    @Test("a role's CONNECTION LIMIT: commands keep within it and send; one that cannot fit says so at once")
    func roleConnectionLimit() throws {
        let server = try PostgresInstance.shared()
        let role = try server.createRole(connections: 2)
        defer { server.drop(role: role) }
        let cli = try CLIRunner()
        try cli.writeConfig(url: "file://outbox", database: server.url(role: role))
        try cli.prepareExample()

        // queue holds its turn on one session and writes on the other; send shares two between its claims and its notes.
        let queue = try cli.run("queue", "--campaign", CLIRunner.slug)
        #expect(queue.code == 0 && queue.stdout.hasPrefix("queued 95 letters"), "\(queue.stdout) \(queue.stderr)")
        // Another client holds one of the two sessions for a few seconds: queue says it waits, then goes on.
        let other = Thread { _ = try? server.query("SELECT pg_sleep(5)", database: role, user: role) }
        other.start()
        #expect(cli.waitUntil { (try? server.query("SELECT count(*) FROM pg_stat_activity WHERE usename = '\(role)'")) == ["1"] })
        let waited = try cli.run("queue", "--campaign", CLIRunner.slug)
        #expect(waited.code == 0 && waited.stderr.contains("waiting up to 60 seconds for a session: the server says \"too many connections for role"),
                "\(waited.stdout) \(waited.stderr)")

        // Its notes' pool does not wait for a session its main pool keeps idle (which ended in a minute's time-out).
        let send = try cli.run("send")
        #expect(send.code == 0 && send.stdout.hasPrefix("sent 95,"), "\(send.stdout) \(send.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: cli.path("outbox")).count == 95)

        // One session: too few for send, which says so at once; status needs only one.
        _ = try server.query("ALTER ROLE \(role) CONNECTION LIMIT 1")
        let refused = try cli.run("send")
        #expect(refused.code == 1 && refused.stderr.contains("this command needs 2 sessions at once, and the role \(role) may have only 1 (its CONNECTION LIMIT)")
                && refused.stderr.contains("ALTER ROLE \(role) CONNECTION LIMIT 2 or more"), "\(refused.stdout) \(refused.stderr)")
        let status = try cli.run("status", "--campaign", CLIRunner.slug)
        #expect(status.code == 0 && status.stdout.contains("0 queued, 0 sending, 95 sent"), "\(status.stdout) \(status.stderr)")
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
