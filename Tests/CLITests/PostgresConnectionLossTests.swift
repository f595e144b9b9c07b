import Foundation
import Testing
import TestSupport

/// Commands whose PostgreSQL connections are lost under them (the server ends their sessions, or stops): each
/// ends with a message and exit 1 instead of waiting for ever, and leaves only whole work behind.
@Suite("PostgreSQL connections lost under a running command", .serialized)
struct PostgresConnectionLossTests {
    @Test("queue: its sessions ended midway, it stops with a message; queue again adds exactly the missing letters")
    func queueLosesItsSessions() throws {
        let (cli, server, name) = try postgresCLI()
        try cli.prepareExample()
        try #require(try cli.run("supporter", "import", try cli.writeSupporters(20_000), "--campaign", CLIRunner.slug).code == 0)

        let queue = try cli.start(["queue", "--campaign", CLIRunner.slug])
        // Once letters are being written, every session of the command is ended by the server.
        #expect(cli.waitUntil(seconds: 60) { (try? server.query("SELECT count(*) > 0 FROM letter", database: name)) == ["t"] })
        let ended = try server.query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '\(name)' AND pid <> pg_backend_pid()")
        #expect(ended != ["0"])
        let result = try finish(queue, cli: cli)
        #expect(result.code == 1 && result.stderr.contains("the connection was lost"), "\(result.code) \(result.stdout) \(result.stderr)")
        let partial = try #require(Int(try server.query("SELECT count(*) FROM letter", database: name).first ?? ""))
        #expect(partial < 20_000 * 5, "the queue was not stopped midway: \(partial) letters")

        // Whole batches only: every letter has its text; queue again completes the rest.
        let again = try cli.run("queue", "--campaign", CLIRunner.slug)
        #expect(again.code == 0, "\(again.stderr)")
        let counts = try server.query("SELECT count(*), count(t.letter_id) FROM letter l LEFT JOIN letter_text t ON t.letter_id = l.id", database: name)
        #expect(counts.count == 1 && counts.first?.split(separator: "|").count == 2 && Set(counts[0].split(separator: "|")).count == 1, "\(counts)")
        // Each of the 20,000 supporters in France writes to the four officials and the embassy: five letters each.
        #expect(try server.query("""
            SELECT count(*) FROM supporter s WHERE s.email LIKE 'supporter%' AND (SELECT count(*) FROM letter WHERE supporter_id = s.id) <> 5
            """, database: name) == ["0"])
        #expect(try server.query("SELECT count(*) FROM supporter WHERE email LIKE 'supporter%'", database: name) == ["20000"])
    }

    @Test("supporter import: its session ended midway, it stops with a message and imports nothing; a second import takes all")
    func importLosesItsSession() throws {
        let (cli, server, name) = try postgresCLI()
        try #require(try cli.run("init").code == 0)
        try #require(try cli.run("campaign", "create", CLIRunner.exampleCampaign).code == 0)
        let file = try cli.writeSupporters(150_000)

        let importing = try cli.start(["supporter", "import", file, "--campaign", CLIRunner.slug])
        // Once the import's transaction has begun, its session is ended by the server.
        #expect(cli.waitUntil(seconds: 60) {
            (try? server.query("""
                SELECT count(*) > 0 FROM pg_stat_activity
                WHERE datname = '\(name)' AND (state LIKE 'idle in transaction%' OR (state = 'active' AND query LIKE '%supporter%'))
                """)) == ["t"]
        })
        _ = try server.query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '\(name)' AND pid <> pg_backend_pid()")
        let result = try finish(importing, cli: cli)
        #expect(result.code == 1 && result.stderr.contains("the connection was lost"), "\(result.code) \(result.stdout) \(result.stderr)")
        #expect(try server.query("SELECT count(*) FROM supporter", database: name) == ["0"])

        let again = try cli.run("supporter", "import", file, "--campaign", CLIRunner.slug)
        #expect(again.code == 0, "\(again.stderr)")
        #expect(try server.query("SELECT count(*) FROM supporter", database: name) == ["150000"])
    }

    @Test("export: its session ended while the rows are read, it stops with a message and leaves no file, whole or partial")
    func exportLosesItsSession() throws {
        let (cli, server, name) = try postgresCLI()
        try cli.prepareExample()
        try #require(try cli.run("supporter", "import", try cli.writeSupporters(20_000), "--campaign", CLIRunner.slug).code == 0)
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        let folder = cli.path("exports")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let written = { (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] }

        let export = try cli.start(["export", "--campaign", CLIRunner.slug, "--out", "\(folder)/letters.csv"])
        // Once rows are being written out, the server ends the export's session.
        #expect(cli.waitUntil(seconds: 60) {
            written().contains { file in
                ((try? FileManager.default.attributesOfItem(atPath: "\(folder)/\(file)"))?[.size] as? Int ?? 0) > 100_000
            }
        })
        _ = try server.query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '\(name)' AND pid <> pg_backend_pid()")
        let result = try finish(export, cli: cli)
        #expect(result.code == 1 && result.stderr.contains("the connection was lost"), "\(result.code) \(result.stdout) \(result.stderr)")
        // Supporters' names and addresses are not left behind in a part of a file.
        #expect(written().isEmpty, "\(written())")

        let again = try cli.run("export", "--campaign", CLIRunner.slug, "--out", "\(folder)/letters.csv")
        #expect(again.code == 0, "\(again.stderr)")
        let lines = try String(contentsOfFile: "\(folder)/letters.csv", encoding: .utf8).split(separator: "\r\n")
        #expect(lines.count == 1 + 100_000 + 95)
    }

    @Test("campaign update: its session ended while it writes the letters again, it stops with a message and changes nothing")
    func campaignUpdateLosesItsSession() throws {
        let (cli, server, name) = try postgresCLI()
        let folder = try StrictInputTests.campaignCopy(cli) { $0 }
        try #require(try cli.run("init").code == 0)
        try #require(try cli.run("campaign", "create", folder).code == 0)
        try #require(try cli.run("supporter", "import", try cli.writeSupporters(6_000), "--campaign", CLIRunner.slug).code == 0)
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        let letter = try String(contentsOfFile: "\(folder)/letter.en.mustache", encoding: .utf8)
        try (letter + "\nA line added after the letters were queued.\n").write(toFile: "\(folder)/letter.en.mustache", atomically: true, encoding: .utf8)

        let update = try cli.start(["campaign", "update", folder])
        // Once the update has written something in its transaction, the server ends its session.
        #expect(cli.waitUntil(seconds: 60) {
            (try? server.query("SELECT count(*) > 0 FROM pg_stat_activity WHERE datname = '\(name)' AND backend_xid IS NOT NULL")) == ["t"]
        })
        _ = try server.query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '\(name)' AND pid <> pg_backend_pid()")
        let result = try finish(update, cli: cli)
        #expect(result.code == 1 && result.stderr.contains("the connection was lost"), "\(result.code) \(result.stdout) \(result.stderr)")
        #expect(try server.query("SELECT count(*) FROM letter_text WHERE body LIKE '%added after the letters%'", database: name) == ["0"])
        #expect(try server.query("SELECT count(*) FROM campaign_template WHERE letter LIKE '%added after the letters%'", database: name) == ["0"])

        let again = try cli.run("campaign", "update", folder)
        #expect(again.code == 0 && again.stdout.contains("templates changed for: en"), "\(again.stderr)")
        #expect(try server.query("SELECT count(*) > 1000 FROM letter_text WHERE body LIKE '%added after the letters%'", database: name) == ["t"])
    }

    @Test("queue on a server that ends idle sessions (idle_session_timeout): the turn's connection, idle all run, is kept")
    func queueOnServerEndingIdleSessions() throws {
        let (cli, server, name) = try postgresCLI()
        _ = try server.query("ALTER DATABASE \(name) SET idle_session_timeout = '1s'")
        try cli.prepareExample()
        try #require(try cli.run("supporter", "import", try cli.writeSupporters(8_000), "--campaign", CLIRunner.slug).code == 0)
        let started = Date()
        let queue = try cli.run("queue", "--campaign", CLIRunner.slug)
        #expect(queue.code == 0 && queue.stdout.hasPrefix("queued 40095 letters"), "\(queue.stdout) \(queue.stderr)")
        // The run lasted longer than an idle session is allowed to: the limit was in force.
        #expect(Date().timeIntervalSince(started) > 1.5)
        #expect(try server.query("SELECT count(*) FROM letter", database: name) == ["40095"])
    }

    @Test("the server stops under queue and send --watch: both stop with a message")
    func serverStops() throws {
        let server = try PostgresInstance()
        defer { server.stop() }
        let cli = try CLIRunner()
        try cli.writeConfig(url: "file://outbox", database: server.url())
        try cli.prepareExample()
        try #require(try cli.run("supporter", "import", try cli.writeSupporters(40_000), "--campaign", CLIRunner.slug).code == 0)
        let watching = try cli.start(["send", "--watch"])
        let queue = try cli.start(["queue", "--campaign", CLIRunner.slug])
        // Letters are being queued and sent when the server stops.
        #expect(cli.waitUntil(seconds: 60) { ((try? FileManager.default.contentsOfDirectory(atPath: cli.path("outbox")))?.count ?? 0) > 100 })
        #expect(queue.process.isRunning)
        server.stop()
        for running in [queue, watching] {
            let result = try finish(running, cli: cli)
            #expect(result.code == 1 && (result.stderr.contains("the connection was lost") || result.stderr.contains("cannot connect")),
                    "\(result.code) \(result.stdout) \(result.stderr)")
        }
    }

    /// A working folder whose commands use a database of their own on the shared server, and that database's name.
    private func postgresCLI() throws -> (CLIRunner, PostgresInstance, String) {
        let cli = try CLIRunner(store: .postgres)
        let name = try #require(cli.database?.split(separator: "/").last?.split(separator: "?").first.map(String.init))
        return (cli, try PostgresInstance.shared(), name)
    }

    /// Waits for a command that must end by itself: one still running after a minute is killed and counted
    /// as a failure (it would have waited for ever).
    private func finish(_ running: CLIRunner.Running, cli: CLIRunner) throws -> CLIRunner.Result {
        let ended = cli.waitUntil(seconds: 60) { !running.process.isRunning }
        if !ended {
            kill(running.process.processIdentifier, SIGKILL)
            Issue.record("the command was still waiting a minute after its connections were lost")
        }
        return try running.finish()
    }
}
