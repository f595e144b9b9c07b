import Appeals
import Foundation
import Testing
import TestSupport

/// Several `send` processes sharing one PostgreSQL database, as senders on several hosts would.
@Suite("Senders sharing a PostgreSQL database", .serialized) struct PostgresSendTests {
    /// A test SMTP server, a PostgreSQL server, and a campaign of `supporters` generated supporters (five letters
    /// each) and the 20 samples (95 letters), queued in the SQLite file and copied to PostgreSQL; the config then
    /// points at PostgreSQL.
    static func campaignOnPostgres(supporters: Int, perSecond: Int = 0, serverOptions: [String] = []) throws -> (SMTPTestServer, PostgresInstance, CLIRunner) {
        let server = try SMTPTestServer(serverOptions)
        let postgres = try PostgresInstance()
        let cli = try CLIRunner()
        try cli.prepareExample()
        try cli.writeConfig(url: server.url)
        if supporters > 0 {
            try #require(try cli.run("supporter", "import", try cli.writeSupporters(supporters), "--campaign", CLIRunner.slug).code == 0)
        }
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        let copied = try cli.run("db", "copy", "--to", postgres.url())
        try #require(copied.code == 0, "\(copied.stderr)")
        try cli.writeConfig(url: server.url, database: postgres.url(), perSecond: perSecond)
        return (server, postgres, cli)
    }

    /// Each letter's Message-ID and whether it is marked as a possible duplicate, by status.
    static func letters(_ postgres: PostgresInstance) throws -> [(messageId: String, status: String, duplicate: Bool)] {
        try postgres.query("SELECT message_id, status, possible_duplicate FROM letter ORDER BY id").map { line in
            let fields = line.split(separator: "|").map(String.init)
            return (fields[0], fields[1], fields[2] == "t")
        }
    }

    @Test("three senders at once deliver 20,095 letters exactly once, each taking its share; status reads PostgreSQL, other commands say they need the SQLite file")
    func threeSenders() throws {
        let (server, postgres, cli) = try Self.campaignOnPostgres(supporters: 4000)

        let senders = try (0..<3).map { _ in try cli.start(["send", "--json"]) }
        let results = try senders.map { try $0.finish() }
        var sent: [Int] = []
        for result in results {
            #expect(result.code == 0, "\(result.stderr)")
            let summary = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
            sent.append(summary["sent"] as? Int ?? -1)
            #expect(summary["possibleDuplicates"] as? Int == 0)
        }
        #expect(sent.reduce(0, +) == 20095, "\(sent)")
        #expect(sent.allSatisfy { $0 > 0 }, "the work was not shared: \(sent)")

        let letters = try Self.letters(postgres)
        #expect(letters.count == 20095)
        #expect(letters.allSatisfy { $0.status == "sent" && !$0.duplicate })
        let received = try CrashTests.receivedMessageIDs(server)
        #expect(received.count == 20095 && received.values.allSatisfy { $0 == 1 }, "\(received.filter { $0.value != 1 })")
        #expect(Set(letters.map(\.messageId)) == Set(received.keys))
        #expect(try postgres.query("SELECT count(*) FROM delivery_attempt WHERE outcome = 'sent'") == ["20095"])
        // The runs ended cleanly: no lease left, no note kept.
        #expect(try postgres.query("SELECT (SELECT count(*) FROM send_run) + (SELECT count(*) FROM send_journal)") == ["0"])

        let again = try cli.run("send")
        #expect(again.code == 0 && again.stdout.hasPrefix("sent 0,"), "\(again.stdout)\(again.stderr)")
        // status reads PostgreSQL; commands not yet there say so and change nothing.
        let status = try cli.statusJSON()
        #expect((status["letters"] as? [String: Int])?["sent"] == 20095 && status["possibleDuplicates"] as? Int == 0, "\(status)")
        // db copy copies from a file, not from the database the config names.
        let copy = try cli.run("db", "copy", "--to", postgres.url())
        #expect(copy.code == 2 && copy.stderr.contains("copies from a SQLite file"), "\(copy.stderr)")
    }

