import Foundation
import Testing
import TestSupport

@Suite("appeal-cli send, retry and export", .serialized)
struct SendCLITests {
    @Test("send through file:// writes one 0600 .eml per letter, named by its Message-ID, and exits 0")
    func fileTransport() throws {
        let cli = try CLIRunner()
        try cli.prepareExample()
        try cli.writeConfig(url: "file://\(cli.path("outbox"))")
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        let result = try cli.run("send")
        #expect(result.code == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("sent 95, deferred 0, failed 0, possible duplicates 0"))
        let files = try FileManager.default.contentsOfDirectory(atPath: cli.path("outbox"))
        #expect(files.count == 95 && files.allSatisfy { $0.hasSuffix("@example.org.eml") })
        for file in files.prefix(5) {
            let attributes = try FileManager.default.attributesOfItem(atPath: cli.path("outbox/\(file)"))
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            let parsed = try PythonEmail.parse(file: URL(fileURLWithPath: cli.path("outbox/\(file)")))
            #expect(file == parsed.messageId.trimmingCharacters(in: CharacterSet(charactersIn: "<>")) + ".eml")
        }
        let letters = try #require(try cli.statusJSON()["letters"] as? [String: Int])
        #expect(letters["sent"] == 95 && letters["queued"] == 0)
        #expect(try cli.run("send").stdout.hasPrefix("sent 0,"))
    }

    @Test("a run cut short by --limit says so, also when a target disabled during the run held some of its letters back",
          arguments: StoreKind.allCases)
    func limitWithTargetDisabled(_ store: StoreKind) throws {
        let server = try SMTPTestServer(["--reject-rcpt", "president@"])
        let cli = try CLIRunner(store: store)
        try cli.prepareExample()
        try cli.writeConfig(url: server.url)
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        let result = try cli.run("send", "--limit", "30")
        // The president's first letter fails (550) and disables the target: its other claimed letters stay unsent.
        // With two connections a second president letter may already be on the wire when the first fails.
        let failed = result.stdout.firstMatch(of: /failed (\d+),/).flatMap { Int($0.1) }
        #expect(result.code == 3 && (1...2).contains(failed ?? 0), "\(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("letters wait for the next run (this one stopped at --limit)"), "\(result.stdout)")
        #expect(!result.stdout.contains("another send run") && !result.stdout.contains("sending hours"), "\(result.stdout)")
    }

    @Test("a run that finds the due letters held by another running send says so, in words and in --json", arguments: StoreKind.allCases)
    func heldByAnotherRun(_ store: StoreKind) throws {
        // A server that takes a second over each message: the first run claims all 95 letters at once.
        let server = try SMTPTestServer(["--fault", "slow", "--delay", "1", "--fault-count", "1000"])
        let cli = try CLIRunner(store: store)
        try cli.prepareExample()
        try cli.writeConfig(url: server.url)
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        let running = try cli.start(["send"])
        defer {
            kill(running.process.processIdentifier, SIGINT)
            _ = try? running.finish()
        }
        try StopTests.waitForMessages(server, atLeast: 2)
        let second = try cli.run("send")
        #expect(second.code == 0 && second.stdout.hasPrefix("sent 0,"), "\(second.stdout) \(second.stderr)")
        #expect(second.stdout.contains("letters are held by another send run: being sent, or, if that run stopped, settled by a later run"),
                "\(second.stdout)")
        let json = try cli.run("send", "--json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let held = try #require((object["waiting"] as? [String: Any])?["heldByOtherRuns"] as? Int)
        #expect(held > 50 && held <= 95, "\(json.stdout)")
    }

    @Test("campaign pause or close during send: no new message goes out after it, and claimed letters go back to queued",
          arguments: ["pause", "close"])
    func pauseDuringSend(_ verb: String) throws {
        let server = try SMTPTestServer()
        let cli = try CLIRunner()
        try cli.prepareExample()
        try cli.writeConfig(url: server.url, perSecond: 10)
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        let running = try cli.start(["send"])
        #expect(try cli.waitUntil { try server.received().count >= 5 })
        #expect(try cli.run("campaign", verb, CLIRunner.slug).code == 0)
        let atPause = try server.received().count
        let sent = try running.finish()
        #expect(sent.code == 0, "\(sent.stderr)")
        // Only what the two connections were already sending, and one more slot before the sender looked, may
        // still arrive (at 10 a second, 364 letters claimed used to go on for 36 s).
        let after = try server.received().count
        #expect(after - atPause <= 3, "\(after - atPause) messages after the campaign was paused")
        let letters = try #require(try cli.statusJSON()["letters"] as? [String: Int])
        #expect(letters["sent"] == after && letters["queued"] == 95 - after && letters["sending"] == 0, "\(letters)")
    }