    @Test("one of three senders killed by SIGKILL 8 times: the others settle its letters once its lease ends; none lost, duplicates only what was on the wire, all reported")
    func killedSenders() throws {
        // 4,095 letters: time for the kills.
        let (server, postgres, cli) = try Self.campaignOnPostgres(supporters: 800)

        let watchers = try (0..<2).map { _ in try cli.start(["send", "--watch", "--poll-seconds", "1"]) }
        var random = SeededRandom(seed: 14)
        var kills = 0
        var runs = 0
        // Letters the killed runs held, to be settled by the others.
        var held = 0
        while kills < 8 && runs < 100 {
            // Killed while sending: once it holds letters (its run's id carries its pid), at a random moment up to 50 ms later.
            let worker = try cli.start(["send"])
            let pid = worker.process.processIdentifier
            _ = try cli.waitUntil(seconds: 10) {
                try !worker.process.isRunning || postgres.query("SELECT count(*) FROM letter WHERE claimed_by LIKE '%-\(pid)-%'") != ["0"]
            }
            usleep(UInt32.random(in: 0...50_000, using: &random))
            if worker.process.isRunning {
                kill(pid, SIGKILL)
                kills += 1
                held += try Int(#require(try postgres.query("SELECT count(*) FROM letter WHERE claimed_by LIKE '%-\(pid)-%'").first)) ?? 0
            }
            _ = try worker.finish()
            runs += 1
        }
        #expect(kills == 8)
        #expect(held > 0)
        // The watchers settle each dead run's letters once its lease has run out, and send them.
        #expect(try cli.waitUntil(seconds: 120) { try postgres.query("SELECT count(*) FROM letter WHERE status <> 'sent'") == ["0"] })

        let letters = try Self.letters(postgres)
        #expect(letters.count == 4095)
        let audit = try CrashTests.audit(server, letters: letters.map { ($0.messageId, $0.duplicate) })
        let marked = audit.reported
        #expect(audit.lost.isEmpty, "lost: \(audit.lost.count)")
        #expect(audit.duplicated.isSubset(of: marked), "unreported duplicates: \(audit.duplicated.subtracting(marked))")
        // On the wire when it died: one letter per connection (2); one more per connection for a reply it got as it died.
        #expect(marked.count <= kills * 2 * 2, "\(marked.count) marked in \(kills) kills")
        // A run killed between two claims held nothing; its lease row goes when a watcher finds it expired.
        #expect(try cli.waitUntil(seconds: 60) {
            try postgres.query("SELECT (SELECT count(*) FROM send_run) + (SELECT count(*) FROM send_journal)") == ["0"]
        })
        for watcher in watchers {
            kill(watcher.process.processIdentifier, SIGTERM)
            let result = try watcher.finish()
            #expect(result.code == 0, "\(result.stderr)")
        }
    }

    @Test("the organizer's controls act on PostgreSQL: a paused campaign and a disabled target send nothing until opened and enabled")
    func controls() throws {
        let (server, postgres, cli) = try Self.campaignOnPostgres(supporters: 0)
        func send() throws -> [String: Any] {
            let result = try cli.run("send", "--json")
            try #require(result.code == 0, "\(result.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        }

        #expect(try cli.run("campaign", "pause", CLIRunner.slug).stdout == "campaign \(CLIRunner.slug) is paused\n")
        let paused = try send()
        #expect(paused["sent"] as? Int == 0 && (paused["waiting"] as? [String: Any])?["inPausedCampaigns"] as? Int == 95, "\(paused)")
        #expect(try cli.run("campaign", "open", CLIRunner.slug).code == 0)
        let disabled = try cli.run("target", "disable", "--campaign", CLIRunner.slug, "--email", "President@example.org")
        #expect(disabled.stdout == "disabled President@example.org: 20 letters held\n", "\(disabled.stdout)\(disabled.stderr)")
        let held = try send()
        #expect(held["sent"] as? Int == 75 && (held["waiting"] as? [String: Any])?["heldByDisabledTargets"] as? Int == 20, "\(held)")
        #expect(try server.received().allSatisfy { !$0.recipients.contains("president@example.org") })
        let enabled = try cli.run("target", "enable", "--campaign", CLIRunner.slug, "--email", "president@example.org")
        #expect(enabled.stdout.contains("20 held letters will go out"), "\(enabled.stdout)\(enabled.stderr)")
        #expect(try send()["sent"] as? Int == 20)
        #expect(try server.received().count == 95)
        let president = try #require((try cli.statusJSON()["targets"] as? [[String: Any]])?.first { $0["email"] as? String == "president@example.org" })
        #expect(president["disabled"] as? Bool == false && president["sent"] as? Int == 20)
        // Wrong names are told, and change nothing.
        let stranger = try cli.run("target", "disable", "--campaign", CLIRunner.slug, "--email", "nobody@example.org")
        #expect(stranger.code == 2 && stranger.stderr.contains("is not a target of"), "\(stranger.stderr)")
        let unknown = try cli.run("campaign", "pause", "no-such-campaign")
        #expect(unknown.code == 2 && unknown.stderr.contains("no campaign no-such-campaign"), "\(unknown.stderr)")
        #expect(try postgres.query("SELECT count(*) FROM target WHERE disabled") == ["0"])
    }

    @Test("retry on PostgreSQL makes deferred letters due again at once; the lists read PostgreSQL")
    func retryAndLists() throws {
        let (server, postgres, cli) = try Self.campaignOnPostgres(supporters: 0, serverOptions: ["--fault", "451-data", "--fault-count", "10"])
        #expect(try cli.run("send").code == 3)
        #expect(try postgres.query("SELECT count(*) FROM letter WHERE status = 'deferred' AND due_at > now()") == ["10"])
        let retried = try cli.run("retry", "--campaign", CLIRunner.slug, "--status", "deferred")
        #expect(retried.stdout.hasPrefix("10 letters of \(CLIRunner.slug) are due again"), "\(retried.stdout)\(retried.stderr)")
        #expect(try cli.run("send").stdout.hasPrefix("sent 10,"))
        #expect(try server.received().count == 95)
        let sent = try cli.run("letter", "list", "--campaign", CLIRunner.slug, "--status", "sent", "--limit", "200")
        #expect(sent.stdout.split(whereSeparator: \.isNewline).count == 95 && sent.stdout.hasPrefix("sent\t"), "\(sent.stdout.prefix(200))")
        #expect(try cli.run("letter", "list", "--campaign", CLIRunner.slug, "--status", "sent", "--limit", "200").stdout.contains("2 attempts"))
        #expect(try cli.run("campaign", "list").stdout.hasPrefix("\(CLIRunner.slug)\tactive\t"))
        #expect(try cli.run("target", "list", "--campaign", CLIRunner.slug).stdout.contains("president@example.org"))
    }

    @Test("messagesPerSecond holds for all senders together, not for each")
    func sharedRate() throws {
        let (server, postgres, cli) = try Self.campaignOnPostgres(supporters: 0, perSecond: 20)

        let senders = try (0..<3).map { _ in try cli.start(["send"]) }
        for sender in senders { #expect(try sender.finish().code == 0) }
        let arrivals = try server.received().map { try $0.file.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate! }.sorted()
        #expect(arrivals.count == 95)
        // 95 messages at 20 a second take at least 94/20 = 4.7 s whatever else the machine does; three senders
        // pacing themselves alone would take a third of that.
        let span = arrivals.last!.timeIntervalSince(arrivals.first!)
        #expect(span >= 4.2, "95 messages in \(span) s")
    }

    @Test("perTargetPerHour holds for all senders together")
    func sharedHourlyLimit() throws {
        let (server, postgres, cli) = try Self.campaignOnPostgres(supporters: 0)
        try """
            { "database": "\(postgres.url())", "smtp": { "url": "\(server.url)", "security": "none", "connections": 2 },
              "limits": { "perTargetPerHour": 3 } }
            """.write(toFile: cli.path("appeal.json"), atomically: true, encoding: .utf8)
        let perTarget = try postgres.query("SELECT count(*) FROM letter GROUP BY target_id ORDER BY target_id").compactMap { Int($0) }
        #expect(perTarget.filter { $0 > 3 }.count >= 4, "\(perTarget)")

        let senders = try (0..<3).map { _ in try cli.start(["send"]) }
        for sender in senders { _ = try sender.finish() }
        #expect(try postgres.query("""
            SELECT count(*) FILTER (WHERE status = 'sent') FROM letter GROUP BY target_id ORDER BY target_id
            """) == perTarget.map { "\(min(3, $0))" })
        #expect(try server.received().count == perTarget.map { min(3, $0) }.reduce(0, +))
    }
}