    @Test("two send processes on one database deliver every letter exactly once")
    func twoSenders() throws {
        let server = try SMTPTestServer()
        let cli = try CLIRunner()
        try cli.prepareExample()
        try cli.writeConfig(url: server.url)
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        // Both start together and race for the same letters.
        let results = try [0, 1].map { _ in try cli.start(["send"]) }.map { try $0.finish() }
        #expect(results.allSatisfy { $0.code == 0 }, "\(results.map(\.stderr))")
        let ids = try server.received().map { try PythonEmail.parse(file: $0.file).messageId }
        #expect(ids.count == 95)
        #expect(Set(ids).count == 95)
        let status = try cli.statusJSON()
        #expect((status["letters"] as? [String: Int])?["sent"] == 95)
        #expect(status["possibleDuplicates"] as? Int == 0)
    }

    @Test("exit codes: 3 when letters are deferred, 2 for bad credentials, 1 when the server is down; retry makes them due")
    func exitCodes() throws {
        let server = try SMTPTestServer(["--fault", "451-data"])
        let cli = try CLIRunner()
        try cli.prepareExample()
        try cli.writeConfig(url: server.url)
        try #require(try cli.run("queue", "--campaign", CLIRunner.slug).code == 0)
        let deferred = try cli.run("send", "--limit", "4")
        #expect(deferred.code == 3)
        #expect(deferred.stdout.hasPrefix("sent 0, deferred 4, failed 0"))
        #expect(try cli.run("retry", "--campaign", CLIRunner.slug, "--status", "deferred").stdout == "4 letters of \(CLIRunner.slug) are due again\n")

        try cli.writeConfig(url: server.url, extra: ", \"username\": \"alice\"")
        let noPassword = try cli.run("send")
        #expect(noPassword.code == 2)
        #expect(noPassword.stderr.contains("APPEAL_SMTP_PASSWORD"))

        try cli.writeConfig(url: "smtp://127.0.0.1:\(SMTPTestServer.closedPort())")
        let down = try cli.run("send")
        #expect(down.code == 1)
        #expect(down.stderr.contains("remaining letters stay queued"))
        #expect((try cli.statusJSON()["letters"] as? [String: Int])?["queued"] == 95)
    }

    @Test("export writes one RFC 4180 row per letter")
    func export() throws {
        let cli = try CLIRunner()
        try cli.prepareExample()
        try cli.writeConfig(url: "file://\(cli.path("outbox"))")
        _ = try cli.run("queue", "--campaign", CLIRunner.slug)
        _ = try cli.run("send", "--limit", "10")
        let result = try cli.run("export", "--campaign", CLIRunner.slug, "--out", "letters.csv")
        #expect(result.code == 0)
        let rows = try PythonCSV.rows(cli.path("letters.csv"))
        #expect(rows.first == ["supporter_name", "supporter_email", "target_name", "target_email", "target_kind", "status", "attempts",
                               "last_code", "last_reply", "sent_at", "message_id", "possible_duplicate"])
        #expect(rows.count == 96)
        #expect(rows.dropFirst().filter { $0[5] == "sent" }.count == 10)
        #expect(rows.dropFirst().filter { $0[5] == "sent" }.allSatisfy { $0[7] == "250" && !$0[9].isEmpty && $0[10].hasPrefix("<") })
        #expect(rows.contains { $0[0] == "Owain Pritchard-Jones" })
    }
}

/// Reads a CSV file with Python's csv module: an independent RFC 4180 reader.
enum PythonCSV {
    static func rows(_ path: String) throws -> [[String]] {
        let script = "import csv, json, sys; print(json.dumps(list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8')))))"
        return try JSONDecoder().decode([[String]].self, from: Python.output(of: ["-c", script, path]))
    }
}
